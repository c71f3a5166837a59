"""Address parsing: BIP-173/350, EIP-55 and base58check vectors, real OFAC data, properties."""

from dataclasses import FrozenInstanceError
from pathlib import Path

import base58
import bech32
import pytest
from Crypto.Hash import keccak
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import (
    Address,
    Chain,
    _infer,
    _Rules,
    chain_formats,
    parse_address,
)
from exchange.core.chains import bitcoin
from exchange.errors import AddressError

OFAC = Path(__file__).parents[1] / "data/ofac"  # a copy of ../shared/data/ofac

BTC, TESTNET, ETH = Chain.BITCOIN, Chain.BITCOIN_TESTNET, Chain.ETHEREUM

# BIP-350 "valid segwit addresses" (all of them), each on the chain its hrp names.
BIP350_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", BTC),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", TESTNET),
    ("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", BTC),
    ("BC1SW50QGDZ25J", BTC),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", BTC),
    ("tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", TESTNET),
    ("tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", TESTNET),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", BTC),
]

# EIP-55 examples: all caps, all lower, and checksummed ("normal").
EIP55_VALID = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]

BASE58_VALID = [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BTC),  # P2PKH, the genesis block's
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", BTC),  # P2SH
    ("1111111111111111111114oLvT2", BTC),  # P2PKH of the all-zero hash: leading '1's kept
    ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", TESTNET),  # P2PKH
    ("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", TESTNET),  # P2SH
]

VALID = [
    *((text, chain, text.lower()) for text, chain in BIP350_VALID),
    *((text, ETH, text.lower()) for text in EIP55_VALID),
    *((text, chain, text) for text, chain in BASE58_VALID),
]

# BIP-350 "invalid segwit addresses" (all of them), with the reason we give.
BIP350_INVALID = [
    (
        "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
        TESTNET,
        "neither base58check nor bech32 with hrp 'tb'",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
        BTC,
        "bech32 used for witness v1+ (needs bech32m)",
    ),
    (
        "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
        TESTNET,
        "bech32 used for witness v1+ (needs bech32m)",
    ),
    (
        "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
        BTC,
        "bech32 used for witness v1+ (needs bech32m)",
    ),
    (
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
        BTC,
        "bech32m used for witness v0 (needs bech32)",
    ),
    (
        "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
        TESTNET,
        "bech32m used for witness v0 (needs bech32)",
    ),
    (
        "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
        BTC,
        "character 'o' not in the bech32 alphabet",
    ),
    (
        "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
        BTC,
        "witness version 17 above 16",
    ),
    ("bc1pw5dgrnzv", BTC, "wrong witness program length"),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
        BTC,
        "wrong witness program length",
    ),
    ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", BTC, "wrong witness program length"),
    (
        "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
        TESTNET,
        "mixed-case bech32",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
        BTC,
        "bad padding in witness program",
    ),
    (
        "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
        TESTNET,
        "bad padding in witness program",
    ),
    ("bc1gmk9yu", BTC, "no witness version"),
]

# BIP-173 "invalid segwit addresses" (all of them), with the reason we give.
BIP173_INVALID = [
    (
        "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
        TESTNET,
        "neither base58check nor bech32 with hrp 'tb'",
    ),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", BTC, "bad bech32 checksum"),
    ("BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", BTC, "witness version 17 above 16"),
    ("bc1rw5uspcuh", BTC, "wrong witness program length"),
    (
        "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
        BTC,
        "wrong witness program length",
    ),
    ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", BTC, "wrong witness program length"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
        TESTNET,
        "mixed-case bech32",
    ),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", BTC, "bad padding in witness program"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
        TESTNET,
        "bad padding in witness program",
    ),
    ("bc1gmk9yu", BTC, "no witness version"),
]

# BIP-173 valid v1+ addresses that BIP-350 made invalid: they carry a bech32 checksum.
BIP173_SUPERSEDED = [
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
        BTC,
        "bech32 used for witness v1+ (needs bech32m)",
    ),
    ("BC1SW50QA3JX3S", BTC, "bech32 used for witness v1+ (needs bech32m)"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", BTC, "bech32 used for witness v1+ (needs bech32m)"),
]

OTHER_INVALID = [
    # base58check: flipped checksum characters, a doubled leading '1', wrong payloads
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", BTC, "bad base58check checksum"),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", BTC, "bad base58check checksum"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DiVfNa", BTC, "bad base58check checksum"),
    ("11A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BTC, "bad base58check checksum"),
    ("1QXEx2ZQ9mEdvMSaVKHznFv6iZq2LQbDz8", BTC, "base58check payload of 22 bytes, not 21"),
    ("LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", BTC, "unknown version byte 0x30"),  # Litecoin
    ("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", BTC, "unknown version byte 0x41"),  # Tron
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", BTC, "neither base58check nor bech32 with hrp 'bc'"),
    ("1A1zP1eP5QGefi2D MPTfTL5SLmv7DivfNa", BTC, "neither base58check nor bech32 with hrp 'bc'"),
    ("1A1zP1eP5QGe", BTC, "neither base58check nor bech32 with hrp 'bc'"),
    # bech32 framing
    ("bc1qw508", BTC, "bech32 checksum too short"),
    ("bc1" + "q" * 88, BTC, "bech32 longer than 90 characters"),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 ", BTC, "whitespace around address"),
    # Ethereum
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", ETH, "EIP-55 checksum mismatch"),
    ("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ETH, "EIP-55 checksum mismatch"),
    ("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9adb", ETH, "EIP-55 checksum mismatch"),
    ("0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ETH, "not 0x followed by 40 hex digits"),
    ("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ETH, "not 0x followed by 40 hex digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", ETH, "not 0x followed by 40 hex digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0", ETH, "not 0x followed by 40 hex digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", ETH, "not 0x followed by 40 hex digits"),
    # around the address, for any chain
    ("", ETH, "empty address"),
    (" 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ETH, "whitespace around address"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n", ETH, "whitespace around address"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\u00a0", BTC, "whitespace around address"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeд", ETH, "non-ASCII character in address"),
    # KELVIN SIGN lowercases to 'k': an uppercase bech32 with it must not pass as the address
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7\u212aV8F3T4", BTC, "non-ASCII character in address"),
]

# Valid addresses, but on another chain than the one stated.
ON_ANOTHER_CHAIN = [
    ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", BTC, "wrong network (testnet address on bitcoin)"),
    ("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", BTC, "wrong network (testnet address on bitcoin)"),
    (
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        TESTNET,
        "wrong network (mainnet address on bitcoin-testnet)",
    ),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        BTC,
        "wrong network (testnet address on bitcoin)",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        TESTNET,
        "wrong network (mainnet address on bitcoin-testnet)",
    ),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", ETH, "not 0x followed by 40 hex digits"),
    (
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        BTC,
        "neither base58check nor bech32 with hrp 'bc'",
    ),
]

INVALID_EVERYWHERE = BIP350_INVALID + BIP173_INVALID + BIP173_SUPERSEDED + OTHER_INVALID

# BIP-173 and BIP-350 strings that are not valid bech32 (resp. bech32m) at all.
NOT_BECH32 = [
    "\x201nwldj5",
    "\x7f1axkwrx",
    "\x801eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",
    "1pzry9x0s0muk",
    "x1b4n0q5v",
    "li1dgmt3",
    "de1lg7wt\xff",
    "A1G7SGD8",
    "10a06t8",
    "1qzzfhee",
    "\x201xj0phk",
    "\x7f1g6xzxy",
    "\x801vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]


@pytest.mark.parametrize(("text", "chain", "canonical"), VALID)
def test_a_valid_spelling_parses_to_its_canonical_form(
    text: str, chain: Chain, canonical: str
) -> None:
    assert parse_address(text, chain) == Address(chain, canonical)


@pytest.mark.parametrize(("text", "chain", "canonical"), VALID)
def test_the_chain_of_a_valid_spelling_is_inferred_when_none_is_given(
    text: str, chain: Chain, canonical: str
) -> None:
    assert parse_address(text) == Address(chain, canonical)


@pytest.mark.parametrize(("text", "chain", "reason"), INVALID_EVERYWHERE + ON_ANOTHER_CHAIN)
def test_an_invalid_spelling_is_refused_with_its_reason(
    text: str, chain: Chain, reason: str
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, chain)
    assert refused.value.reason == reason
    assert refused.value.address == text


@pytest.mark.parametrize(("text", "chain", "reason"), INVALID_EVERYWHERE)
def test_an_invalid_spelling_is_refused_without_a_chain_too(
    text: str, chain: Chain, reason: str
) -> None:
    with pytest.raises(AddressError):
        parse_address(text)


@pytest.mark.parametrize(("text", "chain", "reason"), ON_ANOTHER_CHAIN)
def test_an_address_refused_on_the_stated_chain_is_inferred_on_its_own(
    text: str, chain: Chain, reason: str
) -> None:
    assert parse_address(text).chain is not chain


@pytest.mark.parametrize("text", NOT_BECH32)
@pytest.mark.parametrize("chain", [BTC, TESTNET, ETH, None])
def test_strings_the_bips_call_invalid_bech32_are_refused_everywhere(
    text: str, chain: Chain | None
) -> None:
    with pytest.raises(AddressError):
        parse_address(text, chain)


def test_the_bitcoin_rules_refuse_a_homoglyph_even_when_called_directly() -> None:
    kelvin = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7\u212aV8F3T4"
    with pytest.raises(AddressError, match="non-ASCII character in address"):
        bitcoin.MAINNET.canonical(kelvin)


def test_two_spellings_of_one_ethereum_address_are_one_address() -> None:
    spellings = {
        parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
        parse_address("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"),
    }
    assert spellings == {Address(ETH, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")}


def test_an_uppercase_bech32_address_is_the_lowercase_one() -> None:
    upper = parse_address("BC1P0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQZK5JJ0")
    lower = parse_address("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
    assert upper == lower


def test_base58_is_case_sensitive_so_another_case_is_refused_not_folded() -> None:
    with pytest.raises(AddressError, match="bad base58check checksum"):
        parse_address("1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BTC)


def test_the_chain_may_be_named_by_its_id_string() -> None:
    assert parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bitcoin").chain is BTC
    assert parse_address("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "bitcoin-testnet").chain is TESTNET


@pytest.mark.parametrize("chain", ["dogecoin", "Bitcoin", "BITCOIN", " bitcoin", ""])
def test_an_unknown_chain_id_is_refused_by_name(chain: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", chain)
    assert refused.value.reason == f"unknown chain {chain!r}"


@pytest.mark.parametrize(
    "text",
    [
        "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq",  # Tron
        "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb",  # Litecoin
        "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq",  # Bitcoin Cash
        "hello",
    ],
)
def test_a_spelling_no_chain_recognises_is_not_an_address_on_any_supported_chain(
    text: str,
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text)
    assert refused.value.reason == "not an address on any supported chain"


def test_without_a_chain_the_one_chain_that_recognises_a_spelling_gives_its_reason() -> None:
    with pytest.raises(AddressError) as refused:
        parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
    assert refused.value.reason == "bad base58check checksum"


def _accept_anything(text: str) -> str:
    return text


def _refuse_everything(text: str) -> str:
    raise AddressError(text, "no")


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
    with pytest.raises(AddressError, match="not an address on any supported chain"):
        _infer("abc", rules[:1] * 2)


def test_every_chain_lists_the_formats_it_accepts() -> None:
    formats = chain_formats()
    assert set(formats) == set(Chain)
    assert all(formats[chain] and all(formats[chain]) for chain in Chain)


def test_an_address_is_frozen() -> None:
    address = parse_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    with pytest.raises(FrozenInstanceError):
        address.value = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"  # type: ignore[misc]


# Real data: the OFAC SDN list's Bitcoin and Ethereum addresses.

# XBT.txt holds one Tron address (OFAC lists it under XBT); it is on no chain we support.
XBT_NOT_BITCOIN = {"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"}


def _ofac_lines(name: str) -> list[str]:
    return (OFAC / name).read_text(encoding="ascii").splitlines()


def test_every_ofac_bitcoin_address_is_inferred_as_bitcoin() -> None:
    lines = _ofac_lines("XBT.txt")
    addresses = {parse_address(line) for line in lines if line not in XBT_NOT_BITCOIN}
    assert {address.chain for address in addresses} == {BTC}
    assert len(lines) == 435
    assert len(addresses) == 434
    for line in XBT_NOT_BITCOIN:
        with pytest.raises(AddressError, match="not an address on any supported chain"):
            parse_address(line)


def test_every_ofac_ethereum_address_is_inferred_as_ethereum() -> None:
    lines = _ofac_lines("ETH.txt")
    addresses = {parse_address(line) for line in lines}
    assert {address.chain for address in addresses} == {ETH}
    assert all(parse_address(line).value == line.lower() for line in lines)
    assert len(lines) == 152
    assert len(addresses) == 152


# Properties.

hashes = st.binary(min_size=20, max_size=20)
programs = st.sampled_from([20, 32]).flatmap(lambda size: st.binary(min_size=size, max_size=size))
later_programs = st.binary(min_size=2, max_size=40)

_BECH32M_CONST = 0x2BC830A3


def _bech32_encode(hrp: str, version: int, program: bytes) -> str:
    """BIP-173 encoding, by the `bech32` package."""
    text = bech32.encode(hrp, version, program)
    assert text is not None
    return text


def _bech32m_encode(hrp: str, version: int, program: bytes) -> str:
    """BIP-350 encoding (the installed `bech32` package predates it)."""
    five_bit = bech32.convertbits(program, 8, 5)
    assert five_bit is not None
    values = [version, *five_bit]
    polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values + [0] * 6)
    checksum = [(polymod ^ _BECH32M_CONST) >> 5 * (5 - i) & 31 for i in range(6)]
    return hrp + "1" + "".join(bech32.CHARSET[value] for value in values + checksum)


def _eip55(address: bytes) -> str:
    """EIP-55: uppercase a hex letter where keccak256(lowercase hex)'s nibble is 8 or more."""
    digits = address.hex()
    nibbles = keccak.new(data=digits.encode("ascii"), digest_bits=256).hexdigest()
    return "0x" + "".join(
        digit.upper() if int(nibble, 16) >= 8 else digit
        for digit, nibble in zip(digits, nibbles[:40], strict=True)
    )


@pytest.mark.parametrize("text", EIP55_VALID[4:])
def test_the_eip55_oracle_of_these_tests_reproduces_the_eip_examples(text: str) -> None:
    assert _eip55(bytes.fromhex(text[2:])) == text


@given(hashes)
def test_base58check_hashes_round_trip_unchanged(digest: bytes) -> None:
    for version, chain in [(0x00, BTC), (0x05, BTC), (0x6F, TESTNET), (0xC4, TESTNET)]:
        text = base58.b58encode_check(bytes([version]) + digest).decode("ascii")
        assert parse_address(text) == Address(chain, text)
        assert parse_address(text, chain) == Address(chain, text)


@given(programs)
def test_witness_v0_programs_round_trip_to_lowercase_bech32(program: bytes) -> None:
    for hrp, chain in [("bc", BTC), ("tb", TESTNET)]:
        text = _bech32_encode(hrp, 0, program)
        assert parse_address(text) == Address(chain, text)
        assert parse_address(text.upper(), chain) == Address(chain, text)


@given(later_programs, st.integers(min_value=1, max_value=16))
def test_witness_v1_and_later_programs_round_trip_as_bech32m(program: bytes, version: int) -> None:
    for hrp, chain in [("bc", BTC), ("tb", TESTNET)]:
        text = _bech32m_encode(hrp, version, program)
        assert parse_address(text) == Address(chain, text)
        assert parse_address(text.upper(), chain) == Address(chain, text)


@given(hashes)
def test_witness_v1_in_plain_bech32_is_refused(program: bytes) -> None:
    text = _bech32_encode("bc", 1, program)
    with pytest.raises(AddressError, match=r"bech32 used for witness v1\+ \(needs bech32m\)"):
        parse_address(text)


@given(hashes)
def test_three_spellings_of_one_ethereum_address_are_one_address(address: bytes) -> None:
    lower = "0x" + address.hex()
    expected = Address(ETH, lower)
    assert parse_address(_eip55(address)) == expected
    assert parse_address(lower) == expected
    assert parse_address("0x" + address.hex().upper(), ETH) == expected


_BASE58_ALPHABET = base58.BITCOIN_ALPHABET.decode("ascii")
_HEX_ALPHABET = "0123456789abcdefABCDEF"


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str]:
    """A valid spelling, its chain, and the alphabet a typo in it would come from."""
    digest = draw(hashes)
    kind = draw(st.sampled_from(["p2pkh", "p2sh", "v0", "v1", "eip55", "lower", "upper"]))
    if kind in ("p2pkh", "p2sh"):
        version = 0x00 if kind == "p2pkh" else 0x05
        text = base58.b58encode_check(bytes([version]) + digest).decode("ascii")
        return text, BTC, _BASE58_ALPHABET
    if kind in ("v0", "v1"):
        encode = _bech32_encode if kind == "v0" else _bech32m_encode
        return encode("bc", int(kind[1]), digest), BTC, bech32.CHARSET
    text = {
        "eip55": _eip55(digest),
        "lower": "0x" + digest.hex(),
        "upper": "0x" + digest.hex().upper(),
    }[kind]
    return text, ETH, _HEX_ALPHABET


@given(spellings(), st.data())
def test_a_one_character_typo_is_never_silently_the_same_address(
    spelling: tuple[str, Chain, str], data: st.DataObject
) -> None:
    text, chain, alphabet = spelling
    original = parse_address(text, chain)
    at = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    # a different character; for hex, not merely the same digit in the other case
    typo = data.draw(
        st.sampled_from(alphabet).filter(lambda char: char.lower() != text[at].lower())
        if chain is ETH
        else st.sampled_from(alphabet).filter(lambda char: char != text[at])
    )
    mistyped = text[:at] + typo + text[at + 1 :]
    for maybe_chain in (chain, None):
        try:
            parsed = parse_address(mistyped, maybe_chain)
        except AddressError:
            continue
        assert parsed != original
