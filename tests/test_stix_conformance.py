"""The OASIS libraries (stix2, stix2-validator) check the STIX profile the exchange reads.

read_bundle checks fields directly for speed; these tests hold it to the standard: our
extension-definition and golden bundles pass the validator, and whatever read_bundle accepts
in a generated family of bundles the stix2 library parses without custom content.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import stix2
import stix2validator
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain
from exchange.core.bundles import EXTENSION_ID, ReadBundle, read_bundle
from exchange.core.claims import Category, Tlp
from tests.factories import BTC_BECH32, BTC_P2PKH, ETH_CHECKSUMMED, ETH_LOWER, bundle, indicator

ROOT = Path(__file__).parents[1]
SCHEMAS = ROOT / "schemas"
DATA = Path(__file__).parent / "data"
DEFINITION = json.loads((SCHEMAS / "extension-definition.json").read_text())
EXTENSION_SCHEMA = json.loads((SCHEMAS / "crypto-address-extension.schema.json").read_text())
SUBMITTER = "identity--5b1f4c1e-2f0a-4d6e-9a7b-3c8d9e0f1a2b"

# No custom object types or properties: our additions live in an extension-definition.
OPTIONS = stix2validator.ValidationOptions(
    version="2.1", strict_types=True, strict_properties=True
)
SELF_CONTAINED = stix2validator.ValidationOptions(
    version="2.1", strict_types=True, strict_properties=True, enforce_refs=True
)

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS = [
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
]


def tlp2_marking(tlp: Tlp) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking-definition object (cti-stix-common-objects)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    }


def validate(document: Any, options: stix2validator.ValidationOptions = OPTIONS) -> Any:
    results = stix2validator.validate_instance(document, options)
    if not results.is_valid:
        stix2validator.print_results(results)
    return results


def reads(document: Any, submitter: str = SUBMITTER) -> ReadBundle:
    return read_bundle(document, submitter=submitter, default_tlp=Tlp.AMBER, max_objects=100)


# Our extension-definition and its JSON Schema ------------------------------------------------


def test_our_extension_definition_is_valid_stix() -> None:
    parsed = stix2.parse(DEFINITION, allow_custom=False)

    assert validate(DEFINITION).is_valid
    assert parsed.id == EXTENSION_ID
    assert list(parsed.extension_types) == ["property-extension"]
    assert parsed.version == "1.0.0"
    assert parsed.created_by_ref == "identity--0a6e7b55-1f3a-4a5e-9a61-3b5d5b0e8a10"


def test_the_extension_definition_points_at_the_schema_in_this_repository() -> None:
    url = DEFINITION["schema"]
    prefix = "https://github.com/exchange/exchange/blob/main/"

    assert url.startswith(prefix)
    assert (ROOT / url.removeprefix(prefix)).is_file()
    assert EXTENSION_SCHEMA["$id"] == url
    jsonschema.Draft202012Validator.check_schema(EXTENSION_SCHEMA)


# (extension properties, valid per the JSON Schema, accepted by read_bundle)
EXTENSIONS = [
    pytest.param({}, True, True, id="only the type"),
    pytest.param({"chain": "ethereum", "asset": "USDT"}, True, True, id="chain and asset"),
    pytest.param({"case_reference": "c" * 256, "asset": "A" * 32}, True, True, id="longest"),
    pytest.param({"asset": ""}, False, False, id="empty asset"),
    pytest.param({"asset": "A" * 33}, False, False, id="33-character asset"),
    pytest.param({"case_reference": ""}, False, False, id="empty case reference"),
    pytest.param({"case_reference": "c" * 257}, False, False, id="257-character case"),
    pytest.param({"chain": ""}, False, False, id="empty chain"),
    pytest.param({"chain": "Ethereum"}, False, False, id="chain in capitals"),
    pytest.param({"chain": "ethereum-"}, False, False, id="chain ending in a hyphen"),
    pytest.param({"chain": 1}, False, False, id="chain a number"),
    pytest.param({"extension_type": "new-sdo"}, False, False, id="another extension_type"),
]


@pytest.mark.parametrize(("fields", "schema_valid", "accepted"), EXTENSIONS)
def test_the_json_schema_and_the_reader_agree_on_the_extension(
    fields: dict[str, Any], schema_valid: bool, accepted: bool
) -> None:
    extension = {"extension_type": "property-extension"} | fields
    obj = indicator(SUBMITTER, ETH_CHECKSUMMED, extensions={EXTENSION_ID: extension})
    (check,) = reads(bundle(obj)).objects

    assert jsonschema.Draft202012Validator(EXTENSION_SCHEMA).is_valid(extension) is schema_valid
    assert (check.problem is None) is accepted, check.problem


def test_the_json_schema_refuses_properties_it_does_not_define() -> None:
    validator = jsonschema.Draft202012Validator(EXTENSION_SCHEMA)

    assert not validator.is_valid({"extension_type": "property-extension", "network": "main"})
    assert not validator.is_valid({"chain": "bitcoin"})  # extension_type is required


# Bundles as the exchange's partners build them ---------------------------------------------


def test_a_factory_bundle_with_our_definition_and_the_tlp_markings_passes_the_validator() -> None:
    document = bundle(
        indicator(SUBMITTER, ETH_CHECKSUMMED, chain="ethereum", tlp=Tlp.RED),
        indicator(SUBMITTER, BTC_P2PKH, chain="bitcoin", category="sanctions", tlp=Tlp.CLEAR),
        indicator(SUBMITTER, BTC_BECH32, tlp=Tlp.AMBER_STRICT),
        DEFINITION,
        *(tlp2_marking(tlp) for tlp in Tlp),
    )

    results = validate(document)

    assert results.is_valid
    assert not reads(document).problems


def test_the_validator_would_notice_a_broken_indicator() -> None:
    """A control: the options above do catch a violation of STIX 2.1."""
    broken = indicator(SUBMITTER, ETH_CHECKSUMMED, confidence=101, pattern_type="stix")
    del broken["valid_from"]

    assert not stix2validator.validate_instance(bundle(broken, DEFINITION), OPTIONS).is_valid


ETH = Address(Chain.ETHEREUM, ETH_LOWER)
BTC = Address(Chain.BITCOIN, BTC_P2PKH)
BECH32 = Address(Chain.BITCOIN, BTC_BECH32)
GOLDEN = [
    pytest.param(
        "bundle-eth-btc.json",
        [
            (ETH, Category.HUMAN_TRAFFICKING, Tlp.AMBER),
            (BTC, Category.SANCTIONS, Tlp.AMBER),
            (BECH32, Category.RANSOMWARE, Tlp.AMBER),
            (BECH32, Category.SCAM, Tlp.AMBER),
        ],
        id="ETH and BTC, TLP 2.0 AMBER",
    ),
    pytest.param(
        "bundle-tlp1.json",
        [(ETH, Category.DARKNET_MARKET, Tlp.CLEAR), (BECH32, Category.SCAM, Tlp.CLEAR)],
        id="TLP 1.0 WHITE, read as CLEAR",
    ),
]


@pytest.mark.parametrize(("name", "claims"), GOLDEN)
def test_a_golden_bundle_is_valid_stix_and_reads_as_its_claims(
    name: str, claims: list[tuple[Address, Category, Tlp]]
) -> None:
    document = json.loads((DATA / name).read_text(encoding="utf-8"))
    (submitter,) = [obj["id"] for obj in document["objects"] if obj["type"] == "identity"]

    assert validate(document, SELF_CONTAINED).is_valid
    stix2.parse(document, allow_custom=False)
    read = reads(document, submitter)
    assert not read.problems
    assert [(c.address, c.category, c.tlp) for o in read.objects for c in o.claims] == claims


def test_the_golden_bundles_use_our_extension_as_its_schema_says() -> None:
    validator = jsonschema.Draft202012Validator(EXTENSION_SCHEMA)
    extensions = [
        obj["extensions"][EXTENSION_ID]
        for path in sorted(DATA.glob("bundle-*.json"))
        for obj in json.loads(path.read_text(encoding="utf-8"))["objects"]
        if EXTENSION_ID in obj.get("extensions", {})
    ]

    assert len(extensions) >= 4
    for extension in extensions:
        assert validator.is_valid(extension), extension


# What read_bundle accepts, stix2 parses ----------------------------------------------------

ADDRESSES = [
    (ETH_CHECKSUMMED, "ethereum"),
    (ETH_LOWER, None),
    (ETH_LOWER.upper().replace("0X", "0x"), "ethereum"),
    (BTC_P2PKH, None),
    (BTC_BECH32, "bitcoin"),
    (BTC_BECH32.upper(), None),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "bitcoin"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", None),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "bitcoin-testnet"),
    ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", None),
]
MARKINGS = [None, *TLP2_IDS.values(), *TLP1_IDS]


EPOCH = datetime(2015, 1, 1, tzinfo=UTC)


def stamp(moment: datetime, digits: int) -> str:
    """A STIX timestamp with `digits` of sub-second precision."""
    fraction = f".{moment.microsecond:06d}"[: digits + 1] if digits else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


@st.composite
def accepted_indicators(draw: st.DrawFn) -> dict[str, Any]:
    address, chain = draw(st.sampled_from(ADDRESSES))
    created = EPOCH + timedelta(microseconds=draw(st.integers(0, 15 * 365 * 86_400 * 10**6)))
    digits = draw(st.sampled_from([0, 1, 3, 6]))
    changes: dict[str, Any] = {
        "created": stamp(created, digits),
        "modified": stamp(created + draw(st.timedeltas(timedelta(0), timedelta(days=30))), digits),
        "valid_from": stamp(created, digits),
        "labels": draw(st.lists(st.sampled_from(list(Category)), min_size=1, unique=True)),
    }
    marking = draw(st.sampled_from(MARKINGS))
    if marking is not None:
        changes["object_marking_refs"] = [marking]
    confidence = draw(st.none() | st.integers(0, 100))
    if confidence is not None:
        changes["confidence"] = confidence
    if draw(st.booleans()):
        lasting = draw(st.timedeltas(timedelta(seconds=1), timedelta(days=3650)))
        changes["valid_until"] = stamp(created + lasting, digits)
    extension = {"extension_type": "property-extension"}
    if chain is not None:
        extension["chain"] = chain
    if draw(st.booleans()):
        extension["asset"] = draw(st.sampled_from(["BTC", "ETH", "USDT", "USDC"]))
    if draw(st.booleans()):
        extension["case_reference"] = draw(st.text(min_size=1, max_size=40))
    if len(extension) > 1 or draw(st.booleans()):
        changes["extensions"] = {EXTENSION_ID: extension}
    obj = indicator(SUBMITTER, address, tlp=None)
    del obj["confidence"]
    return obj | changes


@settings(max_examples=30, deadline=None)
@given(st.lists(accepted_indicators(), min_size=1, max_size=4))
def test_every_bundle_the_reader_accepts_the_stix2_library_parses(
    objects: list[dict[str, Any]],
) -> None:
    document = bundle(*objects)

    assert not reads(document).problems
    stix2.parse(document, allow_custom=False)
