"""Log in with Home Assistant: how a browser gets into a standalone ledger.

Without the Supervisor there is no ingress to name the user, and a browser cannot send a
bearer token. So the ledger is an OAuth2 client of Home Assistant (authorization code
flow with PKCE): its public URL is the client id, ``<public URL>/auth/callback`` the
redirect URI. Home Assistant accepts such a client without registration because both
are on the same host and port (``components/auth/indieauth.py``).

After the login the browser holds only a random session id (HttpOnly, SameSite=Lax);
the Home Assistant tokens stay in the ledger's memory. Every request of that session is
identified with the session's access token through :class:`TokenAccess`, so rights
follow Home Assistant exactly as for a script's bearer token; an expiring access token
is refreshed with the refresh token, and a refused one ends the session. Requests that
change something must carry the session's CSRF token (header ``X-CSRF-Token`` or form
field ``csrf``). Sessions live in memory: after a restart of the ledger, users log in
again (a click: Home Assistant remembers them).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from yarl import URL

from ev_charging_ledger import i18n
from ev_charging_ledger.access import UNREACHABLE_ERRORS, Clock, Identity, TokenAccess
from ev_charging_ledger.http_context import CSRF_KEY
from ev_charging_ledger.web import render_login

LOGGER = logging.getLogger(__name__)
LOGIN_PATHS = frozenset({"/login", "/auth/login", "/auth/callback", "/auth/logout"})
SESSION_COOKIE = "evcl_session"
STATE_COOKIE = "evcl_login"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A login must come back from Home Assistant within this time.
PENDING_TTL = 600.0
PENDING_MAX = 1_000
# A session unused this long is over; one in use ends at the latest after MAX_AGE.
IDLE_TTL = 12 * 3600.0
MAX_AGE = 7 * 86400.0
SESSIONS_MAX = 10_000
# Refresh the access token this long before Home Assistant's expiry.
REFRESH_MARGIN = 60.0
TOKEN_TIMEOUT = aiohttp.ClientTimeout(total=20)


class LoginError(Exception):
    """Home Assistant refused the code or the refresh token."""


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: float


class HomeAssistantOAuth:
    """Home Assistant's ``/auth/authorize``, ``/auth/token`` and ``/auth/revoke``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ha_url: str,
        public_url: str,
        *,
        clock: Clock = time.time,
    ) -> None:
        self._session = session
        self.ha_url = ha_url.rstrip("/")
        self.client_id = public_url.rstrip("/") + "/"
        self.redirect_uri = public_url.rstrip("/") + "/auth/callback"
        self._clock = clock

    def authorize_url(self, state: str, challenge: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.ha_url}/auth/authorize?{query}"

    async def _token(self, data: dict[str, str]) -> Tokens:
        async with self._session.post(
            f"{self.ha_url}/auth/token",
            data={**data, "client_id": self.client_id},
            timeout=TOKEN_TIMEOUT,
        ) as response:
            text = await response.text()
            if response.status in (400, 401, 403):
                raise LoginError(f"Home Assistant refused: {text[:200]}")
            response.raise_for_status()
        try:
            body = json.loads(text)
            return Tokens(
                str(body["access_token"]),
                str(body["refresh_token"]) if body.get("refresh_token") else None,
                self._clock() + float(body["expires_in"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise LoginError(f"unexpected answer from /auth/token: {text[:200]}") from err

    async def exchange(self, code: str, verifier: str) -> Tokens:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        tokens = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        # Home Assistant keeps the refresh token; its answer names only the access token.
        return Tokens(tokens.access_token, tokens.refresh_token or refresh_token, tokens.expires_at)

    async def revoke(self, refresh_token: str) -> None:
        async with self._session.post(
            f"{self.ha_url}/auth/revoke",
            data={"token": refresh_token},
            timeout=TOKEN_TIMEOUT,
        ) as response:
            await response.read()


@dataclass(slots=True)
class LoginSession:
    tokens: Tokens
    csrf: str
    created: float
    last_used: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class PendingLogin:
    verifier: str
    next_path: str
    created: float


def _key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _safe_next(path: str | None) -> str:
    """Only a path of this ledger: never another site (an open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    if any(ord(char) < 0x20 for char in path) or path.startswith(tuple(LOGIN_PATHS)):
        return "/"
    return path


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


def _is_page(request: web.Request) -> bool:
    """A browser asking for a page (not the API, not a script): it gets the login page."""
    return request.method in ("GET", "HEAD") and not request.path.startswith("/api/")


class BrowserLogin:
    """The standalone access policy: bearer tokens as before, or a login session."""

    def __init__(
        self,
        tokens: TokenAccess,
        oauth: HomeAssistantOAuth,
        *,
        secure_cookies: bool = False,
        clock: Clock = time.time,
    ) -> None:
        self._tokens = tokens
        self.oauth = oauth
        self._secure = secure_cookies
        self._clock = clock
        self._sessions: OrderedDict[bytes, LoginSession] = OrderedDict()
        self._pending: OrderedDict[str, PendingLogin] = OrderedDict()

    # ------------------------------------------------------------- identification

    async def identify(self, request: web.Request) -> Identity:
        if "Authorization" in request.headers:
            return await self._tokens.identify(request)
        found = self._session(request)
        if found is None:
            if _is_page(request):
                raise self._to_login(request)
            # Scripts without credentials: the bearer policy's 401 as before.
            return await self._tokens.identify(request)
        key, session = found
        if request.method not in SAFE_METHODS and not await self._csrf_ok(request, session):
            raise _json_error(web.HTTPForbidden, "missing or wrong CSRF token; reload the page")
        try:
            token = await self._fresh_access_token(session)
            identity = await self._tokens.identify_token(token, request.remote or "unknown")
        except LoginError as err:
            LOGGER.info("login session ended: %s", err)
            self._sessions.pop(key, None)
            if _is_page(request):
                raise self._to_login(request) from err
            raise _json_error(web.HTTPUnauthorized, "the login has expired") from err
        except web.HTTPUnauthorized:
            self._sessions.pop(key, None)
            if _is_page(request):
                raise self._to_login(request) from None
            raise
        except UNREACHABLE_ERRORS as err:
            raise _json_error(
                web.HTTPServiceUnavailable, f"Home Assistant is unreachable: {err}"
            ) from err
        session.last_used = self._clock()
        request[CSRF_KEY] = session.csrf
        return identity

    def _to_login(self, request: web.Request) -> web.HTTPException:
        query = {"next": request.path_qs} if request.path_qs != "/" else {}
        return web.HTTPFound(str(URL("/login").with_query(query)))

    def _session(self, request: web.Request) -> tuple[bytes, LoginSession] | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie or len(cookie) > 200:
            return None
        key = _key(cookie)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if now - session.last_used > IDLE_TTL or now - session.created > MAX_AGE:
            del self._sessions[key]
            return None
        self._sessions.move_to_end(key)
        return key, session

    async def _csrf_ok(self, request: web.Request, session: LoginSession) -> bool:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type == "application/x-www-form-urlencoded":
            sent = str((await request.post()).get("csrf") or "")
        if not sent:
            return False
        return hmac.compare_digest(sent.encode(), session.csrf.encode())

    async def _fresh_access_token(self, session: LoginSession) -> str:
        async with session.lock:
            tokens = session.tokens
            if tokens.expires_at - REFRESH_MARGIN > self._clock():
                return tokens.access_token
            if tokens.refresh_token is None:
                raise LoginError("the access token expired and there is no refresh token")
            session.tokens = await self.oauth.refresh(tokens.refresh_token)
            return session.tokens.access_token

    # ------------------------------------------------------------------ the flow

    def start(self, next_path: str | None) -> tuple[str, str]:
        """A new login: (state, URL of Home Assistant's login page)."""
        now = self._clock()
        while self._pending and (
            len(self._pending) >= PENDING_MAX
            or next(iter(self._pending.values())).created + PENDING_TTL < now
        ):
            self._pending.popitem(last=False)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        self._pending[state] = PendingLogin(verifier, _safe_next(next_path), now)
        return state, self.oauth.authorize_url(state, _challenge(verifier))

    async def finish(self, state: str, browser_state: str | None, code: str) -> tuple[str, str]:
        """Home Assistant sent the browser back: (session cookie, where to go)."""
        # The state must be the one this browser started with (its cookie): otherwise
        # someone could log a victim into the attacker's account.
        if not browser_state or not hmac.compare_digest(state.encode(), browser_state.encode()):
            raise LoginError("the login was not started in this browser")
        pending = self._pending.pop(state, None)
        if pending is None or pending.created + PENDING_TTL < self._clock():
            raise LoginError("unknown or expired login")
        tokens = await self.oauth.exchange(code, pending.verifier)
        cookie = secrets.token_urlsafe(32)
        now = self._clock()
        self._sessions[_key(cookie)] = LoginSession(tokens, secrets.token_urlsafe(32), now, now)
        while len(self._sessions) > SESSIONS_MAX:
            self._sessions.popitem(last=False)
        return cookie, pending.next_path

    async def end(self, request: web.Request) -> None:
        found = self._session(request)
        if found is None:
            return
        key, session = found
        del self._sessions[key]
        if session.tokens.refresh_token:
            try:
                await self.oauth.revoke(session.tokens.refresh_token)
            except (*UNREACHABLE_ERRORS, aiohttp.ClientError) as err:
                LOGGER.warning("could not revoke the Home Assistant token at logout: %s", err)

    # ---------------------------------------------------------------- the routes

    def setup(self, app: web.Application) -> None:
        app.router.add_get("/login", self._login_page)
        app.router.add_get("/auth/login", self._login)
        app.router.add_get("/auth/callback", self._callback)
        app.router.add_post("/auth/logout", self._logout)

    def set_cookie(self, response: web.StreamResponse, name: str, value: str, age: float) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(age),
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self._secure,
        )

    async def _login_page(self, request: web.Request) -> web.Response:
        error = request.query.get("error")
        return render_login(
            request,
            start=str(
                URL("/auth/login").with_query({"next": _safe_next(request.query.get("next"))})
            ),
            home_assistant=self.oauth.ha_url,
            error=error if error in ("refused", "unreachable", "expired") else None,
        )

    async def _login(self, request: web.Request) -> web.Response:
        state, url = self.start(request.query.get("next"))
        response = web.HTTPFound(url)
        self.set_cookie(response, STATE_COOKIE, state, PENDING_TTL)
        raise response

    async def _callback(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        code = request.query.get("code", "")
        if not state or not code:
            raise web.HTTPFound("/login?error=refused")
        try:
            cookie, next_path = await self.finish(state, request.cookies.get(STATE_COOKIE), code)
        except LoginError as err:
            LOGGER.warning("login refused: %s", err)
            raise web.HTTPFound("/login?error=refused") from err
        except (*UNREACHABLE_ERRORS, aiohttp.ClientError) as err:
            LOGGER.warning("login failed, Home Assistant unreachable: %s", err)
            raise web.HTTPFound("/login?error=unreachable") from err
        response = web.HTTPFound(next_path)
        self.set_cookie(response, SESSION_COOKIE, cookie, MAX_AGE)
        response.del_cookie(STATE_COOKIE, path="/")
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        found = self._session(request)
        if found is not None and not await self._csrf_ok(request, found[1]):
            raise _json_error(web.HTTPForbidden, "missing or wrong CSRF token; reload the page")
        await self.end(request)
        lang = i18n.language(request.headers.get("Accept-Language"))
        response = web.HTTPFound(f"/login?lang={lang}")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response
