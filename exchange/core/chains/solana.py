"""Solana address rules: the base58 of a 32-byte account key (an Ed25519 public key or a
program-derived address).

There is no checksum: any 32 bytes are an account, so a mistyped address that still decodes
to 32 bytes is another valid address; only the length is checked. Base58 gives each byte
string one spelling, so the canonical form is the spelling itself.
"""

import re

from exchange.core.chains import codecs
from exchange.errors import AddressError

CHAIN_ID = "solana"
FORMATS = ("base58 of a 32-byte account key (32 to 44 characters)",)
KEY_BYTES = 32

_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}").fullmatch


def _shapes() -> frozenset[tuple[int, int]]:
    """(leading '1's, length) of every base58 spelling of 32 bytes: k zero bytes spell as k
    '1's, the rest as the digits of a number whose first byte is not zero."""
    shapes = {(KEY_BYTES, KEY_BYTES)}
    for zeros in range(KEY_BYTES):
        rest = KEY_BYTES - zeros
        smallest, largest = 256 ** (rest - 1), 256**rest - 1
        for length in range(_digits(smallest), _digits(largest) + 1):
            shapes.add((zeros, zeros + length))
    return frozenset(shapes)


def _digits(number: int) -> int:
    count = 0
    while number:
        number //= 58
        count += 1
    return count


_SHAPES = _shapes()


def claims(text: str) -> bool:
    """Whether `text` is spelled like a Solana address at first sight (for inference): base58
    of a length 32 bytes can take, given its leading '1's, and not in one case only.

    A one-case spelling is bech32's shape: `btg1qqqq…` is a Bitcoin Gold address and also the
    base58 of 32 bytes. A Solana key is random base58, in one case once in 10^10 keys; stated
    as Solana, such a key is still read.
    """
    if _BASE58(text) is None or text.islower() or text.isupper():
        return False
    return (len(text) - len(text.lstrip("1")), len(text)) in _SHAPES


def canonical(text: str) -> str:
    """Return `text` if it is the base58 spelling of 32 bytes.

    Raises AddressError: not 32 to 44 base58 characters, or the base58 of another length.
    """
    if _BASE58(text) is None:
        raise AddressError(text, "not a Solana address (32 to 44 base58 characters)")
    size = len(codecs.base58(text))
    if size != KEY_BYTES:
        raise AddressError(text, f"base58 of {size} bytes, not a {KEY_BYTES}-byte key")
    return text
