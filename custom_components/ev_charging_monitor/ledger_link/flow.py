"""Config-flow steps that link the ledger: the add-on through the Supervisor, or standalone."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_URL
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.typing import DiscoveryInfoType

from .entry import (
    LEDGER_NAME,
    STANDALONE_ID,
    checked_ledger_url,
    ledger_entry_data,
    standalone_ledger_data,
)


class LedgerSteps(ConfigFlow):
    """The steps; the integration's config flow inherits them."""

    _ledger: dict[str, Any] | None = None  # the entry data of the ledger found

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The ledger add-on announced itself through the Supervisor: offer to link it."""
        host = discovery_info.config.get(CONF_HOST)
        port = discovery_info.config.get(CONF_PORT)
        if (
            not isinstance(host, str)
            or not host
            or not isinstance(port, int)
            or isinstance(port, bool)
            or not 0 < port < 65536
        ):
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(discovery_info.slug)
        # The add-on may come back under another host name (reinstalled, renamed).
        self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})
        self._ledger = ledger_entry_data(discovery_info.slug, host, port)
        self.context["title_placeholders"] = {"name": LEDGER_NAME}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before linking the ledger."""
        return self._confirm("hassio_confirm", user_input)

    async def async_ledger_discovered(self, discovery_info: DiscoveryInfoType) -> ConfigFlowResult:
        """A standalone ledger announced its address: offer to link it."""
        text = discovery_info.get(CONF_URL)
        url = checked_ledger_url(text) if isinstance(text, str) else None
        if url is None:
            return self.async_abort(reason="invalid_ledger_url")
        await self.async_set_unique_id(STANDALONE_ID)
        self._abort_if_unique_id_configured(updates={CONF_URL: url})
        self._ledger = standalone_ledger_data(url)
        self.context["title_placeholders"] = {"name": LEDGER_NAME}
        return await self.async_step_ledger_confirm()

    async def async_step_ledger_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before linking the standalone ledger."""
        assert self._ledger is not None
        return self._confirm("ledger_confirm", user_input, {"url": self._ledger[CONF_URL]})

    def _confirm(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """Link the ledger once the user agrees."""
        assert self._ledger is not None
        if user_input is not None:
            return self.async_create_entry(title=LEDGER_NAME, data=self._ledger)
        self._set_confirm_only()
        return self.async_show_form(step_id=step_id, description_placeholders=placeholders)
