#!/usr/bin/python3
"""A command-line sipphone WebSocket client.

Prints every event, answers the first call from the phone, records what
the phone says to a WAV file and plays a WAV file to the phone (8 kHz,
mono, 16-bit), then waits for a mark to know it was all played.

Needs Debian's python3-websockets. Example:

    ws-client.py --url ws://pi:8000 --token "$TOKEN" \\
        --record heard.wav --play greeting.wav
"""

import argparse
import asyncio
import json
import sys
import wave
from urllib.parse import urlencode

import websockets


async def run(args):
    query = urlencode({"token": args.token, "audio": "l16"})
    heard = wave.open(args.record, "wb") if args.record else None
    if heard:
        heard.setnchannels(1)
        heard.setsampwidth(2)
        heard.setframerate(8000)

    async with websockets.connect("%s/api/v1/ws?%s" % (args.url, query),
                                  max_size=2 ** 16) as ws:
        async for message in ws:
            if isinstance(message, bytes):         # 20 ms of the phone
                if heard:
                    heard.writeframes(message)
                continue

            msg = json.loads(message)
            print(json.dumps(msg), flush=True)
            kind = msg["type"]
            event = msg.get("event", {})

            if kind == "event" and event["type"] == "call.incoming":
                await ws.send(json.dumps({
                    "type": "command", "id": "answer", "command": "answer",
                    "args": {"call": event["data"]["call"]}}))

            elif kind == "response" and msg["id"] == "answer" and msg["ok"]:
                if args.play:
                    with wave.open(args.play, "rb") as w:
                        # L16: little-endian samples, any length at once
                        await ws.send(w.readframes(w.getnframes()))
                await ws.send(json.dumps({
                    "type": "command", "id": "m", "command": "mark",
                    "args": {"name": "played"}}))

            elif kind == "mark" and msg["name"] == "played":
                print("all played", flush=True)

            elif kind == "event" and event["type"] == "call.ended":
                break

    if heard:
        heard.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000")
    p.add_argument("--token", required=True)
    p.add_argument("--record", help="WAV file for what the phone says")
    p.add_argument("--play", help="WAV file to play (8 kHz mono 16-bit)")
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        print("ws-client: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
