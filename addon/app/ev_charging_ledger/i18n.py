"""English and German text of the web UI and the reports, and locale number formats.

``text(lang, key)`` falls back to English, then to the key itself, so a missing German
string shows up as English rather than breaking a page. ``tests/ledger`` checks that both
languages define the same keys.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

LANGUAGES = ("en", "de")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "app_title": "Charging ledger",
        "admin": "admin",
        "logout": "Log out",
        "login_title": "Log in",
        "login_intro": "Log in with your Home Assistant account to see your charging sessions "
        "and statements.",
        "login_button": "Log in with Home Assistant",
        "login_hint": "You will be sent to Home Assistant ({home_assistant}) and back.",
        "login_error_refused": "The login did not succeed. Please try again.",
        "login_error_unreachable": "Home Assistant cannot be reached. Please try again later.",
        "login_error_expired": "Your login has expired. Please log in again.",
        "nav_dashboard": "Dashboard",
        "nav_sessions": "Sessions",
        "nav_statements": "Statements",
        "nav_manual": "External session",
        "nav_manage": "People & rates",
        "nav_reports": "Reports & import",
        "nav_integrity": "Integrity",
        "this_month": "This month",
        "energy": "Energy",
        "amount": "Amount",
        "sessions": "Sessions",
        "session": "Session",
        "tariff_cost": "Tariff cost",
        "per_month": "Energy and amount per month",
        "heatmap": "Session starts by weekday and hour (last 90 days)",
        "energy_per_month": "Energy per month",
        "cost_per_month": "Tariff cost per month",
        "session_count": "{count} sessions",
        "session_count_one": "1 session",
        "tile_reimbursement": "Reimbursement",
        "tile_reimbursement_note": "for {count} sessions with a person",
        "unattributed_hint": "{count} sessions in {month} belong to nobody yet and are on no "
        "statement.",
        "unattributed_link": "Assign them to a person",
        "chart_empty": "No charging sessions in the last twelve months yet. Finished sessions "
        "appear here as soon as Home Assistant reports them; a charge elsewhere can be added "
        "under External session.",
        "chart_empty_cost": "No tariff cost in the last twelve months yet: set a tariff for the "
        "charger in Home Assistant (EV Charging Monitor, options) to see what charging costs.",
        "heatmap_empty": "No session started in the last 90 days.",
        "heatmap_cell": "{day} {hour}: {count} sessions",
        "chargers_empty": "No charger was used in the last 30 days.",
        "charger_unknown": "unknown charger",
        "chargers": "Chargers (last 30 days)",
        "charger": "Charger",
        "utilisation": "Utilisation",
        "availability": "Availability",
        "availability_note": "share of sessions that did not end in a fault",
        "person": "Person",
        "people": "People",
        "vehicle": "Vehicle",
        "vehicles": "Vehicles",
        "all": "all",
        "from": "From",
        "to": "To",
        "filter": "Filter",
        "next_page": "Older sessions",
        "first_page": "Newest",
        "start": "Start",
        "end": "End",
        "date": "Date",
        "register_start": "Register start (kWh)",
        "register_end": "Register end (kWh)",
        "kwh": "kWh",
        "price_per_kwh": "Price per kWh",
        "evidence": "Evidence",
        "evidence_class": "Evidence class",
        "source": "Source",
        "no_sessions": "No sessions.",
        "meter": "Meter",
        "meter_readings": "Meter readings",
        "price_intervals": "Price intervals",
        "ocmf": "OCMF verification",
        "ocmf_result": "Result",
        "ocmf_verified": "verified: signed by the meter and unchanged",
        "ocmf_not_verified": "not verified: the session counts as an unsigned reading",
        "ocmf_signature": "Signature",
        "ocmf_transaction": "Begin and end readings",
        "ocmf_ok": "consistent",
        "ocmf_failed": "failed",
        "ocmf_signing_meter": "Signing meter",
        "ocmf_problems": "Findings of the check (in English, as the verifier reports them)",
        "adjustments": "Adjustments",
        "effective": "Effective state",
        "excluded": "Excluded",
        "reason": "Reason",
        "author": "Author",
        "kind": "Kind",
        "created": "Created",
        "add_adjustment": "Add adjustment",
        "save": "Save",
        "statement": "Monthly statement",
        "statements": "Monthly statements",
        "month": "Month",
        "show": "Show",
        "download": "Download",
        "pdf": "PDF",
        "xlsx": "Excel (XLSX)",
        "csv_excel": "CSV for Excel",
        "csv_machine": "CSV for machines",
        "payroll_csv": "Payroll CSV",
        "totals": "Totals",
        "total": "Total",
        "price_basis": "Price basis",
        "excluded_sessions": "Excluded sessions",
        "personnel_number": "Personnel no.",
        "period": "Period",
        "charger_serials": "Charger serials",
        "meter_serials": "Meter serials",
        "generated": "Generated",
        "content_hash": "Content hash (SHA-256)",
        "signature_driver": "Driver: date, signature",
        "signature_approver": "Approver: date, signature",
        # Statements (issue 15 item 3): every word a statement prints.
        "st_title": "Monthly statement {month}",
        "st_month_1": "January",
        "st_month_2": "February",
        "st_month_3": "March",
        "st_month_4": "April",
        "st_month_5": "May",
        "st_month_6": "June",
        "st_month_7": "July",
        "st_month_8": "August",
        "st_month_9": "September",
        "st_month_10": "October",
        "st_month_11": "November",
        "st_month_12": "December",
        "st_period_value": "{first} to {last}",
        "st_time_zone": "All times are local time ({zone}).",
        "st_session_count": "{count} charging sessions",
        "st_session_count_one": "{count} charging session",
        "st_amount": "Amount",
        "st_price": "Price",
        "st_energy": "Energy",
        "st_note": "Note",
        "st_sessions_title": "Charging sessions",
        "st_split_reading": "split at midnight, meter reading",
        "st_split_interpolated": "split at midnight, interpolated",
        "st_part_reading": "Part {index} of {count} of the session from {start} to {end} "
        "({energy}), split at midnight on the first of the month by the meter reading at "
        "that moment",
        "st_part_interpolated": "Part {index} of {count} of the session from {start} to {end} "
        "({energy}), split at midnight on the first of the month; the energy at midnight is "
        "interpolated (linearly in time between the meter readings before and after it, as "
        "there is no reading at that moment)",
        "st_split_title": "Sessions across a month boundary",
        "st_source_session_tariff": "cost of the session under the electricity tariff "
        "recorded by Home Assistant",
        "st_source_fixed_price": "fixed price per kWh agreed with the employer",
        "st_problem_rate_no_price": "the rate has no price",
        "st_problem_no_flat_price": "no official flat price for this year is entered",
        "st_problem_parts_differ": "the parts of the session are priced differently",
        "st_basis_year": "Price basis in {year}: {bases}",
        "st_verify_title": "How to verify this statement",
        "st_verify": "The content hash covers every row and total of this statement. The "
        "ledger recomputes it from its hash-chained records: open {path} in the ledger (as "
        "an administrator or as the driver), or give the ledger program the command "
        "{command} where the ledger is installed. "
        "Any other answer than a match means the records changed after this statement was "
        "made.",
        "st_rules_title": "What the rules ask (Germany, from 2026)",
        "st_rules": "Since 1 January 2026 (letter of the Federal Ministry of Finance of 11 "
        "November 2025) an employer reimburses the electricity for charging a company car at "
        "home free of tax only on proof per charging session: the kWh of each session, "
        "measured by a separate meter (a meter built into the wallbox counts), times one "
        "price basis used for the whole calendar year, either the price of the electricity "
        "contract (with a share of the standing charge) or the official electricity flat "
        "price (Strompreispauschale). The monthly flat allowances ended on 31 December 2025.",
        "st_gap_start": "the start",
        "st_gap_now": "now",
        "notice_bases": "More than one price basis in {year} ({bases}); the rules allow one "
        "price basis per calendar year.",
        "notice_currencies": "The sessions are priced in more than one currency.",
        "notice_gap": "{count} sessions recorded by Home Assistant are missing from the "
        "ledger, between {after} and {before}: {reason}",
        "notice_unpriced": "{count} sessions could not be priced and are not in the total.",
        "st_verify_match": "The statement matches the ledger.",
        "st_verify_mismatch": "The statement does not match the ledger as it is now.",
        "warnings": "Warnings",
        "unpriced": "Sessions without a price",
        "name": "Name",
        "plate": "Plate",
        "ha_user": "Home Assistant user id",
        "country": "Country",
        "add": "Add",
        "credentials": "Credentials",
        "tag_hash": "Tag (keyed hash)",
        "label": "Display name",
        "rates": "Rates",
        "valid_from": "Valid from",
        "valid_to": "Valid to",
        "direction": "Direction",
        "basis": "Basis",
        "currency": "Currency",
        "note": "Note",
        "flat_prices": "Official flat prices",
        "year": "Year",
        "manual_title": "Enter an external session (public charging)",
        "manual_pending_hint": "Your entry counts in statements once an administrator has "
        "approved it.",
        "awaiting_approval": "awaiting approval",
        "location": "Location",
        "energy_wh": "Energy (Wh)",
        "cost_total": "Cost",
        "time_zone": "Time zone",
        "import_title": "Import evcc sessions (CSV export)",
        "import_file": "evcc CSV file",
        "import": "Import",
        "reports_title": "Monthly reports",
        "wage_type": "Wage type",
        "all_statements": "All statements (XLSX, one sheet each)",
        "all_sessions_csv": "All sessions (CSV)",
        "integrity_title": "Integrity",
        "chain_ok": "Chain verified",
        "chain_broken": "Chain broken",
        "last_verified": "Last successful verification",
        "never": "never",
        "verify_now": "Verify now",
        "chain_tip": "Chain tip",
        "gaps": "Missing sessions (recorded gaps)",
        "gap_seq": (
            "Home Assistant seq {from_seq}-{to_seq}, between {after} and {before}: {reason}"
        ),
        "restores": "Restores",
        "restore_line": (
            "{recorded_at}: the ledger was at seq {ledger_seq}, "
            "Home Assistant had acknowledged {ha_acknowledged_seq}"
        ),
        "ingest_state": "Ingest",
        "entries": "Entries",
        "legal_hold": "Legal hold",
        "retention": "Retention (years)",
        "quarantined": "Quarantined records",
        "last_seq": "Last Home Assistant sequence",
        "admin_only": "Administrators only",
        "yes": "yes",
        "no": "no",
        "adj_exclude": "Excluded",
        "statements_hint_admin": "There is nobody to make a statement for yet: add the people "
        "who charge (and link them to their Home Assistant user) under",
        "statements_hint_driver": "Your Home Assistant user is not linked to a person in the "
        "ledger yet; ask an administrator to link it.",
        "ingest_state_starting": "starting",
        "ingest_state_ok": "connected",
        "ingest_state_disconnected": "not connected",
        "ingest_state_degraded": "paused (database)",
        "chain_sessions": "sessions",
        "chain_adjustments": "adjustments",
        "chain_checkpoints": "checkpoints",
        "bulk_title": "Assign all unattributed sessions of this filter",
        "bulk_hint": "Every session of the charger, vehicle and period chosen above that belongs "
        "to nobody yet, on all pages of the list. Each gets its own adjustment in the history.",
        "bulk_done": "{count} sessions assigned.",
        "evl_signed_ocmf": "Signed meter values (OCMF), verified",
        "evl_mid_meter": "MID-certified meter register",
        "evl_non_mid_meter": "Meter register (not MID-certified)",
        "evl_estimate": "Estimate",
        "source_ha": "Home Assistant",
        "source_manual": "Entered by hand",
        "source_import": "Imported",
        "adj_include": "Included again",
        "adj_correct_energy": "Energy corrected",
        "adj_reassign": "Assigned",
        "adj_note": "Note",
        "history": "History",
        "when": "When",
        "who": "Who",
        "details": "Details",
        "nobody": "nobody",
        "assign_title": "Assign person and vehicle",
        "assign": "Assign",
        "exclude_title": "Exclude from statements",
        "exclude": "Exclude",
        "include_title": "Include in statements again",
        "include": "Include",
        "note_title": "Add a note",
        "add_note": "Add note",
        "correct_title": "Correct the energy from a reading",
        "correct": "Correct",
        "corrected_energy": "Energy (kWh)",
        "evidence_text": "Evidence, e.g. meter reading and where it is documented",
        "assigned_to": "Person: {person}, vehicle: {vehicle}",
        "energy_set_to": "Energy: {energy} kWh",
        "mid_true": "MID-certified",
        "mid_false": "not MID-certified",
        "mid_none": "MID certification unknown",
        "basis_tariff_cost": "Tariff per contract",
        "basis_fixed_price": "Fixed employer price",
        "basis_flat_price": "Flat electricity allowance",
        "direction_reimburse": "Reimbursement",
        "direction_bill": "Charged to the driver",
        "problem_no_rate": "no rate applies",
        "problem_price_missing": "price missing",
        "not_found": "Not found",
        "forbidden": "You may only see your own sessions and statements.",
        "weekday_0": "Mon",
        "weekday_1": "Tue",
        "weekday_2": "Wed",
        "weekday_3": "Thu",
        "weekday_4": "Fri",
        "weekday_5": "Sat",
        "weekday_6": "Sun",
        "ev_signed_ocmf": "Signed (OCMF)",
        "ev_mid_meter": "MID meter",
        "ev_non_mid_meter": "Non-MID meter",
        "ev_estimate": "Estimate",
        "notify_title": "Charging statements for {month}",
        "notify_body": "{count} statement(s) for {month} were written to {folder}.",
        "row_type": "Row",
        "yes_excluded": "excluded",
        "gap_reason_ha_lost": "Home Assistant no longer has these sessions",
        "st_corrected_label": "Correction",
        "st_corrected": "Corrected statement (correction {revision}): it replaces the "
        "statement delivered on {delivered} with content hash {previous}. Sessions or parts "
        "of sessions of this month reached the ledger after that delivery.",
        "st_corrected_new": "Corrected delivery (correction {revision}): this statement was "
        "not in the delivery of {delivered}; its sessions reached the ledger after it.",
        "notify_corrected_title": "Corrected charging statements for {month}",
        "notify_corrected_body": "{count} statement(s) for {month} changed after delivery "
        "(sessions that reached the ledger later) and were written again to {folder}; the "
        "earlier files are in {superseded}.",
        "ocmf_checked": "{count} signed meter values (OCMF) re-verified against their public keys",
        "ocmf_failures": "Sessions whose signed meter values no longer prove them",
        "ocmf_failure_line": "Session {session_id} (entry {entry_no}): {reason}",
        "ocmf_failure_signature": "the signature does not match the signed data: it was "
        "changed after the meter signed it, or another key signed it",
        "ocmf_failure_key": "the stored public key cannot be read",
        "ocmf_failure_unreadable": "the stored signed value is not a readable OCMF record",
        "ocmf_failure_readings": "the signatures hold, but the signed readings do not prove "
        "the session's energy",
        "ocmf_failure_missing": "the session is stored as signed evidence but no signed value "
        "is left",
        "ocmf_failure_record": "the stored session record cannot be read",
        "ocmf_failures_more": "and {count} more",
    },
    "de": {
        "app_title": "Ladebuch",
        "admin": "Administrator",
        "logout": "Abmelden",
        "login_title": "Anmelden",
        "login_intro": "Melden Sie sich mit Ihrem Home-Assistant-Konto an, um Ihre Ladevorgänge "
        "und Abrechnungen zu sehen.",
        "login_button": "Mit Home Assistant anmelden",
        "login_hint": "Sie werden zu Home Assistant ({home_assistant}) und zurück geleitet.",
        "login_error_refused": "Die Anmeldung ist nicht gelungen. Bitte versuchen Sie es erneut.",
        "login_error_unreachable": "Home Assistant ist nicht erreichbar. Bitte versuchen Sie es "
        "später erneut.",
        "login_error_expired": "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.",
        "nav_dashboard": "Übersicht",
        "nav_sessions": "Ladevorgänge",
        "nav_statements": "Abrechnungen",
        "nav_manual": "Externer Ladevorgang",
        "nav_manage": "Personen & Sätze",
        "nav_reports": "Berichte & Import",
        "nav_integrity": "Integrität",
        "this_month": "Dieser Monat",
        "energy": "Energie",
        "amount": "Betrag",
        "sessions": "Ladevorgänge",
        "session": "Ladevorgang",
        "tariff_cost": "Tarifkosten",
        "per_month": "Energie und Betrag je Monat",
        "heatmap": "Ladebeginn nach Wochentag und Stunde (letzte 90 Tage)",
        "energy_per_month": "Energie je Monat",
        "cost_per_month": "Tarifkosten je Monat",
        "session_count": "{count} Ladevorgänge",
        "session_count_one": "1 Ladevorgang",
        "tile_reimbursement": "Erstattung",
        "tile_reimbursement_note": "für {count} Ladevorgänge mit Person",
        "unattributed_hint": "{count} Ladevorgänge im {month} gehören noch niemandem und stehen "
        "auf keiner Abrechnung.",
        "unattributed_link": "Einer Person zuordnen",
        "chart_empty": "Noch keine Ladevorgänge in den letzten zwölf Monaten. Beendete "
        "Ladevorgänge erscheinen hier, sobald Home Assistant sie meldet; eine Ladung anderswo "
        "lässt sich unter Externer Ladevorgang erfassen.",
        "chart_empty_cost": "Noch keine Tarifkosten in den letzten zwölf Monaten: Legen Sie in "
        "Home Assistant einen Tarif für den Ladepunkt fest (EV Charging Monitor, Optionen), um "
        "zu sehen, was das Laden kostet.",
        "heatmap_empty": "In den letzten 90 Tagen hat kein Ladevorgang begonnen.",
        "heatmap_cell": "{day} {hour}: {count} Ladevorgänge",
        "chargers_empty": "In den letzten 30 Tagen wurde kein Ladepunkt genutzt.",
        "charger_unknown": "unbekannter Ladepunkt",
        "chargers": "Ladepunkte (letzte 30 Tage)",
        "charger": "Ladepunkt",
        "utilisation": "Auslastung",
        "availability": "Verfügbarkeit",
        "availability_note": "Anteil der Ladevorgänge, die nicht mit einer Störung endeten",
        "person": "Person",
        "people": "Personen",
        "vehicle": "Fahrzeug",
        "vehicles": "Fahrzeuge",
        "all": "alle",
        "from": "Von",
        "to": "Bis",
        "filter": "Filtern",
        "next_page": "Ältere Ladevorgänge",
        "first_page": "Neueste",
        "start": "Beginn",
        "end": "Ende",
        "date": "Datum",
        "register_start": "Zählerstand Beginn (kWh)",
        "register_end": "Zählerstand Ende (kWh)",
        "kwh": "kWh",
        "price_per_kwh": "Preis je kWh",
        "evidence": "Nachweis",
        "evidence_class": "Nachweisklasse",
        "source": "Quelle",
        "no_sessions": "Keine Ladevorgänge.",
        "meter": "Zähler",
        "meter_readings": "Zählerstände",
        "price_intervals": "Preisintervalle",
        "ocmf": "OCMF-Prüfung",
        "ocmf_result": "Ergebnis",
        "ocmf_verified": "geprüft: vom Zähler signiert und unverändert",
        "ocmf_not_verified": "nicht bestätigt: die Sitzung zählt als unsignierte Ablesung",
        "ocmf_signature": "Signatur",
        "ocmf_transaction": "Anfangs- und Endablesung",
        "ocmf_ok": "stimmig",
        "ocmf_failed": "fehlgeschlagen",
        "ocmf_signing_meter": "Signierender Zähler",
        "ocmf_problems": "Befunde der Prüfung (auf Englisch, wie der Prüfer sie meldet)",
        "adjustments": "Korrekturen",
        "effective": "Wirksamer Stand",
        "excluded": "Ausgeschlossen",
        "reason": "Grund",
        "author": "Verfasser",
        "kind": "Art",
        "created": "Erstellt",
        "add_adjustment": "Korrektur hinzufügen",
        "save": "Speichern",
        "statement": "Monatsabrechnung",
        "statements": "Monatsabrechnungen",
        "month": "Monat",
        "show": "Anzeigen",
        "download": "Herunterladen",
        "pdf": "PDF",
        "xlsx": "Excel (XLSX)",
        "csv_excel": "CSV für Excel",
        "csv_machine": "CSV für Maschinen",
        "payroll_csv": "Lohn-CSV",
        "totals": "Summen",
        "total": "Summe",
        "price_basis": "Preisgrundlage",
        "excluded_sessions": "Ausgeschlossene Ladevorgänge",
        "personnel_number": "Personalnummer",
        "period": "Zeitraum",
        "charger_serials": "Seriennummern Ladepunkt",
        "meter_serials": "Seriennummern Zähler",
        "generated": "Erstellt am",
        "content_hash": "Inhalts-Hash (SHA-256)",
        "signature_driver": "Fahrer/in: Datum, Unterschrift",
        "signature_approver": "Freigabe: Datum, Unterschrift",
        # Abrechnungen (Issue 15 Punkt 3): jedes Wort, das eine Abrechnung druckt.
        "st_title": "Monatsabrechnung {month}",
        "st_month_1": "Januar",
        "st_month_2": "Februar",
        "st_month_3": "März",
        "st_month_4": "April",
        "st_month_5": "Mai",
        "st_month_6": "Juni",
        "st_month_7": "Juli",
        "st_month_8": "August",
        "st_month_9": "September",
        "st_month_10": "Oktober",
        "st_month_11": "November",
        "st_month_12": "Dezember",
        "st_period_value": "{first} bis {last}",
        "st_time_zone": "Alle Zeiten in Ortszeit ({zone}).",
        "st_session_count": "{count} Ladevorgänge",
        "st_session_count_one": "{count} Ladevorgang",
        "st_amount": "Betrag",
        "st_price": "Preis",
        "st_energy": "Energie",
        "st_note": "Hinweis",
        "st_sessions_title": "Ladevorgänge",
        "st_split_reading": "um Mitternacht geteilt, Zählerstand",
        "st_split_interpolated": "um Mitternacht geteilt, interpoliert",
        "st_part_reading": "Teil {index} von {count} des Ladevorgangs vom {start} bis {end} "
        "({energy}), geteilt um Mitternacht am Monatsersten nach dem Zählerstand in diesem "
        "Moment",
        "st_part_interpolated": "Teil {index} von {count} des Ladevorgangs vom {start} bis "
        "{end} ({energy}), geteilt um Mitternacht am Monatsersten; die Energie um Mitternacht "
        "ist interpoliert (zeitlich linear zwischen den Zählerständen davor und danach, da es "
        "in diesem Moment keinen Zählerstand gibt)",
        "st_split_title": "Ladevorgänge über eine Monatsgrenze",
        "st_source_session_tariff": "Kosten des Ladevorgangs nach dem in Home Assistant "
        "erfassten Stromtarif",
        "st_source_fixed_price": "mit dem Arbeitgeber vereinbarter Festpreis je kWh",
        "st_problem_rate_no_price": "der Erstattungssatz hat keinen Preis",
        "st_problem_no_flat_price": "für dieses Jahr ist keine amtliche Pauschale erfasst",
        "st_problem_parts_differ": "die Teile des Ladevorgangs sind unterschiedlich bepreist",
        "st_basis_year": "Preisgrundlage {year}: {bases}",
        "st_verify_title": "So prüfen Sie diese Abrechnung",
        "st_verify": "Der Inhalts-Hash umfasst jede Zeile und jede Summe dieser Abrechnung. "
        "Das Ladebuch berechnet ihn aus seinen hash-verketteten Einträgen neu: Öffnen Sie "
        "{path} im Ladebuch (als Administrator oder als Fahrer/in) oder geben Sie dem "
        "Ladebuch-Programm dort, wo es installiert ist, den Befehl {command}. Jede andere "
        "Antwort als eine Übereinstimmung bedeutet, dass die Einträge nach Erstellung "
        "dieser Abrechnung geändert wurden.",
        "st_rules_title": "Was die Regeln verlangen (Deutschland, ab 2026)",
        "st_rules": "Seit dem 1. Januar 2026 (BMF-Schreiben vom 11. November 2025) erstattet "
        "ein Arbeitgeber den Strom für das Laden eines Dienstwagens zu Hause nur steuerfrei, "
        "wenn jeder Ladevorgang belegt ist: die kWh jedes Ladevorgangs, gemessen mit einem "
        "gesonderten Zähler (ein in der Wallbox eingebauter Zähler genügt), mal einer "
        "Preisgrundlage, die für das ganze Kalenderjahr gilt, entweder dem Preis des "
        "Stromvertrags (mit anteiligem Grundpreis) oder der amtlichen Strompreispauschale. "
        "Die monatlichen Pauschalen endeten am 31. Dezember 2025.",
        "st_gap_start": "dem Anfang",
        "st_gap_now": "jetzt",
        "notice_bases": "Mehr als eine Preisgrundlage im Jahr {year} ({bases}); die Regeln "
        "erlauben eine Preisgrundlage je Kalenderjahr.",
        "notice_currencies": "Die Ladevorgänge sind in mehr als einer Währung bepreist.",
        "notice_gap": "{count} von Home Assistant erfasste Ladevorgänge fehlen im Ladebuch, "
        "zwischen {after} und {before}: {reason}",
        "notice_unpriced": "{count} Ladevorgänge konnten nicht bepreist werden und sind nicht "
        "in der Summe enthalten.",
        "st_verify_match": "Die Abrechnung stimmt mit dem Ladebuch überein.",
        "st_verify_mismatch": "Die Abrechnung stimmt nicht mit dem heutigen Stand des "
        "Ladebuchs überein.",
        "warnings": "Hinweise",
        "unpriced": "Ladevorgänge ohne Preis",
        "name": "Name",
        "plate": "Kennzeichen",
        "ha_user": "Home-Assistant-Benutzer-ID",
        "country": "Land",
        "add": "Hinzufügen",
        "credentials": "Ladekarten",
        "tag_hash": "Karte (verschlüsselter Hash)",
        "label": "Anzeigename",
        "rates": "Erstattungssätze",
        "valid_from": "Gültig ab",
        "valid_to": "Gültig bis",
        "direction": "Richtung",
        "basis": "Grundlage",
        "currency": "Währung",
        "note": "Notiz",
        "flat_prices": "Amtliche Pauschalen",
        "year": "Jahr",
        "manual_title": "Externen Ladevorgang erfassen (öffentliches Laden)",
        "manual_pending_hint": "Ihr Eintrag zählt in Abrechnungen, sobald eine Administratorin "
        "oder ein Administrator ihn freigegeben hat.",
        "awaiting_approval": "wartet auf Freigabe",
        "location": "Ort",
        "energy_wh": "Energie (Wh)",
        "cost_total": "Kosten",
        "time_zone": "Zeitzone",
        "import_title": "evcc-Ladevorgänge importieren (CSV-Export)",
        "import_file": "evcc-CSV-Datei",
        "import": "Importieren",
        "reports_title": "Monatsberichte",
        "wage_type": "Lohnart",
        "all_statements": "Alle Abrechnungen (XLSX, je ein Blatt)",
        "all_sessions_csv": "Alle Ladevorgänge (CSV)",
        "integrity_title": "Integrität",
        "chain_ok": "Kette geprüft",
        "chain_broken": "Kette beschädigt",
        "last_verified": "Letzte erfolgreiche Prüfung",
        "never": "nie",
        "verify_now": "Jetzt prüfen",
        "chain_tip": "Kettenende",
        "gaps": "Fehlende Ladevorgänge (erfasste Lücken)",
        "gap_seq": (
            "Home-Assistant-Seq {from_seq}-{to_seq}, zwischen {after} und {before}: {reason}"
        ),
        "restores": "Wiederherstellungen",
        "restore_line": (
            "{recorded_at}: das Fahrtenbuch stand bei Seq {ledger_seq}, "
            "Home Assistant hatte {ha_acknowledged_seq} bestätigt"
        ),
        "ingest_state": "Übernahme",
        "entries": "Einträge",
        "legal_hold": "Aufbewahrungssperre",
        "retention": "Aufbewahrung (Jahre)",
        "quarantined": "Zurückgestellte Datensätze",
        "last_seq": "Letzte Home-Assistant-Folgenummer",
        "admin_only": "Nur für Administratoren",
        "yes": "ja",
        "no": "nein",
        "adj_exclude": "Ausgeschlossen",
        "statements_hint_admin": "Es gibt noch niemanden, für den abgerechnet werden kann: "
        "legen Sie die ladenden Personen an (und verknüpfen Sie sie mit ihrem "
        "Home-Assistant-Benutzer) unter",
        "statements_hint_driver": "Ihr Home-Assistant-Benutzer ist noch mit keiner Person im "
        "Ladebuch verknüpft; bitten Sie einen Administrator darum.",
        "ingest_state_starting": "startet",
        "ingest_state_ok": "verbunden",
        "ingest_state_disconnected": "nicht verbunden",
        "ingest_state_degraded": "pausiert (Datenbank)",
        "chain_sessions": "Ladevorgänge",
        "chain_adjustments": "Korrekturen",
        "chain_checkpoints": "Prüfpunkte",
        "bulk_title": "Alle nicht zugeordneten Ladevorgänge dieses Filters zuordnen",
        "bulk_hint": "Jeder Ladevorgang des oben gewählten Ladepunkts, Fahrzeugs und Zeitraums, "
        "der noch niemandem gehört, auf allen Seiten der Liste. Jeder erhält eine eigene "
        "Korrektur im Verlauf.",
        "bulk_done": "{count} Ladevorgänge zugeordnet.",
        "evl_signed_ocmf": "Signierte Messwerte (OCMF), geprüft",
        "evl_mid_meter": "Zählerstand eines MID-geeichten Zählers",
        "evl_non_mid_meter": "Zählerstand (Zähler nicht MID-geeicht)",
        "evl_estimate": "Schätzung",
        "source_ha": "Home Assistant",
        "source_manual": "Von Hand erfasst",
        "source_import": "Importiert",
        "adj_include": "Wieder einbezogen",
        "adj_correct_energy": "Energie korrigiert",
        "adj_reassign": "Zugeordnet",
        "adj_note": "Notiz",
        "history": "Verlauf",
        "when": "Wann",
        "who": "Wer",
        "details": "Details",
        "nobody": "niemand",
        "assign_title": "Person und Fahrzeug zuordnen",
        "assign": "Zuordnen",
        "exclude_title": "Aus den Abrechnungen ausschließen",
        "exclude": "Ausschließen",
        "include_title": "Wieder in die Abrechnungen aufnehmen",
        "include": "Aufnehmen",
        "note_title": "Notiz hinzufügen",
        "add_note": "Notiz speichern",
        "correct_title": "Energie nach einer Ablesung korrigieren",
        "correct": "Korrigieren",
        "corrected_energy": "Energie (kWh)",
        "evidence_text": "Nachweis, z. B. Zählerstand und wo er belegt ist",
        "assigned_to": "Person: {person}, Fahrzeug: {vehicle}",
        "energy_set_to": "Energie: {energy} kWh",
        "mid_true": "MID-geeicht",
        "mid_false": "nicht MID-geeicht",
        "mid_none": "MID-Eichung unbekannt",
        "basis_tariff_cost": "Tarif laut Vertrag",
        "basis_fixed_price": "Festpreis des Arbeitgebers",
        "basis_flat_price": "Strompauschale",
        "direction_reimburse": "Erstattung",
        "direction_bill": "Dem Fahrer berechnet",
        "problem_no_rate": "kein Satz anwendbar",
        "problem_price_missing": "Preis fehlt",
        "not_found": "Nicht gefunden",
        "forbidden": "Sie dürfen nur Ihre eigenen Ladevorgänge und Abrechnungen sehen.",
        "weekday_0": "Mo",
        "weekday_1": "Di",
        "weekday_2": "Mi",
        "weekday_3": "Do",
        "weekday_4": "Fr",
        "weekday_5": "Sa",
        "weekday_6": "So",
        "ev_signed_ocmf": "Signiert (OCMF)",
        "ev_mid_meter": "MID-Zähler",
        "ev_non_mid_meter": "Zähler ohne MID",
        "ev_estimate": "Schätzung",
        "notify_title": "Ladeabrechnungen für {month}",
        "notify_body": "{count} Abrechnung(en) für {month} liegen in {folder}.",
        "row_type": "Zeile",
        "yes_excluded": "ausgeschlossen",
        "gap_reason_ha_lost": "Home Assistant hat diese Ladevorgänge nicht mehr",
        "st_corrected_label": "Korrektur",
        "st_corrected": "Korrigierte Abrechnung (Korrektur {revision}): ersetzt die am "
        "{delivered} zugestellte Abrechnung mit dem Inhalts-Hash {previous}. Ladevorgänge "
        "oder Teile davon aus diesem Monat kamen erst nach dieser Zustellung im Ladebuch an.",
        "st_corrected_new": "Korrigierte Zustellung (Korrektur {revision}): Diese Abrechnung "
        "fehlte in der Zustellung vom {delivered}; ihre Ladevorgänge kamen erst danach im "
        "Ladebuch an.",
        "notify_corrected_title": "Korrigierte Ladeabrechnungen für {month}",
        "notify_corrected_body": "{count} Abrechnung(en) für {month} haben sich nach der "
        "Zustellung geändert (später eingetroffene Ladevorgänge) und liegen neu in {folder}; "
        "die früheren Dateien liegen in {superseded}.",
        "ocmf_checked": "{count} signierte Messwerte (OCMF) mit ihren öffentlichen Schlüsseln "
        "erneut geprüft",
        "ocmf_failures": "Ladevorgänge, die ihre signierten Messwerte nicht mehr belegen",
        "ocmf_failure_line": "Ladevorgang {session_id} (Eintrag {entry_no}): {reason}",
        "ocmf_failure_signature": "die Signatur passt nicht zu den signierten Daten: sie "
        "wurden nach der Signatur des Zählers geändert, oder ein anderer Schlüssel hat "
        "signiert",
        "ocmf_failure_key": "der gespeicherte öffentliche Schlüssel ist nicht lesbar",
        "ocmf_failure_unreadable": "der gespeicherte signierte Wert ist kein lesbarer "
        "OCMF-Datensatz",
        "ocmf_failure_readings": "die Signaturen stimmen, aber die signierten Zählerstände "
        "belegen die Energie des Ladevorgangs nicht",
        "ocmf_failure_missing": "der Ladevorgang ist als signierter Nachweis gespeichert, "
        "aber kein signierter Wert ist mehr vorhanden",
        "ocmf_failure_record": "der gespeicherte Datensatz des Ladevorgangs ist nicht lesbar",
        "ocmf_failures_more": "und {count} weitere",
    },
}


def language(requested: str | None) -> str:
    """``de``/``de-DE``/``de-AT,en;q=0.5`` -> ``de``; anything unknown -> ``en``."""
    for part in (requested or "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def text(lang: str, key: str) -> str:
    return TEXT.get(lang, TEXT["en"]).get(key) or TEXT["en"].get(key) or key


def ocmf_failure(lang: str, failure: dict[str, Any]) -> str:
    """One session whose signed meter values no longer prove it, in the reader's language."""
    reason = text(lang, f"ocmf_failure_{failure.get('reason_key')}")
    return text(lang, "ocmf_failure_line").format(
        session_id=failure.get("session_id"), entry_no=failure.get("entry_no"), reason=reason
    )


def gap_reason(lang: str, gap: dict[str, Any]) -> str:
    """Why a recorded gap exists, in the reader's language.

    Gaps store a reason key and its values (``reason_key``, ``reason_params``); gaps
    recorded before that store English text (``reason``), which is shown as it is.
    """
    key = gap.get("reason_key")
    if isinstance(key, str) and key:
        params = gap.get("reason_params")
        wording = text(lang, f"gap_reason_{key}")
        try:
            return wording.format(**params) if isinstance(params, dict) and params else wording
        except (KeyError, IndexError, ValueError):
            return wording
    return str(gap.get("reason") or "")


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_time(moment: datetime, lang: str, *, date_only: bool = False) -> str:
    """A local date and time for people: ``1 Dec 2026, 14:51`` or ``01.12.2026, 14:51``."""
    if lang == "de":
        day = f"{moment.day:02d}.{moment.month:02d}.{moment.year}"
    else:
        day = f"{moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"
    return day if date_only else f"{day}, {moment.hour:02d}:{moment.minute:02d}"


def uses_decimal_comma(lang: str) -> bool:
    return lang == "de"


def number(value: Decimal | int | None, lang: str, places: int | None = None) -> str:
    """A number for people: locale decimal mark, no thousands separators (Excel-safe)."""
    if value is None:
        return ""
    if places is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    out = format(value, "f")
    return out.replace(".", ",") if uses_decimal_comma(lang) else out
