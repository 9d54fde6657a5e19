"""A stand-in for Home Assistant's ingress proxy, for browser tests of the ledger UI.

Like the Supervisor's proxy it serves the add-on under ``/api/hassio_ingress/<token>/``,
strips that prefix, names it in ``X-Ingress-Path`` and names the logged-in Home
Assistant user in ``X-Remote-User-*`` headers. One proxy per user.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from yarl import URL

_HOP_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
)


@dataclass(frozen=True)
class IngressUser:
    id: str
    name: str
    display_name: str


def ingress_proxy(target: str, prefix: str, user: IngressUser) -> web.Application:
    async def forward(request: web.Request) -> web.StreamResponse:
        rest = request.rel_url.raw_path_qs[len(prefix) :] or "/"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        headers.update(
            {
                "X-Ingress-Path": prefix,
                "X-Remote-User-Id": user.id,
                "X-Remote-User-Name": user.name,
                "X-Remote-User-Display-Name": user.display_name,
            }
        )
        body = await request.read()
        session: aiohttp.ClientSession = request.app["session"]
        async with session.request(
            request.method,
            URL(target + rest, encoded=True),
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                headers={
                    k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS
                },
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(65536):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def session_context(app: web.Application) -> AsyncIterator[None]:
        app["session"] = aiohttp.ClientSession()
        yield
        await app["session"].close()

    app = web.Application(client_max_size=50 * 1024 * 1024)
    app.cleanup_ctx.append(session_context)
    app.router.add_route("*", prefix + "/{tail:.*}", forward)
    return app
