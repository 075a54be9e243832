"""`hookwire listen`: a local webhook receiver for trying Hookwire out.

It answers every verification handshake Hookwire performs, verifies Standard Webhooks
signatures when given the secret, and prints each webhook as it arrives.
"""

from __future__ import annotations

import json
import time

from aiohttp import web

from gateway.signing import SignatureError, verify


def build_listener(secret: str, status: int = 200) -> web.Application:
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
    print(f"listening on http://{host}:{port}/ (answering {status})", flush=True)
    web.run_app(build_listener(secret, status), host=host, port=port, print=None, access_log=None)
