"""Onboarding a fresh Home Assistant over its HTTP API, the way its frontend does it.

Shared by the demo and the tests that start a real Home Assistant process.
"""

from __future__ import annotations

import aiohttp


class OnboardingError(RuntimeError):
    """Home Assistant refused to create the owner."""


async def async_onboard(
    session: aiohttp.ClientSession, base: str, *, name: str, username: str, password: str
) -> str:
    """Create the owner and finish every onboarding step; return the owner's access token."""
    client_id = f"{base}/"
    async with session.post(
        f"{base}/api/onboarding/users",
        json={
            "client_id": client_id,
            "name": name,
            "username": username,
            "password": password,
            "language": "en",
        },
    ) as response:
        if response.status != 200:
            raise OnboardingError(
                f"onboarding failed: HTTP {response.status} {await response.text()}"
            )
        auth_code = (await response.json())["auth_code"]
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": auth_code, "client_id": client_id},
    ) as response:
        access = str((await response.json())["access_token"])
    headers = {"Authorization": f"Bearer {access}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"}),
    ):
        async with session.post(
            f"{base}/api/onboarding/{step}", json=body, headers=headers
        ) as response:
            await response.read()
    return access


async def async_long_lived_token(
    session: aiohttp.ClientSession,
    base: str,
    access: str,
    *,
    client_name: str,
    lifespan_days: int,
    promote_http: bool = False,
) -> str:
    """A long-lived access token for scripts, made with the owner's access token.

    `promote_http` confirms an HTTP configuration Home Assistant keeps on trial (from YAML),
    so it is not reverted with a restart five minutes in; elsewhere Home Assistant refuses it.
    """
    async with session.ws_connect(f"{base}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": access})
        await ws.receive_json()
        await ws.send_json(
            {
                "id": 1,
                "type": "auth/long_lived_access_token",
                "client_name": client_name,
                "lifespan": lifespan_days,
            }
        )
        token = str((await ws.receive_json())["result"])
        if promote_http:
            await ws.send_json({"id": 2, "type": "http/config/promote"})
            await ws.receive_json()
    return token
