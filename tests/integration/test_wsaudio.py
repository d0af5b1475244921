"""wsaudio against the real service: a call's audio over /api/v1/ws.

The product (baresip + httpctl + wsaudio) runs on loopback; a FakePhone
(a stock baresip set up like one HT802 port) is rung over REST and
answers by itself. WebSocket clients listen (phone -> WS: one binary
message per 20 ms frame, PCMU 160 bytes or L16 little-endian 320 bytes)
and speak (WS -> phone: any amount, queued per client, mixed, played at
real-time pace); the fake phone records what it hears (sndfile, 8 kHz
16-bit), so the audio is checked where it ends up.

Bit-exactness: mu-law <-> linear is lossless for mu-law codes, so
PCMU sent by a client reaches the phone's recording sample for sample,
and a frame given as L16 equals the same frame given as PCMU, decoded.
Frames of a pure tone repeat (1000 Hz at 8 kHz: every frame is the
same), which would make "the same frames in the same order" trivially
true: the listening tests play a 1000 Hz tone with a little seeded
noise, so every frame is unique and clients can be aligned.

Waits are on real conditions (frames received, the phone's recording
length, events, messages). The deliberate observation windows are the
frame-rate window (OBSERVE_S) and the short quiet windows after a call
ended or for the other line's client; they are named where used.
"""

import itertools
import math
import random
import statistics
import struct
import time
from urllib.parse import urlencode

import pytest

from helpers import EventLog, api_ok, wait_until
from sipphone_test import audio, wsclient
from sipphone_test.wsclient import WSClient

RATE = 8000
FRAME = 160                 # samples per 20 ms frame
OBSERVE_S = 3.0             # wall-clock window for the frame rate
LINE = "100"


# -- a WebSocket client that keeps arrival order and times -------------------

class TimedWS(WSClient):
    """WSClient that also records, for every message, its kind and its
    arrival time (time.monotonic(), taken in the reader thread), in the
    order the messages arrived across texts and binaries."""

    def __init__(self, url, **kwargs):
        super().__init__(url, **kwargs)
        self.order = []          # ("text"|"binary", index in its list)
        self.text_times = []
        self.bin_times = []

    def _deliver(self, kind, data):
        now = time.monotonic()
        with self._cond:         # an RLock: super() takes it again
            if kind == wsclient.TEXT:
                self.order.append(("text", len(self.texts)))
                self.text_times.append(now)
            else:
                self.order.append(("binary", len(self.binaries)))
                self.bin_times.append(now)
            super()._deliver(kind, data)

    # -- helpers -------------------------------------------------------

    def hello(self, timeout=5.0):
        return self.wait_text(lambda m: isinstance(m, dict)
                              and m.get("type") == "hello", timeout)

    def command(self, name, args=None, timeout=5.0):
        """Send a command; returns (response, its index in texts)."""
        cid = "c%d" % next(_ids)
        since = self.mark()[0]
        self.send_json({"type": "command", "id": cid, "command": name,
                        "args": args or {}})
        resp = self.wait_text(lambda m: isinstance(m, dict)
                              and m.get("type") == "response"
                              and m.get("id") == cid, timeout, since)
        assert resp["ok"] is True, resp
        return resp, self.texts.index(resp, since)

    def wait_event(self, type_, timeout=10.0, since=0, **data):
        """The first {"type":"event"} message of that event type whose
        data holds the given fields; returns (envelope, index)."""
        def match(m):
            if not (isinstance(m, dict) and m.get("type") == "event"):
                return False
            ev = m["event"]
            return ev["type"] == type_ and all(
                ev["data"].get(k) == v for k, v in data.items())
        msg = self.wait_text(match, timeout, since)
        return msg["event"], self.texts.index(msg, since)

    def wait_mark(self, name, timeout=5.0, since=0):
        """The {"type":"mark"} echo of a mark; returns (msg, its arrival
        time, its index in texts)."""
        msg = self.wait_text(lambda m: isinstance(m, dict)
                             and m.get("type") == "mark"
                             and m.get("name") == name, timeout, since)
        i = self.texts.index(msg, since)
        return msg, self.text_times[i], i

    def frames(self, since=0):
        with self._cond:
            return list(self.binaries[since:])


_ids = itertools.count(1)


@pytest.fixture
def ws_open(request):
    """ws_open(service, **query) -> a connected TimedWS (token in the
    query); closed at teardown."""
    def make(svc, **query):
        params = dict(query, token=svc.token)
        ws = TimedWS(svc.ws_url + "?" + urlencode(params)).connect()
        request.node.addfinalizer(ws.close)
        ws.hello()
        return ws
    return make


# -- calls and audio ---------------------------------------------------------

def ring(svc, phone):
    """The API rings an auto-answer phone; returns the call id once the
    call is answered."""
    log = EventLog(svc)
    m = phone.mark()
    cid = api_ok(svc, "POST", "/api/v1/calls", {"line": phone.line},
                 201)["id"]
    log.wait("call.answered", call=cid)
    phone.wait_event("CALL_ESTABLISHED", 5, since=m)
    return cid


def tone(freq, seconds, amplitude=0.5, phase=0.7):
    """Float samples of a sine that starts at a non-zero sample."""
    w = 2.0 * math.pi * freq / RATE
    return [amplitude * math.sin(w * i + phase)
            for i in range(int(seconds * RATE))]


def to_l16(samples):
    """Float samples -> int16 little-endian bytes."""
    return struct.pack("<%dh" % len(samples),
                       *(max(-32768, min(32767, int(round(s * 32767))))
                         for s in samples))


def l16_ints(data):
    return list(struct.unpack("<%dh" % (len(data) // 2), data))


# mu-law -> int16 as baresip decodes it: libre's table gives the two zero
# codes (0xFF, 0x7F) +2 / -2 where the harness's G.711 table gives 0; the
# rest is the same. So the phone hears the product's silence (samples 0,
# sent as 0xFF) as a constant 2.
ULAW = [int(round(x * 32768)) for x in audio.ulaw_decode(bytes(range(256)))]
ULAW[0xFF], ULAW[0x7F] = 2, -2
QUIET = 2                   # |sample| <= QUIET: silence, as decoded


def ulaw_ints(data):
    """mu-law bytes -> the int16 samples baresip decodes them to."""
    return [ULAW[b] for b in data]


def same_audio(pcmu, l16):
    """Is the PCMU frame the L16 one mu-law encoded? Each sample decodes
    back to itself, but silence (0, as a late packet leaves it) encodes
    to a zero code, which decodes to +-2."""
    return all(ULAW[b] == x or (x == 0 and b in (0x7F, 0xFF))
               for b, x in zip(pcmu, l16_ints(l16)))


def floats(ints):
    return [x / 32768.0 for x in ints]


def recording(phone):
    """The phone's current recording as int16 samples."""
    recs = phone.recordings()
    assert recs, "the phone recorded nothing"
    return [int(round(x * 32768)) for x in audio.read_wav(recs[-1]).samples]


def rec_len(phone):
    return len(recording(phone)) if phone.recordings() else 0


def wait_rec(phone, samples, timeout=15.0):
    """Wait until the phone's recording holds `samples` samples; returns
    it (int16 samples)."""
    phone.wait_audio(samples / float(RATE), timeout=timeout)
    return recording(phone)


def windows(samples, freq, ms=20):
    """Goertzel amplitude of freq in each window of `ms` ms."""
    n = RATE * ms // 1000
    f = floats(samples)
    return [audio.goertzel(f[i:i + n], RATE, freq)
            for i in range(0, len(f) - n + 1, n)]


def loud_span(samples):
    """(first, last) index of a sample that is not silence, or None."""
    idx = [i for i, x in enumerate(samples) if abs(x) > QUIET]
    return (idx[0], idx[-1]) if idx else None


def silent(samples):
    return all(abs(x) <= QUIET for x in samples)


def send_chunks(ws, data, sizes, bytes_per_s=None, lead_s=0.5):
    """Send data as binary messages of the given sizes (cycled). With
    bytes_per_s, stay at most lead_s ahead of real time (a streaming
    client); without, send everything at once."""
    t0 = time.monotonic()
    pos = 0
    for size in itertools.cycle(sizes):
        if pos >= len(data):
            break
        if bytes_per_s:
            ahead = pos / bytes_per_s - (time.monotonic() - t0)
            if ahead > lead_s:
                time.sleep(ahead - lead_s)
        ws.send_binary(data[pos:pos + size])
        pos += size


# uneven chunk sizes; the first is large so the queue never runs dry
# between the first two messages (an underrun would, by design, pad that
# frame with silence)
PCMU_SIZES = (1000, 7, 333, 1, 160, 2047, 59, 480)
L16_SIZES = (1000, 14, 334, 2, 320, 2048, 58, 960)


@pytest.fixture
def noisy_tone_wav(tmp_path):
    """40 s of 1000 Hz (0.4) plus seeded noise (0.05), 8 kHz mono: every
    20 ms frame differs from the others."""
    rnd = random.Random(1234)
    base = tone(1000, 40, amplitude=0.4, phase=0.0)
    path = tmp_path / "tone1000-noise.wav"
    audio.write_wav(path, [s + rnd.uniform(-0.05, 0.05) for s in base])
    return path


def align(a, b, key_a=bytes, key_b=bytes, ref=10):
    """Offset off such that b[k] is a[off + k]: frame `ref` of b (not
    silent) must appear exactly once in a."""
    kb = key_b(b[ref])
    assert len(set(kb)) > 4, "reference frame is silence"
    hits = [i for i, f in enumerate(a) if key_a(f) == kb]
    assert len(hits) == 1, ("frame %d of the second client found %d times "
                            "in the first's" % (ref, len(hits)))
    return hits[0] - ref


# -- 1. phone -> WS, PCMU ----------------------------------------------------

def test_phone_audio_to_ws_pcmu_frames_rate_and_tone(service, phone_factory,
                                                    ws_open):
    phone = phone_factory(line=LINE, tone=1000)
    phone.wait_registered(10)
    ws = ws_open(service, audio="pcmu")
    assert ws.hello()["audio"] == {"format": "pcmu", "rate": 8000,
                                   "channels": 1, "ptime": 20}
    ring(service, phone)
    ws.wait_binary(10, timeout=5)

    # observation window: OBSERVE_S of wall clock
    i0, t0 = len(ws.binaries), time.monotonic()
    time.sleep(OBSERVE_S)
    i1, t1 = len(ws.binaries), time.monotonic()
    rate = (i1 - i0) / (t1 - t0)
    gaps = [b - a for a, b in zip(ws.bin_times[i0:i1],
                                  ws.bin_times[i0 + 1:i1])]
    median_ms = statistics.median(gaps) * 1000
    print("pcmu: %.1f frames/s over %.2f s, median gap %.2f ms, "
          "p10 %.2f, p90 %.2f ms" % (
              rate, t1 - t0, median_ms,
              sorted(gaps)[len(gaps) // 10] * 1000,
              sorted(gaps)[len(gaps) * 9 // 10] * 1000))
    assert len(gaps) >= 100
    assert 47 <= rate <= 53, rate
    assert 17 <= median_ms <= 23, median_ms

    frames = ws.frames()
    assert {len(f) for f in frames} == {160}
    pcm = floats(ulaw_ints(b"".join(frames[5:55])))
    freq = audio.dominant_frequency(pcm, RATE)
    assert abs(freq - 1000) <= 5, freq
    # a tone, not noise: 1000 Hz far above another frequency
    assert audio.goertzel(pcm, RATE, 1000) > 0.1
    assert audio.goertzel(pcm, RATE, 700) < 0.01


# -- 2. L16, equal to PCMU decoded -------------------------------------------

def test_phone_audio_l16_equals_pcmu_decoded(service, phone_factory, ws_open,
                                             noisy_tone_wav):
    phone = phone_factory(line=LINE, play=str(noisy_tone_wav))
    phone.wait_registered(10)
    ws_u = ws_open(service, audio="pcmu")
    ring(service, phone)
    ws_u.wait_binary(20, timeout=5)
    # the second client comes in later: its frame 0 is a later frame
    ws_l = ws_open(service, audio="l16")
    assert ws_l.hello()["audio"]["format"] == "l16"
    ws_l.wait_binary(120, timeout=5)
    l16 = ws_l.frames()
    n_l = len(l16)
    wait_until(lambda: len(ws_u.binaries) >= 20 + n_l, 5,
               what="the pcmu client to have the same frames")
    pcmu = ws_u.frames()

    assert {len(f) for f in l16} == {320}
    samples = floats([s for f in l16[5:55] for s in l16_ints(f)])
    freq = audio.dominant_frequency(samples, RATE)
    assert abs(freq - 1000) <= 5, freq

    off = align(pcmu, l16, key_a=ulaw_ints, key_b=l16_ints)
    assert off >= 1, off
    same = [same_audio(pcmu[off + k], l16[k])
            for k in range(min(n_l, len(pcmu) - off))]
    assert len(same) >= 100
    bad = [k for k, ok in enumerate(same) if not ok]
    assert not bad, "L16 frames %s differ from the PCMU ones" % bad[:10]


# -- 3. two listeners get the same frames ------------------------------------

def test_two_pcmu_listeners_get_identical_frames(service, phone_factory,
                                                 ws_open, noisy_tone_wav):
    phone = phone_factory(line=LINE, play=str(noisy_tone_wav))
    phone.wait_registered(10)
    ws_a = ws_open(service, audio="pcmu")
    ring(service, phone)
    ws_a.wait_binary(15, timeout=5)
    ws_b = ws_open(service)                 # pcmu by default
    ws_b.wait_binary(120, timeout=5)
    b = ws_b.frames()
    wait_until(lambda: len(ws_a.binaries) >= 15 + len(b), 5,
               what="client A to have the same frames")
    a = ws_a.frames()

    off = align(a, b)
    assert off >= 1, off
    n = min(len(b), len(a) - off)
    assert n >= 100
    bad = [k for k in range(n) if a[off + k] != b[k]]
    assert not bad, "frames %s differ" % bad[:10]


# -- 4. WS -> phone ----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["pcmu", "l16"])
def test_ws_audio_to_phone(service, phone_factory, ws_open, fmt):
    phone = phone_factory(line=LINE, record=True)
    phone.wait_registered(10)
    ws = ws_open(service, audio=fmt)
    ring(service, phone)
    n0 = len(wait_rec(phone, RATE // 2))
    # before: the phone hears silence (nobody speaks)
    assert loud_span(recording(phone)) is None

    seconds, freq = 3.0, (440 if fmt == "pcmu" else 600)
    sig = tone(freq, seconds)
    t_start = time.monotonic()
    if fmt == "pcmu":
        data = audio.ulaw_encode(sig)
        expect = ulaw_ints(data)
        send_chunks(ws, data, PCMU_SIZES, bytes_per_s=RATE)
    else:
        data = to_l16(sig)
        expect = l16_ints(data)
        send_chunks(ws, data, L16_SIZES, bytes_per_s=2 * RATE)
    t_sent = time.monotonic()

    rec = wait_rec(phone, n0 + int((seconds + 1.0) * RATE))
    span = loud_span(rec)
    assert span is not None, "the phone heard nothing"
    start, last = span
    heard = rec[start:last + 1]
    # all of it, once, at real-time pace: 3 s of tone, then silence
    assert abs(len(heard) - len(expect)) <= 2, (len(heard), len(expect))
    assert silent(rec[last + 1:]), "sound after the end of the audio"
    seg = floats(heard[RATE // 2:RATE // 2 + RATE])
    got = audio.dominant_frequency(seg, RATE)
    assert abs(got - freq) <= 3, got
    assert audio.goertzel(seg, RATE, freq) > 0.3
    # sample for sample (PCMU: exact; L16: mu-law quantisation only)
    if fmt == "pcmu":
        bad = [i for i in range(len(expect)) if heard[i] != expect[i]]
        assert not bad, "%d of %d samples differ, first at %d" % (
            len(bad), len(expect), bad[0])
    else:
        err = sum((heard[i] - expect[i]) ** 2 for i in range(len(expect)))
        sig_e = sum(x * x for x in expect)
        assert err / sig_e < 1e-3, "SNR %.1f dB" % (
            -10 * math.log10(err / sig_e))
    print("%s: %d samples sent in %.2f s, heard %d" % (
        fmt, len(expect), t_sent - t_start, len(heard)))


# -- 5. mixing ---------------------------------------------------------------

def test_two_speaking_clients_are_mixed(service, phone_factory, ws_open):
    phone = phone_factory(line=LINE, record=True)
    phone.wait_registered(10)
    ws_a = ws_open(service, audio="pcmu")
    ws_b = ws_open(service, audio="l16")
    ring(service, phone)
    n0 = len(wait_rec(phone, RATE // 2))

    ws_a.send_binary(audio.ulaw_encode(tone(440, 1.5, amplitude=0.3)))
    ws_b.send_binary(to_l16(tone(1000, 1.5, amplitude=0.3)))

    rec = wait_rec(phone, n0 + int(2.5 * RATE))
    start, last = loud_span(rec)
    assert 1.4 * RATE <= last - start <= 1.7 * RATE, (last - start)
    # both in every 100 ms of the middle second, a third frequency not
    mid = rec[start + RATE // 4:start + RATE // 4 + RATE]
    w440, w1000, w700 = (windows(mid, f, ms=100) for f in (440, 1000, 700))
    print("mix: 440 Hz %.3f-%.3f, 1000 Hz %.3f-%.3f, 700 Hz max %.4f" % (
        min(w440), max(w440), min(w1000), max(w1000), max(w700)))
    assert min(w440) > 0.15, w440
    assert min(w1000) > 0.15, w1000
    assert max(w700) < 0.02, w700


# -- 6. clear and mark -------------------------------------------------------

def test_clear_drops_queued_audio_and_echoes_pending_marks(
        service, phone_factory, ws_open):
    phone = phone_factory(line=LINE, record=True)
    phone.wait_registered(10)
    ws = ws_open(service, audio="pcmu")
    ring(service, phone)
    n0 = len(wait_rec(phone, RATE // 2))

    since = ws.mark()[0]
    ws.send_binary(audio.ulaw_encode(tone(440, 2.0)))
    pre, _ = ws.command("mark", {"name": "pre"})
    assert pre["result"]["name"] == "pre"
    clr, _ = ws.command("clear")
    cleared = clr["result"]["cleared_ms"]
    print("clear: mark queued_ms %d, cleared_ms %d"
          % (pre["result"]["queued_ms"], cleared))
    assert 1500 <= cleared <= 2000, clr
    # the mark stood behind the cleared audio: echoed, flagged cleared
    msg, _, _ = ws.wait_mark("pre", timeout=2, since=since)
    assert msg.get("cleared") is True, msg

    # 1 s later (by the recording), audio queued after the clear plays
    n1 = len(wait_rec(phone, n0 + int(1.0 * RATE)))
    ws.send_binary(audio.ulaw_encode(tone(1000, 0.5)))
    rec = wait_rec(phone, n1 + int(1.5 * RATE))

    w440 = windows(rec[n0 - RATE // 4:], 440)
    w1000 = windows(rec[n0 - RATE // 4:], 1000)
    loud440 = [i for i, a in enumerate(w440) if a > 0.05]
    loud1000 = [i for i, a in enumerate(w1000) if a > 0.05]
    print("clear: 440 Hz heard in %d frames, 1000 Hz in %d"
          % (len(loud440), len(loud1000)))
    # of the 2 s (100 frames) of 440 Hz at most a few frames were heard
    assert len(loud440) <= 10, loud440
    # what came after the clear was heard in full, and after the 440
    assert 23 <= len(loud1000) <= 27, loud1000
    assert not loud440 or max(loud440) < min(loud1000)
    # between them: silence (nothing of the cleared audio came back)
    gap_from = (max(loud440) + 1 if loud440 else 0) * FRAME + FRAME
    gap = rec[n0 - RATE // 4 + gap_from:
              n0 - RATE // 4 + min(loud1000) * FRAME - FRAME]
    assert len(gap) > RATE // 2 and silent(gap)


def test_mark_echoed_when_playout_reaches_it(service, phone_factory,
                                             ws_open):
    phone = phone_factory(line=LINE, record=True)
    phone.wait_registered(10)
    ws = ws_open(service, audio="pcmu")
    ring(service, phone)
    n0 = len(wait_rec(phone, RATE // 2))

    # nothing queued: echoed at once, after the response
    since = ws.mark()[0]
    t0 = time.monotonic()
    resp, i_resp = ws.command("mark", {"name": "empty"})
    assert resp["result"] == {"name": "empty", "queued_ms": 0}, resp
    msg, t_echo, i_echo = ws.wait_mark("empty", timeout=2, since=since)
    assert i_echo > i_resp
    assert t_echo - t0 < 0.3, t_echo - t0
    assert not msg.get("cleared"), msg

    # 1 s queued: echoed when it has played
    since = ws.mark()[0]
    ws.send_binary(audio.ulaw_encode(tone(440, 1.0)))
    t0 = time.monotonic()
    resp, i_resp = ws.command("mark", {"name": "m1"})
    queued = resp["result"]["queued_ms"]
    assert resp["result"]["name"] == "m1"
    assert 900 <= queued <= 1000, resp
    msg, t_echo, i_echo = ws.wait_mark("m1", timeout=3, since=since)
    print("mark: queued_ms %d, echoed after %.3f s"
          % (queued, t_echo - t0))
    assert i_echo > i_resp
    assert 0.8 <= t_echo - t0 <= 1.5, t_echo - t0
    assert not msg.get("cleared"), msg

    # and the phone heard that second of audio
    rec = wait_rec(phone, n0 + int(1.5 * RATE))
    start, last = loud_span(rec)
    assert abs((last - start + 1) - RATE) <= 2, last - start + 1


# -- 7. the queue bound ------------------------------------------------------

def test_queue_bound_drops_oldest(service_factory, phone_factory, ws_open):
    svc = service_factory(wsaudio_queue_ms="1000")
    phone = phone_factory(line=LINE, record=True, server=svc.sip_server)
    phone.wait_registered(10)
    ws = ws_open(svc, audio="pcmu")
    ring(svc, phone)
    n0 = len(wait_rec(phone, RATE // 2))

    # 5 s at once: 4 s of 440 Hz, then 1 s of 1000 Hz
    since = ws.mark()[0]
    ws.send_binary(audio.ulaw_encode(tone(440, 4.0) + tone(1000, 1.0)))
    t0 = time.monotonic()
    resp, _ = ws.command("mark", {"name": "q"})
    queued = resp["result"]["queued_ms"]
    msg, t_echo, _ = ws.wait_mark("q", timeout=3, since=since)
    print("queue bound: queued_ms %d, mark after %.3f s"
          % (queued, t_echo - t0))
    assert 900 <= queued <= 1000, resp
    # the newest second plays in full, the 4 s before it were dropped
    assert 0.7 <= t_echo - t0 <= 1.5, t_echo - t0
    assert not msg.get("cleared"), msg

    # the phone heard the newest second (1000 Hz), hardly any 440 Hz
    rec = wait_rec(phone, n0 + int(2.0 * RATE))
    start, last = loud_span(rec)
    assert last - start + 1 <= 1.05 * RATE, last - start + 1
    w440 = windows(rec[start:last + 1], 440)
    w1000 = windows(rec[start:last + 1], 1000)
    assert sum(a > 0.05 for a in w440) <= 3, w440
    assert sum(a > 0.05 for a in w1000) >= 45, w1000


# -- 8. audio.started / audio.stopped ----------------------------------------

def test_audio_started_and_stopped_events(service, phone_factory, ws_open):
    phone = phone_factory(line=LINE, tone=1000)
    phone.wait_registered(10)
    log = EventLog(service)
    ws = ws_open(service, audio="pcmu")
    for _ in range(2):      # two calls in a row, each its own events
        since_t, since_b = ws.mark()
        cid = ring(service, phone)
        ws.wait_binary(10, timeout=5, since=since_b)
        started, i_started = ws.wait_event("audio.started", 5, since_t,
                                           call=cid)
        assert started["data"] == {"call": cid, "line": LINE}, started
        # started came before the first frame of this call
        pos_started = ws.order.index(("text", i_started))
        pos_frame = ws.order.index(("binary", since_b))
        assert pos_started < pos_frame

        # the call runs: no audio.stopped yet
        m, hung_up = phone.mark(), ws.mark()[0]
        with pytest.raises(TimeoutError):
            ws.wait_event("audio.stopped", 0, since_t, call=cid)
        phone.hangup()
        phone.wait_event("CALL_CLOSED", 5, since=m)
        ended, i_ended = ws.wait_event("call.ended", 5, hung_up, call=cid)
        stopped, i_stopped = ws.wait_event("audio.stopped", 5, hung_up,
                                           call=cid)
        assert stopped["data"] == {"call": cid, "line": LINE}, stopped
        assert stopped["seq"] > started["seq"]
        # (baresip stops a call's audio before it reports the call
        # closed: audio.stopped comes just before call.ended)
        # quiet window of 0.3 s: nothing may follow the end of the call
        n_frames = len(ws.binaries)
        time.sleep(0.3)
        assert len(ws.binaries) == n_frames
        for i in (i_ended, i_stopped):
            pos = ws.order.index(("text", i))
            late = [e for e in ws.order[pos:] if e[0] == "binary"]
            assert not late, "%d frames after %s" % (
                len(late), ws.texts[i]["event"]["type"])

        # the event log has the same, once each
        types = [e["type"] for e in log.find(call=cid)
                 if e["type"].startswith("audio.")]
        assert types == ["audio.started", "audio.stopped"], types


# -- 9. lines are apart ------------------------------------------------------

def test_other_line_client_hears_and_speaks_nothing(service, phone_factory,
                                                   ws_open):
    p100 = phone_factory(line="100", tone=1000, record=True)
    p101 = phone_factory(line="101")
    p100.wait_registered(10)
    p101.wait_registered(10)
    ws100 = ws_open(service, line="100", audio="pcmu")
    ws101 = ws_open(service, line="101", audio="pcmu")
    assert ws101.hello()["line"] == "101"
    ring(service, p100)
    n0 = len(wait_rec(p100, RATE // 2))
    ws100.wait_binary(10, timeout=5)

    # the other line's client speaks too: line 100's phone must not hear it
    ws101.send_binary(audio.ulaw_encode(tone(440, 1.0)))
    mine = audio.ulaw_encode(tone(600, 0.5))
    ws100.send_binary(mine)
    # observation window of 2 s
    a0, t0 = len(ws100.binaries), time.monotonic()
    time.sleep(2.0)
    a1, b1, t1 = len(ws100.binaries), len(ws101.binaries), time.monotonic()
    print("line 100 client: %.1f frames/s; line 101 client: %d frames"
          % ((a1 - a0) / (t1 - t0), b1))
    assert (a1 - a0) / (t1 - t0) >= 45
    assert b1 == 0, "the line 101 client got %d frames" % b1

    rec = wait_rec(p100, n0 + int(1.5 * RATE))
    start, last = loud_span(rec)
    heard = rec[start:last + 1]
    # exactly line 100's client's audio, with nothing mixed in
    assert abs(len(heard) - RATE // 2) <= 2, len(heard)
    expect = ulaw_ints(mine)
    assert heard[:len(expect)] == expect[:len(heard)]
    assert max(windows(heard, 440, ms=100)) < 0.01
    assert min(windows(heard, 600, ms=100)) > 0.3
