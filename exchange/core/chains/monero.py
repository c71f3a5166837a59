"""Monero address rules: standard addresses, subaddresses and integrated addresses (mainnet).

An address is the Monero base58 (below) of a varint tag naming network and kind, the public
spend and view keys (32 bytes each), for an integrated address an 8-byte payment ID, and a
checksum: the first 4 bytes of Keccak-256 over everything before it.

    kind         tag   bytes   characters   starts with
    standard      18      69           95   4
    integrated    19      77          106   4
    subaddress    42      69           95   8

Testnet (53, 54, 63) and stagenet (24, 25, 36) tags are refused as the wrong network.
Monero base58 is not Bitcoin's big-number base58: each 8-byte block becomes exactly 11
characters (a shorter last block 2 to 10), so every byte string has one spelling and the
canonical form is the spelling itself. The digits of each block are decoded by `based58`; the
block framing is the few lines here, since the maintained libraries that have it (bip_utils,
monero) are wallet libraries that decode four times slower and bring many packages.
An integrated address keeps its payment ID (see `exchange.core.addresses`). The keys are not
checked to be curve points, as Monero's wallet does: the checksum catches typing errors, and
a checksummed string that names no key was made on purpose, not mistyped.
"""

import re

from exchange.core.chains import codecs
from exchange.errors import AddressError

CHAIN_ID = "monero"
FORMATS = (
    "standard address (4…, 95 characters)",
    "subaddress (8…, 95 characters)",
    "integrated address with payment ID (4…, 106 characters)",
)

_ADDRESS = re.compile(r"[1-9A-HJ-NP-Za-km-z]{95}(?:[1-9A-HJ-NP-Za-km-z]{11})?").fullmatch
_BLOCK_CHARS = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # characters for a block of 0 to 8 bytes
_BLOCK_BYTES = {chars: size for size, chars in enumerate(_BLOCK_CHARS)}  # 0: no last block
_KEY_BYTES = {18: 64, 19: 72, 42: 64}  # mainnet tag: bytes after the tag, before the checksum
_OTHER_NETWORKS = {53: "testnet", 54: "testnet", 63: "testnet"} | dict.fromkeys(
    (24, 25, 36), "stagenet"
)


def claims(text: str) -> bool:
    """Whether `text` is spelled like a Monero address at first sight (for inference)."""
    return (len(text) == 95 or len(text) == 106) and text[0] in "48"


def canonical(text: str) -> str:
    """Return `text` if it is a mainnet Monero address (its spelling is canonical).

    Raises AddressError: not 95 or 106 base58 characters, a block out of range, a bad
    checksum, another network's tag, or a length that does not match the tag.
    """
    if _ADDRESS(text) is None:
        raise AddressError(text, "not a Monero address (95 or 106 base58 characters)")
    data = decode(text)
    body = data[:-4]
    if codecs.keccak256(body)[:4] != data[-4:]:
        raise AddressError(text, "bad Monero checksum")
    tag, size = _varint(body)
    expected = _KEY_BYTES.get(tag)
    if expected is None:
        other = _OTHER_NETWORKS.get(tag)
        if other is not None:
            raise AddressError(text, f"wrong network ({other} address on {CHAIN_ID})")
        raise AddressError(text, f"Monero address tag {tag} is not a mainnet address kind")
    if len(body) - size != expected:
        raise AddressError(text, f"Monero address tag {tag} does not match its length")
    return text


def decode(text: str) -> bytes:
    """The bytes of Monero base58 `text` (ASCII in the Bitcoin alphabet).

    Raises AddressError for a last block of impossible length or a block above its size.
    """
    full, rest = divmod(len(text), 11)
    last = _BLOCK_BYTES.get(rest)
    if last is None:
        raise AddressError(text, "Monero base58 of impossible length")
    raw = text.encode("ascii")
    out = bytearray()
    number = codecs.base58_number
    for start in range(0, full * 11, 11):
        value = number(raw[start : start + 11])
        if value >> 64:
            raise AddressError(text, "Monero base58 block out of range")
        out += value.to_bytes(8, "big")
    if rest:
        value = number(raw[full * 11 :])
        if value >> (8 * last):
            raise AddressError(text, "Monero base58 block out of range")
        out += value.to_bytes(last, "big")
    return bytes(out)


def encode(data: bytes) -> str:
    """The Monero base58 spelling of `data`: 8-byte blocks, each into its fixed width."""
    out = []
    for start in range(0, len(data), 8):
        block = data[start : start + 8]
        digits = codecs.base58_encode(block).lstrip("1")  # the number's digits
        out.append(digits.rjust(_BLOCK_CHARS[len(block)], "1"))
    return "".join(out)


def address(tag: int, data: bytes) -> str:
    """The Monero address of varint `tag` and `data`: tag, data and Keccak checksum encoded."""
    body = _varint_bytes(tag) + data
    return encode(body + codecs.keccak256(body)[:4])


def _varint(data: bytes) -> tuple[int, int]:
    value = shift = 0
    for position, byte in enumerate(data):
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position + 1
        shift += 7
    return value, len(data)


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
