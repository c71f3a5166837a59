"""Bitcoin: BIP-173 and BIP-350 vectors, base58check, wrong networks, and round-trip properties."""

import base58
import bech32
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain, parse_address
from exchange.core.chains import bitcoin
from exchange.errors import AddressError

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


BASE58_VALID = [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BTC),  # P2PKH, the genesis block's
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", BTC),  # P2SH
    ("1111111111111111111114oLvT2", BTC),  # P2PKH of the all-zero hash: leading '1's kept
    ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", TESTNET),  # P2PKH
    ("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", TESTNET),  # P2SH
]


VALID = [
    *((text, chain, text.lower()) for text, chain in BIP350_VALID),
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
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", BTC, "neither base58check nor bech32 with hrp 'bc'"),
    ("1A1zP1eP5QGefi2D MPTfTL5SLmv7DivfNa", BTC, "neither base58check nor bech32 with hrp 'bc'"),
    ("1A1zP1eP5QGe", BTC, "neither base58check nor bech32 with hrp 'bc'"),
    # bech32 framing
    ("bc1qw508", BTC, "bech32 checksum too short"),
    ("bc1" + "q" * 88, BTC, "bech32 longer than 90 characters"),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 ", BTC, "whitespace around address"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\u00a0", BTC, "whitespace around address"),
    # KELVIN SIGN lowercases to 'k': an uppercase bech32 with it must not pass as the address
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7\u212aV8F3T4", BTC, "non-ASCII character in address"),
]

# Valid addresses, but on another network or chain than the one stated.
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
    ("LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", BTC, "version 0x30 is not a bitcoin version"),
    ("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", BTC, "version 0x41 is not a bitcoin version"),
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


@pytest.mark.parametrize(
    ("text", "chain", "canonical"),
    [(text, chain, canonical) for text, chain, canonical in VALID if not text.startswith("3")],
)
def test_the_chain_of_a_valid_spelling_is_inferred_when_none_is_given(
    text: str, chain: Chain, canonical: str
) -> None:
    assert parse_address(text) == Address(chain, canonical)


def test_a_bare_p2sh_address_is_also_litecoins_so_it_needs_the_chain() -> None:
    with pytest.raises(AddressError) as refused:
        parse_address("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    assert refused.value.reason == "ambiguous address: state the chain (one of: bitcoin, litecoin)"


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
@pytest.mark.parametrize("chain", [BTC, TESTNET, Chain.LITECOIN, ETH, None])
def test_strings_the_bips_call_invalid_bech32_are_refused_everywhere(
    text: str, chain: Chain | None
) -> None:
    with pytest.raises(AddressError):
        parse_address(text, chain)


def test_the_bitcoin_rules_refuse_a_homoglyph_even_when_called_directly() -> None:
    kelvin = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7\u212aV8F3T4"
    with pytest.raises(AddressError, match="non-ASCII character in address"):
        bitcoin.MAINNET.canonical(kelvin)


def test_an_uppercase_bech32_address_is_the_lowercase_one() -> None:
    upper = parse_address("BC1P0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQZK5JJ0")
    lower = parse_address("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
    assert upper == lower


def test_base58_is_case_sensitive_so_another_case_is_refused_not_folded() -> None:
    with pytest.raises(AddressError, match="bad base58check checksum"):
        parse_address("1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BTC)


# Properties, with the `base58` and `bech32` packages as independent encoders.

hashes = st.binary(min_size=20, max_size=20)
programs = st.sampled_from([20, 32]).flatmap(lambda size: st.binary(min_size=size, max_size=size))
later_programs = st.binary(min_size=2, max_size=40)

_BECH32M_CONST = 0x2BC830A3
BASE58_ALPHABET = base58.BITCOIN_ALPHABET.decode("ascii")


def bech32_encode(hrp: str, version: int, program: bytes) -> str:
    """BIP-173 encoding, by the `bech32` package."""
    text = bech32.encode(hrp, version, program)
    assert text is not None
    return text


def bech32m_encode(hrp: str, version: int, program: bytes) -> str:
    """BIP-350 encoding (the installed `bech32` package predates it)."""
    five_bit = bech32.convertbits(program, 8, 5)
    assert five_bit is not None
    values = [version, *five_bit]
    polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values + [0] * 6)
    checksum = [(polymod ^ _BECH32M_CONST) >> 5 * (5 - i) & 31 for i in range(6)]
    return hrp + "1" + "".join(bech32.CHARSET[value] for value in values + checksum)


def base58check_encode(version: bytes, payload: bytes) -> str:
    return base58.b58encode_check(version + payload).decode("ascii")


@given(hashes)
def test_base58check_hashes_round_trip_unchanged(digest: bytes) -> None:
    for version, chain in [(0x00, BTC), (0x6F, TESTNET), (0xC4, TESTNET)]:
        text = base58check_encode(bytes([version]), digest)
        assert parse_address(text) == Address(chain, text)
        assert parse_address(text, chain) == Address(chain, text)
    p2sh = base58check_encode(b"\x05", digest)
    assert parse_address(p2sh, BTC) == Address(BTC, p2sh)


@given(programs)
def test_witness_v0_programs_round_trip_to_lowercase_bech32(program: bytes) -> None:
    for hrp, chain in [("bc", BTC), ("tb", TESTNET)]:
        text = bech32_encode(hrp, 0, program)
        assert parse_address(text) == Address(chain, text)
        assert parse_address(text.upper(), chain) == Address(chain, text)


@given(later_programs, st.integers(min_value=1, max_value=16))
def test_witness_v1_and_later_programs_round_trip_as_bech32m(program: bytes, version: int) -> None:
    for hrp, chain in [("bc", BTC), ("tb", TESTNET)]:
        text = bech32m_encode(hrp, version, program)
        assert parse_address(text) == Address(chain, text)
        assert parse_address(text.upper(), chain) == Address(chain, text)


@given(hashes)
def test_witness_v1_in_plain_bech32_is_refused(program: bytes) -> None:
    text = bech32_encode("bc", 1, program)
    with pytest.raises(AddressError, match=r"bech32 used for witness v1\+ \(needs bech32m\)"):
        parse_address(text)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid Bitcoin spelling, its chain, the alphabet of a typo in it, and whether its
    case folds (bech32)."""
    digest = draw(hashes)
    kind = draw(st.sampled_from(["p2pkh", "p2sh", "testnet", "v0", "v1", "v0-upper"]))
    if kind in ("p2pkh", "p2sh", "testnet"):
        version = {"p2pkh": b"\x00", "p2sh": b"\x05", "testnet": b"\x6f"}[kind]
        chain = TESTNET if kind == "testnet" else BTC
        return base58check_encode(version, digest), chain, BASE58_ALPHABET, False
    text = bech32m_encode("bc", 1, digest) if kind == "v1" else bech32_encode("bc", 0, digest)
    return (text.upper() if kind == "v0-upper" else text), BTC, bech32.CHARSET, True
