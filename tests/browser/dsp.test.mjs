// dsp.test.mjs -- the console's audio code (modules/httpctl/www/assets/dsp.js)
// in node, on simulated clocks: what a browser test cannot show in a few
// seconds (drift over minutes, filter attenuation, mu-law exactness).
//
//   node --test tests/browser/dsp.test.mjs      (test_console_page.py runs it)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// dsp.js is a browser ES module with no imports: load it as one
const src = readFileSync(new URL('../../modules/httpctl/www/assets/dsp.js', import.meta.url));
const dsp = await import('data:text/javascript;base64,' + src.toString('base64'));
const { RATE, FRAME, ULAW, ulawEncode, decodeFrame, encodeFrame, rms,
  Downsampler, Playout } = dsp;

function sine(freq, rate, n, amp = 0.5, phase = 0) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin(phase + 2 * Math.PI * freq * i / rate);
  return out;
}

test('mu-law: every code survives decode and encode', () => {
  for (let c = 0; c < 256; c++) {
    if (c === 0x7f) continue;        // -0: encodes as +0 (0xff)
    assert.equal(ulawEncode(Math.round(ULAW[c] * 32768)), c, `code ${c}`);
  }
  assert.equal(ulawEncode(0), 0xff);
  assert.equal(ulawEncode(32767), 0x80);
  assert.equal(ulawEncode(-32768), 0x00);
});

test('frames: pcmu and l16 both ways', () => {
  const x = sine(1000, RATE, FRAME, 0.4);
  const pcmu = encodeFrame(x, 'pcmu');
  assert.equal(pcmu.byteLength, 160);
  const l16 = encodeFrame(x, 'l16');
  assert.equal(l16.byteLength, 320);
  const y = decodeFrame(l16, 'l16');
  for (let i = 0; i < FRAME; i++) assert.ok(Math.abs(y[i] - x[i]) < 1 / 32768 + 1e-7);
  const z = decodeFrame(pcmu, 'pcmu');
  for (let i = 0; i < FRAME; i++) assert.ok(Math.abs(z[i] - x[i]) < 0.02);
  // little-endian on the wire
  const v = new DataView(encodeFrame(Float32Array.of(0.5), 'l16'));
  assert.equal(v.getUint8(0), 0x00);
  assert.equal(v.getUint8(1), 0x40);
});

function downsample(inRate, freq, seconds) {
  const frames = [];
  const d = new Downsampler(inRate, (f) => frames.push(f));
  const n = Math.round(inRate * seconds);
  const x = sine(freq, inRate, n);
  for (let i = 0; i < n; i += 128) d.process(x.subarray(i, i + 128));
  return frames;
}

test('capture: 48 and 44.1 kHz to 8 kHz, 20 ms frames, in-band tones kept', () => {
  for (const rate of [48000, 44100, 16000]) {
    const frames = downsample(rate, 1000, 2);
    assert.ok(Math.abs(frames.length - 100) <= 1, `${rate}: ${frames.length} frames`);
    assert.ok(frames.every((f) => f.length === FRAME));
    const tail = frames.slice(10);
    const level = rms(Float32Array.from(tail.flatMap((f) => [...f])));
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.02, `${rate}: rms ${level}`);
  }
});

test('capture: no aliasing, a 6 kHz tone is 30 dB down', () => {
  for (const rate of [48000, 44100]) {
    const frames = downsample(rate, 6000, 1).slice(10);
    const level = rms(Float32Array.from(frames.flatMap((f) => [...f])));
    const db = 20 * Math.log10(level / (0.5 / Math.SQRT2));
    assert.ok(db < -30, `${rate}: ${db.toFixed(1)} dB`);
  }
});

// Frames arrive at 8000 * (1 + ppm/1e6) samples/s (the phone's clock); the
// sound card renders 128-sample quanta at 48 kHz (its clock). Returns the
// playout and the fill levels (ms) seen after the first 20 s.
function run({ ppm = 0, seconds = 300, burst = 1, stallAt = -1, stallMs = 0 }) {
  const out = 48000, q = 128;
  const p = new Playout(out, { targetMs: 80 });
  const framePeriod = FRAME / (RATE * (1 + ppm / 1e6));
  const quantum = q / out;
  const buf = new Float32Array(q);
  const tone = sine(440, RATE, FRAME * 50, 0.3);
  let tFrame = 0, tOut = 0, k = 0, pending = [];
  const levels = [];
  while (tOut < seconds) {
    // frames due by now, delivered in bursts of `burst` (network jitter)
    while (tFrame <= tOut) {
      pending.push(tone.subarray((k % 50) * FRAME, (k % 50 + 1) * FRAME));
      k++;
      tFrame += framePeriod;
      const stalled = stallAt >= 0 && tOut >= stallAt && tOut < stallAt + stallMs / 1000;
      if (pending.length >= burst && !stalled) {
        pending.forEach((f) => p.push(f));
        pending = [];
      }
    }
    p.render(buf);
    tOut += quantum;
    if (tOut > 20 && Math.round(tOut / quantum) % 375 === 0) levels.push(p.snapshot().bufferMs);
  }
  return { p, levels };
}

test('playout: clock drift either way stays at the target, no drops', () => {
  for (const ppm of [-500, 0, 500]) {
    const { p, levels } = run({ ppm });
    const s = p.snapshot();
    // uncorrected, 500 ppm over 300 s would be 150 ms more or less
    assert.ok(Math.min(...levels) >= 60 && Math.max(...levels) <= 100,
      `${ppm} ppm: fill ${Math.min(...levels)}..${Math.max(...levels)} ms`);
    assert.equal(s.underruns, 0, `${ppm} ppm`);
    assert.equal(s.droppedMs, 0, `${ppm} ppm`);
  }
});

test('playout: 60 ms bursts of network jitter do not underrun', () => {
  const { p, levels } = run({ burst: 3, seconds: 60 });
  assert.equal(p.snapshot().underruns, 0);
  assert.ok(Math.max(...levels) <= 140, `fill up to ${Math.max(...levels)} ms`);
});

test('playout: a stall is bridged, then the backlog is dropped', () => {
  const { p, levels } = run({ seconds: 60, stallAt: 30, stallMs: 500 });
  const s = p.snapshot();
  assert.equal(s.underruns, 1);          // the stall: silence, rebuffer
  assert.ok(s.droppedMs >= 200, `dropped ${s.droppedMs} ms`);
  assert.ok(levels[levels.length - 1] <= 100, `fill ${levels[levels.length - 1]} ms`);
});

test('playout: a 1 kHz tone comes out at 48 kHz, same level', () => {
  const p = new Playout(48000, { targetMs: 80 });
  const x = sine(1000, RATE, RATE);      // 1 s, fed at real-time pace
  const out = new Float32Array(48000 * 0.6);
  let fed = 0;
  for (let i = 0; i < out.length; i += 128) {
    while (fed < (i / 48000 + 0.1) * RATE) {
      p.push(x.subarray(fed, fed + FRAME));
      fed += FRAME;
    }
    p.render(out.subarray(i, i + 128));
  }
  assert.equal(p.snapshot().underruns, 0);
  const tail = out.subarray(48000 * 0.2);
  assert.ok(Math.abs(rms(tail) - 0.5 / Math.SQRT2) < 0.02, `rms ${rms(tail)}`);
  // zero crossings: 1 kHz (+-1 %) at 48 kHz
  let zc = 0;
  for (let i = 1; i < tail.length; i++) if ((tail[i - 1] < 0) !== (tail[i] < 0)) zc++;
  const hz = zc / 2 / (tail.length / 48000);
  assert.ok(Math.abs(hz - 1000) < 10, `${hz} Hz`);
});
