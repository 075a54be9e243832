"""The gateway's HTTP listener (inbound webhooks and health)."""

from __future__ import annotations

from aiohttp import web


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app() -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", _health)
    return app
