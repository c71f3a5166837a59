"""From a spreadsheet of addresses to a STIX 2.1 bundle a partner signs and submits.

Pure: the caller brings the rows (dicts, or CSV text), the partner's identity, the defaults
and the clock; signing is the caller's. Each valid row becomes one indicator in the exchange's
STIX profile (docs/stix-profile.md, what `exchange.core.bundles.read_bundle` accepts); each bad
row is reported with its line number (the header is line 1, so a row's number is the one the
spreadsheet shows) and the reason.

Columns (header names are case-insensitive; spaces and hyphens count as underscores):
`address` (required), `chain`, `asset`, `category`, `confidence`, `tlp`, `valid_until`,
`case_reference` (also `case reference`, `case`), `note` (the indicator's description).
A missing or empty cell takes the default; a row whose cells are all empty is skipped.

Indicator ids are UUIDv5 over (identity, chain, canonical address, category), so building
the same sheet again gives the same ids and resubmitting it adds no claim twice. The chain is
always written, as stated or as inferred (with the asset's help for tokens), so the exchange
reads every indicator on the chain checked here.
"""

import csv
import io
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from exchange.core.addresses import parse_address
from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import TLP2_MARKING_IDS, Category, Tlp
from exchange.errors import AddressError

COLUMNS = frozenset(
    {"address", "chain", "asset", "category", "confidence", "tlp", "valid_until"}
    | {"case_reference", "note"}
)
_ALIASES = {"case_reference": "case_reference", "case": "case_reference"}
_TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP_NAMES = {"white": Tlp.CLEAR} | {tlp.value: tlp for tlp in Tlp}
_NAMESPACE = uuid.UUID("5f0c1d36-57a3-4c8f-9d55-0e0b8c2f6a41")  # this module's UUIDv5 ids
_CASE_REFERENCE_MAX, _ASSET_MAX = 256, 32


class _Problem(Exception):
    """A row's problem; becomes an entry of BuildResult.problems."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a row that leaves a column empty (or has no such column) gets."""

    category: Category | None = None  # None: every row must name its category
    tlp: Tlp = Tlp.AMBER
    chain: str | None = None  # None: inferred from each address
    confidence: int | None = None


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The bundle (None when a problem is fatal), every problem as (line, reason), and how
    many indicators the bundle holds."""

    bundle: dict[str, Any] | None
    problems: list[tuple[int, str]] = field(default_factory=list)
    written: int = 0


def build_bundle(
    rows: Iterable[Mapping[str, str | None]] | str,
    *,
    identity_id: str,
    identity_name: str,
    defaults: Defaults,
    now: datetime,
    skip_invalid: bool,
) -> BuildResult:
    """One indicator per valid row, plus the partner's identity and the TLP markings used.

    With `skip_invalid` False, any problem leaves the bundle out (None); with True, bad rows
    are left out and reported. A sheet without an `address` column, or with no valid row,
    gives no bundle either way.
    """
    if isinstance(rows, str):
        reader = csv.DictReader(io.StringIO(rows))
        records: Iterable[Mapping[str, str | None]] = reader
        header = [_column(name) for name in reader.fieldnames or [] if name]
    else:
        records = list(rows)
        header = [_column(name) for name in records[0]] if records else []
    problems = [(1, f"unknown column '{name}'") for name in header if name not in COLUMNS]
    if "address" not in header:
        return BuildResult(None, [(1, "no 'address' column"), *problems])
    indicators: dict[str, tuple[int, dict[str, Any]]] = {}
    stamp = _timestamp(now)
    for line, raw in enumerate(records, start=2):
        row = {_column(name): (value or "").strip() for name, value in raw.items() if name}
        if not any(row.values()):
            continue
        try:
            indicator = _indicator(row, identity_id, defaults, now, stamp)
        except _Problem as problem:
            problems.append((line, str(problem)))
            continue
        first = indicators.get(indicator["id"])
        if first is not None:
            problems.append((line, f"same address and category as line {first[0]}"))
            continue
        indicators[indicator["id"]] = (line, indicator)
    if not indicators:
        return BuildResult(None, problems or [(1, "no rows")])
    if problems and not skip_invalid:
        return BuildResult(None, problems)
    objects = [indicator for _, indicator in indicators.values()]
    used = sorted({ref for obj in objects for ref in obj["object_marking_refs"]})
    bundle_id = uuid.uuid5(_NAMESPACE, "|".join([identity_id, stamp, *indicators]))
    bundle = {
        "type": "bundle",
        "id": f"bundle--{bundle_id}",
        "objects": [_identity(identity_id, identity_name, stamp), *map(_marking, used), *objects],
    }
    return BuildResult(bundle, problems, len(objects))


def _column(name: str) -> str:
    key = name.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(key, key)


def _indicator(
    row: Mapping[str, str], identity_id: str, defaults: Defaults, now: datetime, stamp: str
) -> dict[str, Any]:
    text = row.get("address", "")
    if not text:
        raise _Problem("address: empty")
    chain = row.get("chain", "").lower() or defaults.chain
    asset = row.get("asset") or None
    if asset is not None and len(asset) > _ASSET_MAX:
        raise _Problem(f"asset: longer than {_ASSET_MAX} characters")
    try:
        address = parse_address(text, chain, asset=asset)
    except AddressError as error:
        raise _Problem(f"address: {error.reason}") from None
    category = _category(row.get("category", ""), defaults.category)
    tlp = _tlp(row.get("tlp", ""), defaults.tlp)
    confidence = _confidence(row.get("confidence", ""), defaults.confidence)
    key = "|".join([identity_id, address.chain.value, address.value, category.value])
    indicator: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(_NAMESPACE, key)}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": identity_id,
        "name": f"{category.value}: {address.value}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[cryptocurrency-wallet:value = '{address.value}']",
        "pattern_type": "stix",
        "valid_from": stamp,
        "labels": [category.value],
        "object_marking_refs": [TLP2_MARKING_IDS[tlp]],
    }
    if row.get("valid_until"):
        indicator["valid_until"] = _valid_until(row["valid_until"], now)
    if confidence is not None:
        indicator["confidence"] = confidence
    if row.get("note"):
        indicator["description"] = row["note"]
    extension: dict[str, str] = {"extension_type": "property-extension"}
    extension["chain"] = address.chain.value
    if asset is not None:
        extension["asset"] = asset
    case_reference = row.get("case_reference")
    if case_reference:
        if len(case_reference) > _CASE_REFERENCE_MAX:
            raise _Problem(f"case_reference: longer than {_CASE_REFERENCE_MAX} characters")
        extension["case_reference"] = case_reference
    indicator["extensions"] = {EXTENSION_ID: extension}
    return indicator


def _category(cell: str, default: Category | None) -> Category:
    if not cell:
        if default is None:
            raise _Problem("category: empty, and no default category")
        return default
    name = cell.lower().replace(" ", "-").replace("_", "-")
    try:
        return Category(name)
    except ValueError:
        raise _Problem(f"category: '{cell}' is not one of {', '.join(Category)}") from None


def _tlp(cell: str, default: Tlp) -> Tlp:
    if not cell:
        return default
    name = cell.lower().removeprefix("tlp:").replace(" ", "")
    tlp = _TLP_NAMES.get(name)
    if tlp is None:
        raise _Problem(f"tlp: '{cell}' is not one of {', '.join(Tlp)}")
    return tlp


def _confidence(cell: str, default: int | None) -> int | None:
    if not cell:
        return default
    if not cell.isdigit() or not 0 <= int(cell) <= 100:
        raise _Problem(f"confidence: '{cell}' is not a whole number from 0 to 100")
    return int(cell)


def _valid_until(cell: str, now: datetime) -> str:
    try:
        moment = datetime.fromisoformat(cell)
    except ValueError:
        raise _Problem(f"valid_until: '{cell}' is not a date (YYYY-MM-DD)") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment <= now:
        raise _Problem(f"valid_until: {cell} is not in the future")
    return _timestamp(moment)


def _timestamp(moment: datetime) -> str:
    """A STIX timestamp (section 3.2) to the millisecond, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _identity(identity_id: str, name: str, stamp: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": stamp,
        "modified": stamp,
        "name": name,
        "identity_class": "organization",
    }


def _marking(marking_id: str) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking-definition object for `marking_id` (TLP 2.0 extension)."""
    tlp = next(level for level, id_ in TLP2_MARKING_IDS.items() if id_ == marking_id)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.value.upper()}",
        "extensions": {
            _TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }
