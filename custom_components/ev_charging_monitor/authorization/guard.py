"""The charger's driver as the rest of the integration sees it: nothing opens a lock.

Switches, buttons, numbers and service actions all command `runtime_data.device`; for a
charger that is this guard. While the charger is locked, enabling raises a translated
error. A current limit above 0 (which enables many devices) is kept for the release of this
plug cycle when it comes from someone who may authorise the charger (an administrator, a
user with a credential for it, or an automation); anyone else is refused, so nobody's limit
ends up in another person's session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from homeassistant.exceptions import ServiceValidationError

from ..const import DOMAIN
from ..devices import Capabilities, Identity, Reading
from ..devices.base import Device
from .charger import ChargerAuthorization


@dataclass(frozen=True)
class Actor:
    """Who asked for a command: a Home Assistant user, or None for automations and the system."""

    user_id: str | None


ACTOR: ContextVar[Actor | None] = ContextVar("ev_charging_monitor_actor", default=None)


@contextmanager
def acting_as(user_id: str | None) -> Iterator[None]:
    """Commands inside come from this user (from the service call's or entity's context)."""
    token = ACTOR.set(Actor(user_id))
    try:
        yield
    finally:
        ACTOR.reset(token)


class GuardedDevice:
    """A Device that refuses to open a locked charger."""

    def __init__(self, device: Device, charger: ChargerAuthorization) -> None:
        """Guard `device` with `charger`'s lock."""
        self.inner = device
        self.charger = charger
        self.host = device.host

    @property
    def capabilities(self) -> Capabilities:
        """The driver's."""
        return self.inner.capabilities

    async def identify(self) -> Identity:
        """The driver's."""
        return await self.inner.identify()

    async def read(self) -> Reading:
        """The driver's."""
        return await self.inner.read()

    async def set_current_limit(self, amps: float) -> None:
        """Set the limit, or keep it for the release while locked."""
        if amps > 0 and self.charger.locked:
            actor = ACTOR.get()
            user_id = None if actor is None else actor.user_id
            if user_id is not None and not await self.charger.manager.async_may_act(
                self.charger, user_id
            ):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="current_limit_while_held",
                    translation_placeholders={"name": self.charger.name},
                )
            self.charger.defer_current_limit(amps)
            await self.charger.manager.async_save()
            return
        await self.inner.set_current_limit(amps)

    async def set_enabled(self, enabled: bool) -> None:
        """Stop any time; start only when authorised."""
        if enabled and self.charger.locked:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="authorization_required",
                translation_placeholders={"name": self.charger.name},
            )
        await self.inner.set_enabled(enabled)

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """Only authorization sets the failsafe (through the driver itself)."""
        await self.inner.set_failsafe(current_a=current_a, timeout_s=timeout_s)

    @property
    def watchdog_interval(self) -> float | None:
        """The driver's."""
        return self.inner.watchdog_interval

    async def keep_alive(self) -> None:
        """The driver's."""
        await self.inner.keep_alive()

    async def close(self) -> None:
        """The driver's."""
        await self.inner.close()
