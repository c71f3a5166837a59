"""Bitcoin Cash address rules: CashAddr, and legacy base58check rewritten as CashAddr.

CashAddr (the Bitcoin Cash "cashaddr" specification 1.1, and the CashTokens upgrade of May
2023 for types 2 and 3): the prefix `bitcoincash:` (optional on input, always part of the
checksum), then base32 of a type byte and a hash, then a 40-bit BCH-code checksum. Input is
all lowercase or all uppercase (mixed case is refused); the canonical form is
`bitcoincash:` and lowercase.

- Types: P2PKH (0, 20-byte hash, q…) and P2SH (1, 20- or 32-byte hash, p…), and their
  token-aware twins (2 and 3, z… and r…) that lock to the same script. A token-aware
  spelling canonicalises to the plain one: both name one key, so they are one flag.
- Legacy base58check with Bitcoin's versions (1… P2PKH, 3… P2SH) names the same hash and is
  rewritten as CashAddr, so both spellings of one key are one flag too. A bare 1… or 3… is
  Bitcoin's first, so the legacy spelling is read as Bitcoin Cash only with the chain stated.

No maintained CashAddr codec fits the pure core (bip_utils pins pycryptodome below 4 and
brings eight more packages; `cashaddress` has had no release since 2019), so the checksum is
the specification's PolyMod, computed here with a 32-entry table instead of five branches
(same generator, same result) and started from the precomputed state after the prefix.
Decoding regroups 5-bit values into bytes with bech32's `convertbits` (`codecs.regroup`);
encoding, which rewrites every legacy spelling, regroups through one integer instead.
"""

import re

from exchange.core.chains import codecs
from exchange.errors import AddressError

CHAIN_ID = "bitcoin-cash"
PREFIX = "bitcoincash"
FORMATS = (
    "CashAddr P2PKH (bitcoincash:q…, prefix optional)",
    "CashAddr P2SH, 20- or 32-byte hash (bitcoincash:p…, prefix optional)",
    "token-aware CashAddr (z…, r…), canonicalised to q…/p…",
    "legacy base58check (1…, 3…), canonicalised to CashAddr; only with the chain stated",
)

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_INDEX = {char: value for value, char in enumerate(_CHARSET)}
_PAYLOAD = re.compile(f"[{_CHARSET}]{{34,112}}").fullmatch
_LEGACY = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{24,34}").fullmatch
_GENERATORS = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
_HASH_SIZES = (20, 24, 28, 32, 40, 48, 56, 64)  # by the type byte's three size bits
_TESTNETS = ("bchtest", "bchreg")


def _table() -> tuple[int, ...]:
    table = []
    for top in range(32):
        value = 0
        for bit, generator in enumerate(_GENERATORS):
            if (top >> bit) & 1:
                value ^= generator
        table.append(value)
    return tuple(table)


_STEP = _table()


def polymod(values: list[int], state: int = 1) -> int:
    """The CashAddr PolyMod of 5-bit `values` continued from `state` (1 to start), before its
    final `^ 1`: a valid address gives 1 over its prefix, separator and payload."""
    for value in values:
        state = ((state & 0x07FFFFFFFF) << 5) ^ value ^ _STEP[state >> 35]
    return state


def prefix_state(prefix: str) -> int:
    """The PolyMod state after `prefix` and the separator (the low five bits of each letter,
    then a zero)."""
    return polymod([ord(char) & 31 for char in prefix] + [0])


_MAINNET_STATE = prefix_state(PREFIX)


def claims(text: str) -> bool:
    """Whether `text` is spelled like a CashAddr at first sight (for inference); legacy
    spellings are Bitcoin's and never claimed."""
    if text[:12].lower() == PREFIX + ":":
        return True
    return len(text) in (42, 61) and text[0] in "qpzrQPZR"


def canonical(text: str) -> str:
    """Return the canonical CashAddr spelling `bitcoincash:…` of Bitcoin Cash address `text`.

    Raises AddressError: mixed case, another prefix or network, bad checksum, a type byte that
    does not match the hash or is not P2PKH/P2SH, or a legacy address of another version.
    """
    if not text.isascii():
        raise AddressError(text, "non-ASCII character in address")
    if text[:1] in ("1", "3") and _LEGACY(text) is not None:
        return _from_legacy(text)
    lower = text.lower()
    prefix, colon, payload = lower.rpartition(":")
    if _PAYLOAD(payload) is None:
        raise AddressError(text, "not CashAddr (bitcoincash:q… or p…) nor legacy base58check")
    if lower != text and text.upper() != text:
        raise AddressError(text, "mixed-case CashAddr")
    state = _MAINNET_STATE
    if colon and prefix != PREFIX:
        if prefix not in _TESTNETS:
            raise AddressError(text, f"CashAddr prefix '{prefix}' is not '{PREFIX}'")
        state = prefix_state(prefix)
    values = [_INDEX[char] for char in payload]
    if polymod(values, state) != 1:
        raise AddressError(text, "bad CashAddr checksum")
    if state != _MAINNET_STATE:
        raise AddressError(text, f"wrong network (testnet address on {CHAIN_ID})")
    data = codecs.regroup(values[:-8], 5, 8)
    if data is None:
        raise AddressError(text, "bad padding in CashAddr payload")
    version, size = data[0], len(data) - 1
    kind = version >> 3
    if version & 0x80 or _HASH_SIZES[version & 7] != size:
        raise AddressError(text, "CashAddr type byte does not match the hash length")
    if kind > 3 or (size != 20 and ((kind & 1) == 0 or size != 32)):
        raise AddressError(text, f"CashAddr type {kind} with a {size}-byte hash is not P2PKH/P2SH")
    if kind > 1:  # token-aware: the same locking script as the plain type
        return encode(kind & 1, bytes(data[1:]))
    return PREFIX + ":" + payload


def encode(kind: int, hash_: bytes) -> str:
    """The CashAddr `bitcoincash:…` of a type (0 P2PKH, 1 P2SH, 2 and 3 token-aware) and hash."""
    data = bytes([kind << 3 | _HASH_SIZES.index(len(hash_))]) + hash_
    groups = (len(data) * 8 + 4) // 5  # 5-bit groups, the last one padded with zero bits
    number = int.from_bytes(data, "big") << (groups * 5 - len(data) * 8)
    values = [(number >> shift) & 31 for shift in range(5 * groups - 5, -5, -5)]
    checksum = polymod([*values, 0, 0, 0, 0, 0, 0, 0, 0], _MAINNET_STATE) ^ 1
    values += [(checksum >> shift) & 31 for shift in range(35, -5, -5)]
    return PREFIX + ":" + "".join([_CHARSET[value] for value in values])


def _from_legacy(text: str) -> str:
    payload = codecs.base58check(text)
    if len(payload) != 21:
        raise AddressError(text, f"base58check payload of {len(payload)} bytes, not 21")
    version = payload[0]
    if version not in (0x00, 0x05):
        raise AddressError(text, f"version 0x{version:02x} is not a {CHAIN_ID} version")
    return encode(0 if version == 0x00 else 1, payload[1:])
