"""The webhook sink: a minimal HTTP/1.1 keep-alive server on uvloop, in its own process.

A raw asyncio.Protocol keeps the receiver's own cost per request far below the gateway's,
so the sink is never what the pipeline is measured against. Paths:

* `/raw/...`   ceiling traffic: answered 200 and counted, nothing checked;
* `/slow/...`  never answered (the connection is held until the client gives up);
* `/_stats`, `/_records?since=N`, `/_reset`: the control endpoint for the harness;
* anything else is a webhook: answered 200, recorded as (path, webhook-id, receipt time,
  receipt - publish start), its data checked byte for byte against `payload.make`, and a
  sample of signatures verified with `gateway.signing.verify`.

Run: `python bench/sink.py --port P [--secret whsec_...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import payload

SIGNATURE_SAMPLE = 50  # verify every 50th webhook's signature (and the first 20)
MAX_HEAD = 64 * 1024
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


@dataclass
class SinkState:
    secret: str
    records: list[tuple[str, str, float, float]] = field(default_factory=list)
    raw: int = 0
    slow: int = 0
    bad: int = 0
    bad_examples: list[str] = field(default_factory=list)
    sig_checked: int = 0
    sig_bad: int = 0

    def problem(self, text: str) -> None:
        self.bad += 1
        if len(self.bad_examples) < 10:
            self.bad_examples.append(text)

    def stats(self) -> dict[str, Any]:
        return {
            "count": len(self.records),
            "raw": self.raw,
            "slow": self.slow,
            "bad": self.bad,
            "bad_examples": self.bad_examples,
            "sig_checked": self.sig_checked,
            "sig_bad": self.sig_bad,
            "last_receipt": self.records[-1][2] if self.records else 0.0,
        }

    def webhook(self, path: str, headers: dict[str, str], body: bytes) -> None:
        now = time.time()
        webhook_id = headers.get("webhook-id", "")
        marker = body.find(b',"data":')
        parsed = payload.parse(body[marker + 8 : -1]) if marker > 0 else None
        if parsed is None:
            self.problem(f"{path} {webhook_id}: data is not the published payload")
            self.records.append((path, webhook_id, now, -1.0))
            return
        t_us, seq = parsed
        self.records.append((path, webhook_id, now, now - t_us / 1e6))
        if len(self.records) <= 20 or len(self.records) % SIGNATURE_SAMPLE == 0:
            self._check_sample(path, headers, body, webhook_id, seq, now)

    def _check_sample(
        self, path: str, headers: dict[str, str], body: bytes, webhook_id: str, seq: int, now: float
    ) -> None:
        from gateway.signing import SignatureError, verify

        self.sig_checked += 1
        try:
            verify([self.secret], headers, body, now=int(now))
        except (SignatureError, ValueError) as exc:
            self.sig_bad += 1
            self.problem(f"{path} {webhook_id}: signature invalid ({exc})")
        envelope = json.loads(body)
        if envelope.get("id") != webhook_id or envelope.get("data", {}).get("seq") != seq:
            self.problem(f"{path} {webhook_id}: envelope id/data do not match the headers")


class SinkProtocol(asyncio.Protocol):
    """One connection: parse requests with Content-Length bodies, answer in order."""

    def __init__(self, state: SinkState) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.held = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while not self.held and self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                self.transport.write(b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n")
                self.transport.close()
                return
            size = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + size:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + size])
            del self.buffer[: end + 4 + size]
            method, _, rest = lines[0].partition(" ")
            self.handle(method, rest.rpartition(" ")[0], headers, body)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        assert self.transport is not None
        path = target.split("?", 1)[0]
        if path.startswith("/raw/"):
            self.state.raw += 1
        elif path.startswith("/slow/"):
            self.state.slow += 1
            self.held = True  # never answer; the client times out and closes
            return
        elif path.startswith("/_"):
            self.transport.write(self.control(path, target))
            return
        else:
            self.state.webhook(path, headers, body)
        self.transport.write(OK)
        if headers.get("connection", "").lower() == "close":
            self.transport.close()

    def control(self, path: str, target: str) -> bytes:
        query = parse_qs(urlsplit(target).query)
        if path == "/_stats":
            answer: Any = self.state.stats()
        elif path == "/_records":
            since = int(query.get("since", ["0"])[0])
            answer = {"records": self.state.records[since:]}
        elif path == "/_reset":
            fresh = SinkState(self.state.secret)
            self.state.__dict__.update(fresh.__dict__)
            answer = {"reset": True}
        else:
            return b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        data = json.dumps(answer, separators=(",", ":")).encode()
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        return head % len(data) + data


async def serve(port: int, secret: str) -> None:
    state = SinkState(secret)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(
        lambda: SinkProtocol(state), "127.0.0.1", port, backlog=1024, reuse_address=True
    )
    print(f"sink listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", default=payload.SECRET)
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.port, args.secret))


if __name__ == "__main__":
    main()
