// dsp.js -- the console's sample-level audio code, shared by the
// AudioWorklet (worklet.js) and the main-thread fallback (audio.js).
// No DOM and no Web Audio objects here: plain arrays in, arrays out.
//
// The phone's side is always 8 kHz mono in 20 ms frames (160 samples);
// the browser's side is whatever rate its AudioContext runs at (44.1 or
// 48 kHz, usually).

export const RATE = 8000;
export const FRAME = 160;

// -- G.711 mu-law ----------------------------------------------------------

// code -> sample in [-1, 1)
export const ULAW = (() => {
  const t = new Float32Array(256);
  for (let c = 0; c < 256; c++) {
    const u = ~c & 0xff;
    let m = ((u & 0x0f) << 3) + 0x84;
    m <<= (u & 0x70) >> 4;
    t[c] = ((u & 0x80) ? 0x84 - m : m - 0x84) / 32768;
  }
  return t;
})();

// 16-bit sample -> code (G.711: bias 0x84, clip 32635)
export function ulawEncode(s) {
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > 32635) s = 32635;
  s += 0x84;
  let exp = 7;
  for (let mask = 0x4000; !(s & mask) && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

function toS16(x) {
  const s = Math.round(x * 32768);
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

// A binary WebSocket message ("pcmu" or "l16") -> Float32Array
export function decodeFrame(buf, format) {
  if (format === 'l16') {
    const v = new DataView(buf), n = buf.byteLength >> 1;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true) / 32768;
    return out;
  }
  const b = new Uint8Array(buf), out = new Float32Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = ULAW[b[i]];
  return out;
}

// Float32Array -> ArrayBuffer to send ("pcmu" or "l16", little-endian)
export function encodeFrame(samples, format) {
  const n = samples.length;
  if (format === 'l16') {
    const buf = new ArrayBuffer(2 * n), v = new DataView(buf);
    for (let i = 0; i < n; i++) v.setInt16(2 * i, toS16(samples[i]), true);
    return buf;
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ulawEncode(toS16(samples[i]));
  return out.buffer;
}

export function rms(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return a.length ? Math.sqrt(s / a.length) : 0;
}

// -- filters ---------------------------------------------------------------

// A Butterworth low-pass of even order as a cascade of biquads (RBJ
// cookbook, transposed direct form II). Used against aliasing before
// decimating to 8 kHz and against images after interpolating from it.
export class Lowpass {
  constructor(rate, cutoff, order = 8) {
    this.st = [];
    const w0 = 2 * Math.PI * Math.min(cutoff, rate * 0.45) / rate;
    const cw = Math.cos(w0), sw = Math.sin(w0);
    for (let k = 1; k <= order / 2; k++) {
      const q = 1 / (2 * Math.cos((2 * k - 1) * Math.PI / (2 * order)));
      const alpha = sw / (2 * q), a0 = 1 + alpha;
      this.st.push({
        b0: (1 - cw) / 2 / a0, b1: (1 - cw) / a0, b2: (1 - cw) / 2 / a0,
        a1: -2 * cw / a0, a2: (1 - alpha) / a0, z1: 0, z2: 0,
      });
    }
  }

  tick(x) {
    for (const s of this.st) {
      const y = s.b0 * x + s.z1;
      s.z1 = s.b1 * x - s.a1 * y + s.z2;
      s.z2 = s.b2 * x - s.a2 * y;
      x = y;
    }
    return x;
  }

  reset() {
    for (const s of this.st) s.z1 = s.z2 = 0;
  }
}

// -- capture: browser rate -> 8 kHz frames -----------------------------------

// Low-pass at 3.4 kHz (8th order), then sample the filtered signal every
// inRate/8000 input samples, interpolating linearly between the two
// nearest (the signal is oversampled by then, so that is exact enough).
// onFrame gets a new Float32Array of FRAME samples every 20 ms of input.
export class Downsampler {
  constructor(inRate, onFrame) {
    this.step = inRate / RATE;
    this.lpf = inRate > RATE ? new Lowpass(inRate, 3400) : null;
    this.prev = 0;
    this.phase = 0;       // next output position, relative to the input
    this.onFrame = onFrame;
    this.frame = new Float32Array(FRAME);
    this.n = 0;
  }

  process(input) {
    for (let i = 0; i < input.length; i++) {
      const x = this.lpf ? this.lpf.tick(input[i]) : input[i];
      // an output sample falls between prev (at -1) and x (at 0)
      while (this.phase <= 0) {
        this.frame[this.n++] = this.prev + (x - this.prev) *
          (this.phase + 1);
        if (this.n === FRAME) {
          this.onFrame(this.frame);
          this.frame = new Float32Array(FRAME);
          this.n = 0;
        }
        this.phase += this.step;
      }
      this.phase -= 1;
      this.prev = x;
    }
  }
}

// -- playout: 8 kHz frames -> browser rate, on the audio clock --------------

// A ring of 8 kHz samples read at the output rate. Playback starts once
// targetMs is buffered (jitter room); the read speed then follows the
// fill level, so the playout neither lags more and more nor runs dry
// when the phone's clock and the sound card's differ:
//   - within +-1 %, proportionally to how far the (smoothed) fill is from
//     the target: inaudible, and it absorbs clock drift of any sign;
//   - above maxMs (a burst after a stall) the oldest audio is dropped
//     down to the target at once;
//   - when the ring runs dry, silence is played and it buffers again
//     (an underrun: inserts targetMs of silence).
export class Playout {
  constructor(outRate, opts = {}) {
    this.outRate = outRate;
    this.target = Math.round((opts.targetMs ?? 80) * RATE / 1000);
    this.max = Math.round((opts.maxMs ?? 240) * RATE / 1000);
    this.ring = new Float32Array(2 * RATE);
    this.step = RATE / outRate;
    this.lpf = outRate > RATE ? new Lowpass(outRate, 3800) : null;
    this.reset();
  }

  reset() {
    this.w = 0;           // samples written, ever
    this.r = 0;           // read position (fractional), ever
    this.playing = false;
    this.level = 0;       // smoothed fill, samples
    this.ratio = 1;
    this.frames = 0;
    this.underruns = 0;
    this.dropped = 0;     // samples dropped (too much buffered)
    this.played = 0;      // output samples that carried audio
    if (this.lpf) this.lpf.reset();
  }

  get fill() {
    return this.w - this.r;
  }

  push(samples) {
    const cap = this.ring.length, n = samples.length;
    for (let i = 0; i < n; i++) this.ring[(this.w + i) % cap] = samples[i];
    this.w += n;
    this.frames++;
    if (this.w - this.r > cap - 2) {      // overrun: keep the newest
      this.dropped += this.w - this.r - this.target;
      this.r = this.w - this.target;
    }
  }

  render(out) {
    const cap = this.ring.length;
    let i = 0;

    if (!this.playing && this.fill >= this.target) {
      this.playing = true;
      this.level = this.fill;
    }

    if (this.playing) {
      if (this.fill > this.max) {
        const drop = Math.floor(this.fill - this.target);
        this.r += drop;
        this.dropped += drop;
        this.level = this.fill;
      }
      this.level += (this.fill - this.level) * 0.02;
      const err = (this.level - this.target) / this.target;
      this.ratio = 1 + Math.max(-0.01, Math.min(0.01, err * 0.02));
      const step = this.step * this.ratio;

      for (; i < out.length; i++) {
        if (this.w - this.r < 2) {        // ran dry: buffer again
          this.playing = false;
          this.underruns++;
          break;
        }
        const p = Math.floor(this.r), f = this.r - p;
        const a = this.ring[p % cap], b = this.ring[(p + 1) % cap];
        out[i] = a + (b - a) * f;
        this.r += step;
      }
      this.played += i;
    }

    for (let j = i; j < out.length; j++) out[j] = 0;
    if (this.lpf)
      for (let j = 0; j < out.length; j++) out[j] = this.lpf.tick(out[j]);
  }

  snapshot() {
    return {
      bufferMs: Math.round(this.fill * 1000 / RATE),
      targetMs: Math.round(this.target * 1000 / RATE),
      playing: this.playing,
      ratio: this.ratio,
      frames: this.frames,
      underruns: this.underruns,
      droppedMs: Math.round(this.dropped * 1000 / RATE),
      playedMs: Math.round(this.played * 1000 / this.outRate),
    };
  }
}
