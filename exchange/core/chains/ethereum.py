"""EVM address rules (Ethereum and the chains that share its accounts): `0x` and 40 hex digits,
mixed case only under an EIP-55 checksum.

All-lowercase and all-uppercase hex carry no checksum and are accepted as they are; any other
mix of cases must be the EIP-55 spelling (https://eips.ethereum.org/EIPS/eip-55). The
canonical form is `0x` followed by lowercase hex. `0X` is refused, and so is any whitespace.
The rules are the same on every EVM chain; which chains those are is `exchange.core.addresses`'
business.
"""

import re

from exchange.core.chains import codecs
from exchange.errors import AddressError

FORMATS = (
    "0x followed by 40 hex digits, all lowercase or all uppercase",
    "0x followed by 40 hex digits in EIP-55 mixed-case checksum spelling",
)

_CANONICAL = re.compile(r"0x[0-9a-f]{40}").fullmatch
_HEX = re.compile(r"0x[0-9a-fA-F]{40}").fullmatch


def claims(text: str) -> bool:
    """Whether `text` is spelled like an Ethereum address at first sight (for inference)."""
    return text[:2] in ("0x", "0X")


def canonical(text: str) -> str:
    """Return the canonical spelling of Ethereum address `text`.

    Raises AddressError: not `0x` and 40 hex digits, or a mixed-case spelling that fails EIP-55.
    """
    if _CANONICAL(text) is not None:
        return text
    if _HEX(text) is None:
        raise AddressError(text, "not 0x followed by 40 hex digits")
    digits = text[2:]
    lower = digits.lower()
    if digits != digits.upper() and digits != _eip55(lower):
        raise AddressError(text, "EIP-55 checksum mismatch")
    return "0x" + lower


def _eip55(lower: str) -> str:
    """The EIP-55 spelling of 40 lowercase hex digits: a letter is uppercase where the
    matching nibble of keccak256(lowercase hex as ASCII) is 8 or more."""
    nibbles = codecs.keccak256_hex(lower.encode("ascii"))
    return "".join(  # a list, not a generator: join is faster on one
        [
            digit.upper() if nibble >= "8" else digit
            for digit, nibble in zip(lower, nibbles, strict=False)
        ]
    )
