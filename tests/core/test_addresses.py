"""Addresses across chains: dispatch, inference, identity, the OFAC data, and properties.

Each chain family's vectors are in tests/core/test_chains_<family>.py; the properties here
draw spellings from all of them.
"""

from collections import Counter
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import (
    TOKEN_CHAINS,
    Address,
    Chain,
    _infer,
    _Rules,
    chain_formats,
    parse_address,
)
from exchange.errors import AddressError
from tests.core import (
    test_chains_altcoins,
    test_chains_bitcoin,
    test_chains_bitcoin_cash,
    test_chains_evm,
    test_chains_monero,
    test_chains_solana,
    test_chains_xrp,
)

OFAC = Path(__file__).parents[1] / "data/ofac"  # a copy of ../shared/data/ofac

BTC, ETH = Chain.BITCOIN, Chain.ETHEREUM

AROUND_THE_ADDRESS = [
    ("", ETH, "empty address"),
    (" 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ETH, "whitespace around address"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n", None, "whitespace around address"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\u00a0", BTC, "whitespace around address"),
    ("\trnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh66", Chain.XRP, "whitespace around address"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeд", None, "non-ASCII character in address"),
    (
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6\u0430",
        None,
        "non-ASCII character in address",
    ),
]


@pytest.mark.parametrize(("text", "chain", "reason"), AROUND_THE_ADDRESS)
def test_what_surrounds_an_address_is_refused_before_any_chain_looks(
    text: str, chain: Chain | None, reason: str
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, chain)
    assert refused.value.reason == reason
    assert refused.value.address == text


def test_the_chain_may_be_named_by_its_id_string() -> None:
    assert parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bitcoin").chain is BTC
    assert parse_address("TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "tron").chain is Chain.TRON


@pytest.mark.parametrize("chain", ["doge", "Bitcoin", "BITCOIN", " bitcoin", "", "evm", "usdt"])
def test_an_unknown_chain_id_is_refused_by_name(chain: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", chain)
    assert refused.value.reason == f"unknown chain {chain!r}"


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320",  # a 64-hex hash
        "zs1z7rejlpsa98s2rrrfkwmaxu53e4ue0ulcrw0h4x5g8jl04tak0d3mm47vdtahatqrlkngh9sly",
        "cosmos1g6qdx6kdhpf000afvvpte7hp0vnpzapuyxp8uf",
    ],
)
def test_a_spelling_no_chain_recognises_is_not_an_address_on_any_supported_chain(
    text: str,
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text)
    assert refused.value.reason == "not an address on any supported chain"


@pytest.mark.parametrize(
    "text",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # only Bitcoin recognises it
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",  # Bitcoin and Litecoin, for the same reason
    ],
)
def test_without_a_chain_the_chains_that_recognise_a_spelling_give_their_reason(
    text: str,
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text)
    assert refused.value.reason == "bad base58check checksum"


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "bitcoin, litecoin"),
        ("3E6ZCKRrsdPc35chA9Eftp1h3DLW18NFNV", "bitcoin, litecoin"),
        ("DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z", "dogecoin, verge"),
    ],
)
def test_a_spelling_two_chains_read_is_refused_with_the_candidates(
    text: str, candidates: str
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text)
    assert refused.value.reason == f"ambiguous address: state the chain (one of: {candidates})"


def test_a_token_resolves_an_ambiguous_spelling_to_the_chain_it_is_issued_on() -> None:
    omni = "3E6ZCKRrsdPc35chA9Eftp1h3DLW18NFNV"  # OFAC's USDT list: Tether on Omni
    assert parse_address(omni, asset="USDT") == Address(BTC, omni)
    assert parse_address(omni, asset="usdt") == Address(BTC, omni)
    assert Chain.LITECOIN not in TOKEN_CHAINS["USDT"]
    for asset in (None, "USDC", "NOT-A-TOKEN"):
        with pytest.raises(AddressError, match="ambiguous address"):
            parse_address(omni, asset=asset)


def test_a_token_never_overrides_the_spelling_or_the_stated_chain() -> None:
    assert parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", asset="USDT").chain is ETH
    tron = "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR"
    assert parse_address(tron, asset="USDC").chain is Chain.TRON
    omni = "3E6ZCKRrsdPc35chA9Eftp1h3DLW18NFNV"
    assert parse_address(omni, Chain.LITECOIN, asset="USDT").chain is Chain.LITECOIN


def _accept_anything(text: str) -> str:
    return text


def _refuse_everything(text: str) -> str:
    raise AddressError(text, "no")


def _refuse_otherwise(text: str) -> str:
    raise AddressError(text, "no, and for another reason")


def _claim_everything(text: str) -> bool:
    return True


def test_a_spelling_two_chains_accept_is_refused_as_ambiguous() -> None:
    rules = [
        _Rules(BTC, _accept_anything, _claim_everything, ()),
        _Rules(ETH, _accept_anything, _claim_everything, ()),
    ]
    with pytest.raises(AddressError) as refused:
        _infer("abc", rules)
    assert refused.value.reason == "ambiguous address: state the chain (one of: bitcoin, ethereum)"


def test_of_two_chains_that_recognise_a_spelling_the_one_that_accepts_it_wins() -> None:
    rules = [
        _Rules(BTC, _refuse_everything, _claim_everything, ()),
        _Rules(ETH, _accept_anything, _claim_everything, ()),
    ]
    assert _infer("abc", rules) == Address(ETH, "abc")
    with pytest.raises(AddressError, match="no"):
        _infer("abc", rules[:1] * 2)
    rules[1] = _Rules(ETH, _refuse_otherwise, _claim_everything, ())
    with pytest.raises(AddressError, match="not an address on any supported chain"):
        _infer("abc", rules)


def test_the_key_is_the_chain_and_value_except_on_evm_chains() -> None:
    assert Address(BTC, "1abc").key == ("bitcoin", "1abc")
    assert Address(Chain.BSC, "0xabc").key == Address(ETH, "0xabc").key == ("evm", "0xabc")
    assert Address(Chain.BITCOIN_SV, "1abc").key != Address(BTC, "1abc").key


def test_every_chain_lists_the_formats_it_accepts() -> None:
    formats = chain_formats()
    assert set(formats) == set(Chain)
    assert all(formats[chain] and all(formats[chain]) for chain in Chain)


def test_an_address_is_frozen() -> None:
    address = parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    with pytest.raises(FrozenInstanceError):
        address.value = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"  # type: ignore[misc]


# Real data: every address of the OFAC SDN list, on the chain its asset label names. Tokens
# (USDT, USDC) name no chain, so theirs comes from the spelling.

LABELS = {
    "ARB": Chain.ARBITRUM,
    "BCH": Chain.BITCOIN_CASH,
    "BSC": Chain.BSC,
    "BSV": Chain.BITCOIN_SV,
    "BTG": Chain.BITCOIN_GOLD,
    "DASH": Chain.DASH,
    "ETC": Chain.ETHEREUM_CLASSIC,
    "ETH": Chain.ETHEREUM,
    "LTC": Chain.LITECOIN,
    "TRX": Chain.TRON,
    "USDC": None,
    "USDT": None,
    "XBT": Chain.BITCOIN,
    "XMR": Chain.MONERO,
    "XRP": Chain.XRP,
    "XVG": Chain.VERGE,
    "ZEC": Chain.ZCASH,
}
MISLABELLED = {"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq": Chain.TRON}  # listed under XBT
NOT_ADDRESSES = {
    "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320": (
        "not a Monero address (95 or 106 base58 characters)"
    ),
}
COUNTS = {
    "ARB": {"arbitrum": 1},
    "BCH": {"bitcoin-cash": 7},
    "BSC": {"bsc": 1},
    "BSV": {"bitcoin-sv": 1},
    "BTG": {"bitcoin-gold": 1},
    "DASH": {"dash": 3},
    "ETC": {"ethereum-classic": 1},
    "ETH": {"ethereum": 152},
    "LTC": {"litecoin": 10},
    "TRX": {"tron": 6},
    "USDC": {"ethereum": 2},
    "USDT": {"tron": 11, "ethereum": 8, "bitcoin": 7},
    "XBT": {"bitcoin": 434, "tron": 1},
    "XMR": {"monero": 2, "refused": 1},
    "XRP": {"xrp": 1},
    "XVG": {"verge": 1},
    "ZEC": {"zcash": 3},
}


def _ofac_lines(asset: str) -> list[str]:
    return (OFAC / f"{asset}.txt").read_text(encoding="ascii").splitlines()


def _ofac(asset: str, line: str) -> Address:
    chain = MISLABELLED.get(line, LABELS[asset])
    return parse_address(line, chain, asset=asset)


def test_there_is_one_ofac_file_per_asset_and_654_lines_in_all() -> None:
    assert sorted(path.stem for path in OFAC.glob("*.txt")) == sorted(LABELS)
    assert sum(len(_ofac_lines(asset)) for asset in LABELS) == 654


@pytest.mark.parametrize("asset", sorted(LABELS))
def test_every_ofac_address_is_valid_on_the_right_chain_in_the_counts_per_asset(
    asset: str,
) -> None:
    counts: Counter[str] = Counter()
    for line in _ofac_lines(asset):
        if line in NOT_ADDRESSES:
            with pytest.raises(AddressError) as refused:
                _ofac(asset, line)
            assert refused.value.reason == NOT_ADDRESSES[line]
            counts["refused"] += 1
            continue
        address = _ofac(asset, line)
        counts[address.chain.value] += 1
        assert parse_address(address.value, address.chain) == address  # canonical is a fixpoint
        if LABELS[asset] is None or line in MISLABELLED:  # the chain from the spelling alone
            assert parse_address(line, asset=asset) == address
    assert counts == COUNTS[asset]


def test_ofac_spellings_canonicalise_as_their_chains_rules_say() -> None:
    bch = _ofac_lines("BCH")
    assert _ofac("BCH", bch[0]) == Address(  # 18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB, legacy
        Chain.BITCOIN_CASH, "bitcoincash:qpgf0ztxq3mwfq6eg5versgfdzq9c3pwv5jsk6wnay"
    )
    assert all(_ofac("BCH", line).value == "bitcoincash:" + line for line in bch[1:])
    assert all(_ofac("ETH", line).value == line.lower() for line in _ofac_lines("ETH"))
    mixed = [line for line in _ofac_lines("ETH") if line != line.lower()]
    assert len(mixed) > 50  # OFAC mixes EIP-55 and lowercase spellings


def test_the_same_evm_address_listed_under_several_assets_is_one_key() -> None:
    (arb,) = _ofac_lines("ARB")
    assert _ofac("ARB", arb).key == _ofac("BSC", arb).key == _ofac("ETH", arb).key
    assert {_ofac("ARB", arb).chain, _ofac("BSC", arb).chain} == {Chain.ARBITRUM, Chain.BSC}
    eth_keys = {_ofac("ETH", line).key for line in _ofac_lines("ETH")}
    assert {_ofac("USDC", line).key for line in _ofac_lines("USDC")} <= eth_keys


# Properties, over every family's spellings.

SPELLINGS = st.one_of(
    test_chains_bitcoin.spellings(),
    test_chains_evm.spellings(),
    test_chains_bitcoin_cash.spellings(),
    test_chains_altcoins.spellings(),
    test_chains_monero.spellings(),
    test_chains_solana.spellings(),
    test_chains_xrp.spellings(),
)


@given(SPELLINGS, st.data())
def test_a_one_character_typo_is_never_silently_the_same_flag(
    spelling: tuple[str, Chain, str, bool], data: st.DataObject
) -> None:
    text, chain, alphabet, folds = spelling
    original = parse_address(text, chain)
    at = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    if folds:  # a different character, not merely the same one in the other case
        typo = data.draw(st.sampled_from(alphabet).filter(lambda c: c != text[at].lower()))
        typo = typo.upper() if text[at].isupper() else typo
    else:
        typo = data.draw(st.sampled_from(alphabet).filter(lambda c: c != text[at]))
    mistyped = text[:at] + typo + text[at + 1 :]
    for maybe_chain in (chain, None):
        try:
            parsed = parse_address(mistyped, maybe_chain)
        except AddressError:
            continue
        assert parsed.key != original.key


@given(SPELLINGS.filter(lambda spelling: spelling[3]))
def test_case_variants_of_a_case_insensitive_address_are_one_flag(
    spelling: tuple[str, Chain, str, bool],
) -> None:
    text, chain, _, _ = spelling
    if text.startswith("0x"):
        variants = {text, text.lower(), "0x" + text[2:].upper()}
    else:
        variants = {text, text.lower(), text.upper()}
    assert len({parse_address(variant, chain).key for variant in variants}) == 1
    mixed = text.lower()[:-1] + text[-1].upper() if not text[-1].isdigit() else None
    if mixed is not None and not text.startswith("0x"):
        with pytest.raises(AddressError, match="mixed-case"):
            parse_address(mixed, chain)
