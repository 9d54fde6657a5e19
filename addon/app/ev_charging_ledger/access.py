"""Who is asking: ingress headers in the add-on, bearer tokens in standalone mode.

In the add-on, Home Assistant has already authenticated the user and the Supervisor's
ingress proxy (172.30.32.2) is the only allowed peer; it passes the user in
``X-Remote-User-*`` headers. Those headers do not say whether the user is an admin, so
that comes from Home Assistant's user list. In standalone mode a request needs either
the ledger's own API token (full access) or a Home Assistant access token, which
Home Assistant itself resolves to a user.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

SUPERVISOR_INGRESS_PEER = "172.30.32.2"
ADMIN_GROUP = "system-admin"
IDENTITY_KEY = web.RequestKey("identity", object)


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str | None
    name: str
    is_admin: bool

    def as_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "name": self.name, "is_admin": self.is_admin}


class AccessPolicy(Protocol):
    async def identify(self, request: web.Request) -> Identity:
        """Return the caller or raise an HTTP 401/403."""


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=f'{{"error": "{message}"}}', content_type="application/json")


class _TtlCache:
    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: str, value: Any) -> None:
        if len(self._items) > 1000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self._ttl, value)


UserLister = Callable[[], Awaitable[list[dict[str, Any]]]]
TokenResolver = Callable[[str], Awaitable[dict[str, Any]]]


class IngressAccess:
    """Add-on mode: only the ingress proxy may connect; it names the user."""

    def __init__(
        self,
        list_users: UserLister,
        *,
        allowed_peers: frozenset[str] = frozenset({SUPERVISOR_INGRESS_PEER}),
        cache_seconds: float = 60.0,
    ) -> None:
        self._list_users = list_users
        self._allowed_peers = allowed_peers
        self._admins = _TtlCache(cache_seconds)

    async def identify(self, request: web.Request) -> Identity:
        if request.remote not in self._allowed_peers:
            raise _json_error(web.HTTPForbidden, "only Home Assistant ingress may connect")
        user_id = request.headers.get("X-Remote-User-Id")
        if not user_id:
            raise _json_error(web.HTTPUnauthorized, "no Home Assistant user in the request")
        name = (
            request.headers.get("X-Remote-User-Display-Name")
            or request.headers.get("X-Remote-User-Name")
            or user_id
        )
        return Identity(user_id, name, await self._is_admin(user_id))

    async def _is_admin(self, user_id: str) -> bool:
        admins = self._admins.get("admins")
        if admins is None or user_id not in admins[1]:
            # Unknown users trigger a refresh: a user created a minute ago is not cached.
            users = await self._list_users()
            admins = (
                {
                    str(user["id"])
                    for user in users
                    if user.get("is_owner") or ADMIN_GROUP in (user.get("group_ids") or [])
                },
                {str(user["id"]) for user in users},
            )
            self._admins.put("admins", admins)
        return user_id in admins[0]


class TokenAccess:
    """Standalone mode: the ledger's API token, or a Home Assistant token of a user."""

    def __init__(
        self,
        api_token: str | None,
        resolve_ha_token: TokenResolver | None,
        *,
        cache_seconds: float = 300.0,
    ) -> None:
        self._api_token = api_token
        self._resolve = resolve_ha_token
        self._users = _TtlCache(cache_seconds)

    async def identify(self, request: web.Request) -> Identity:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _json_error(web.HTTPUnauthorized, "a bearer token is required")
        if self._api_token and hmac.compare_digest(token.encode(), self._api_token.encode()):
            return Identity(None, "ledger API token", True)
        if self._resolve is None:
            raise _json_error(web.HTTPUnauthorized, "invalid token")
        cached = self._users.get(token)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        try:
            user = await self._resolve(token)
        except Exception as err:
            raise _json_error(web.HTTPUnauthorized, "invalid token") from err
        identity = Identity(str(user["id"]), str(user.get("name") or ""), bool(user["is_admin"]))
        self._users.put(token, identity)
        return identity
