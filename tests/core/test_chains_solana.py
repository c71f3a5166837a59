"""Solana: well-known program addresses, lengths, and round trips of random keys."""

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain, parse_address
from exchange.core.chains import solana
from exchange.errors import AddressError

SOL = Chain.SOLANA

# Solana's documented program and mint addresses.
VALID = [
    "11111111111111111111111111111111",  # the System Program: 32 zero bytes
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # the SPL Token Program
    "So11111111111111111111111111111111111111112",  # the wrapped SOL mint
    "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",  # the Associated Token Account Program
]

INVALID = [
    ("1111111111111111111111111111111", "not a Solana address (32 to 44 base58 characters)"),
    ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5D", "base58 of 31 bytes, not a 32-byte key"),
    ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DAz", "base58 of 33 bytes, not a 32-byte key"),
    (
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5D0",
        "not a Solana address (32 to 44 base58 characters)",
    ),
    (
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "not a Solana address (32 to 44 base58 characters)",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_a_documented_address_is_valid_canonical_and_inferred(text: str) -> None:
    assert parse_address(text, SOL) == Address(SOL, text)
    assert parse_address(text) == Address(SOL, text)


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_an_invalid_spelling_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, SOL)
    assert refused.value.reason == reason


def test_a_one_case_key_is_read_when_stated_though_never_claimed() -> None:
    key = base58.b58encode(bytes(31) + b"\x39").decode("ascii")  # 31 '1's and a 'z'
    assert not solana.claims(key)
    assert parse_address(key, SOL) == Address(SOL, key)


keys = st.binary(min_size=32, max_size=32)


@given(keys)
def test_random_keys_round_trip_and_are_inferred_unless_in_one_case(key: bytes) -> None:
    text = base58.b58encode(key).decode("ascii")
    assert parse_address(text, SOL) == Address(SOL, text)
    if not (text.islower() or text.isupper()):
        assert parse_address(text) == Address(SOL, text)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid Solana spelling, its chain, the typo alphabet, and that its case matters."""
    text = base58.b58encode(draw(keys)).decode("ascii")
    return text, SOL, base58.BITCOIN_ALPHABET.decode("ascii"), False
