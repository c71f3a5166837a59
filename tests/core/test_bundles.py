"""read_bundle: what a partner's STIX 2.1 bundle must look like, and what it is read as.

Every refusal names the field a partner has to fix; the TLP ids are written out here (STIX
2.1 section 7.2.1.4 for TLP 1.0, the OASIS TLP 2.0 extension for TLP 2.0) rather than taken
from the code under test.
"""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain
from exchange.core.bundles import EXTENSION_ID, ObjectCheck, ReadBundle, read_bundle
from exchange.core.claims import Category, Tlp
from exchange.errors import BundleError, TooLargeError
from tests.factories import BTC_BECH32, BTC_P2PKH, ETH_CHECKSUMMED, ETH_LOWER, bundle, indicator

SUBMITTER = "identity--5b1f4c1e-2f0a-4d6e-9a7b-3c8d9e0f1a2b"
SOMEONE_ELSE = "identity--9d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a"
BUNDLE_ID = "bundle--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
WALLET_ID = "cryptocurrency-wallet--7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"
STATEMENT_MARKING = "marking-definition--2c1b0a9f-8e7d-4c6b-a594-837261504f3e"  # not a TLP

TLP2_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

ETH_BAD_CHECKSUM = "0x098b716B8Aaf21512996dC57EB0615e2383E2f96"  # one letter's case flipped
EXT = f"extensions.{EXTENSION_ID}"


def read(*objects: Any, default_tlp: Tlp = Tlp.AMBER, submitter: str = SUBMITTER) -> ReadBundle:
    document = {"type": "bundle", "id": BUNDLE_ID, "objects": list(objects)}
    return read_bundle(document, submitter=submitter, default_tlp=default_tlp, max_objects=100)


def only(obj: Any, *, default_tlp: Tlp = Tlp.AMBER) -> ObjectCheck:
    (check,) = read(obj, default_tlp=default_tlp).objects
    return check


def flagging(address: str = ETH_CHECKSUMMED, **changes: Any) -> dict[str, Any]:
    """A valid indicator by SUBMITTER, with `changes` applied."""
    return indicator(SUBMITTER, address) | changes


def without(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in names}


def pattern(text: str) -> dict[str, Any]:
    return flagging(pattern=text)


def ours(**fields: Any) -> dict[str, Any]:
    """An indicator carrying our property-extension with `fields`."""
    extension = {"extension_type": "property-extension"} | fields
    return flagging(extensions={EXTENSION_ID: extension})


def wallet(value: Any = BTC_P2PKH, **changes: Any) -> dict[str, Any]:
    obj = {"type": "cryptocurrency-wallet", "spec_version": "2.1", "id": WALLET_ID, "value": value}
    return obj | changes


IDENTITY = {
    "type": "identity",
    "spec_version": "2.1",
    "id": SUBMITTER,
    "created": "2026-01-02T03:04:05.000Z",
    "modified": "2026-01-02T03:04:05.000Z",
    "name": "An NGO",
    "identity_class": "organization",
}
AMBER_MARKING = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": TLP2_AMBER,
    "created": "2022-10-01T00:00:00.000Z",
    "name": "TLP:AMBER",
    "extensions": {
        "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension",
            "tlp_2_0": "amber",
        }
    },
}
P = "[cryptocurrency-wallet:value = '{}']"
A, B = ETH_CHECKSUMMED, BTC_P2PKH

# (object, the field its problem must start with, words the problem must hold)
REFUSED = [
    # type and id (STIX 2.1 section 2.9)
    pytest.param(without(flagging(), "type"), "type", "", id="no type"),
    pytest.param(flagging(type="Indicator"), "type", "lowercase", id="type in capitals"),
    pytest.param(flagging(type="in_dicator"), "type", "", id="type with an underscore"),
    pytest.param(flagging(type=7), "type", "", id="type not a string"),
    pytest.param(without(flagging(), "id"), "id", "UUID", id="no id"),
    pytest.param(
        flagging(id=f"malware--{SUBMITTER[10:]}"), "id", "indicator--", id="id of a malware"
    ),
    pytest.param(flagging(id="indicator--1"), "id", "UUID", id="id without a UUID"),
    pytest.param(flagging(id=f"indicator--{SUBMITTER[10:].upper()}"), "id", "", id="id uppercase"),
    pytest.param(flagging(id=42), "id", "", id="id not a string"),
    # spec_version, created, modified (section 3.2)
    pytest.param(without(flagging(), "spec_version"), "spec_version", "2.1", id="no spec_version"),
    pytest.param(flagging(spec_version="2.0"), "spec_version", "2.1", id="spec_version 2.0"),
    pytest.param(flagging(spec_version=2.1), "spec_version", "2.1", id="spec_version a number"),
    pytest.param(without(flagging(), "created"), "created", "timestamp", id="no created"),
    pytest.param(
        flagging(created="2026-11-20T10:00:00+00:00"), "created", "timestamp", id="created +00:00"
    ),
    pytest.param(
        flagging(created="2026-11-20 10:00:00Z"), "created", "timestamp", id="created, no T"
    ),
    pytest.param(flagging(created="2026-02-30T10:00:00Z"), "created", "valid date", id="30 Feb"),
    pytest.param(flagging(created=1795600000), "created", "timestamp", id="created a number"),
    pytest.param(without(flagging(), "modified"), "modified", "timestamp", id="no modified"),
    pytest.param(
        flagging(modified="2026-11-20T09:59:59.999Z"), "modified", "earlier", id="modified early"
    ),
    # who vouches for it
    pytest.param(
        flagging(created_by_ref=SOMEONE_ELSE), "created_by_ref", SUBMITTER, id="another creator"
    ),
    pytest.param(
        without(flagging(), "created_by_ref"), "created_by_ref", SUBMITTER, id="no creator"
    ),
    # the pattern's exact form
    pytest.param(flagging(pattern_type="sigma"), "pattern_type", "stix", id="sigma pattern"),
    pytest.param(without(flagging(), "pattern_type"), "pattern_type", "stix", id="no type"),
    pytest.param(without(flagging(), "pattern"), "pattern", "exactly", id="no pattern"),
    pytest.param(flagging(pattern=7), "pattern", "exactly", id="pattern not a string"),
    pytest.param(
        pattern(f"[cryptocurrency-wallet:value  =  '{A}']"), "pattern", "exactly", id="spaces"
    ),
    pytest.param(
        pattern(f"[ cryptocurrency-wallet:value = '{A}' ]"), "pattern", "", id="inner spaces"
    ),
    pytest.param(pattern(f"[cryptocurrency-wallet:value='{A}']"), "pattern", "", id="no spaces"),
    pytest.param(pattern(P.format(A) + " "), "pattern", "", id="trailing space"),
    pytest.param(
        pattern(f'[cryptocurrency-wallet:value = "{A}"]'), "pattern", "", id="double quotes"
    ),
    pytest.param(
        pattern(f"[cryptocurrency-wallet:value = '{A}' AND cryptocurrency-wallet:value = '{B}']"),
        "pattern",
        "exactly",
        id="two comparisons",
    ),
    pytest.param(
        pattern(f"[cryptocurrency-wallet:value = '{A}' OR cryptocurrency-wallet:value = '{B}']"),
        "pattern",
        "exactly",
        id="OR of two comparisons",
    ),
    pytest.param(
        pattern(f"{P.format(A)} OR {P.format(B)}"), "pattern", "", id="OR of two observations"
    ),
    pytest.param(
        pattern(f"{P.format(A)} REPEATS 2 TIMES"), "pattern", "", id="a qualifier after it"
    ),
    pytest.param(pattern(f"[cryptocurrency-wallet:value LIKE '{A}']"), "pattern", "", id="LIKE"),
    pytest.param(pattern(f"[cryptocurrency-wallet:value != '{A}']"), "pattern", "", id="!="),
    pytest.param(pattern("[ipv4-addr:value = '198.51.100.7']"), "pattern", "", id="an IP"),
    pytest.param(
        pattern(f"[cryptocurrency-wallet:address = '{A}']"), "pattern", "", id="other property"
    ),
    pytest.param(
        pattern(f"[Cryptocurrency-Wallet:value = '{A}']"), "pattern", "", id="type in capitals"
    ),
    pytest.param(pattern(P.format("")), "pattern", "", id="empty address"),
    pytest.param(pattern(P.format("0x\\'1")), "pattern", "", id="escaped quote"),
    pytest.param(pattern(P.format("1" * 257)), "pattern", "", id="257-character address"),
    pytest.param(pattern(P.format(f" {A}")), "pattern", "whitespace", id="space in quotes"),
    pytest.param(pattern(P.format(ETH_BAD_CHECKSUM)), "pattern", "EIP-55", id="bad checksum"),
    pytest.param(pattern(P.format("zz-not-an-address")), "pattern", "not an address", id="junk"),
    # revoked, validity
    pytest.param(flagging(revoked=True), "revoked", "", id="revoked"),
    pytest.param(flagging(revoked="false"), "revoked", "", id="revoked as a string"),
    pytest.param(without(flagging(), "valid_from"), "valid_from", "timestamp", id="no from"),
    pytest.param(flagging(valid_from="yesterday"), "valid_from", "timestamp", id="bad from"),
    pytest.param(flagging(valid_until="soon"), "valid_until", "timestamp", id="bad until"),
    pytest.param(
        flagging(valid_until="2026-11-20T10:00:00Z"), "valid_until", "later", id="until = from"
    ),
    pytest.param(
        flagging(valid_until="2026-11-19T10:00:00Z"), "valid_until", "later", id="until < from"
    ),
    # labels and the taxonomy
    pytest.param(without(flagging(), "labels"), "labels", "sanctions", id="no labels"),
    pytest.param(flagging(labels=[]), "labels", "taxonomy", id="empty labels"),
    pytest.param(flagging(labels="scam"), "labels", "list", id="labels a string"),
    pytest.param(flagging(labels=["scam", 7]), "labels", "list", id="a label not a string"),
    pytest.param(flagging(labels=["phishing", "apt"]), "labels", "taxonomy", id="off taxonomy"),
    pytest.param(flagging(labels=["Scam"]), "labels", "taxonomy", id="label in capitals"),
    # confidence (section 4.14: an integer 0-100)
    pytest.param(flagging(confidence=-1), "confidence", "0 to 100", id="confidence -1"),
    pytest.param(flagging(confidence=101), "confidence", "0 to 100", id="confidence 101"),
    pytest.param(flagging(confidence=True), "confidence", "integer", id="confidence true"),
    pytest.param(flagging(confidence=False), "confidence", "integer", id="confidence false"),
    pytest.param(flagging(confidence=50.5), "confidence", "integer", id="confidence 50.5"),
    pytest.param(flagging(confidence="80"), "confidence", "integer", id="confidence '80'"),
    # markings (section 7.2)
    pytest.param(
        flagging(object_marking_refs=TLP2_RED), "object_marking_refs", "list", id="refs a string"
    ),
    pytest.param(
        flagging(object_marking_refs=[SUBMITTER]), "object_marking_refs", "", id="ref to identity"
    ),
    pytest.param(flagging(object_marking_refs=[7]), "object_marking_refs", "", id="ref a number"),
    pytest.param(
        flagging(object_marking_refs=[TLP2_AMBER, TLP2_RED]),
        "object_marking_refs",
        "more than one TLP",
        id="amber and red",
    ),
    pytest.param(
        flagging(object_marking_refs=[TLP1_WHITE, TLP2_GREEN]),
        "object_marking_refs",
        "more than one TLP",
        id="TLP 1.0 white and TLP 2.0 green",
    ),
    pytest.param(
        flagging(object_marking_refs=[TLP2_AMBER, TLP2_AMBER_STRICT]),
        "object_marking_refs",
        "more than one TLP",
        id="amber and amber+strict",
    ),
    # our property-extension
    pytest.param(flagging(extensions=[]), "extensions", "object", id="extensions a list"),
    pytest.param(
        flagging(extensions={EXTENSION_ID: "bitcoin"}), EXT, "property-extension", id="a string"
    ),
    pytest.param(
        flagging(extensions={EXTENSION_ID: {"chain": "bitcoin"}}),
        EXT,
        "property-extension",
        id="no extension_type",
    ),
    pytest.param(
        flagging(extensions={EXTENSION_ID: {"extension_type": "new-sdo"}}),
        EXT,
        "property-extension",
        id="extension_type new-sdo",
    ),
    pytest.param(ours(chain=""), f"{EXT}.chain", "1-64", id="empty chain"),
    pytest.param(ours(chain="e" * 65), f"{EXT}.chain", "1-64", id="65-character chain"),
    pytest.param(ours(chain=1), f"{EXT}.chain", "1-64", id="chain a number"),
    pytest.param(ours(asset=""), f"{EXT}.asset", "1-32", id="empty asset"),
    pytest.param(ours(asset="T" * 33), f"{EXT}.asset", "1-32", id="33-character asset"),
    pytest.param(ours(case_reference=""), f"{EXT}.case_reference", "1-256", id="empty case"),
    pytest.param(
        ours(case_reference="c" * 257), f"{EXT}.case_reference", "1-256", id="257-char case"
    ),
    pytest.param(ours(case_reference=12), f"{EXT}.case_reference", "1-256", id="case a number"),
    pytest.param(ours(chain="dogechain"), "pattern", "unknown chain 'dogechain'", id="unknown"),
    pytest.param(ours(chain="bitcoin"), "pattern", "invalid address", id="ETH on bitcoin"),
    # cryptocurrency-wallet SCOs
    pytest.param(wallet("0x1234"), "value", "not 0x followed by 40 hex", id="wallet bad value"),
    pytest.param(wallet(ETH_BAD_CHECKSUM), "value", "EIP-55", id="wallet bad checksum"),
    pytest.param(wallet(7), "value", "string", id="wallet value a number"),
    pytest.param(without(wallet(), "value"), "value", "string", id="wallet without value"),
    pytest.param(wallet(spec_version="2.0"), "spec_version", "2.1", id="wallet spec 2.0"),
    pytest.param(wallet(id="cryptocurrency-wallet--x"), "id", "UUID", id="wallet bad id"),
    pytest.param(
        wallet(
            ETH_CHECKSUMMED,
            extensions={
                EXTENSION_ID: {"extension_type": "property-extension", "chain": "bitcoin"}
            },
        ),
        "value",
        "invalid address",
        id="wallet ETH on bitcoin",
    ),
    # other objects still need the common properties
    pytest.param(without(IDENTITY, "created"), "created", "", id="identity without created"),
    pytest.param(without(AMBER_MARKING, "spec_version"), "spec_version", "", id="marking 2.0"),
]


@pytest.mark.parametrize(("obj", "field", "words"), REFUSED)
def test_a_refused_object_is_told_which_field_to_fix(obj: Any, field: str, words: str) -> None:
    check = only(obj)

    assert check.problem is not None, "accepted, but should be refused"
    assert check.problem.startswith(f"{field}:"), check.problem
    assert words in check.problem
    assert check.claims == ()


@pytest.mark.parametrize("obj", [None, "indicator", 7, True, ["type", "indicator"]], ids=repr)
def test_an_object_that_is_not_a_json_object_is_refused_in_its_place(obj: Any) -> None:
    read_ = read(flagging(), obj, IDENTITY)

    assert [check.problem for check in read_.objects] == [
        None,
        "object is not a JSON object",
        None,
    ]
    assert [check.index for check in read_.problems] == [1]


def test_refused_objects_are_listed_and_the_others_still_read() -> None:
    good, bad = flagging(), flagging(confidence=101)
    read_ = read(good, bad, IDENTITY, wallet())

    assert read_.id == BUNDLE_ID
    assert [check.id for check in read_.objects] == [good["id"], bad["id"], SUBMITTER, WALLET_ID]
    assert [(check.index, check.id) for check in read_.problems] == [(1, bad["id"])]
    assert len(read_.objects[0].claims) == 1


# What a valid indicator is read as -------------------------------------------------------

ETH = Address(Chain.ETHEREUM, ETH_LOWER)
BTC = Address(Chain.BITCOIN, BTC_P2PKH)
BECH32 = Address(Chain.BITCOIN, BTC_BECH32)


@pytest.mark.parametrize(
    ("address", "chain", "expected"),
    [
        (ETH_CHECKSUMMED, None, ETH),
        (ETH_CHECKSUMMED, "ethereum", ETH),
        (ETH_LOWER, None, ETH),
        (ETH_LOWER.upper().replace("0X", "0x"), "ethereum", ETH),
        (BTC_P2PKH, None, BTC),
        (BTC_P2PKH, "bitcoin", BTC),
        (BTC_BECH32, "bitcoin", BECH32),
        (BTC_BECH32.upper(), None, BECH32),
    ],
)
def test_the_claimed_address_is_canonical_on_the_given_or_inferred_chain(
    address: str, chain: str | None, expected: Address
) -> None:
    check = only(indicator(SUBMITTER, address, chain=chain))

    assert check.problem is None
    assert [claim.address for claim in check.claims] == [expected]


def test_a_claim_carries_what_the_indicator_says() -> None:
    obj = indicator(
        SUBMITTER,
        ETH_CHECKSUMMED,
        category="sanctions",
        tlp=Tlp.RED,
        confidence=0,
        valid_from="2026-11-20T10:00:00.5Z",
        valid_until="2027-11-20T10:00:00Z",
        extensions={
            EXTENSION_ID: {
                "extension_type": "property-extension",
                "chain": "ethereum",
                "asset": "USDT",
                "case_reference": "c" * 256,
            }
        },
    )
    (claim,) = only(obj).claims

    assert (claim.address, claim.category, claim.tlp, claim.indicator_id) == (
        ETH,
        Category.SANCTIONS,
        Tlp.RED,
        obj["id"],
    )
    assert claim.confidence == 0
    assert claim.valid_from is not None
    assert claim.valid_from.isoformat() == "2026-11-20T10:00:00.500000+00:00"
    assert claim.valid_until is not None
    assert claim.valid_until.year == 2027
    assert (claim.asset, claim.case_reference) == ("USDT", "c" * 256)


def test_optional_fields_left_out_are_absent_from_the_claim() -> None:
    obj = without(flagging(confidence=100), "confidence", "object_marking_refs")
    (claim,) = only(obj).claims

    assert (claim.confidence, claim.valid_until, claim.asset, claim.case_reference) == (
        None,
        None,
        None,
        None,
    )
    assert only(flagging(confidence=100)).claims[0].confidence == 100
    assert only(flagging(revoked=False)).problem is None


@pytest.mark.parametrize(
    ("labels", "categories"),
    [
        (["scam"], [Category.SCAM]),
        (["ransomware", "sanctions"], [Category.RANSOMWARE, Category.SANCTIONS]),
        (["sanctions", "sanctions"], [Category.SANCTIONS]),
        (["phishing", "child-exploitation", "apt"], [Category.CHILD_EXPLOITATION]),
        (
            ["human-trafficking", "darknet-market", "terrorist-financing", "other"],
            [
                Category.HUMAN_TRAFFICKING,
                Category.DARKNET_MARKET,
                Category.TERRORIST_FINANCING,
                Category.OTHER,
            ],
        ),
    ],
)
def test_each_category_in_the_labels_is_one_claim(
    labels: list[str], categories: list[Category]
) -> None:
    claims = only(flagging(labels=labels)).claims

    assert [claim.category for claim in claims] == categories
    assert {claim.address for claim in claims} == {ETH}


@pytest.mark.parametrize(
    ("refs", "tlp"),
    [
        ([TLP2_CLEAR], Tlp.CLEAR),
        ([TLP2_GREEN], Tlp.GREEN),
        ([TLP2_AMBER], Tlp.AMBER),
        ([TLP2_AMBER_STRICT], Tlp.AMBER_STRICT),
        ([TLP2_RED], Tlp.RED),
        ([TLP1_WHITE], Tlp.CLEAR),  # TLP 1.0 WHITE became TLP 2.0 CLEAR
        ([TLP1_GREEN], Tlp.GREEN),
        ([TLP1_AMBER], Tlp.AMBER),
        ([TLP1_RED], Tlp.RED),
        ([TLP1_AMBER, TLP2_AMBER], Tlp.AMBER),  # one level in both versions
        ([TLP1_WHITE, TLP2_CLEAR], Tlp.CLEAR),
        ([STATEMENT_MARKING, TLP2_GREEN], Tlp.GREEN),  # a copyright statement, say
    ],
)
def test_a_tlp_marking_sets_the_claims_tlp_in_tlp_2_terms(refs: list[str], tlp: Tlp) -> None:
    (claim,) = only(flagging(object_marking_refs=refs), default_tlp=Tlp.RED).claims

    assert claim.tlp is tlp


@pytest.mark.parametrize("default", list(Tlp))
@pytest.mark.parametrize("refs", [None, [STATEMENT_MARKING]], ids=["no markings", "no TLP"])
def test_without_a_tlp_marking_the_claim_gets_the_default_tlp(
    refs: list[str] | None, default: Tlp
) -> None:
    obj = without(flagging(), "object_marking_refs")
    if refs is not None:
        obj["object_marking_refs"] = refs
    (claim,) = only(obj, default_tlp=default).claims

    assert claim.tlp is default


def test_a_tlp_given_as_a_granular_marking_is_not_ignored() -> None:
    """A TLP:RED granular marking on the pattern (STIX 2.1 section 7.2.3) must not leave the
    claim as the object-level TLP:CLEAR: the claim is read as RED, or the object refused."""
    obj = flagging(
        object_marking_refs=[TLP2_CLEAR],
        granular_markings=[{"marking_ref": TLP2_RED, "selectors": ["pattern"]}],
    )
    check = only(obj)

    assert check.problem is not None or [c.tlp for c in check.claims] == [Tlp.RED]


def test_objects_other_than_indicators_are_accepted_without_claims() -> None:
    read_ = read(IDENTITY, AMBER_MARKING, wallet(), without(wallet(), "spec_version"))

    assert [(check.problem, check.claims) for check in read_.objects] == [(None, ())] * 4
    assert [check.version for check in read_.objects] == [
        IDENTITY["modified"],
        AMBER_MARKING["created"],  # marking definitions have no `modified`
        "",  # SCOs are not versioned
        "",
    ]


@pytest.mark.parametrize(
    ("value", "extension"),
    [
        (BTC_BECH32.upper(), None),
        (ETH_CHECKSUMMED, None),
        (ETH_LOWER, {"extension_type": "property-extension", "chain": "ethereum"}),
    ],
)
def test_a_wallet_with_a_valid_address_is_accepted(
    value: str, extension: dict[str, str] | None
) -> None:
    obj = (
        wallet(value) if extension is None else wallet(value, extensions={EXTENSION_ID: extension})
    )

    assert only(obj).problem is None


def test_the_same_content_has_the_same_fingerprint_and_other_content_another() -> None:
    obj = flagging()
    reordered = dict(reversed(list(obj.items())))

    assert only(obj).fingerprint == only(reordered).fingerprint
    assert only(obj).fingerprint != only(obj | {"confidence": 79}).fingerprint
    assert only(obj).version == obj["modified"]


# The bundle itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (None, "bundle"),
        ([], "bundle"),
        ("bundle", "bundle"),
        ({"id": BUNDLE_ID, "objects": [IDENTITY]}, "type"),
        ({"type": "Bundle", "id": BUNDLE_ID, "objects": [IDENTITY]}, "type"),
        ({"type": "bundle", "objects": [IDENTITY]}, "`id`"),
        ({"type": "bundle", "id": SUBMITTER, "objects": [IDENTITY]}, "`id`"),
        ({"type": "bundle", "id": "bundle--1", "objects": [IDENTITY]}, "`id`"),
        ({"type": "bundle", "id": 1, "objects": [IDENTITY]}, "`id`"),
        ({"type": "bundle", "id": BUNDLE_ID}, "`objects`"),
        ({"type": "bundle", "id": BUNDLE_ID, "objects": []}, "`objects`"),
        ({"type": "bundle", "id": BUNDLE_ID, "objects": IDENTITY}, "`objects`"),
        ({"type": "bundle", "id": BUNDLE_ID, "objects": None}, "`objects`"),
    ],
)
def test_a_document_that_is_not_a_bundle_is_refused_as_a_whole(document: Any, words: str) -> None:
    with pytest.raises(BundleError, match=words):
        read_bundle(document, submitter=SUBMITTER, default_tlp=Tlp.AMBER, max_objects=100)


def test_more_objects_than_the_limit_is_too_large_and_the_limit_itself_is_not() -> None:
    objects = [flagging() for _ in range(5)]

    def read_with(limit: int) -> ReadBundle:
        document = bundle(*objects)
        return read_bundle(document, submitter=SUBMITTER, default_tlp=Tlp.AMBER, max_objects=limit)

    assert len(read_with(5).objects) == 5
    with pytest.raises(TooLargeError, match="5 objects; the limit is 4"):
        read_with(4)


def test_a_lone_surrogate_in_an_object_does_not_crash_the_reader() -> None:
    """Python's json module reads "\\ud800" as a lone surrogate, which UTF-8 cannot encode."""
    note = json.loads('{"type": "note", "content": "\\ud800"}')

    assert_reads_without_crashing(bundle(flagging(), note))


# Junk never crashes the reader ------------------------------------------------------------

KEYS = ["type", "id", "spec_version", "created", "modified", "pattern", "pattern_type", "labels"]
KEYS += ["valid_from", "valid_until", "confidence", "object_marking_refs", "extensions"]
KEYS += ["created_by_ref", "revoked", "value", "objects", "chain", EXTENSION_ID]
PLAUSIBLE = [
    "indicator",
    "bundle",
    "cryptocurrency-wallet",
    "2.1",
    "stix",
    "2026-11-20T10:00:00Z",
    SUBMITTER,
    BUNDLE_ID,
    TLP2_RED,
    "property-extension",
    "ethereum",
    "scam",
    P.format(ETH_CHECKSUMMED),
]
JSON_LIKE: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(PLAUSIBLE),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
FUZZ = settings(max_examples=150, deadline=None)


def assert_reads_without_crashing(document: Any) -> None:
    """read_bundle either refuses the whole document or reads each object one way or the
    other; an indicator it accepts always yields a claim."""
    try:
        read_ = read_bundle(document, submitter=SUBMITTER, default_tlp=Tlp.AMBER, max_objects=4)
    except (BundleError, TooLargeError):
        return
    assert len(read_.objects) == len(document["objects"])
    for check in read_.objects:
        assert check.problem is None or isinstance(check.problem, str)
        if check.problem is None and check.type == "indicator":
            assert check.claims


@FUZZ
@given(JSON_LIKE)
def test_junk_as_the_whole_document_never_crashes_the_reader(junk: Any) -> None:
    assert_reads_without_crashing(junk)


@FUZZ
@given(JSON_LIKE)
def test_junk_as_the_objects_member_never_crashes_the_reader(junk: Any) -> None:
    assert_reads_without_crashing({"type": "bundle", "id": BUNDLE_ID, "objects": junk})


@FUZZ
@given(st.lists(JSON_LIKE, min_size=1, max_size=6))
def test_junk_objects_never_crash_the_reader(objects: list[Any]) -> None:
    assert_reads_without_crashing({"type": "bundle", "id": BUNDLE_ID, "objects": objects})


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), JSON_LIKE, min_size=1, max_size=4))
def test_junk_in_the_fields_of_a_valid_indicator_never_crashes_the_reader(
    changes: dict[str, Any],
) -> None:
    assert_reads_without_crashing(bundle(flagging() | changes))


@FUZZ
@given(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100)
    | st.sampled_from([ETH_CHECKSUMMED, BTC_BECH32, "bc1", "BC1Q", "tb1p", "0x", "3", "m"]),
    st.sampled_from([None, "bitcoin", "bitcoin-testnet", "ethereum", "dogecoin", "Bitcoin"]),
)
def test_any_text_in_the_pattern_never_crashes_the_reader(text: str, chain: str | None) -> None:
    obj = indicator(SUBMITTER, text, chain=chain)
    extensions = {key: value for key, value in obj.items() if key == "extensions"}
    assert_reads_without_crashing(bundle(obj, wallet(text, **extensions)))
