"""Enforcement at one charger: hold it while locked, release it once a credential is accepted.

In "required" mode the charger is held disabled (enable off, or current 0 where the device
only has a current setpoint) whenever it is not authorised: also while no vehicle is
connected, so no current can flow between a plug-in and the next poll. Its failsafe current
is 0, so an outage of Home Assistant does not open it either. An authorization belongs to
one plug cycle: unplug, a new plug-in (also one while Home Assistant was down) or
"deauthorise" lock it again. The state lives in the authorization Store, and a missing
state is a locked one, so a restart never opens a locked charger.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..devices import DeviceError, Reading
from ..devices.base import Device
from ..devices.value_names import FAILSAFE_CURRENT_NAMES, FAILSAFE_TIMEOUT_NAMES
from ..session.manager import PlugCycle
from ..session.tracker import ActiveSession
from . import failsafe
from .model import AuthorizationMode, ChargerState, CredentialKind
from .plug_cycle import cycle_mark, restarted

if TYPE_CHECKING:
    from .manager import AuthorizationManager

# How often the plug-cycle counters are written while they only grow.
MARK_SAVE_INTERVAL_S = 60
NO_ATTRIBUTION: dict[str, Any] = {
    "method": "none",
    "tag_hash": None,
    "user_id": None,
    "user_name": None,
    "vehicle": None,
    "person": None,
}


class ChargerAuthorization:
    """The authorization side of one charger config entry."""

    def __init__(
        self,
        manager: AuthorizationManager,
        *,
        entry_id: str,
        name: str,
        device: Device,
        session_fn: Callable[[], ActiveSession | None],
    ) -> None:
        """`device` is the driver itself (not the guarded one): holds must get through."""
        self.manager = manager
        self.entry_id = entry_id
        self.name = name
        self.device = device
        self.session_fn = session_fn
        self.reading: Reading | None = None
        self.on_change: Callable[[], None] | None = None
        self._cannot_hold_logged = False
        self._mark_saved_at = -math.inf
        self._plug_cycle: PlugCycle | None = None
        self._failsafe_failed = False  # the device refused the failsafe write
        self._failsafe_written = False

    # -- state ----------------------------------------------------------------------------

    @property
    def state(self) -> ChargerState:
        """The persisted state."""
        return self.manager.data.charger(self.entry_id)

    @property
    def mode(self) -> AuthorizationMode:
        """Required or free."""
        return self.manager.data.settings.mode_for(self.entry_id)

    @property
    def locked(self) -> bool:
        """Whether the charger must not charge."""
        return self.mode is AuthorizationMode.REQUIRED and not self.state.authorized

    @property
    def vehicle_connected(self) -> bool:
        """Whether the last poll saw a vehicle."""
        state = None if self.reading is None else self.reading.state
        return state is not None and state.vehicle_connected

    @property
    def session_id(self) -> str | None:
        """The running session's id."""
        session = self.session_fn()
        return None if session is None else session.id

    @property
    def plugged_at(self) -> datetime | None:
        """When the running session started."""
        session = self.session_fn()
        return None if session is None else session.started_at

    def attribution(self) -> dict[str, Any]:
        """What the record of the session ending now carries."""
        state = self.state
        if state.attribution is None:
            return dict(NO_ATTRIBUTION)
        return {**NO_ATTRIBUTION, **state.attribution}

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- polls ----------------------------------------------------------------------------

    async def async_process(self, reading: Reading) -> None:
        """Take one poll (after the session tracker took it)."""
        self.reading = reading
        state = self.state
        changed = self._follow_plug_cycle(reading)
        seen = None if not reading.rfid else self.manager.hash(CredentialKind.RFID, reading.rfid)
        if seen != state.seen_tag:
            state.seen_tag = seen
            changed = True
            if seen is not None and not self.vehicle_connected and reading.state is not None:
                # Presented before the plug-in: kept for the next one (card window).
                state.pending_tag, state.pending_uid = seen, reading.rfid
                state.pending_at = dt_util.utcnow()
            elif seen is not None and self.vehicle_connected and not state.authorized:
                state.pending_tag = None
                await self.manager.async_attempt(self, CredentialKind.RFID, seen, uid=reading.rfid)
        if (tag := self._pending_card()) is not None and self.vehicle_connected:
            state.pending_tag = state.pending_at = None
            changed = True
            if not state.authorized:
                await self.manager.async_attempt(
                    self, CredentialKind.RFID, tag, uid=state.pending_uid
                )
        changed = await self._enforce(reading) or changed
        self._check_failsafe()
        if changed:
            await self.manager.async_save()
            self._changed()

    def _follow_plug_cycle(self, reading: Reading) -> bool:
        """End the authorization with its plug cycle; whether anything changed.

        A plug cycle ends when a poll sees no vehicle, when a per-plug-cycle counter falls
        (a car swapped between polls or while Home Assistant was down) and when the session
        tracker starts a new session.
        """
        state = self.state
        signal, self._plug_cycle = self._plug_cycle, None
        if reading.state is None:
            return False
        connected = reading.state.vehicle_connected
        mark = cycle_mark(reading) if connected else None
        new_cycle = False
        if not connected:
            new_cycle = bool(state.connected)
        elif signal is not None and state.session_id is None and state.connected:
            # The session of the plug-in already seen began only now (an OCPP charger
            # reports its register once its transaction starts): what was decided for this
            # plug-in (a card at Authorize, a remote start) is for this session.
            LOGGER.debug("%s: session %s of this plug-in", self.name, signal.session_id)
            state.session_id = signal.session_id
        elif signal is not None and signal.session_id != state.session_id:
            LOGGER.debug("%s: new plug cycle %s", self.name, signal.session_id)
            new_cycle = True
            state.session_id = signal.session_id
        elif restarted(state.cycle, mark or {}):
            LOGGER.info("%s: a new plug-in since the last poll", self.name)
            new_cycle = True
        elif (session_id := self.session_id) is not None and state.session_id != session_id:
            new_cycle = state.session_id is not None  # another plug-in than the authorised one
            state.session_id = session_id
        swapped = connected and bool(state.connected)
        changed = state.connected != connected or self._mark_due(state.cycle, mark)
        state.connected, state.cycle = connected, mark
        if new_cycle or (not connected and (state.authorized or state.attribution)):
            LOGGER.debug("%s: plug cycle ended, locking", self.name)
            state.authorized = False
            state.attribution = None
            state.session_id = self.session_id if connected else None
            if swapped or not connected:
                # A limit belongs to its plug cycle (or, set with no car there, to the
                # next plug-in), never to the next person's.
                state.limit_a = None
            changed = True
        return changed

    @callback
    def async_plug_cycle(self, cycle: PlugCycle) -> None:
        """The session tracker saw a new plug cycle (also one that began during an outage)."""
        self._plug_cycle = cycle

    def _mark_due(self, saved: dict[str, float] | None, mark: dict[str, float] | None) -> bool:
        """Whether the counters should be written now: they change at every poll.

        The first counts above 0 of a plug cycle at once (a swap is recognised from them),
        later ones every MARK_SAVE_INTERVAL_S (a crash loses at most that much growth).
        """
        if saved == mark:
            return False
        now = time.monotonic()
        first = any(mark.values()) and not any(saved.values()) if mark and saved else True
        if first or now - self._mark_saved_at >= MARK_SAVE_INTERVAL_S:
            self._mark_saved_at = now
            return True
        return False

    def _pending_card(self) -> str | None:
        """The card presented before the plug-in, while it is within the card window."""
        state = self.state
        if state.pending_tag is None or state.pending_at is None:
            return None
        window = timedelta(seconds=self.manager.data.settings.card_window_s)
        if dt_util.utcnow() - state.pending_at > window:
            state.pending_tag = state.pending_at = state.pending_uid = None
            return None
        return state.pending_tag

    def _check_failsafe(self) -> None:
        found = None
        if self.mode is AuthorizationMode.REQUIRED:
            found = failsafe.problem(
                self.device.capabilities,
                self.device.watchdog_interval is not None,
                self.reading,
                written=not self._failsafe_failed,
            )
        failsafe.async_update_issue(self.manager.hass, self.entry_id, self.name, found)

    async def _enforce(self, reading: Reading | None, *, force: bool = False) -> bool:
        state = self.state
        changed = await self._set_failsafe(reading)
        if self.locked:
            return await self._hold(reading, force=force) or changed
        if state.held:
            return await self._release() or changed
        return changed

    async def _set_failsafe(self, reading: Reading | None) -> bool:
        """Under authorization the failsafe current is 0, also while authorised.

        Then an outage of Home Assistant stops charging after the device's timeout, and a
        car plugged in meanwhile never charges on the previous person's authorization.
        Free again, the device gets back the failsafe current it had.
        """
        state = self.state
        caps = self.device.capabilities
        if reading is None:
            return False
        required = self.mode is AuthorizationMode.REQUIRED
        current = failsafe.reported(reading, FAILSAFE_CURRENT_NAMES)
        timeout = failsafe.reported(reading, FAILSAFE_TIMEOUT_NAMES)
        current_a = timeout_s = None
        if caps.can_set_failsafe_current:
            # A device that does not report its failsafe current is written once a run.
            unknown_done = current is None and self._failsafe_written
            if required and current != 0 and not unknown_done:
                current_a = 0.0
                if current and state.failsafe_restore_a is None:
                    state.failsafe_restore_a = current
            elif not required and state.failsafe_restore_a is not None:
                current_a = state.failsafe_restore_a
        if required and caps.can_set_failsafe_timeout and timeout == 0:
            # Without a timeout the device never falls back to the failsafe current.
            timeout_s = failsafe.DEFAULT_FAILSAFE_TIMEOUT_S
        if current_a is None and timeout_s is None:
            return False
        try:
            await self.device.set_failsafe(current_a=current_a, timeout_s=timeout_s)
        except DeviceError as err:
            LOGGER.warning("Could not set the failsafe of %s: %s", self.name, err)
            self._failsafe_failed = True
            return False
        self._failsafe_failed = False
        self._failsafe_written = current_a == 0
        LOGGER.info(
            "%s: failsafe current %s A, timeout %s s", self.name, current_a, timeout_s or timeout
        )
        if not required:
            state.failsafe_restore_a = None
        return True

    async def _hold(self, reading: Reading | None, *, force: bool) -> bool:
        state = self.state
        caps = self.device.capabilities
        if caps.authorizes_itself:
            # It refuses unknown cards itself, also from its local list while Home Assistant
            # is away; a 0 A hold would keep the cards it accepts then from charging.
            return False
        fresh = force or not state.held
        try:
            if caps.can_enable:
                if fresh or reading is None or reading.enabled is not False:
                    await self.device.set_enabled(False)
            elif caps.can_set_current:
                limit = None if reading is None else reading.current_limit
                if fresh or limit is None or limit > 0:
                    if limit and state.limit_a is None and self.vehicle_connected:
                        # Held again within a plug cycle: its release resumes this limit.
                        state.limit_a = limit
                    await self.device.set_current_limit(0)
            else:
                # Nothing was held: no "held" line, and `held` stays unset (a release would
                # have nothing to undo).
                if not self._cannot_hold_logged:
                    self._cannot_hold_logged = True
                    LOGGER.warning(
                        "%s requires authorization but can neither be disabled nor limited: "
                        "cards are recorded, charging is not held",
                        self.name,
                    )
                return False
        except DeviceError as err:
            LOGGER.warning("Could not hold %s for authorization: %s", self.name, err)
            return False
        if not state.held:
            LOGGER.info("%s is held until a credential is accepted", self.name)
        state.held = True
        return True

    async def _release(self) -> bool:
        state = self.state
        caps = self.device.capabilities
        try:
            if caps.can_set_current and state.limit_a:
                await self.device.set_current_limit(state.limit_a)
            if caps.can_enable:
                await self.device.set_enabled(True)
            elif caps.can_set_current and not state.limit_a and caps.max_current_a:
                await self.device.set_current_limit(caps.max_current_a)
        except DeviceError as err:
            LOGGER.warning("Could not release %s after authorization: %s", self.name, err)
            return False  # held stays set: the next poll tries again
        state.held = False
        state.limit_a = None
        return True

    # -- commands -------------------------------------------------------------------------

    async def async_accept(self, attribution: dict[str, Any]) -> None:
        """An accepted credential: attribute the session and let it charge now."""
        state = self.state
        state.authorized = True
        state.session_id = self.session_id
        previous = state.attribution
        if previous is None or previous.get("status") != "accepted":
            state.attribution = attribution
        await self._enforce(self.reading)
        await self.manager.async_save()
        self._changed()

    async def async_attribute(self, attribution: dict[str, Any]) -> None:
        """A denied credential at a free charger: the session is still someone's attempt."""
        state = self.state
        if state.attribution is None:
            state.attribution = attribution
            state.session_id = self.session_id
            await self.manager.async_save()
            self._changed()

    async def async_deauthorize(self) -> None:
        """Lock again now (the session's attribution stays)."""
        self.state.authorized = False
        await self._enforce(self.reading, force=True)
        await self.manager.async_save()
        self._changed()

    def defer_current_limit(self, amps: float) -> None:
        """A current limit set while locked: applied when the charger is released."""
        self.state.limit_a = amps
