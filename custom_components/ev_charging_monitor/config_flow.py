"""Config flow: the setup menu, and the steps of each kind of entry put together.

A wallbox or meter on the network: device_flow/ (typed in, a KEBA, scanned, discovered,
reconfigured). A charger of another integration: entity_charger/flow.py. The OCPP central
system and its chargers: central_system/flow.py. The ledger: ledger_link/flow.py.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.typing import DiscoveryInfoType

from .authorization.flow import AuthorizationOptionsFlow, async_apply_setup, setup_schema
from .authorization.manager import async_get_manager
from .authorization.setup import CONF_ROLE, ROLE_AUTHORIZATION, is_authorization_entry
from .authorization.subentries import SUBENTRY_CARD, SUBENTRY_PERSON, SUBENTRY_VEHICLE
from .authorization.subentry_flow import (
    CardSubentryFlow,
    PersonSubentryFlow,
    VehicleSubentryFlow,
)
from .central_system.const import CONF_CHARGE_POINT_ID
from .central_system.flow import CentralSystemSteps
from .central_system.setup import is_central_system_entry, is_ocpp_charger
from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .device_flow.discovery import DiscoverySteps
from .device_flow.keba import KebaSteps
from .device_flow.manual import ManualSteps
from .device_flow.reconfigure import ReconfigureSteps
from .entity_charger.flow import EntityChargerSteps
from .entity_charger.setup import is_entity_charger
from .ledger_link.entry import is_ledger_entry
from .ledger_link.flow import LedgerSteps
from .options_flow import EVChargingOptionsFlow


class EVChargingConfigFlow(
    ManualSteps,
    KebaSteps,
    DiscoverySteps,
    ReconfigureSteps,
    LedgerSteps,
    EntityChargerSteps,
    CentralSystemSteps,
    ConfigFlow,
    domain=DOMAIN,
):
    """Set up a wallbox or an energy meter."""

    VERSION = 1
    MINOR_VERSION = 2  # 1.2: time-of-use periods name their days of the week

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EVChargingConfigEntry) -> OptionsFlow:
        """Authorization's settings, or a charger's or meter's options."""
        if is_authorization_entry(config_entry):
            return AuthorizationOptionsFlow()
        return EVChargingOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: EVChargingConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """People, vehicles and cards are subentries of the Authorization entry."""
        if is_authorization_entry(config_entry):
            return {
                SUBENTRY_PERSON: PersonSubentryFlow,
                SUBENTRY_VEHICLE: VehicleSubentryFlow,
                SUBENTRY_CARD: CardSubentryFlow,
            }
        return {}

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: EVChargingConfigEntry) -> bool:
        """The ledger's entry and the OCPP central system's have nothing to set."""
        return not is_ledger_entry(config_entry) and not is_central_system_entry(config_entry)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """What to add: a device, authorization, a charger of another integration, OCPP."""
        return self.async_show_menu(
            step_id="user",
            menu_options=["manual", "scan", "authorization", "keba", "entities", "central_system"],
        )

    async def async_step_authorization(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up authorization (people and cards), once per installation."""
        await self.async_set_unique_id(ROLE_AUTHORIZATION)
        self._abort_if_unique_id_configured()
        manager = await async_get_manager(self.hass)
        if user_input is not None:
            await async_apply_setup(manager, user_input)
            return self.async_create_entry(
                title="Authorization", data={CONF_ROLE: ROLE_AUTHORIZATION}
            )
        return self.async_show_form(step_id="authorization", data_schema=setup_schema(manager))

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """An OCPP charger connected, or a standalone ledger announced its address."""
        if CONF_CHARGE_POINT_ID in discovery_info:
            return await self.async_ocpp_discovered(discovery_info)
        return await self.async_ledger_discovered(discovery_info)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how the entry reaches its charger or meter."""
        entry = self._get_reconfigure_entry()
        if is_ledger_entry(entry):
            return self.async_abort(reason="ledger_not_reconfigurable")
        if is_entity_charger(entry):
            return await self.async_reconfigure_entities()
        if is_ocpp_charger(entry) or is_central_system_entry(entry):
            return self.async_abort(reason="ocpp_not_reconfigurable")
        return await self.async_reconfigure_device(entry, user_input)
