"""Bitcoin-style altcoins and Tron: versions, inference between look-alikes, round trips."""

import base58
import bech32
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain, parse_address
from exchange.errors import AddressError

# (chain, base58check version, whether a bare spelling infers the chain), per address kind.
VERSIONS = [
    (Chain.LITECOIN, b"\x30", True),  # L…
    (Chain.LITECOIN, b"\x32", True),  # M…
    (Chain.LITECOIN, b"\x05", False),  # 3…, Bitcoin's too: ambiguous
    (Chain.DOGECOIN, b"\x1e", False),  # D…, Verge's too: ambiguous
    (Chain.DOGECOIN, b"\x16", True),  # 9… or A…
    (Chain.DASH, b"\x4c", True),  # X…
    (Chain.DASH, b"\x10", True),  # 7…
    (Chain.ZCASH, b"\x1c\xb8", True),  # t1…
    (Chain.ZCASH, b"\x1c\xbd", True),  # t3…
    (Chain.BITCOIN_GOLD, b"\x26", True),  # G…
    (Chain.BITCOIN_GOLD, b"\x17", True),  # A…
    (Chain.VERGE, b"\x1e", False),  # D…
    (Chain.VERGE, b"\x21", True),  # E…
    (Chain.BITCOIN_SV, b"\x00", False),  # 1…, Bitcoin's
    (Chain.BITCOIN_SV, b"\x05", False),  # 3…, Bitcoin's
    (Chain.TRON, b"\x41", True),  # T…
]
SEGWIT = [(Chain.LITECOIN, "ltc"), (Chain.BITCOIN_GOLD, "btg"), (Chain.VERGE, "vg")]

# Real addresses (the OFAC list) and what a bare spelling infers.
EXAMPLES = [
    ("LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", Chain.LITECOIN, Chain.LITECOIN),
    ("M8yFL6SFC6TreATegTyuSYkDfDRbisdpT3", Chain.LITECOIN, Chain.LITECOIN),
    ("XnPFsRWTaSgiVauosEwQ6dEitGYXgwznz2", Chain.DASH, Chain.DASH),
    ("t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL", Chain.ZCASH, Chain.ZCASH),
    ("GPwg61XoHqQPNmAucFACuQ5H9sGCDv9TpS", Chain.BITCOIN_GOLD, Chain.BITCOIN_GOLD),
    ("TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", Chain.TRON, Chain.TRON),
    ("12sjrrhoFEsedNRhtgwvvRqjFTh8fZTDX9", Chain.BITCOIN_SV, Chain.BITCOIN),
    ("DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z", Chain.VERGE, None),
]

INVALID = [
    (
        "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb",
        Chain.DOGECOIN,
        "version 0x30 is not a dogecoin version",
    ),
    (
        "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre",
        Chain.LITECOIN,
        "version 0x41 is not a litecoin version",
    ),
    ("XnPFsRWTaSgiVauosEwQ6dEitGYXgwznz3", Chain.DASH, "bad base58check checksum"),
    (
        "t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL",
        Chain.BITCOIN,
        "base58check payload of 22 bytes, not 21",
    ),
    ("LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", Chain.ZCASH, "base58check payload of 21 bytes, not 22"),
    (
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        Chain.LITECOIN,
        "neither base58check nor bech32 with hrp 'ltc'",
    ),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Chain.TRON, "not base58check"),
    (
        "zs1z7rejlpsa98s2rrrfkwmaxu53e4ue0ulcrw0h4x5g8jl04tak0d3mm47vdtahatqrlkngh9sly",
        Chain.ZCASH,
        "not base58check",
    ),
]


def base58check(version: bytes, digest: bytes) -> str:
    return base58.b58encode_check(version + digest).decode("ascii")


@pytest.mark.parametrize(("text", "chain", "inferred"), EXAMPLES)
def test_a_real_address_is_valid_on_its_chain_and_inferred_as_documented(
    text: str, chain: Chain, inferred: Chain | None
) -> None:
    assert parse_address(text, chain) == Address(chain, text)
    if inferred is None:
        with pytest.raises(AddressError, match="ambiguous address: state the chain"):
            parse_address(text)
    else:
        assert parse_address(text).chain is inferred


@pytest.mark.parametrize(("text", "chain", "reason"), INVALID)
def test_an_invalid_spelling_is_refused_with_its_reason(
    text: str, chain: Chain, reason: str
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, chain)
    assert refused.value.reason == reason


def test_a_bare_dogecoin_p2pkh_address_names_both_chains_that_spell_it_so() -> None:
    with pytest.raises(AddressError) as refused:
        parse_address("DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z")
    assert refused.value.reason == "ambiguous address: state the chain (one of: dogecoin, verge)"


def test_a_bitcoin_sv_address_is_never_inferred_but_read_when_stated() -> None:
    p2sh = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
    assert parse_address(p2sh, Chain.BITCOIN_SV) == Address(Chain.BITCOIN_SV, p2sh)
    with pytest.raises(AddressError) as refused:
        parse_address(p2sh)
    assert "bitcoin-sv" not in refused.value.reason


hashes = st.binary(min_size=20, max_size=20)


@given(hashes, st.sampled_from(VERSIONS))
def test_random_hashes_round_trip_on_every_version(
    digest: bytes, kind: tuple[Chain, bytes, bool]
) -> None:
    chain, version, inferable = kind
    text = base58check(version, digest)
    assert parse_address(text, chain) == Address(chain, text)
    if inferable:
        assert parse_address(text) == Address(chain, text)
    elif chain is Chain.BITCOIN_SV and version == b"\x00":
        assert parse_address(text).chain is Chain.BITCOIN  # its spellings are Bitcoin's
    else:
        with pytest.raises(AddressError, match="ambiguous address: state the chain"):
            parse_address(text)


@given(st.sampled_from([20, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_segwit_programs_round_trip_lowercase_on_chains_with_segwit(program: bytes) -> None:
    for chain, hrp in SEGWIT:
        text = bech32.encode(hrp, 0, program)
        assert text is not None
        assert parse_address(text.upper(), chain) == Address(chain, text)
        assert parse_address(text) == Address(chain, text)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid altcoin spelling, its chain, the typo alphabet, and whether its case folds."""
    digest = draw(hashes)
    if draw(st.booleans()):
        chain, hrp = draw(st.sampled_from(SEGWIT))
        text = bech32.encode(hrp, 0, digest)
        assert text is not None
        return text, chain, bech32.CHARSET, True
    chain, version, _ = draw(st.sampled_from(VERSIONS))
    return base58check(version, digest), chain, base58.BITCOIN_ALPHABET.decode("ascii"), False
