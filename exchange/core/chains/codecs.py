"""The codec libraries the chain rules stand on, each behind a function that raises AddressError.

- base58 and base58check: `based58`, bindings to the Rust `bs58` crate, with the Bitcoin and
  XRP alphabets; about ten times the pure-Python `base58` package (bench/addresses.py).
- Keccak-256, for EIP-55 and Monero's checksums: pycryptodome, well kept and with wheels
  everywhere (safe-pysha3 is faster per call but builds from C source on macOS and Windows).
- bech32 and bech32m: the BIP-173 reference implementation (`bech32`) for the polymod and the
  bit conversion; PyPI has no maintained faster one. It predates BIP-350, so callers compare
  the polymod with both constants themselves.

Swapping a library means changing this module only.
"""

import bech32
from based58 import Alphabet, b58decode, b58decode_check, b58encode, b58encode_check
from Crypto.Hash import keccak

from exchange.errors import AddressError

BITCOIN_ALPHABET = Alphabet.BITCOIN
RIPPLE_ALPHABET = Alphabet.RIPPLE

BECH32_CHARSET: str = bech32.CHARSET
BECH32_CONST = 1  # BIP-173
BECH32M_CONST = 0x2BC830A3  # BIP-350


def base58check(text: str, alphabet: Alphabet = BITCOIN_ALPHABET) -> bytes:
    """The payload of base58check `text`, its four checksum bytes removed.

    The caller has checked that `text` is ASCII in the alphabet. Raises AddressError "bad
    base58check checksum".
    """
    try:
        return b58decode_check(text.encode("ascii"), alphabet)
    except ValueError:
        raise AddressError(text, "bad base58check checksum") from None


def base58(text: str, alphabet: Alphabet = BITCOIN_ALPHABET) -> bytes:
    """The bytes of plain base58 `text` (each leading first-letter of the alphabet is a zero
    byte); the caller has checked that `text` is ASCII in the alphabet."""
    return b58decode(text.encode("ascii"), alphabet)


def base58_number(raw: bytes) -> int:
    """The number that base58 digits `raw` (ASCII bytes in the Bitcoin alphabet) spell."""
    return int.from_bytes(b58decode(raw), "big")


def base58_encode(data: bytes, alphabet: Alphabet = BITCOIN_ALPHABET) -> str:
    """The base58 spelling of `data` (each leading zero byte is the alphabet's first letter)."""
    return b58encode(data, alphabet).decode("ascii")


def base58check_encode(data: bytes, alphabet: Alphabet = BITCOIN_ALPHABET) -> str:
    """The base58check spelling of `data` (a version and a payload) with its checksum."""
    return b58encode_check(data, alphabet).decode("ascii")


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (the original Keccak padding that Ethereum and Monero use, not SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def keccak256_hex(data: bytes) -> str:
    """Keccak-256 of `data` as 64 lowercase hex digits."""
    return keccak.new(digest_bits=256, data=data).hexdigest()


def bech32_polymod(hrp: str, values: list[int]) -> int:
    """The BIP-173 polymod over `hrp` and the 5-bit `values` (data and checksum): 1 for a valid
    bech32 string, 0x2BC830A3 for a valid bech32m one."""
    result: int = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values)
    return result


def regroup(
    values: list[int] | bytes, from_bits: int, to_bits: int, *, pad: bool = False
) -> list[int] | None:
    """`values` of `from_bits` bits regrouped into `to_bits`. With `pad` the last group is
    filled with zero bits; without, None when the leftover bits are not zero padding shorter
    than `from_bits` (a decoder's check)."""
    result: list[int] | None = bech32.convertbits(values, from_bits, to_bits, pad)
    return result
