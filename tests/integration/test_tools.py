"""Tests of the test tools themselves (no sipphone service needed).

Two stock baresip fake phones call each other directly, a third stands in
for a registrar that does not implement REGISTER, a stub registrar
accepts registrations, and linphonec sends SIP INFO DTMF. If these fail,
the product's integration tests cannot be trusted either.
"""

import json
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sipphone_test import audio
from sipphone_test.ctrl import NetstringReader, netstring
from sipphone_test.service import rewrite_config
from sipphone_test.sipstub import StubRegistrar, contact_uri
from sipphone_test.wsclient import accept_key, encode_frame

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def events_of(phone, kind, since=0):
    return [e.get("param") for e in phone.events[since:]
            if e.get("type") == kind]


# -- pure helpers ------------------------------------------------------------

def test_free_port_pair_is_bindable(free_port):
    port = free_port(udp_and_tcp=True, pair=True)
    socks = []
    try:
        for p in (port, port + 1):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", p))
    finally:
        for s in socks:
            s.close()


def test_netstring_framing():
    r = NetstringReader()
    data = netstring(b'{"a":1}') + netstring(b"") + netstring(b"xyz")
    assert data == b'7:{"a":1},0:,3:xyz,'
    assert r.feed(data[:5]) == []
    assert r.feed(data[5:]) == [b'{"a":1}', b"", b"xyz"]
    with pytest.raises(ValueError):
        NetstringReader().feed(b"3:abcX")


def test_rewrite_config():
    text = ("# comment\nsip_listen\t0.0.0.0:5060\n#httpctl_token x\n"
            "module\ta.so\nmodule\tb.so\naudio_level no\n")
    out = rewrite_config(text, {"sip_listen": "127.0.0.1:7",
                                "module": ["c.so", "d.so"],
                                "audio_level": None,
                                "httpctl_token": "t"})
    lines = out.splitlines()
    assert lines[0] == "# comment"
    assert lines[1].split() == ["sip_listen", "127.0.0.1:7"]
    assert lines[2] == "#httpctl_token x"
    assert [ln.split()[1] for ln in lines if ln.startswith("module")] == \
        ["c.so", "d.so"]
    assert not any(ln.startswith("audio_level") for ln in lines)
    assert lines[-1].split() == ["httpctl_token", "t"]


def test_audio_helpers(tmp_path):
    path = tmp_path / "t.wav"
    audio.write_wav(path, [0.0] * 800 + audio.sine(1234, 1.0) + [0.0] * 800)
    info = audio.analyze(path)
    assert info["rate"] == 8000 and abs(info["duration"] - 1.2) < 0.01
    assert abs(info["frequency"] - 1234) <= 2
    assert abs(info["active_duration"] - 1.0) < 0.05
    # a header whose sizes were never written (as sndfile leaves it
    # during a call) still reads to the end of the file
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack("<I", 8)
    data[40:44] = struct.pack("<I", 0)
    path.write_bytes(bytes(data))
    assert abs(audio.read_wav(path).duration - 1.2) < 0.01
    w = audio.sine(700, 0.5)
    assert audio.goertzel(w, 8000, 700) > 0.45
    assert audio.goertzel(w, 8000, 1000) < 0.05


def test_mulaw_codec():
    codes = bytes(range(256))
    again = audio.ulaw_encode(audio.ulaw_decode(codes))
    # every code survives a round trip (0x7F is -0 and comes back as +0)
    assert [i for i in range(256) if again[i] != i] == [0x7F]
    assert [round(x * 32768) for x in audio.ulaw_decode(b"\x00\x80\xff")] \
        == [-32124, 32124, 0]
    tone = audio.ulaw_decode(audio.ulaw_encode(audio.sine(1000, 0.5)))
    assert abs(audio.dominant_frequency(tone, 8000) - 1000) <= 2


def test_websocket_framing_rfc6455_examples():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == \
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    hello = bytes([0x37, 0xFA, 0x21, 0x3D])
    assert encode_frame(0x1, b"Hello", hello) == bytes(
        [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    assert encode_frame(0x2, bytes(256), b"")[:4] == b"\x82\x7e\x01\x00"
    assert encode_frame(0x2, bytes(65536), b"")[:10] == \
        b"\x82\x7f" + (65536).to_bytes(8, "big")


# -- two fake phones ---------------------------------------------------------

def test_fake_phones_call_play_record_dtmf_hangup(phone_factory, tmp_path):
    a = phone_factory(server="127.0.0.1:9", line="200", regint=0,
                      tone=1000, record=tmp_path / "a")
    b = phone_factory(server="127.0.0.1:9", line="300", regint=0,
                      tone=600, record=tmp_path / "b")

    # call 1: a calls b (auto answer), sends DTMF, a hangs up
    a.dial(b.uri)
    a.wait_event("CALL_ESTABLISHED", 5)
    b.wait_event("CALL_ESTABLISHED", 5)
    b.wait_event("CALL_RTPESTAB", 5)
    a.wait_event("CALL_RTPESTAB", 5)
    a.send_dtmf("159#")
    b.wait_event(lambda e: e["type"] == "CALL_DTMF_START"
                 and e["param"] == "#", 5)
    assert events_of(b, "CALL_DTMF_START") == ["1", "5", "9", "#"]
    a.wait_audio(1.0)
    b.wait_audio(1.0)
    a.hangup()
    b.wait_event("CALL_CLOSED", 5)
    a.wait_event("CALL_CLOSED", 5)

    heard_by_b = audio.analyze(b.wait_recordings(1)[0])
    heard_by_a = audio.analyze(a.wait_recordings(1)[0])
    assert heard_by_b["rate"] == 8000
    assert abs(heard_by_b["frequency"] - 1000) <= 5, heard_by_b
    assert abs(heard_by_a["frequency"] - 600) <= 5, heard_by_a
    assert heard_by_b["rms"] > 0.1

    # call 2: b calls a, the callee (a) hangs up
    ma, mb = a.mark(), b.mark()
    b.dial(a.uri)
    b.wait_event("CALL_ESTABLISHED", 5, since=mb)
    a.wait_event("CALL_ESTABLISHED", 5, since=ma)
    a.hangup()
    closed = b.wait_event("CALL_CLOSED", 5, since=mb)
    assert closed["direction"] == "outgoing"
    assert closed["param"] == "Connection reset by peer"


def test_fake_phone_manual_answer_and_echo(phone_factory, tmp_path):
    a = phone_factory(server="127.0.0.1:9", line="200", regint=0,
                      tone=900, record=tmp_path / "a")
    b = phone_factory(server="127.0.0.1:9", line="300", regint=0,
                      answer="manual", echo=True)
    a.dial(b.uri)
    incoming = b.wait_event("CALL_INCOMING", 5)
    assert incoming["peeruri"] == "sip:200@127.0.0.1:9"
    a.wait_event("CALL_RINGING", 5)
    assert not events_of(b, "CALL_ESTABLISHED")
    b.answer()
    a.wait_event("CALL_ESTABLISHED", 5)
    b.wait_event("CALL_ESTABLISHED", 5)
    a.wait_audio(1.0)
    b.hangup()
    a.wait_event("CALL_CLOSED", 5)
    # b sent back what it heard: a's own tone
    echoed = audio.analyze(a.wait_recordings(1)[0])
    assert abs(echoed["frequency"] - 900) <= 5, echoed


def test_fake_phone_play_file_ends_call(phone_factory, tmp_path):
    wav = tmp_path / "prompt.wav"
    audio.write_wav(wav, audio.sine(800, 1.5))
    a = phone_factory(server="127.0.0.1:9", line="200", regint=0, play=wav)
    b = phone_factory(server="127.0.0.1:9", line="300", regint=0,
                      record=tmp_path / "b")
    a.dial(b.uri)
    a.wait_event("CALL_ESTABLISHED", 5)
    # aufile reports "end of file" as an audio error, which ends the call
    closed = a.wait_event("CALL_CLOSED", 6)
    assert closed["param"] == "end of file"
    b.wait_event("CALL_CLOSED", 5)
    heard = audio.analyze(b.wait_recordings(1)[0])
    assert abs(heard["frequency"] - 800) <= 5, heard
    assert 1.0 < heard["active_duration"] < 2.0, heard


# -- registration ------------------------------------------------------------

def test_fake_phone_register_to_stock_baresip_gets_501(phone_factory):
    plain = phone_factory(server="127.0.0.1:9", line="900", regint=0)
    ph = phone_factory(server="127.0.0.1:%d" % plain.sip_port, line="100")
    with pytest.raises(RuntimeError, match="501 Not Implemented"):
        ph.wait_registered(5)
    assert events_of(ph, "REGISTERING") == [None]


def test_fake_phone_and_linphone_register_to_stub(phone_factory,
                                                  linphone_factory):
    with StubRegistrar() as reg:
        ph = phone_factory(server=reg.hostport, line="100", regint=60)
        assert ph.wait_registered(5)["param"] == "200 OK"
        req = reg.wait_request("REGISTER", 1)
        assert req.header("to") == "<sip:100@%s>" % reg.hostport
        contact = contact_uri(req.header("contact"))
        assert contact.startswith("sip:100-0x")
        assert contact.endswith("@127.0.0.1:%d" % ph.sip_port)
        assert "expires=60" in req.header("contact")
        assert req.header("user-agent").startswith("baresip v1.0.0")

        lp = linphone_factory(line="101", server=reg.hostport, regint=60)
        lp.wait_registered(5)
        lreq = reg.wait_request("REGISTER", 1, predicate=lambda r:
                                "sip:101@" in r.header("from"))
        assert "@127.0.0.1:%d" % lp.sip_port in lreq.header("contact")

        # the first SIGTERM makes baresip unregister, then exit
        n = len(reg.requests)
        assert ph.stop() == 0
        unreg = reg.wait_request("REGISTER", 1, since=n)
        assert "expires=0" in unreg.header("contact") or \
            unreg.header("expires") == "0"


# -- linphonec ---------------------------------------------------------------

def test_linphone_info_dtmf_and_audio_to_fake_phone(phone_factory,
                                                    linphone_factory,
                                                    tmp_path):
    tone = tmp_path / "lp.wav"
    audio.write_wav(tone, audio.sine(500, 8.0))
    ph = phone_factory(server="127.0.0.1:9", line="300", regint=0,
                       tone=1500, record=tmp_path / "ph")
    lp = linphone_factory(line="101", use_info=True, use_rfc2833=False,
                          play=tone, record=tmp_path / "lp-heard.wav")
    lp.call(ph.uri)
    ph.wait_event("CALL_ESTABLISHED", 5)
    lp.wait_output(r"Media streams established", 5)
    for digit in "7#":
        lp.send_dtmf(digit)
        ph.wait_event(lambda e, d=digit: e["type"] == "CALL_DTMF_START"
                      and e["param"] == d, 5)
    assert events_of(ph, "CALL_DTMF_START") == ["7", "#"]
    # baresip logs this line only for DTMF that came by SIP INFO
    log = ph.log_path.read_text()
    assert "received DTMF: '7'" in log and "received DTMF: '#'" in log
    ph.wait_audio(1.0)
    lp.hangup()
    ph.wait_event("CALL_CLOSED", 5)
    lp.wait_output(r"Call \d+ with .* ended", 5)

    heard_by_phone = audio.analyze(ph.wait_recordings(1)[0])
    assert abs(heard_by_phone["frequency"] - 500) <= 5, heard_by_phone
    heard_by_lp = audio.analyze(tmp_path / "lp-heard.wav")
    assert abs(heard_by_lp["frequency"] - 1500) <= 5, heard_by_lp


@pytest.mark.parametrize("use_info,use_rfc2833,per_digit,by_info", [
    (False, True, 1, 0),  # RFC 2833 only: no INFO reaches baresip
    (True, True, 2, 1),   # both on: linphonec sends every digit twice
])
def test_linphone_dtmf_methods(phone_factory, linphone_factory, use_info,
                               use_rfc2833, per_digit, by_info):
    ph = phone_factory(server="127.0.0.1:9", line="300", regint=0)
    lp = linphone_factory(line="101", use_info=use_info,
                          use_rfc2833=use_rfc2833)
    lp.call(ph.uri)
    ph.wait_event("CALL_ESTABLISHED", 5)
    lp.wait_output(r"Media streams established", 5)
    lp.send_dtmf("3")
    lp.send_dtmf("4")  # a later digit: every copy of "3" came before it
    ph.wait_event(lambda e: e["type"] == "CALL_DTMF_START"
                  and e["param"] == "4", 5)
    assert events_of(ph, "CALL_DTMF_START").count("3") == per_digit
    assert ph.log_path.read_text().count("received DTMF: '3'") == by_info


def test_fake_phone_calls_linphone(phone_factory, linphone_factory):
    lp = linphone_factory(line="101")
    ph = phone_factory(server="127.0.0.1:9", line="300", regint=0)
    ph.dial(lp.uri)
    m = lp.wait_output(r"Receiving new incoming call from (\S+), "
                       r"assigned id (\d+)", 5)
    assert m.group(1) == "sip:300@127.0.0.1:9"
    ph.wait_event("CALL_RINGING", 5)
    lp.answer()
    ph.wait_event("CALL_ESTABLISHED", 5)
    lp.hangup()
    assert ph.wait_event("CALL_CLOSED", 5)["param"] == \
        "Connection reset by peer"


# -- the fake-phone command --------------------------------------------------

def test_fake_phone_cli(phone_factory):
    proc = subprocess.Popen(
        [str(SCRIPTS / "fake-phone"), "--server", "127.0.0.1:9",
         "--line", "100", "--regint", "0", "--tone", "700"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] is True and ready["line"] == "100"
        peer = phone_factory(server="127.0.0.1:9", line="300", regint=0)
        peer.dial(ready["uri"])
        peer.wait_event("CALL_RTPESTAB", 5)

        def read_until(pred):
            for line in proc.stdout:
                msg = json.loads(line)
                if pred(msg):
                    return msg
            raise AssertionError("fake-phone ended its output")

        read_until(lambda m: m.get("type") == "CALL_ESTABLISHED")
        proc.stdin.write("dtmf 42\n")
        proc.stdin.flush()
        reply = read_until(lambda m: m.get("command") == "dtmf")
        assert reply["ok"] is True
        peer.wait_event(lambda e: e["type"] == "CALL_DTMF_START"
                        and e["param"] == "2", 5)
        assert events_of(peer, "CALL_DTMF_START") == ["4", "2"]
        proc.stdin.write("hangup\n")
        proc.stdin.flush()
        peer.wait_event("CALL_CLOSED", 5)
        read_until(lambda m: m.get("type") == "CALL_CLOSED")
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.terminate()  # the tool stops its baresip on SIGTERM
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()  # its baresip dies with it (pdeathsig)
                proc.wait(5)
        proc.stdin.close()
        proc.stdout.close()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
