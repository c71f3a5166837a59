"""Read the claims out of a STIX 2.1 bundle, checking every field the exchange relies on.

The OASIS libraries (stix2, stix2-validator) cost 1-7 ms per object, which would cap ingest
below 1,000 objects/s, so this module checks directly the fields we use: object types and
ids (STIX 2.1 section 2.9), timestamps (section 3.2), the indicator pattern's exact form,
TLP markings (section 7.2) and our property-extension (section 7.3). The OASIS libraries
check, in the tests, that what we accept and publish is conformant.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.core.addresses import parse_address
from exchange.core.claims import TLP_MARKINGS, Attribution, Category, Claim, Tlp
from exchange.errors import AddressError, BundleError, TooLargeError

EXTENSION_ID = "extension-definition--836f5f73-a864-4e11-a845-590575be141d"
"""Our STIX 2.1 extension-definition (schemas/extension-definition.json): chain and asset."""

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TYPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ID = re.compile(rf"([a-z0-9]+(?:-[a-z0-9]+)*)--{_UUID}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z")
_PATTERN = re.compile(r"\[cryptocurrency-wallet:value = '([^'\\]{1,256})'\]")
_SCO_TYPES = frozenset({"cryptocurrency-wallet"})
_CATEGORIES = frozenset(Category)
_TAXONOMY = ", ".join(Category)
_CASE_REFERENCE_MAX = 256


@dataclass(frozen=True, slots=True)
class ObjectCheck:
    """One object of a bundle, as read: its identity, its claims, or why it is refused."""

    index: int
    id: str
    type: str
    version: str  # `modified`, else `created`, else "" (SCOs and markings have no versions)
    fingerprint: str  # SHA-256 of the object's sorted-key JSON: "same id, same content?"
    body: Mapping[str, Any]
    claims: tuple[Claim, ...] = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ReadBundle:
    id: str
    objects: tuple[ObjectCheck, ...]

    @property
    def problems(self) -> tuple[ObjectCheck, ...]:
        return tuple(check for check in self.objects if check.problem is not None)


class _Refused(Exception):
    """An object-level problem; becomes ObjectCheck.problem, never leaves this module."""


def read_bundle(
    bundle: object, *, submitter: str, default_tlp: Tlp, max_objects: int
) -> ReadBundle:
    """Check `bundle` (parsed JSON) and read its claims.

    Raises BundleError when it is not a STIX 2.1 bundle at all and TooLargeError past
    `max_objects`; problems with single objects are reported in `ReadBundle.problems`.
    """
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise BundleError("not a STIX bundle: the document's `bundle` must have type 'bundle'")
    bundle_id = bundle.get("id")
    if not isinstance(bundle_id, str) or not _is_id(bundle_id, "bundle"):
        raise BundleError("bundle: `id` must be 'bundle--' followed by a UUID")
    objects = bundle.get("objects")
    if not isinstance(objects, list) or not objects:
        raise BundleError("bundle: `objects` must be a non-empty list")
    if len(objects) > max_objects:
        raise TooLargeError(f"bundle has {len(objects)} objects; the limit is {max_objects}")
    checks = tuple(
        _check(index, obj, submitter=submitter, default_tlp=default_tlp)
        for index, obj in enumerate(objects)
    )
    return ReadBundle(id=bundle_id, objects=checks)


def parse_timestamp(value: object, field: str) -> datetime:
    """A STIX timestamp (section 3.2: RFC 3339, UTC, `Z`), or _Refused naming `field`."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise _Refused(f"{field}: not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(f"{field}: not a valid date and time") from None


def _is_id(value: str, type_: str) -> bool:
    match = _ID.fullmatch(value)
    return match is not None and match.group(1) == type_


def _check(index: int, obj: object, *, submitter: str, default_tlp: Tlp) -> ObjectCheck:
    if not isinstance(obj, dict):
        return ObjectCheck(index, "", "", "", "", {}, problem="object is not a JSON object")
    id_, type_ = obj.get("id"), obj.get("type")
    id_ = id_ if isinstance(id_, str) else ""
    type_ = type_ if isinstance(type_, str) else ""
    fingerprint = hashlib.sha256(
        json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    version = obj.get("modified") or obj.get("created") or ""
    version = version if isinstance(version, str) else ""
    try:
        _check_common(obj, id_, type_)
        claims: tuple[Claim, ...] = ()
        if type_ == "indicator":
            claims = _read_indicator(obj, id_, submitter=submitter, default_tlp=default_tlp)
        elif type_ == "cryptocurrency-wallet":
            _read_wallet(obj)
    except _Refused as refused:
        return ObjectCheck(index, id_, type_, version, fingerprint, obj, problem=str(refused))
    return ObjectCheck(index, id_, type_, version, fingerprint, obj, claims=claims)


def _check_common(obj: Mapping[str, Any], id_: str, type_: str) -> None:
    if not _TYPE.fullmatch(type_) or not 3 <= len(type_) <= 250:
        raise _Refused("type: must be 3-250 lowercase letters, digits and hyphens")
    if not _is_id(id_, type_):
        raise _Refused(f"id: must be '{type_}--' followed by a UUID")
    if type_ in _SCO_TYPES:
        if obj.get("spec_version", "2.1") != "2.1":
            raise _Refused("spec_version: must be '2.1'")
        return
    if obj.get("spec_version") != "2.1":
        raise _Refused("spec_version: must be '2.1'")
    created = parse_timestamp(obj.get("created"), "created")
    if type_ != "marking-definition":
        modified = parse_timestamp(obj.get("modified"), "modified")
        if modified < created:
            raise _Refused("modified: earlier than created")


def _read_indicator(
    obj: Mapping[str, Any], id_: str, *, submitter: str, default_tlp: Tlp
) -> tuple[Claim, ...]:
    if obj.get("created_by_ref") != submitter:
        raise _Refused(f"created_by_ref: must be the submitting partner's identity {submitter}")
    if obj.get("pattern_type") != "stix":
        raise _Refused("pattern_type: must be 'stix'")
    pattern = obj.get("pattern")
    match = _PATTERN.fullmatch(pattern) if isinstance(pattern, str) else None
    if match is None:
        raise _Refused("pattern: must be exactly [cryptocurrency-wallet:value = 'ADDRESS']")
    if obj.get("revoked", False) is not False:
        raise _Refused("revoked: withdrawing a claim is not supported yet")
    valid_from = parse_timestamp(obj.get("valid_from"), "valid_from")
    valid_until = None
    if "valid_until" in obj:
        valid_until = parse_timestamp(obj["valid_until"], "valid_until")
        if valid_until <= valid_from:
            raise _Refused("valid_until: must be later than valid_from")
    categories = _categories(obj.get("labels"))
    confidence = obj.get("confidence")
    if confidence is not None and (
        type(confidence) is not int or not 0 <= confidence <= 100  # bool is not a confidence
    ):
        raise _Refused("confidence: must be an integer from 0 to 100")
    tlp = _tlp(obj.get("object_marking_refs"), default_tlp, obj.get("granular_markings"))
    extension = _extension(obj)
    try:
        address = parse_address(match.group(1), extension.chain, asset=extension.asset)
    except AddressError as error:
        raise _Refused(f"pattern: {error}") from None
    return tuple(
        Claim(
            address=address,
            category=category,
            tlp=tlp,
            indicator_id=id_,
            confidence=confidence,
            valid_from=valid_from,
            valid_until=valid_until,
            case_reference=extension.case_reference,
            asset=extension.asset,
            recipients=extension.recipients,
            attribution=extension.attribution,
            handling=extension.handling,
        )
        for category in categories
    )


def _read_wallet(obj: Mapping[str, Any]) -> None:
    value = obj.get("value")
    if not isinstance(value, str):
        raise _Refused("value: must be a string")
    extension = _extension(obj)
    try:
        parse_address(value, extension.chain, asset=extension.asset)
    except AddressError as error:
        raise _Refused(f"value: {error}") from None


def _categories(labels: object) -> tuple[Category, ...]:
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise _Refused(f"labels: must be a list holding a category ({_TAXONOMY})")
    categories = tuple(dict.fromkeys(Category(lab) for lab in labels if lab in _CATEGORIES))
    if not categories:
        raise _Refused(f"labels: no category from the taxonomy ({_TAXONOMY})")
    return categories


def _tlp(refs: object, default: Tlp, granular: object = None) -> Tlp:
    if granular is not None:  # fail closed: a TLP on one property must not be overlooked
        raise _Refused("granular_markings: not supported; mark the object (object_marking_refs)")
    if refs is None:
        return default
    if not isinstance(refs, list) or not all(
        isinstance(ref, str) and _is_id(ref, "marking-definition") for ref in refs
    ):
        raise _Refused("object_marking_refs: must be a list of marking-definition ids")
    levels = {TLP_MARKINGS[ref] for ref in refs if ref in TLP_MARKINGS}
    if len(levels) > 1:
        raise _Refused("object_marking_refs: more than one TLP level")
    return levels.pop() if levels else default


@dataclass(frozen=True, slots=True)
class _Extension:
    """Our property-extension's fields (schemas/crypto-address-extension.schema.json)."""

    chain: str | None = None
    asset: str | None = None
    case_reference: str | None = None
    recipients: frozenset[str] = frozenset()
    attribution: Attribution = Attribution.NAMED
    handling: str | None = None


_RECIPIENT = re.compile(rf"identity--{_UUID}|[a-z0-9][a-z0-9-]{{0,63}}")
_HANDLING = frozenset({"investigate-only", "may-block"})


def _extension(obj: Mapping[str, Any]) -> _Extension:
    extensions = obj.get("extensions", {})
    if not isinstance(extensions, dict):
        raise _Refused("extensions: must be an object")
    ours = extensions.get(EXTENSION_ID)
    if ours is None:
        return _Extension()
    where = f"extensions.{EXTENSION_ID}"
    if not isinstance(ours, dict) or ours.get("extension_type") != "property-extension":
        raise _Refused(f"{where}: must be a property-extension")
    texts = []
    for name, limit in (("chain", 64), ("asset", 32), ("case_reference", _CASE_REFERENCE_MAX)):
        value = ours.get(name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise _Refused(f"{where}.{name}: must be 1-{limit} characters")
        texts.append(value)
    recipients = ours.get("recipients", [])
    if (
        not isinstance(recipients, list)
        or len(recipients) > 64
        or not all(isinstance(r, str) and _RECIPIENT.fullmatch(r) for r in recipients)
    ):
        raise _Refused(f"{where}.recipients: up to 64 partner ids or group names")
    attribution = ours.get("attribution", "named")
    if attribution not in ("named", "anonymous"):
        raise _Refused(f"{where}.attribution: must be 'named' or 'anonymous'")
    handling = ours.get("handling")
    if handling is not None and handling not in _HANDLING:
        raise _Refused(f"{where}.handling: must be one of {', '.join(sorted(_HANDLING))}")
    chain, asset, case_reference = texts
    return _Extension(
        chain, asset, case_reference, frozenset(recipients), Attribution(attribution), handling
    )


def outcome_problems(checks: Sequence[ObjectCheck]) -> str:
    """A one-line summary of refused objects, for an error's detail."""
    first = checks[0]
    more = f" (and {len(checks) - 1} more)" if len(checks) > 1 else ""
    return f"object {first.index} ({first.id or 'no id'}) refused: {first.problem}{more}"
