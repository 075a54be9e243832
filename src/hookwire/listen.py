"""`hookwire listen`: a local webhook receiver for trying Hookwire out.

It answers every verification handshake Hookwire performs, verifies Standard Webhooks
signatures when given the secret, and prints each webhook as it arrives. The gateway's
signing code and aiohttp load only when it runs, not when `hookwire.cli` registers it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    receiver = commands.add_parser("listen", help="run a local webhook receiver for trying")
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--port", type=int, default=9000)
    receiver.add_argument("--secret", default="", help="whsec_... to verify signatures")
    receiver.add_argument("--status", type=int, default=200, help="status to answer webhooks")
    receiver.set_defaults(handler=_listen_command)


def _listen_command(args: argparse.Namespace) -> int:
    try:
        listen(args.host, args.port, args.secret, args.status)
    except OSError as exc:  # the port is taken, or the host is not this machine's
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"hookwire: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    return 0


def build_listener(secret: str, status: int = 200) -> web.Application:
    from aiohttp import web

    from gateway.signing import SignatureError, verify

    async def receive(request: web.Request) -> web.Response:
        if token := request.query.get("validationToken"):
            print(f"handshake: echoing validationToken ({request.method})", flush=True)
            return web.Response(text=token, content_type="text/plain")
        if challenge := request.query.get("hub.challenge"):
            print("handshake: echoing hub.challenge", flush=True)
            return web.Response(text=challenge, content_type="text/plain")
        if request.method == "OPTIONS":
            origin = request.headers.get("WebHook-Request-Origin", "*")
            print(f"handshake: allowing origin {origin}", flush=True)
            return web.Response(headers={"WebHook-Allowed-Origin": origin, "Allow": "POST"})
        body = await request.read()
        verdict = "signature not checked (pass --secret)"
        if secret:
            try:
                verify([secret], dict(request.headers), body, now=int(time.time()))
                verdict = "signature valid"
            except SignatureError as exc:
                verdict = f"signature INVALID ({exc.reason})"
        print(f"webhook {request.headers.get('webhook-id', '?')}: {verdict}", flush=True)
        try:
            print(json.dumps(json.loads(body), indent=2), flush=True)
        except ValueError:
            print(body[:2048].decode("utf-8", "replace"), flush=True)
        return web.Response(status=status, text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receive)
    return app


def listen(host: str, port: int, secret: str, status: int) -> None:
    from aiohttp import web

    print(f"listening on http://{host}:{port}/ (answering {status})", flush=True)
    web.run_app(build_listener(secret, status), host=host, port=port, print=None, access_log=None)
