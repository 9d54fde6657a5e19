"""Managing authorization in the UI: the options of the Authorization config entry.

Why a config entry of its own: people, vehicles and credentials belong to the installation,
not to one charger; they are its subentries (subentry_flow.py). The options are the rest:
unknown cards, which chargers are held, privacy. Each menu item is one short form that saves
to the authorization Store at once (the entry's own options stay empty, so nothing reloads).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import probatio as vol
from homeassistant.components.http import KEY_HASS_USER
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import current_request
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import dt as dt_util

from .engine import short_hash
from .manager import AUTHORIZATION, AuthorizationManager
from .model import DEFAULT_CARD_WINDOW_S, AuthorizationMode, ResolveAction
from .subentries import async_forget_raw_uids

# People, vehicles and cards are subentries of the entry (subentry_flow.py).
MENU = ["unknown_cards", "chargers", "settings"]
F_PERSON = "person"
F_LABEL = "label"
F_CARD = "card"
F_ACTION = "action"
F_PERSON_NAME = "person_name"
F_REQUIRED = "required_chargers"
F_DEFAULT_MODE = "default_mode"
F_RAW = "store_raw_uids"
F_NOTIFY = "notify_unknown"
F_NOTIFY_SERVICE = "notify_service"
F_CARD_WINDOW = "card_window_s"


def _select(
    options: list[SelectOptionDict], *, multiple: bool = False, key: str | None = None
) -> SelectSelector:
    config = SelectSelectorConfig(
        options=options, multiple=multiple, mode=SelectSelectorMode.DROPDOWN
    )
    if key is not None:
        config["translation_key"] = key
    return SelectSelector(config)


def _enum(values: list[str], key: str) -> SelectSelector:
    return _select([SelectOptionDict(value=v, label=v) for v in values], key=key)


def _local_time(value: str | None) -> datetime | None:
    """A DateTimeSelector value (local wall time) as aware UTC."""
    if not value:
        return None
    moment = dt_util.parse_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def _selector_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return dt_util.as_local(value).strftime("%Y-%m-%d %H:%M:%S")


def setup_schema(manager: AuthorizationManager) -> vol.Schema:
    """The first form: which chargers are held, and what chargers added later are."""
    chargers = [SelectOptionDict(value=c.entry_id, label=c.name) for c in manager.chargers.values()]
    return vol.Schema(
        {
            vol.Optional(F_REQUIRED, default=[c["value"] for c in chargers]): _select(
                chargers, multiple=True
            ),
            vol.Required(F_DEFAULT_MODE, default=AuthorizationMode.REQUIRED.value): _enum(
                [m.value for m in AuthorizationMode], "authorization_mode"
            ),
        }
    )


async def async_apply_setup(manager: AuthorizationManager, user_input: dict[str, Any]) -> None:
    """Modes as chosen; a session running at a chosen charger goes on as the administrator's.

    The administrator is the user of the request that submits the form (none when the flow
    is not driven over HTTP); the chargers are held only once the entry is set up.
    """
    required = set(user_input.get(F_REQUIRED) or [])
    settings = manager.data.settings
    settings.default_mode = AuthorizationMode(
        user_input.get(F_DEFAULT_MODE, AuthorizationMode.REQUIRED)
    )
    request = current_request.get()
    user = None if request is None else request.get(KEY_HASS_USER)
    for charger_id, charger in manager.chargers.items():
        if charger_id not in required:
            settings.modes[charger_id] = AuthorizationMode.FREE
            continue
        settings.modes[charger_id] = AuthorizationMode.REQUIRED
        if charger.vehicle_connected and not charger.state.authorized:
            await manager.async_accept_administrator(
                charger, None if user is None else user.id, reason="set_up"
            )
    await manager.async_save()


class AuthorizationOptionsFlow(OptionsFlow):
    """People, vehicles, credentials, unknown cards, charger modes, privacy."""

    @property
    def manager(self) -> AuthorizationManager:
        """The installation's authorization."""
        return self.hass.data[AUTHORIZATION]

    async def _done(self) -> ConfigFlowResult:
        await self.manager.async_save()
        return self.async_create_entry(data={})

    # -- choices --------------------------------------------------------------------------

    def _people(self) -> list[SelectOptionDict]:
        return [
            SelectOptionDict(value=p.id, label=p.name)
            for p in sorted(self.manager.data.people.values(), key=lambda p: p.name)
        ]

    def _chargers(self) -> list[SelectOptionDict]:
        return [
            SelectOptionDict(value=c.entry_id, label=c.name) for c in self.manager.chargers.values()
        ]

    # -- menu -----------------------------------------------------------------------------

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Open the menu."""
        return await self.async_step_authorization()

    async def async_step_authorization(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What to manage."""
        return self.async_show_menu(
            step_id="authorization",
            menu_options=MENU,
            description_placeholders={
                "unknown": str(len(self.manager.data.unknown)),
            },
        )

    # -- unknown cards ----------------------------------------------------------------------

    async def async_step_unknown_cards(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Allow once, add to a person, or ignore one of the last unknown cards."""
        manager = self.manager
        if not manager.data.unknown:
            return self.async_abort(reason="no_unknown_cards")
        errors: dict[str, str] = {}
        if user_input is not None:
            action = user_input[F_ACTION]
            person_id = user_input.get(F_PERSON)
            person_name = user_input.get(F_PERSON_NAME)
            if action == ResolveAction.ADD_TO_PERSON and not person_id and not person_name:
                errors[F_PERSON] = "person_required"
            else:
                try:
                    await manager.async_resolve(
                        user_input[F_CARD],
                        action,
                        person_id=person_id,
                        person_name=person_name,
                        label=user_input.get(F_LABEL) or "",
                    )
                except HomeAssistantError as err:
                    errors["base"] = err.translation_key or "unknown"
                else:
                    return self.async_create_entry(data={})
        options = [
            SelectOptionDict(
                value=card.id,
                label=(
                    f"{card.uid or short_hash(card.key)} ({card.kind.value}) "
                    f"{card.charger_name}, "
                    f"{dt_util.as_local(card.seen_at).strftime('%Y-%m-%d %H:%M')}, "
                    f"{card.attempts}x"
                ),
            )
            for card in reversed(manager.data.unknown)
        ]
        schema = vol.Schema(
            {
                vol.Required(F_CARD): _select(options),
                vol.Required(F_ACTION, default=ResolveAction.ADD_TO_PERSON): _enum(
                    list(ResolveAction.ALL), "unknown_card_action"
                ),
                vol.Optional(F_PERSON): _select(self._people()),
                vol.Optional(F_PERSON_NAME): TextSelector(),
                vol.Optional(F_LABEL): TextSelector(),
            }
        )
        return self.async_show_form(
            step_id="unknown_cards",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    # -- chargers and settings --------------------------------------------------------------

    async def async_step_chargers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which chargers are held until a credential is accepted."""
        settings = self.manager.data.settings
        if user_input is not None:
            required = set(user_input.get(F_REQUIRED) or [])
            settings.default_mode = AuthorizationMode(user_input[F_DEFAULT_MODE])
            before = self.manager.modes()
            for charger_id in self.manager.chargers:
                settings.modes[charger_id] = (
                    AuthorizationMode.REQUIRED if charger_id in required else AuthorizationMode.FREE
                )
            result = await self._done()
            self.manager.async_modes_changed(before)
            return result
        current = [
            charger_id
            for charger_id in self.manager.chargers
            if settings.mode_for(charger_id) is AuthorizationMode.REQUIRED
        ]
        schema = vol.Schema(
            {
                vol.Optional(F_REQUIRED): _select(self._chargers(), multiple=True),
                vol.Required(F_DEFAULT_MODE): _enum(
                    [m.value for m in AuthorizationMode], "authorization_mode"
                ),
            }
        )
        return self.async_show_form(
            step_id="chargers",
            data_schema=self.add_suggested_values_to_schema(
                schema, {F_REQUIRED: current, F_DEFAULT_MODE: settings.default_mode.value}
            ),
        )

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Privacy and notifications."""
        data = self.manager.data
        if user_input is not None:
            data.settings.store_raw_uids = bool(user_input[F_RAW])
            data.settings.notify_unknown = bool(user_input[F_NOTIFY])
            data.settings.notify_service = (user_input.get(F_NOTIFY_SERVICE) or "").strip() or None
            data.settings.card_window_s = int(user_input.get(F_CARD_WINDOW, DEFAULT_CARD_WINDOW_S))
            if not data.settings.store_raw_uids:
                data.forget_raw_uids()
                async_forget_raw_uids(self.hass, self.config_entry)
            return await self._done()
        schema = vol.Schema(
            {
                vol.Required(F_RAW): BooleanSelector(),
                vol.Required(F_NOTIFY): BooleanSelector(),
                vol.Optional(F_NOTIFY_SERVICE): TextSelector(),
                vol.Required(F_CARD_WINDOW): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=900,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {
                    F_RAW: data.settings.store_raw_uids,
                    F_NOTIFY: data.settings.notify_unknown,
                    F_NOTIFY_SERVICE: data.settings.notify_service,
                    F_CARD_WINDOW: data.settings.card_window_s,
                },
            ),
        )
