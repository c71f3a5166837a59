"""The JSON bodies a subscriber receives (schemas/alert.schema.json): an alert carrying a
watched flag as the subscriber may see it, as plain JSON and as a STIX 2.1 bundle, and a
revocation when a report it was alerted to is withdrawn or expires. Pure: the caller brings
the time and a flag already redacted for the recipient (`flags.disclose_all`); nothing the flag
lacks is added back, and no report's case reference, submission or recipients are ever written.
"""

import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import TLP2_MARKING_IDS, Tlp
from exchange.core.flags import Flag, Report

ALERT_NAMESPACE = uuid.UUID("a737c189-5c21-4d30-8d3e-88d2d47df75c")
"""The UUIDv5 namespace of alert ids and of the STIX ids this module derives."""

_PARTNER_ID = re.compile(r"identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"  # OASIS TLP 2.0
_TLP_CREATED = "2022-10-01T00:00:00.000Z"  # of the OASIS TLP 2.0 marking-definitions
# Identities are written with one fixed version, so every alert carries the same object.
_IDENTITY_CREATED = "2026-01-01T00:00:00.000000Z"
_REASONS = frozenset({"revoked", "expired"})


class AlertKind(StrEnum):
    ALERT = "alert"
    REVOCATION = "revocation"


def alert_id(subscription_id: str, report_id: int, kind: AlertKind) -> str:
    """The id of the `kind` message `report_id` causes for `subscription_id`: deterministic,
    so a report can never alert one subscription twice, and distinct for distinct inputs (the
    kind has no newline and the report id is an integer, so the text hashed is unambiguous)."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{kind}\n{subscription_id}\n{report_id}"))


def alert_body(
    *,
    alert_id: str,
    created: datetime,
    subscription_id: str,
    recipient: str,
    flag: Flag,
    new_reports: Collection[int],
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The alert telling `recipient` about `flag`; `new_reports` are the ids that caused it.

    A report is `named` when its `partner_id` is a partner id (a STIX identity id, the only
    form they take) and `anonymous` otherwise: `disclose` puts a pseudonym there, and anything
    else is taken for one too (fail closed), its `indicator_id` dropped. The report's own
    `attribution` is the submitter's wish, not how it is shown, so it is not used. `names`
    (partner id -> display name, for STIX identities) is never used for an anonymous report.
    Raises ValueError when the flag has no report or a time is naive.
    """
    if not flag.reports:
        raise ValueError("an alert needs at least one report the recipient may see")
    fresh = frozenset(new_reports)
    reports = sorted(flag.reports, key=lambda report: report.id)
    indicators = indicator_ids(reports)
    return {
        "type": AlertKind.ALERT.value,
        "id": alert_id,
        "created": _timestamp(created),
        "subscription": subscription_id,
        "recipient": recipient,
        "flag": {
            "chain": flag.chain,
            "address": flag.address,
            "categories": [str(category) for category in flag.categories],
            "corroboration": flag.corroboration,
            "first_seen": _timestamp(flag.first_seen),
            "last_seen": _timestamp(flag.last_seen),
        },
        "reports": [
            _report(report, new=report.id in fresh, indicator=indicators[report.id])
            for report in reports
        ],
        "stix": _bundle(alert_id, flag, reports, indicators, names or {}),
    }


def revocation_body(
    *,
    alert_id: str,
    created: datetime,
    subscription_id: str,
    recipient: str,
    chain: str,
    address: str,
    report_id: int,
    reason: str,
    effective: datetime,
    alerts: Sequence[str],
) -> dict[str, Any]:
    """The message withdrawing report `report_id` from the `alerts` that carried it. `reason`
    is `revoked` (the submitter withdrew it) or `expired` (its `valid_until` passed); anything
    else raises ValueError, as does a naive time."""
    if reason not in _REASONS:
        raise ValueError(f"reason must be one of {', '.join(sorted(_REASONS))}, not {reason!r}")
    return {
        "type": AlertKind.REVOCATION.value,
        "id": alert_id,
        "created": _timestamp(created),
        "subscription": subscription_id,
        "recipient": recipient,
        "flag": {"chain": chain, "address": address},
        "report": report_id,
        "reason": str(reason),
        "effective": _timestamp(effective),
        "alerts": list(dict.fromkeys(alerts)),
    }


def _named(report: Report) -> bool:
    return _PARTNER_ID.fullmatch(report.partner_id) is not None


def indicator_ids(reports: Sequence[Report]) -> dict[int, str]:
    """The STIX id each disclosed report of one flag is shown with.

    A named report keeps its partner's indicator id; one STIX indicator with several labels
    is several reports, and only the first (by id) keeps it. Every other report gets
    `report_indicator_id`: nothing in it links to what the submitter sent.
    """
    shown: dict[int, str] = {}
    for report in sorted(reports, key=lambda report: report.id):
        own = report.indicator_id if _named(report) else None
        if own is None or own in shown.values():
            own = report_indicator_id(report.id)
        shown[report.id] = own
    return shown


# "exchng" in the first 48 bits, the report id in the last 62, so a TAXII read can find the
# report again. Version 4 bits, because STIX validators accept only RFC 4122 versions.
_REPORT_TAG = 0x657863686E67
_LOW_62 = (1 << 62) - 1


def report_indicator_id(report_id: int) -> str:
    """`indicator--<UUID carrying the report id>`: the exchange's id for a report it may not
    show under its partner's indicator id. Reveals only the report id, which recipients see."""
    value = (_REPORT_TAG << 80) | (0x4 << 76) | (0b10 << 62) | (report_id & _LOW_62)
    return f"indicator--{uuid.UUID(int=value)}"


def report_of_indicator_id(indicator_id: str) -> int | None:
    """The report id inside an id made by `report_indicator_id`; None for any other id."""
    type_, _, text = indicator_id.partition("--")
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    if type_ != "indicator" or value.version != 4 or value.int >> 80 != _REPORT_TAG:
        return None
    return value.int & _LOW_62


def stix_indicator(report: Report, flag: Flag, id_: str) -> dict[str, Any]:
    """A disclosed report as a STIX 2.1 indicator (TAXII serves these too)."""
    return _indicator(report, flag, id_, _creator(report))


def _derived(*parts: str) -> uuid.UUID:
    return uuid.uuid5(ALERT_NAMESPACE, "\n".join(parts))


def _timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z`, to the microsecond: the sharing log's `at`, and a STIX 2.1
    timestamp (section 3.2)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime: every time in the exchange is UTC-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _report(report: Report, *, new: bool, indicator: str) -> dict[str, Any]:
    return {
        "id": report.id,
        "new": new,
        "category": str(report.category),
        "tlp": str(report.tlp),
        "confidence": report.confidence,
        "submitter": report.partner_id,
        "attribution": "named" if _named(report) else "anonymous",
        "handling": report.handling,
        "asset": report.asset,
        "valid_from": _timestamp(report.valid_from or report.created_at),
        "valid_until": None if report.valid_until is None else _timestamp(report.valid_until),
        "reported_at": _timestamp(report.created_at),
        "indicator": indicator,
    }


def _bundle(
    alert_id: str,
    flag: Flag,
    reports: Sequence[Report],
    indicators: Mapping[int, str],
    names: Mapping[str, str],
) -> dict[str, Any]:
    """The reports as STIX 2.1: identities, then TLP 2.0 markings, then one indicator each."""
    creators = {report.id: _creator(report) for report in reports}
    identities = {  # a pseudonym is its own name; `names` is for partner ids only
        creators[r.id]: names.get(r.partner_id, r.partner_id) if _named(r) else r.partner_id
        for r in reports
    }
    markings = sorted({Tlp(report.tlp) for report in reports}, key=TLP2_MARKING_IDS.__getitem__)
    return {
        "type": "bundle",
        "id": f"bundle--{_derived(alert_id)}",
        "objects": [
            *(_identity(id_, identities[id_]) for id_ in sorted(identities)),
            *(_marking(tlp) for tlp in markings),
            *(
                _indicator(report, flag, indicators[report.id], creators[report.id])
                for report in reports
            ),
        ],
    }


def _creator(report: Report) -> str:
    """The submitter's STIX identity id; for a pseudonym, one derived from it."""
    if _named(report):
        return report.partner_id
    return f"identity--{_derived(report.partner_id)}"


def _identity(id_: str, name: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": id_,
        "created": _IDENTITY_CREATED,
        "modified": _IDENTITY_CREATED,
        "name": name,
        "identity_class": "organization",
    }


def _marking(tlp: Tlp) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking-definition object for `tlp` (TLP 2.0 extension)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[tlp],
        "created": _TLP_CREATED,
        "name": f"TLP:{tlp.value.upper()}",
        "extensions": {
            _TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def _indicator(report: Report, flag: Flag, id_: str, creator: str) -> dict[str, Any]:
    created = _timestamp(report.created_at)
    indicator: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": id_,
        "created": created,
        "modified": created,
        "created_by_ref": creator,
        "name": f"{report.category}: {flag.address}",
        "indicator_types": ["malicious-activity"],
        "pattern": _pattern(flag.address),
        "pattern_type": "stix",
        "valid_from": _timestamp(report.valid_from or report.created_at),
        "labels": [str(report.category)],
        "object_marking_refs": [TLP2_MARKING_IDS[report.tlp]],
    }
    if report.valid_until is not None:
        indicator["valid_until"] = _timestamp(report.valid_until)
    if report.confidence is not None:
        indicator["confidence"] = report.confidence
    # Our extension carries only what recipients may act on: never case_reference,
    # recipients or attribution (schemas/crypto-address-extension.schema.json).
    extension = {"extension_type": "property-extension", "chain": flag.chain}
    if report.asset is not None:
        extension["asset"] = report.asset
    if report.handling is not None:
        extension["handling"] = report.handling
    indicator["extensions"] = {EXTENSION_ID: extension}
    return indicator


def _pattern(address: str) -> str:
    """The STIX 2.1 pattern matching `address`; a pattern string constant escapes `\\` and
    `'` with a backslash (section 9, patterning grammar)."""
    literal = address.replace("\\", "\\\\").replace("'", "\\'")
    return f"[cryptocurrency-wallet:value = '{literal}']"
