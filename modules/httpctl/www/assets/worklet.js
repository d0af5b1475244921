// worklet.js -- the console's two AudioWorklet processors, run on the
// browser's audio thread (the main-thread fallback in audio.js uses the
// same dsp.js classes in a ScriptProcessorNode).
//
// sipphone-playout: 8 kHz frames posted by the page (Float32Array) ->
//   the output, through the Playout ring (dsp.js); posts its state
//   ({bufferMs, underruns, ...}) about 15 times a second.
// sipphone-capture: the microphone -> 8 kHz frames of 160 samples,
//   posted to the page (transferred Float32Array), 50 a second.

import { Playout, Downsampler } from './dsp.js';

class PlayoutProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.p = new Playout(sampleRate, options.processorOptions || {});
    this.quanta = 0;
    this.port.onmessage = (e) => {
      if (e.data instanceof Float32Array)
        this.p.push(e.data);
      else if (e.data && e.data.cmd === 'reset')
        this.p.reset();
    };
  }

  process(inputs, outputs) {
    const out = outputs[0];
    this.p.render(out[0]);
    for (let c = 1; c < out.length; c++) out[c].set(out[0]);
    // 128 frames a quantum: every 24 quanta is 64 ms at 48 kHz
    if (++this.quanta % 24 === 0) this.port.postMessage(this.p.snapshot());
    return true;
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.mono = null;
    this.d = new Downsampler(sampleRate,
      (f) => this.port.postMessage(f, [f.buffer]));
  }

  process(inputs) {
    const chans = inputs[0];
    if (chans && chans.length) {
      let x = chans[0];
      if (chans.length > 1) {             // mix down
        if (!this.mono || this.mono.length !== x.length)
          this.mono = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) {
          let s = 0;
          for (const ch of chans) s += ch[i];
          this.mono[i] = s / chans.length;
        }
        x = this.mono;
      }
      this.d.process(x);
    }
    return true;
  }
}

registerProcessor('sipphone-playout', PlayoutProcessor);
registerProcessor('sipphone-capture', CaptureProcessor);
