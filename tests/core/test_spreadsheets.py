"""From a spreadsheet to a bundle: what read_bundle accepts, line-numbered problems, stable ids."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.core.addresses import Address, Chain, parse_address
from exchange.core.bundles import EXTENSION_ID, read_bundle
from exchange.core.claims import TLP2_MARKING_IDS, Category, Tlp
from exchange.core.spreadsheets import BuildResult, Defaults, build_bundle

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
IDENTITY = "identity--0a6e7b55-1f3a-4a5e-9a61-3b5d5b0e8a10"
DEFAULTS = Defaults(category=Category.HUMAN_TRAFFICKING, tlp=Tlp.AMBER)

ETH = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
BTC = "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX"
OMNI = "3E6ZCKRrsdPc35chA9Eftp1h3DLW18NFNV"  # USDT on Omni: Bitcoin, but also Litecoin's shape
LEGACY_BCH = "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu"

SHEET = f"""address,chain,asset,category,confidence,tlp,valid_until,Case Reference,note
{ETH},,,,90,,2027-11-25,CASE-1,"seen in ads, twice"
{BTC},bitcoin,,ransomware,,TLP:RED,,,
{OMNI},,USDT,scam,70,green,,CASE-2,
{LEGACY_BCH},Bitcoin-Cash,,,,amber+strict,2027-01-01T00:00:00Z,,
,,,,,,,,
{ETH},bsc,,sanctions,,clear,,,"a line
that goes on"
"""


def build(rows: Any = SHEET, *, skip_invalid: bool = False, now: datetime = NOW) -> BuildResult:
    return build_bundle(
        rows,
        identity_id=IDENTITY,
        identity_name="Hope NGO",
        defaults=DEFAULTS,
        now=now,
        skip_invalid=skip_invalid,
    )


def indicators(result: BuildResult) -> list[dict[str, Any]]:
    assert result.bundle is not None
    return [obj for obj in result.bundle["objects"] if obj["type"] == "indicator"]


def read(result: BuildResult) -> list[Any]:
    """The claims the exchange reads from the bundle; no object may be refused."""
    assert result.bundle is not None
    checked = read_bundle(
        result.bundle, submitter=IDENTITY, default_tlp=Tlp.AMBER, max_objects=1000
    )
    assert checked.problems == ()
    return [claim for check in checked.objects for claim in check.claims]


def test_every_row_becomes_an_indicator_the_exchange_reads_as_the_sheet_says() -> None:
    result = build()
    assert result.problems == []
    assert result.written == 5
    claims = {(c.address, c.category): c for c in read(result)}
    eth = claims[(Address(Chain.ETHEREUM, ETH.lower()), Category.HUMAN_TRAFFICKING)]
    assert (eth.tlp, eth.confidence, eth.case_reference) == (Tlp.AMBER, 90, "CASE-1")
    assert eth.valid_until == datetime(2027, 11, 25, tzinfo=UTC)
    btc = claims[(Address(Chain.BITCOIN, BTC), Category.RANSOMWARE)]
    assert (btc.tlp, btc.confidence) == (Tlp.RED, None)
    omni = claims[(Address(Chain.BITCOIN, OMNI), Category.SCAM)]
    assert (omni.asset, omni.tlp, omni.confidence) == ("USDT", Tlp.GREEN, 70)
    bch = parse_address(LEGACY_BCH, Chain.BITCOIN_CASH)
    assert claims[(bch, Category.HUMAN_TRAFFICKING)].tlp is Tlp.AMBER_STRICT
    assert claims[(Address(Chain.BSC, ETH.lower()), Category.SANCTIONS)].tlp is Tlp.CLEAR


def test_the_chain_is_always_written_and_the_address_in_its_canonical_form() -> None:
    for indicator in indicators(build()):
        extension = indicator["extensions"][EXTENSION_ID]
        address = parse_address(indicator["pattern"].split("'")[1], extension["chain"])
        assert indicator["pattern"] == f"[cryptocurrency-wallet:value = '{address.value}']"
    chains = [i["extensions"][EXTENSION_ID]["chain"] for i in indicators(build())]
    assert chains == ["ethereum", "bitcoin", "bitcoin", "bitcoin-cash", "bsc"]


def test_the_note_is_the_description_and_the_indicator_is_made_by_the_partner() -> None:
    first, *_, last = indicators(build())
    assert first["description"] == "seen in ads, twice"
    assert last["description"] == "a line\nthat goes on"
    assert {i["created_by_ref"] for i in indicators(build())} == {IDENTITY}
    assert {i["valid_from"] for i in indicators(build())} == {"2026-11-25T12:00:00.000Z"}


def test_the_bundle_holds_the_identity_and_the_official_tlp_markings_it_uses() -> None:
    result = build()
    assert result.bundle is not None
    objects = result.bundle["objects"]
    (identity,) = [obj for obj in objects if obj["type"] == "identity"]
    assert (identity["id"], identity["name"]) == (IDENTITY, "Hope NGO")
    markings = {obj["id"]: obj for obj in objects if obj["type"] == "marking-definition"}
    assert set(markings) == set(TLP2_MARKING_IDS.values())  # the sheet uses all five
    assert markings[TLP2_MARKING_IDS[Tlp.AMBER]] == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "amber",
            }
        },
    }
    assert markings[TLP2_MARKING_IDS[Tlp.AMBER_STRICT]]["name"] == "TLP:AMBER+STRICT"
    only_green = build(f"address,tlp\n{BTC},green\n")
    assert only_green.bundle is not None
    used = [o["id"] for o in only_green.bundle["objects"] if o["type"] == "marking-definition"]
    assert used == [TLP2_MARKING_IDS[Tlp.GREEN]]


def test_building_the_same_sheet_again_gives_the_same_indicator_ids() -> None:
    first = [i["id"] for i in indicators(build())]
    later = [i["id"] for i in indicators(build(now=NOW + timedelta(days=3)))]
    assert first == later
    respelled = build(SHEET.replace(ETH, ETH.lower(), 1))
    assert [i["id"] for i in indicators(respelled)] == first
    assert len(set(first)) == len(first)


@pytest.mark.parametrize(
    "header", ["case_reference", "Case Reference", "case", "CASE", "case-reference"]
)
def test_the_case_reference_column_may_be_spelled_several_ways(header: str) -> None:
    (indicator,) = indicators(build(f"address,{header}\n{BTC},CASE-9\n"))
    assert indicator["extensions"][EXTENSION_ID]["case_reference"] == "CASE-9"


def test_rows_may_be_dicts() -> None:
    rows = [{"Address": f" {BTC} ", "Category": "Human Trafficking", "TLP": "white"}]
    (claim,) = read(build(rows))
    assert (claim.address.value, claim.category, claim.tlp) == (
        BTC,
        Category.HUMAN_TRAFFICKING,
        Tlp.CLEAR,
    )


BAD_SHEET = f"""address,chain,category,confidence,tlp,valid_until
{BTC},,,,,
{BTC[:-1]}Y,,,,,
3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy,,,,,
{ETH},dogechain,,,,
{ETH},,smuggling,,,
{ETH},,,101,,
{ETH},,,,purple,
{ETH},,,,,2020-01-01
{ETH},,,,,tomorrow
,ethereum,,,,
{BTC},,,,,
"""
BAD_LINES = [
    (3, "address: bad base58check checksum"),
    (4, "address: ambiguous address: state the chain (one of: bitcoin, litecoin)"),
    (5, "address: unknown chain 'dogechain'"),
    (
        6,
        "category: 'smuggling' is not one of human-trafficking, child-exploitation, sanctions, "
        "ransomware, scam, darknet-market, terrorist-financing, other",
    ),
    (7, "confidence: '101' is not a whole number from 0 to 100"),
    (8, "tlp: 'purple' is not one of clear, green, amber, amber+strict, red"),
    (9, "valid_until: 2020-01-01 is not in the future"),
    (10, "valid_until: 'tomorrow' is not a date (YYYY-MM-DD)"),
    (11, "address: empty"),
    (12, "same address and category as line 2"),
]


def test_every_bad_line_is_reported_with_its_number_and_no_bundle_is_built() -> None:
    result = build(BAD_SHEET)
    assert result.problems == BAD_LINES
    assert (result.bundle, result.written) == (None, 0)


def test_with_skip_invalid_the_good_lines_are_built_and_the_bad_ones_reported() -> None:
    result = build(BAD_SHEET, skip_invalid=True)
    assert result.problems == BAD_LINES
    assert result.written == 1
    (claim,) = read(result)
    assert claim.address == Address(Chain.BITCOIN, BTC)


def test_an_unknown_column_is_a_problem_so_that_a_misspelled_tlp_is_never_ignored() -> None:
    sheet = f"address,tlp level\n{BTC},red\n"
    assert build(sheet).problems == [(1, "unknown column 'tlp_level'")]
    assert build(sheet).bundle is None
    assert build(sheet, skip_invalid=True).written == 1


@pytest.mark.parametrize(
    ("sheet", "problem"),
    [
        ("wallet,chain\n0xabc,ethereum\n", (1, "no 'address' column")),
        ("", (1, "no 'address' column")),
        ("address\n", (1, "no rows")),
        ([], (1, "no 'address' column")),
    ],
)
def test_a_sheet_without_addresses_gives_no_bundle(sheet: Any, problem: tuple[int, str]) -> None:
    result = build(sheet, skip_invalid=True)
    assert result.bundle is None
    assert problem in result.problems


def test_a_category_is_required_when_there_is_no_default() -> None:
    result = build_bundle(
        f"address\n{BTC}\n",
        identity_id=IDENTITY,
        identity_name="Hope NGO",
        defaults=Defaults(),
        now=NOW,
        skip_invalid=False,
    )
    assert result.problems == [(2, "category: empty, and no default category")]


def test_the_default_chain_applies_to_rows_that_name_none() -> None:
    result = build_bundle(
        f"address\n{OMNI}\n",
        identity_id=IDENTITY,
        identity_name="Hope NGO",
        defaults=Defaults(category=Category.SCAM, chain="litecoin", confidence=40),
        now=NOW,
        skip_invalid=False,
    )
    (claim,) = read(result)
    assert (claim.address.chain, claim.confidence) == (Chain.LITECOIN, 40)
