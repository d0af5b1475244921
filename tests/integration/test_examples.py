"""The example clients in docs/ work against the real service."""

import subprocess
from pathlib import Path

from helpers import EventLog
from sipphone_test import audio

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_command_line_ws_client(service, phone_factory, tmp_path):
    phone = phone_factory(line="100", tone=1000, record=True)
    phone.wait_registered(10)
    greeting = tmp_path / "greeting.wav"
    audio.write_wav(greeting, audio.sine(440, 2.0))
    heard = tmp_path / "heard.wav"

    client = subprocess.Popen(
        ["/usr/bin/python3", str(EXAMPLES / "ws-client.py"),
         "--url", "ws://127.0.0.1:%d" % service.http_port,
         "--token", service.token, "--record", str(heard),
         "--play", str(greeting)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # the hello line says the client is connected
        assert '"hello"' in client.stdout.readline()
        log = EventLog(service)
        phone.dial("1234")
        log.wait("call.answered")
        # the example marks the end of its greeting
        for line in client.stdout:
            if line.strip() == "all played":
                break
        phone.wait_audio(2.5)
        phone.hangup()
        out, _ = client.communicate(timeout=15)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()

    assert client.returncode == 0, out
    assert '"call.ended"' in out
    wav = audio.read_wav(heard)
    assert wav.duration > 1.0
    assert abs(audio.dominant_frequency(wav.samples[800:], 8000) - 1000) < 20
    said = audio.read_wav(phone.recordings()[-1])
    assert abs(audio.dominant_frequency(said.samples[4000:16000], said.rate)
               - 440) < 20
