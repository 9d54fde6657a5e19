"""Signed meter values from an OCPP charger to the real ledger process, end to end.

A real Home Assistant runs the central system; the Alfen simulator (an `ocpp` library
client on a loopback websocket) charges and signs its meter values with its own key; the
ledger runs as its own process (`python -m ev_charging_ledger`), takes the sessions over
Home Assistant's websocket API and stores them in SQLite, and its `verify` command walks
the hash chain. Nothing is mocked. Expected registers are computed here by hand.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.auth.models import Credentials
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockUser

from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.central_system.signed import MAX_SIGNED_CHARS
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from ev_charging_ledger.evidence import classify
from ev_charging_ledger.records import session_facts
from simulators.ocpp_alfen import AlfenEveOcpp
from tests.ledger.ledger_process import free_port, run_ledger, start_ledger, stop

from .ocpp_rig import PASSWORD, Rig, charge_one_session

pytestmark = pytest.mark.no_watchdog

WAIT = 60.0
API_TOKEN = "test"
STEP_S = 0.1
START_WH = 1_234_000
# One session of charge_one_session: 6 x 600 s at 11 kW; by hand 600 s x 11 kW = 1833.3 Wh,
# which the simulated meter rounds to 1833 per step.
SESSION_WH = 6 * 1833


@dataclass
class Stored:
    """One session as the ledger stored it."""

    session_id: str
    evidence_class: str
    envelope: dict[str, Any]

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = self.envelope["record"]
        return record

    @property
    def ocmf(self) -> dict[str, Any]:
        ocmf: dict[str, Any] = self.envelope["evidence"]["ocmf"]
        return ocmf


class LedgerRun:
    """Starts the real ledger against this Home Assistant and reads what it stored."""

    def __init__(
        self,
        hass: HomeAssistant,
        aiohttp_client: Callable[..., Awaitable[Any]],
        user: MockUser,
        credential: Credentials,
        directory: Path,
    ) -> None:
        self.hass = hass
        self.aiohttp_client = aiohttp_client
        self.user = user
        self.credential = credential
        self.data_dir = directory / "ledger"
        self.log = directory / "ledger.log"
        self.http_verify: dict[str, Any] = {}
        self.api_evidence: dict[str, dict[str, Any]] = {}

    async def sync(self) -> list[Stored]:
        """Run the ledger until it acknowledged every session Home Assistant has."""
        history = self.hass.data[HISTORY]
        last = max((record["seq"] for record in history.after(0, 1000)), default=0)
        client = await self.aiohttp_client(self.hass.http.app)
        url = f"http://127.0.0.1:{client.server.port}"
        # Issued now: Home Assistant's clock was moved on by the charging sessions.
        await self.hass.auth.async_link_user(self.user, self.credential)
        refresh = await self.hass.auth.async_create_refresh_token(
            self.user, CLIENT_ID, credential=self.credential
        )
        token = self.hass.auth.async_create_access_token(refresh)
        api = f"http://127.0.0.1:{free_port()}"
        process = await start_ledger(
            "--ha-url", url, "--token", token, "--data-dir", str(self.data_dir),
            "--listen", api.removeprefix("http://"), "--api-token", API_TOKEN,
            log=self.log,
        )  # fmt: skip
        try:
            # The acknowledgement comes over the ledger's websocket; the store has no event.
            # The frozen clock stops the loop's timers, so the wait sleeps in a thread.
            for _ in range(int(WAIT / STEP_S)):
                if history.acked_seq >= last:
                    break
                await self.hass.async_add_executor_job(time.sleep, STEP_S)
            assert history.acked_seq >= last, self.log.read_text()
            await self._read_api(api, [record["id"] for record in history.after(0, 1000)])
        finally:
            assert await stop(process) == 0, self.log.read_text()
        with sqlite3.connect(self.data_dir / "ledger.sqlite3") as db:
            rows = list(
                db.execute("SELECT session_id, evidence_class, body FROM sessions ORDER BY rowid")
            )
        return [Stored(sid, grade, json.loads(bytes(body))) for sid, grade, body in rows]

    async def _read_api(self, api: str, session_ids: list[str]) -> None:
        """What the ledger's HTTP API says: its verify, and each session's evidence."""
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(f"{api}/api/verify") as response:
                assert response.status == 200
                self.http_verify = await response.json()
            for session_id in session_ids:
                async with session.get(f"{api}/api/sessions/{session_id}") as response:
                    assert response.status == 200
                    self.api_evidence[session_id] = (await response.json())["evidence"]

    async def verify(self) -> str:
        """The ledger's `verify` command; it must pass."""
        code, out, err = await run_ledger("verify", "--data-dir", str(self.data_dir))
        assert code == 0, out + err
        return out.strip()


def verified(sessions: int, signed_values: int) -> str:
    """What `verify` prints for an intact ledger: the chain, then the signed values it
    checked again (those of the sessions graded signed_ocmf)."""
    return (
        f"ok: {sessions} sessions and 0 adjustments verified\n"
        f"{signed_values} signed meter values (OCMF) re-verified against their public keys"
    )


@pytest.fixture
def ledger(
    hass: HomeAssistant,
    aiohttp_client: Callable[..., Awaitable[Any]],
    hass_admin_user: MockUser,
    hass_admin_credential: Credentials,
    tmp_path: Path,
) -> LedgerRun:
    return LedgerRun(hass, aiohttp_client, hass_admin_user, hass_admin_credential, tmp_path)


@pytest.fixture
async def alfen() -> AsyncIterator[AlfenEveOcpp]:
    sim = AlfenEveOcpp("ALFEN-1", password=PASSWORD)
    yield sim
    await sim.disconnect()


def _other_key_hex() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        .hex()
    )


async def test_a_signed_session_is_signed_ocmf_and_a_tampered_one_rejected_with_a_reason(
    hass: HomeAssistant, rig: Rig, alfen: AlfenEveOcpp, ledger: LedgerRun
) -> None:
    """Done means: OCMF -> signed_ocmf and verify passes; tampered -> rejected, recorded."""
    # Authorization is not set up: every card charges and is only recorded.
    await rig.accept(alfen)
    assert await charge_one_session(rig, alfen) == SESSION_WH
    alfen.tamper = True
    assert await charge_one_session(rig, alfen) == SESSION_WH
    genuine, tampered = alfen.sent_ocmf

    first, second = await ledger.sync()
    # Nothing lost: both sessions, in order, under Home Assistant's ids.
    assert [first.session_id, second.session_id] == [
        record["id"] for record in hass.data[HISTORY].after(0, 10)
    ]
    assert first.evidence_class == "signed_ocmf"
    assert first.ocmf["valid"] is True
    assert first.ocmf["problems"] == []
    # By hand: the meter's register at the start, and after 6 steps of 1833 Wh.
    assert (Decimal(first.ocmf["begin_wh"]), Decimal(first.ocmf["end_wh"])) == (
        Decimal(START_WH),
        Decimal(START_WH + SESSION_WH),
    )
    assert first.ocmf["meter_serial"] == "EM340-SIM"
    assert first.record["signed_meter_values"] == [
        {
            "format": "OCMF",
            "data": genuine,
            "public_key": alfen.public_key_hex,
            "key_source": "charger",
        }
    ]

    # The tampered value is stored as it came, graded by the register, with the reason.
    assert second.record["signed_meter_values"][0]["data"] == tampered
    assert tampered != genuine
    assert second.evidence_class == "non_mid_meter"
    assert second.ocmf["valid"] is False
    assert second.ocmf["signature_valid"] is False
    assert second.ocmf["problems"] == [
        "record 0: signature does not match the payload: it was changed after signing, "
        "or another key signed it"
    ]
    assert Decimal(second.record["energy_wh"]) == Decimal(SESSION_WH)

    assert await ledger.verify() == verified(2, 1)  # the tampered one is no signed proof
    # The same over the ledger's HTTP API, as its pages and an administrator see it.
    assert ledger.http_verify["ok"] is True
    assert ledger.api_evidence[first.session_id]["class"] == "signed_ocmf"
    assert ledger.api_evidence[second.session_id] == second.envelope["evidence"]


async def test_every_wrapping_and_the_data_transfer_reach_the_ledger_signed(
    hass: HomeAssistant, rig: Rig, ledger: LedgerRun
) -> None:
    """Hex SignedData begin in MeterValues + end in a DataTransfer; the OCA JSON with its
    own key from a charger that reports none; the boot's meter serial differs from the
    signed one."""
    hexed = AlfenEveOcpp(
        "ALFEN-HEX",
        password=PASSWORD,
        signed_encoding="hex",
        signed_begin=True,
        ocmf_via="data_transfer",
        meter_serial="EM340-BOOT",
        ocmf_meter_serial="EM340-SIGNED",
    )
    oca = AlfenEveOcpp("ALFEN-OCA", password=PASSWORD, signed_encoding="oca", publish_key=False)
    try:
        await rig.accept(hexed)
        assert await charge_one_session(rig, hexed) == SESSION_WH
        # Another vendor's DataTransfer is no signed value: told so, and nothing changes.
        other = await rig.send(hexed.send(call.DataTransfer(vendor_id="EN+", message_id="info")))
        assert other.status == "UnknownMessageId"
        await rig.accept(oca)
        assert await charge_one_session(rig, oca) == SESSION_WH
    finally:
        await hexed.disconnect()
        await oca.disconnect()
    begin, end, whole = hexed.sent_ocmf + oca.sent_ocmf

    first, second = await ledger.sync()
    assert (first.evidence_class, second.evidence_class) == ("signed_ocmf", "signed_ocmf")
    # Separate begin and end records, unwrapped from hex to the text the meter signed.
    assert [item["data"] for item in first.record["signed_meter_values"]] == [begin, end]
    assert {item["key_source"] for item in first.record["signed_meter_values"]} == {"charger"}
    # The meter is the one the signed values name, not the boot message's.
    assert first.record["meter"]["serial"] == "EM340-SIGNED"
    assert first.ocmf["meter_serial"] == "EM340-SIGNED"
    assert (Decimal(first.ocmf["begin_wh"]), Decimal(first.ocmf["end_wh"])) == (
        Decimal(START_WH),
        Decimal(START_WH + SESSION_WH),
    )
    # The key came inside the value (OCA form), normalized to hex DER.
    assert second.record["signed_meter_values"] == [
        {
            "format": "OCMF",
            "data": whole,
            "public_key": oca.public_key_hex,
            "key_source": "embedded",
        }
    ]
    assert await ledger.verify() == verified(2, 3)  # begin and end, and the whole OCA value


async def _set_user_key(hass: HomeAssistant, rig: Rig, text: str) -> dict[str, Any]:
    """The options step for the meter's public key; returns the last flow result."""
    assert rig.charger is not None
    flow = await hass.config_entries.options.async_init(rig.charger.entry_id)
    assert "meter_public_key" in flow["menu_options"]
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"next_step_id": "meter_public_key"}
    )
    assert flow["step_id"] == "meter_public_key"
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"meter_public_key": text}
    )
    await hass.async_block_till_done()
    return result


async def test_hostile_signed_values_are_clear_outcomes_and_nothing_is_lost(
    hass: HomeAssistant,
    rig: Rig,
    alfen: AlfenEveOcpp,
    ledger: LedgerRun,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Garbage, truncated, huge, a wrong key, no key: each session recorded, each graded
    not-signed with its reason; then the right key entered by the user signs again."""
    await rig.accept(alfen)
    expected: list[tuple[str, str]] = []  # (evidence class, the reason's words)

    alfen.mangle = lambda _value: "not signed data at all"
    await charge_one_session(rig, alfen)
    expected.append(("non_mid_meter", "is in format 'SignedData', which the ledger cannot"))

    alfen.mangle = lambda value: value[:-20]  # the end of the signature section is lost
    await charge_one_session(rig, alfen)
    expected.append(("non_mid_meter", "record 0: OCMF section is not JSON"))

    # Over the record's limit (and over the OCMF limit of the ledger too).
    alfen.mangle = lambda value: value.replace('"IS":true', '"IS":true,"XX":"' + "9" * 70_000 + '"')
    await charge_one_session(rig, alfen)
    expected.append(("non_mid_meter", f"is over the record's limit of {MAX_SIGNED_CHARS}"))

    # A wrong key entered by the user: it wins over the charger's, and verifies nothing.
    alfen.mangle = None
    wrong = _other_key_hex()
    result = await _set_user_key(hass, rig, wrong)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await alfen.wait_accepted()
    rig.drive_monotonic()  # the entry was reloaded with the options
    # The charger's key is read after the boot's own messages, then compared.
    await rig.until(
        lambda: "entered in the options differs from the charger's" in caplog.text,
        "the keys compared",
    )
    await charge_one_session(rig, alfen)
    expected.append(("non_mid_meter", "record 0: signature does not match the payload"))

    # A key that does not parse is refused in the form, with the translated error.
    result = await _set_user_key(hass, rig, "3059 not a key")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"meter_public_key": "meter_public_key_invalid"}

    # The right key, as printed on the meter's label (grouped, upper case): signed again.
    printed = " ".join(
        alfen.public_key_hex[i : i + 4].upper() for i in range(0, len(alfen.public_key_hex), 4)
    )
    result = await _set_user_key(hass, rig, printed)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    rig.drive_monotonic()
    await charge_one_session(rig, alfen)
    expected.append(("signed_ocmf", ""))

    # A charger that never reports a key, and no key entered: no key to check with.
    nokey = AlfenEveOcpp("ALFEN-NOKEY", password=PASSWORD, publish_key=False)
    try:
        await rig.accept(nokey)
        await charge_one_session(rig, nokey)
    finally:
        await nokey.disconnect()
    expected.append(("non_mid_meter", "record 0: no public key for the OCMF record"))

    stored = await ledger.sync()
    records = hass.data[HISTORY].after(0, 100)
    assert [s.session_id for s in stored] == [r["id"] for r in records]
    assert len(stored) == len(expected) == 6
    for session, (grade, reason) in zip(stored, expected, strict=True):
        assert session.evidence_class == grade, (session.ocmf, reason)
        assert Decimal(session.record["energy_wh"]) == Decimal(SESSION_WH)
        if reason:
            assert any(reason in problem for problem in session.ocmf["problems"]), session.ocmf
        else:
            assert session.ocmf["problems"] == []
    garbage, truncated, huge, wrong_key, right_key, no_key = stored
    assert garbage.record["signed_meter_values"][0]["data"] == "not signed data at all"
    assert huge.record["signed_meter_values"][0]["format"] == "omitted"
    assert wrong_key.record["signed_meter_values"][0]["public_key"] == wrong
    assert wrong_key.record["signed_meter_values"][0]["key_source"] == "user"
    assert right_key.record["signed_meter_values"][0]["public_key"] == alfen.public_key_hex
    assert no_key.record["signed_meter_values"][0]["public_key"] is None
    assert truncated.ocmf["signature_valid"] is False
    assert await ledger.verify() == verified(6, 1)  # only the right key's value is proof


async def test_a_signed_begin_and_the_key_survive_a_restart_mid_transaction(
    hass: HomeAssistant, rig: Rig
) -> None:
    """The begin record arrives, Home Assistant restarts, the end record arrives: the
    session carries both, with the key kept from before the restart (the charger does not
    boot again, so it is not asked for its key again)."""
    sim = AlfenEveOcpp("ALFEN-R", password=PASSWORD, signed_begin=True)
    try:
        await rig.accept(sim)
        assert rig.charger is not None
        assert rig.central is not None
        await rig.send(sim.status("Available"))
        await rig.tick(60)
        await rig.send(sim.status("Preparing"))
        await rig.send(sim.start_transaction("04A1B2C3D4"))
        await rig.send(sim.status("Charging"))
        for _ in range(2):
            await rig.tick(600)
            await rig.send(sim.charge(600, 11_000))
        # The restart: everything unloaded, the process' memory gone, then set up again.
        assert await hass.config_entries.async_unload(rig.charger.entry_id)
        assert await hass.config_entries.async_unload(rig.central.entry_id)
        await sim.disconnect()
        del hass.data[OCPP_REGISTRY]
        await rig.tick(120)
        assert await hass.config_entries.async_setup(rig.central.entry_id)
        assert await hass.config_entries.async_setup(rig.charger.entry_id)
        await hass.async_block_till_done()
        rig.drive_monotonic()
        await sim.connect(rig.url)
        for _ in range(2):
            await rig.tick(600)
            await rig.send(sim.charge(600, 11_000))
        await rig.send(sim.stop_transaction())
        await rig.send(sim.status("Finishing"))
        await rig.tick(30)
        await rig.send(sim.status("Available"))
    finally:
        await sim.disconnect()
    begin, end = sim.sent_ocmf
    (record,) = rig.records
    assert record["signed_meter_values"] == [
        {
            "format": "OCMF",
            "data": begin,
            "public_key": sim.public_key_hex,
            "key_source": "charger",
        },
        {"format": "OCMF", "data": end, "public_key": sim.public_key_hex, "key_source": "charger"},
    ]
    evidence = classify(session_facts(record))
    assert evidence.evidence_class == "signed_ocmf"
    assert evidence.ocmf is not None
    # By hand: 4 steps of 1833 Wh from the register at the start.
    assert (Decimal(evidence.ocmf["begin_wh"]), Decimal(evidence.ocmf["end_wh"])) == (
        Decimal(START_WH),
        Decimal(START_WH + 4 * 1833),
    )


async def test_a_new_key_from_the_charger_is_logged_and_kept(
    hass: HomeAssistant,
    rig: Rig,
    alfen: AlfenEveOcpp,
    caplog: pytest.LogCaptureFixture,
    hass_storage: dict[str, Any],
) -> None:
    """The meter was replaced: the charger reports another key after its next boot."""
    await rig.accept(alfen)
    assert rig.charger is not None
    charger = hass.data[OCPP_REGISTRY].chargers["ALFEN-1"]
    store_key = f"ev_charging_monitor.{rig.charger.entry_id}.signed"

    async def key_is(expected: str) -> None:
        def kept() -> bool:  # the key is asked for after the boot's own messages
            saved = hass_storage.get(store_key, {}).get("data", {}).get("charger_key")
            return bool(charger.signed.keys.charger == expected == saved)

        await rig.until(kept, f"key {expected} kept")

    first = alfen.public_key_hex
    await key_is(first)
    alfen.key = ec.generate_private_key(ec.SECP256R1())
    second = alfen.public_key_hex
    assert await rig.send(alfen.boot()) == "Accepted"
    await key_is(second)

    def fingerprint(key: str) -> str:
        return hashlib.sha256(bytes.fromhex(key)).hexdigest()[:16]

    assert f"reports a new meter public key: {fingerprint(second)}, was {fingerprint(first)}" in (
        caplog.text
    )
