"""Who is asking: ingress headers in the add-on, bearer tokens in standalone mode.

In the add-on, Home Assistant has already authenticated the user and the Supervisor's
ingress proxy (172.30.32.2) is the only allowed peer; it passes the user in
``X-Remote-User-*`` headers. Those headers do not say whether the user is an admin, so
that comes from Home Assistant's user list. In standalone mode a request needs either
the ledger's own API token (full access) or a Home Assistant access token, which
Home Assistant itself resolves to a user.

Asking Home Assistant about a token is a login attempt from the ledger's address, and
Home Assistant bans an address after ``login_attempts_threshold`` failed ones: the
ledger's ingest would be locked out by anyone sending it bad tokens. So a token reaches
Home Assistant only if it looks like one of its access tokens (a signed, unexpired JWT),
is not already known to be refused, and fits a per-client and a global rate limit;
lookups run one at a time, and each refusal is followed by a successful login with the
ledger's own token, which resets Home Assistant's failure counter before the next
lookup can add to it.

What a user may do follows Home Assistant promptly: the identity caches are dropped on
Home Assistant's ``user_updated``/``user_removed`` events (:class:`UserChanges`) and
live only seconds while those events cannot be watched.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from ev_charging_ledger.homeassistant import (
    AuthenticationError,
    CommandError,
    Connection,
    HomeAssistantError,
)

LOGGER = logging.getLogger(__name__)
SUPERVISOR_INGRESS_PEER = "172.30.32.2"
ADMIN_GROUP = "system-admin"
IDENTITY_KEY = web.RequestKey("identity", object)

# How long an identity (and its admin right) is trusted without asking again: long
# while Home Assistant's user events invalidate it, a few seconds while they cannot.
WATCHED_TTL = 60.0
UNWATCHED_TTL = 10.0
# A refused token stays refused: Home Assistant never revives an access token.
REFUSED_TTL = 3600.0
REFUSED_MAX = 20_000
# Lookups of tokens the ledger does not know yet: (burst, refill per second).
PER_CLIENT_LIMIT = (5, 5 / 600)
OVERALL_LIMIT = (10, 10 / 60)
# Clock skew allowed between the ledger and Home Assistant for a token's expiry.
EXPIRY_LEEWAY = 300

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str | None
    name: str
    is_admin: bool

    def as_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "name": self.name, "is_admin": self.is_admin}


class AccessPolicy(Protocol):
    async def identify(self, request: web.Request) -> Identity:
        """Return the caller or raise an HTTP 401/403/429/503."""


def _json_error(
    status: type[web.HTTPException], message: str, headers: dict[str, str] | None = None
) -> web.HTTPException:
    return status(
        text=json.dumps({"error": message}), content_type="application/json", headers=headers
    )


def _unreachable(err: BaseException) -> web.HTTPException:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return _json_error(
        web.HTTPServiceUnavailable,
        f"Home Assistant is unreachable, so the user cannot be checked: {reason}",
        {"Retry-After": "10"},
    )


UNREACHABLE_ERRORS = (HomeAssistantError, aiohttp.ClientError, OSError, TimeoutError)


class UserChanges:
    """Listeners for Home Assistant's user events, and whether they are being watched."""

    def __init__(self) -> None:
        self.watched = False
        self._listeners: list[Callable[[str, str | None], None]] = []

    def listen(self, listener: Callable[[str, str | None], None]) -> None:
        self._listeners.append(listener)

    def changed(self, event_type: str, user_id: str | None) -> None:
        """A user was added, updated or removed (``user_id`` None: anything may have)."""
        for listener in self._listeners:
            listener(event_type, user_id)

    def set_watched(self, watched: bool) -> None:
        if watched != self.watched:
            LOGGER.info(
                "user changes in Home Assistant are %s",
                "watched"
                if watched
                else f"not watched; rights are re-checked every {UNWATCHED_TTL:.0f} s",
            )
        self.watched = watched
        # Events may have been missed while not watching.
        self.changed("reset", None)

    @property
    def ttl(self) -> float:
        return WATCHED_TTL if self.watched else UNWATCHED_TTL


class _Bucket:
    """A token bucket: ``burst`` lookups at once, refilled at ``rate`` per second."""

    __slots__ = ("_burst", "_level", "_rate", "_stamp")

    def __init__(self, burst: int, rate: float, now: float) -> None:
        self._burst, self._rate = float(burst), rate
        self._level, self._stamp = float(burst), now

    def _refill(self, now: float) -> None:
        self._level = min(self._burst, self._level + (now - self._stamp) * self._rate)
        self._stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one lookup is allowed (0: now)."""
        self._refill(now)
        return 0.0 if self._level >= 1 else (1 - self._level) / self._rate

    def take(self, now: float) -> None:
        self._refill(now)
        self._level -= 1

    def give_back(self, now: float) -> None:
        self._refill(now)
        self._level = min(self._burst, self._level + 1)


class LookupLimiter:
    """Rate limits for asking Home Assistant about unknown tokens, per client and overall."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        per_client: tuple[int, float] = PER_CLIENT_LIMIT,
        overall: tuple[int, float] = OVERALL_LIMIT,
    ) -> None:
        self._clock = clock
        self._per_client = per_client
        self._overall = _Bucket(*overall, clock())
        self._clients: OrderedDict[str, _Bucket] = OrderedDict()

    def _client(self, client: str) -> _Bucket:
        bucket = self._clients.pop(client, None)
        if bucket is None:
            bucket = _Bucket(*self._per_client, self._clock())
            while len(self._clients) >= 10_000:
                self._clients.popitem(last=False)
        self._clients[client] = bucket
        return bucket

    def wait(self, client: str) -> float:
        now = self._clock()
        return max(self._client(client).wait(now), self._overall.wait(now))

    def take(self, client: str) -> None:
        now = self._clock()
        self._client(client).take(now)
        self._overall.take(now)

    def give_back(self, client: str) -> None:
        """A lookup that found a valid user does not count against anyone."""
        now = self._clock()
        self._client(client).give_back(now)
        self._overall.give_back(now)


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def looks_like_access_token(token: str, now: float) -> bool:
    """Whether Home Assistant could accept ``token``: its access tokens are HS256 JWTs
    naming a refresh token (``iss``) with an expiry. The signature can only be checked
    by Home Assistant; everything else is checked here, without a login attempt."""
    if len(token) > 4096:
        return False
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        header, payload = _b64json(parts[0]), _b64json(parts[1])
        base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (ValueError, UnicodeError, binascii.Error):
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("iss"), str):
        return False
    expiry = payload.get("exp")
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float)):
        return False
    return math.isfinite(expiry) and expiry + EXPIRY_LEEWAY > now


UserLister = Callable[[], Awaitable[list[dict[str, Any]]]]
TokenResolver = Callable[[str], Awaitable[dict[str, Any]]]
LoginCheck = Callable[[], Awaitable[None]]


class IngressAccess:
    """Add-on mode: only the ingress proxy may connect; it names the user."""

    def __init__(
        self,
        list_users: UserLister,
        *,
        allowed_peers: frozenset[str] = frozenset({SUPERVISOR_INGRESS_PEER}),
        changes: UserChanges | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._list_users = list_users
        self._allowed_peers = allowed_peers
        self._changes = changes or UserChanges()
        self._changes.listen(lambda _event, _user: self._forget())
        self._clock = clock
        # (expires, admin ids, all ids)
        self._users: tuple[float, frozenset[str], frozenset[str]] | None = None

    def _forget(self) -> None:
        self._users = None

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
        try:
            return Identity(user_id, name, await self._is_admin(user_id))
        except UNREACHABLE_ERRORS as err:
            raise _unreachable(err) from err

    async def _is_admin(self, user_id: str) -> bool:
        users = self._users
        if users is None or users[0] < self._clock() or user_id not in users[2]:
            # Unknown users trigger a refresh: a user created a minute ago is not cached.
            listed = await self._list_users()
            users = (
                self._clock() + self._changes.ttl,
                frozenset(
                    str(user["id"])
                    for user in listed
                    if user.get("is_owner") or ADMIN_GROUP in (user.get("group_ids") or [])
                ),
                frozenset(str(user["id"]) for user in listed),
            )
            self._users = users
        return user_id in users[1]


class TokenAccess:
    """Standalone mode: the ledger's API token, or a Home Assistant token of a user."""

    def __init__(
        self,
        api_token: str | None,
        resolve_ha_token: TokenResolver | None,
        *,
        after_refusal: LoginCheck | None = None,
        changes: UserChanges | None = None,
        limiter: LookupLimiter | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        self._api_token = api_token
        self._resolve = resolve_ha_token
        self._after_refusal = after_refusal
        self._changes = changes or UserChanges()
        self._changes.listen(self._user_changed)
        self._clock = clock
        self._wall_clock = wall_clock
        self._limiter = limiter or LookupLimiter(clock)
        self._known: dict[bytes, tuple[float, Identity]] = {}
        self._refused: OrderedDict[bytes, float] = OrderedDict()
        self._lookup = asyncio.Lock()
        # Set while Home Assistant may still count a refusal against the ledger.
        self._paused_until = 0.0

    def _user_changed(self, event_type: str, user_id: str | None) -> None:
        for key, (_, identity) in list(self._known.items()):
            if user_id is None or identity.user_id == user_id:
                del self._known[key]
                if event_type == "user_removed":
                    # Its tokens died with the user: never ask Home Assistant about them.
                    self._refuse(key)

    def _refuse(self, key: bytes) -> None:
        self._refused.pop(key, None)
        self._refused[key] = self._clock() + REFUSED_TTL
        while len(self._refused) > REFUSED_MAX:
            self._refused.popitem(last=False)

    def _cached(self, key: bytes) -> Identity | None:
        now = self._clock()
        known = self._known.get(key)
        if known is not None:
            if known[0] >= now:
                return known[1]
            del self._known[key]
        return None

    def _is_refused(self, key: bytes) -> bool:
        expires = self._refused.get(key)
        if expires is None:
            return False
        if expires < self._clock():
            del self._refused[key]
            return False
        return True

    async def identify(self, request: web.Request) -> Identity:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _json_error(web.HTTPUnauthorized, "a bearer token is required")
        return await self.identify_token(token, request.remote or "unknown")

    async def identify_token(self, token: str, client: str) -> Identity:
        """The user of a bearer token (also the browser login's Home Assistant token)."""
        if self._api_token and hmac.compare_digest(token.encode(), self._api_token.encode()):
            return Identity(None, "ledger API token", True)
        if self._resolve is None:
            raise _json_error(web.HTTPUnauthorized, "invalid token")
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        if (identity := self._cached(key)) is not None:
            return identity
        if self._is_refused(key) or not looks_like_access_token(token, self._wall_clock()):
            raise _json_error(web.HTTPUnauthorized, "invalid token")
        return await self._look_up(key, token, client)

    def _too_many(self, wait: float) -> web.HTTPException:
        seconds = max(1, math.ceil(wait))
        return _json_error(
            web.HTTPTooManyRequests,
            f"too many unknown tokens; try again in {seconds} s",
            {"Retry-After": str(seconds)},
        )

    async def _look_up(self, key: bytes, token: str, client: str) -> Identity:
        assert self._resolve is not None
        wait = self._limiter.wait(client)
        if wait > 0:
            raise self._too_many(wait)
        self._limiter.take(client)
        # One lookup at a time: Home Assistant never sees two refusals in a row without
        # the ledger's successful login in between.
        async with self._lookup:
            if (identity := self._cached(key)) is not None:
                self._limiter.give_back(client)
                return identity
            if self._is_refused(key):
                raise _json_error(web.HTTPUnauthorized, "invalid token")
            if self._paused_until > self._clock():
                raise self._too_many(self._paused_until - self._clock())
            try:
                user = await self._resolve(token)
            except AuthenticationError as err:
                self._refuse(key)
                await self._reset_failure_count()
                raise _json_error(web.HTTPUnauthorized, "invalid token") from err
            except UNREACHABLE_ERRORS as err:
                self._limiter.give_back(client)
                if isinstance(err, TimeoutError):
                    # Home Assistant may still count it as a failed login.
                    await self._reset_failure_count()
                raise _unreachable(err) from err
            try:
                identity = Identity(
                    str(user["id"]), str(user.get("name") or ""), bool(user["is_admin"])
                )
            except (KeyError, TypeError) as err:
                raise _unreachable(HomeAssistantError(f"unexpected user {user!r}")) from err
            self._limiter.give_back(client)
            self._known[key] = (self._clock() + self._changes.ttl, identity)
            if len(self._known) > 10_000:
                self._known.clear()
            return identity

    async def _reset_failure_count(self) -> None:
        if self._after_refusal is None:
            return
        try:
            await self._after_refusal()
        except Exception as err:
            # Until the ledger's own login succeeds, another refusal could add up to a ban.
            self._paused_until = self._clock() + 60
            LOGGER.warning(
                "could not log in to Home Assistant after a refused token (%s); "
                "no unknown token is checked for 60 s",
                err,
            )
        else:
            self._paused_until = 0.0


USER_EVENTS = ("user_added", "user_updated", "user_removed")
OpenConnection = Callable[[], Awaitable[Connection]]


async def watch_user_changes(
    open_connection: OpenConnection,
    changes: UserChanges,
    *,
    retry: float = 30.0,
    refused_retry: float = 600.0,
) -> None:
    """Forward Home Assistant's user events to ``changes`` until cancelled.

    Subscribing to these events needs an administrator's token; without one, or while
    Home Assistant is away, ``changes.watched`` is False and identities expire within
    seconds instead.
    """
    while True:
        wait = retry
        try:
            connection = await open_connection()
            try:
                queues = [
                    (event_type, (await connection.subscribe(_subscription(event_type)))[1])
                    for event_type in USER_EVENTS
                ]
                changes.set_watched(True)
                await _pump(queues, changes)
            finally:
                await connection.close()
        except CommandError as err:
            LOGGER.warning("cannot watch user changes in Home Assistant: %s", err)
            wait = refused_retry
        except (*UNREACHABLE_ERRORS, AuthenticationError) as err:
            LOGGER.debug("user changes not watched: %s", err)
        changes.set_watched(False)
        await asyncio.sleep(wait)


def _subscription(event_type: str) -> dict[str, Any]:
    return {"type": "subscribe_events", "event_type": event_type}


async def _pump(
    queues: list[tuple[str, asyncio.Queue[dict[str, Any] | None]]], changes: UserChanges
) -> None:
    async def forward(event_type: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        while (event := await queue.get()) is not None:
            data = event.get("data")
            user_id = data.get("user_id") if isinstance(data, dict) else None
            changes.changed(event_type, str(user_id) if user_id else None)

    tasks = [asyncio.create_task(forward(event_type, queue)) for event_type, queue in queues]
    try:
        # Every queue ends (None) when the socket closes.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
