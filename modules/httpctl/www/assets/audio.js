// audio.js -- the console's Web Audio graph: Listen, Talk, level meters.
//
//   WS frames (8 kHz) -> playout -> volume -> analyser -> speakers
//   microphone -> capture (low-pass, 8 kHz, 20 ms frames) -> onMicFrame
//
// playout and capture are AudioWorklet processors (worklet.js) where the
// browser offers AudioWorklet (a secure context: https or localhost);
// elsewhere (plain http://pi:8000) Listen runs the same dsp.js code in a
// ScriptProcessorNode on the main thread. Talk needs a secure context in
// any case: browsers give no microphone to plain http pages.

import { Downsampler, Playout, rms } from './dsp.js';

const LISTEN_TARGET_MS = 80;       // jitter room with AudioWorklet
const LISTEN_TARGET_SP_MS = 120;   // ScriptProcessor adds its own buffer

export class AudioEngine {
  constructor() {
    this.ctx = null;
    this.worklet = false;
    this.listening = false;
    this.talking = false;
    this.muted = false;
    this.play = null;            // {node, push(frame)}
    this.playState = null;       // the playout's last snapshot()
    this.mic = null;             // {stream, src, node, sink}
    this.onMicFrame = null;      // (Float32Array of 160) => void
    this.rx = { frames: 0, level: 0, peak: 0 };  // phone -> here
    this.tx = { frames: 0, level: 0, peak: 0 };  // microphone
    this.out = { level: 0, peak: 0 };            // what is played
    this.buf = null;
  }

  // The AudioContext, created (or resumed) from a user gesture: browsers
  // keep audio off until the user clicked something on the page.
  async open() {
    if (!this.ctx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC)
        throw new Error('this browser has no Web Audio');
      this.ctx = new AC({ latencyHint: 'interactive' });
      this.gain = this.ctx.createGain();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      this.buf = new Float32Array(this.analyser.fftSize);
      this.gain.connect(this.analyser);
      this.analyser.connect(this.ctx.destination);
      this.worklet = !!this.ctx.audioWorklet;
      this.ready = this.worklet
        ? this.ctx.audioWorklet.addModule('worklet.js')
        : Promise.resolve();
    }
    // not awaited: a context the browser holds back stays "suspended"
    // until the next gesture, which must not hang the page
    if (this.ctx.state !== 'running')
      this.ctx.resume().catch(() => {});
    await this.ready;
  }

  get info() {
    return this.ctx ? {
      state: this.ctx.state,
      rate: this.ctx.sampleRate,
      time: this.ctx.currentTime,
      worklet: this.worklet,
      baseLatencyMs: Math.round((this.ctx.baseLatency || 0) * 1000),
      outputLatencyMs: Math.round((this.ctx.outputLatency || 0) * 1000),
    } : null;
  }

  setVolume(v) {
    if (this.gain) this.gain.gain.value = v;
    this._volume = v;
  }

  async listen(on) {
    if (on === this.listening) return;
    if (!on) {
      this.play.node.disconnect();
      this.play.node.port?.close?.();
      this.play = null;
      this.playState = null;
      this.listening = false;
      return;
    }

    await this.open();
    if (this._volume !== undefined) this.gain.gain.value = this._volume;
    if (this.worklet) {
      const node = new AudioWorkletNode(this.ctx, 'sipphone-playout', {
        numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1],
        processorOptions: { targetMs: LISTEN_TARGET_MS },
      });
      node.port.onmessage = (e) => { this.playState = e.data; };
      node.connect(this.gain);
      this.play = { node, push: (f) => node.port.postMessage(f, [f.buffer]) };
    } else {
      const p = new Playout(this.ctx.sampleRate,
        { targetMs: LISTEN_TARGET_SP_MS });
      const node = this.ctx.createScriptProcessor(1024, 1, 1);
      node.onaudioprocess = (e) => {
        p.render(e.outputBuffer.getChannelData(0));
        this.playState = p.snapshot();
      };
      node.connect(this.gain);
      this.play = { node, push: (f) => p.push(f) };
    }
    this.listening = true;
  }

  // One 20 ms frame of the phone's audio, decoded (Float32Array, 8 kHz)
  phoneFrame(f) {
    const level = rms(f);
    this.rx.frames++;
    this.rx.level = Math.max(this.rx.level, level);
    this.rx.peak = Math.max(this.rx.peak, level);
    if (this.play) this.play.push(f);
  }

  async talk(on) {
    if (on === this.talking) return;
    if (!on) {
      const m = this.mic;
      this.mic = null;
      this.talking = false;
      if (m) {
        m.stream.getTracks().forEach((t) => t.stop());
        m.src.disconnect();
        m.node.disconnect();
        m.sink.disconnect();
      }
      return;
    }

    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia)
      throw new Error('insecure');
    await this.open();
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1, echoCancellation: true, noiseSuppression: true,
        autoGainControl: true,
      },
    });
    const src = this.ctx.createMediaStreamSource(stream);
    let node;
    if (this.worklet) {
      node = new AudioWorkletNode(this.ctx, 'sipphone-capture', {
        numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      });
      node.port.onmessage = (e) => this.micFrame(e.data);
    } else {
      const d = new Downsampler(this.ctx.sampleRate, (f) => this.micFrame(f));
      node = this.ctx.createScriptProcessor(1024, 1, 1);
      node.onaudioprocess = (e) => d.process(e.inputBuffer.getChannelData(0));
    }
    // the capture node must be pulled by the graph: through a silent gain
    const sink = this.ctx.createGain();
    sink.gain.value = 0;
    src.connect(node);
    node.connect(sink);
    sink.connect(this.ctx.destination);
    this.mic = { stream, src, node, sink };
    this.talking = true;
  }

  micFrame(f) {
    const level = this.muted ? 0 : rms(f);
    this.tx.level = Math.max(this.tx.level, level);
    this.tx.peak = Math.max(this.tx.peak, level);
    if (this.muted || !this.onMicFrame) return;
    this.tx.frames++;
    this.onMicFrame(f);
  }

  // Meter levels (RMS, 0..1), read by the page's animation loop: they
  // fall back at a meter's pace between frames
  levels() {
    if (this.analyser && this.play) {
      this.analyser.getFloatTimeDomainData(this.buf);
      const l = rms(this.buf);
      this.out.level = l;
      this.out.peak = Math.max(this.out.peak, l);
    } else {
      this.out.level = 0;
    }
    const v = { rx: this.rx.level, tx: this.tx.level, out: this.out.level };
    this.rx.level *= 0.8;
    this.tx.level *= 0.8;
    return v;
  }
}
