"""XRP Ledger address rules: classic addresses and X-addresses, in the XRP base58 alphabet.

- Classic address (r…): base58check of version 0x00 and the 20-byte account ID; canonical as
  spelled.
- X-address (X…; T… on testnet, refused), as xrpl.js's ripple-address-codec defines it:
  base58check of the prefix 0x05 0x44, the account ID, a flag byte (0: no tag; 1: a 32-bit
  destination tag) and eight tag bytes, little-endian, of which the last four must be zero.
  Anything else (64-bit tags, stray bytes) is refused, so each X-address has one meaning.

An X-address without a tag is the classic address respelled, and canonicalises to it: both
spellings are one flag. An X-address with a tag names one destination inside an account,
typically one customer of an exchange's shared account, so it is kept as it is (an
X-address has one spelling): reducing it to the account would flag every customer of that
exchange. Tag 0 is a tag, distinct from none.
"""

import re

from exchange.core.chains import codecs
from exchange.errors import AddressError

CHAIN_ID = "xrp"
FORMATS = (
    "classic address, XRP-alphabet base58check (r…)",
    "X-address without tag (X…), canonicalised to the classic address",
    "X-address with destination tag (X…), kept as it is",
)

_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,47}").fullmatch  # the XRP alphabet's letters
_X_MAINNET, _X_TESTNET = b"\x05\x44", b"\x04\x93"


def claims(text: str) -> bool:
    """Whether `text` is spelled like an XRP address at first sight (for inference)."""
    first = text[:1]
    return (first == "r" and 25 <= len(text) <= 35) or (first in "XT" and len(text) == 47)


def canonical(text: str) -> str:
    """Return the canonical spelling of XRP address `text`: a classic address, or an
    X-address that carries a destination tag.

    Raises AddressError: not XRP-alphabet base58check, a bad checksum, a payload that is neither
    a classic account nor an X-address, a testnet X-address, or an unsupported tag encoding.
    """
    if _BASE58(text) is None:
        raise AddressError(text, "not an XRP address (base58check in the XRP alphabet)")
    payload = codecs.base58check(text, codecs.RIPPLE_ALPHABET)
    if len(payload) == 21 and payload[0] == 0:
        return text
    if len(payload) != 31 or payload[:2] not in (_X_MAINNET, _X_TESTNET):
        raise AddressError(text, "neither a classic address (r…) nor an X-address (X…)")
    if payload[:2] == _X_TESTNET:
        raise AddressError(text, f"wrong network (testnet X-address on {CHAIN_ID})")
    flag, tag = payload[22], payload[23:]
    if flag > 1 or tag[4:] != b"\0\0\0\0" or (flag == 0 and tag != bytes(8)):
        raise AddressError(text, "X-address tag is not absent or 32 bits")
    if flag == 1:
        return text
    return codecs.base58check_encode(b"\x00" + payload[2:22], codecs.RIPPLE_ALPHABET)
