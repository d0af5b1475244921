"""WAV files and tone checks without numpy: Goertzel and RMS.

read_wav() accepts files whose header was never finalised (baresip's
sndfile filter writes the sizes only when a call ends), reading the data
chunk to the end of the file.
"""

import array
import math
import struct
import sys
import wave

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE


class Wav:
    """Decoded audio: rate, channels and mono float samples in [-1, 1]."""

    def __init__(self, rate, channels, samples):
        self.rate = rate
        self.channels = channels
        self.samples = samples

    @property
    def duration(self):
        return len(self.samples) / float(self.rate)


def wav_params(path):
    """(rate, channels, bits) from a WAV file's fmt chunk."""
    with open(path, "rb") as f:
        head = f.read(4096)
    pos = 12
    while pos + 8 <= len(head):
        cid = head[pos:pos + 4]
        size = struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            _, ch, rate, _, _, bits = struct.unpack(
                "<HHIIHH", head[pos + 8:pos + 24])
            return rate, ch, bits
        pos += 8 + size + (size & 1)
    raise ValueError("%s: no fmt chunk" % path)


def read_wav(path):
    """Read a 16-bit PCM or 32-bit float WAV; channels are averaged."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("%s: not a RIFF/WAVE file" % path)
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        size = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[body:body + 16])
        elif cid == b"data":
            end = body + size
            if size in (0, 0xFFFFFFFF) or end > len(data):
                end = len(data)
            return _decode(path, fmt, data[body:end])
        pos = body + size + (size & 1)
    raise ValueError("%s: no data chunk" % path)


def _decode(path, fmt, raw):
    if fmt is None:
        raise ValueError("%s: data before fmt chunk" % path)
    tag, channels, rate, _, _, bits = fmt
    if tag == EXTENSIBLE:
        tag = PCM if bits == 16 else FLOAT
    if tag == PCM and bits == 16:
        a, scale = array.array("h"), 32768.0
    elif tag == FLOAT and bits == 32:
        a, scale = array.array("f"), 1.0
    else:
        raise ValueError("%s: unsupported format tag %d, %d bits"
                         % (path, tag, bits))
    raw = raw[:len(raw) - len(raw) % (a.itemsize * channels)]
    a.frombytes(raw)
    if sys.byteorder == "big":
        a.byteswap()
    if channels == 1:
        samples = [x / scale for x in a]
    else:
        samples = [sum(a[i:i + channels]) / (scale * channels)
                   for i in range(0, len(a), channels)]
    return Wav(rate, channels, samples)


def write_wav(path, samples, rate=8000, channels=1):
    """Write mono float samples as 16-bit PCM (copied to every channel)."""
    pcm = array.array("h", (max(-32768, min(32767, int(round(s * 32767))))
                            for s in samples for _ in range(channels)))
    if sys.byteorder == "big":
        pcm.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def sine(freq, seconds, rate=8000, amplitude=0.5):
    """Samples of a sine wave."""
    n = int(seconds * rate)
    w = 2.0 * math.pi * freq / rate
    return [amplitude * math.sin(w * i) for i in range(n)]


def rms(samples):
    """Root mean square of samples (0.0 for none)."""
    if not samples:
        return 0.0
    return math.sqrt(sum(x * x for x in samples) / len(samples))


def goertzel(samples, rate, freq):
    """Amplitude of freq in samples (a full-scale sine gives ~1.0)."""
    n = len(samples)
    if n == 0:
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2.0 * math.sqrt(max(power, 0.0)) / n


def active(samples, rate, threshold=0.01, window=0.02):
    """The samples from the first to the last window louder than threshold."""
    step = max(1, int(rate * window))
    loud = [i for i in range(0, len(samples), step)
            if rms(samples[i:i + step]) > threshold]
    if not loud:
        return []
    return samples[loud[0]:loud[-1] + step]


def dominant_frequency(samples, rate, lo=50.0, hi=None, max_len=None):
    """The strongest frequency between lo and hi, to about 1 Hz.

    A coarse Goertzel scan (10 Hz steps over up to 0.25 s of audio) then a
    fine one (1 Hz steps over up to 1 s) around the best bin.
    """
    hi = hi if hi is not None else rate / 2.0 - lo
    mid = len(samples) // 2
    coarse = samples[max(0, mid - rate // 8):mid + rate // 8]
    fine = samples[max(0, mid - rate // 2):mid + rate // 2]
    if max_len:
        fine = fine[:max_len]
    if not coarse:
        return 0.0
    best = max(_frange(lo, hi, 10.0), key=lambda f: goertzel(coarse, rate, f))
    return max(_frange(max(lo, best - 10), min(hi, best + 10), 1.0),
               key=lambda f: goertzel(fine, rate, f))


def _frange(lo, hi, step):
    n = int((hi - lo) / step) + 1
    return [lo + i * step for i in range(n)]


def analyze(path, threshold=0.01):
    """Summary of a WAV: rate, duration, rms and dominant frequency of
    its loud part (frequency 0.0 when it is all silence)."""
    w = read_wav(path)
    loud = active(w.samples, w.rate, threshold)
    return {
        "rate": w.rate,
        "channels": w.channels,
        "duration": w.duration,
        "active_duration": len(loud) / float(w.rate),
        "rms": rms(w.samples),
        "peak": max((abs(x) for x in w.samples), default=0.0),
        "frequency": dominant_frequency(loud, w.rate) if loud else 0.0,
    }


# -- G.711 mu-law (for PCMU frames over WebSocket) ---------------------------

def _ulaw_to_linear(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return (0x84 - t) if u & 0x80 else (t - 0x84)


_ULAW_TABLE = [_ulaw_to_linear(u) for u in range(256)]


def ulaw_decode(data):
    """mu-law bytes -> float samples in [-1, 1]."""
    return [_ULAW_TABLE[b] / 32768.0 for b in data]


def ulaw_encode(samples):
    """Float samples in [-1, 1] -> mu-law bytes (G.711, bias 0x84)."""
    out = bytearray()
    for s in samples:
        x = max(-32635, min(32635, int(round(s * 32767))))
        sign = 0x80 if x < 0 else 0
        x = (-x if x < 0 else x) + 0x84
        exp = 7
        for e in range(7, -1, -1):
            if x & (0x4000 >> (7 - e)):
                exp = e
                break
        mant = (x >> (exp + 3)) & 0x0F
        out.append(~(sign | (exp << 4) | mant) & 0xFF)
    return bytes(out)
