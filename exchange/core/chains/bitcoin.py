"""Bitcoin address rules for mainnet and testnet: base58check and bech32/bech32m segwit.

- Base58check (P2PKH, P2SH): the version byte names the network and the kind; base58 is
  case-sensitive, so the canonical form is the spelling itself.
- Segwit (BIP-173, amended by BIP-350): witness v0 uses bech32 and has a 20- or 32-byte
  program; v1 to v16 use bech32m and have 2 to 40 bytes. All-uppercase is valid input;
  the canonical form is lowercase; mixed case is refused.

The installed `bech32` package (1.2.0) predates BIP-350, so bech32m is checked here with its
`bech32_polymod` against the BIP-350 constant; the polymod and bit conversion stay the
library's.
"""

import re
from dataclasses import dataclass

import base58
import bech32

from exchange.errors import AddressError

_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,35}").fullmatch  # 25 bytes in base58
_BECH32_DATA = re.compile(r"[qpzry9x8gf2tvdw0s3jn54khce6mua7l]*").fullmatch
_CHARSET_INDEX = {char: index for index, char in enumerate(bech32.CHARSET)}
_BECH32_CONST = 1  # BIP-173
_BECH32M_CONST = 0x2BC830A3  # BIP-350
_MAX_BECH32_LENGTH = 90  # BIP-173


@dataclass(frozen=True, slots=True)
class Network:
    """One Bitcoin network: how its addresses start and which version bytes they carry."""

    chain_id: str  # the exchange's chain id, e.g. "bitcoin"
    kind: str  # "mainnet" or "testnet", for wrong-network reasons
    hrp: str  # bech32 human-readable part
    p2pkh: int  # base58check version byte of pay-to-pubkey-hash
    p2sh: int  # base58check version byte of pay-to-script-hash
    base58_leads: tuple[str, ...]  # first characters its base58check addresses can have
    formats: tuple[str, ...]

    def claims(self, text: str) -> bool:
        """Whether `text` is spelled like an address of this network at first sight."""
        return text.startswith(self.base58_leads) or text[:3].lower() == self.hrp + "1"

    def canonical(self, text: str) -> str:
        """Return the canonical spelling of `text` as an address on this network.

        Raises AddressError naming the defect: bad checksum, mixed-case bech32, wrong witness
        program length, wrong checksum variant for the witness version, unknown version byte,
        or wrong network.
        """
        if not text.isascii():
            raise AddressError(text, "non-ASCII character in address")
        if text[:3].lower() in _SEGWIT_HEADS:
            return _segwit(text, self)
        return _base58check(text, self)


MAINNET = Network(
    chain_id="bitcoin",
    kind="mainnet",
    hrp="bc",
    p2pkh=0x00,
    p2sh=0x05,
    base58_leads=("1", "3"),
    formats=(
        "P2PKH base58check (1…)",
        "P2SH base58check (3…)",
        "segwit v0 bech32, BIP-173 (bc1q…)",
        "segwit v1-v16 bech32m, BIP-350 (bc1p… for taproot)",
    ),
)
TESTNET = Network(
    chain_id="bitcoin-testnet",
    kind="testnet",
    hrp="tb",
    p2pkh=0x6F,
    p2sh=0xC4,
    base58_leads=("m", "n", "2"),
    formats=(
        "P2PKH base58check (m… or n…)",
        "P2SH base58check (2…)",
        "segwit v0 bech32, BIP-173 (tb1q…)",
        "segwit v1-v16 bech32m, BIP-350 (tb1p…)",
    ),
)
_BY_VERSION = {v: net for net in (MAINNET, TESTNET) for v in (net.p2pkh, net.p2sh)}
_BY_HRP = {net.hrp: net for net in (MAINNET, TESTNET)}
_SEGWIT_HEADS = frozenset(hrp + "1" for hrp in _BY_HRP)


def _base58check(text: str, network: Network) -> str:
    if _BASE58(text) is None:
        raise AddressError(text, f"neither base58check nor bech32 with hrp '{network.hrp}'")
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        raise AddressError(text, "bad base58check checksum") from None
    if len(payload) != 21:
        raise AddressError(text, f"base58check payload of {len(payload)} bytes, not 21")
    version = payload[0]
    if version == network.p2pkh or version == network.p2sh:
        return text
    other = _BY_VERSION.get(version)
    if other is not None:
        raise AddressError(text, _wrong_network(other, network))
    raise AddressError(text, f"unknown version byte 0x{version:02x}")


def _segwit(text: str, network: Network) -> str:
    lower = text.lower()
    if lower != text and text.upper() != text:
        raise AddressError(text, "mixed-case bech32")
    if len(text) > _MAX_BECH32_LENGTH:
        raise AddressError(text, f"bech32 longer than {_MAX_BECH32_LENGTH} characters")
    hrp, data_part = lower[:2], lower[3:]
    if _BECH32_DATA(data_part) is None:
        stray = next(char for char in data_part if char not in _CHARSET_INDEX)
        raise AddressError(text, f"character {stray!r} not in the bech32 alphabet")
    if len(data_part) < 6:
        raise AddressError(text, "bech32 checksum too short")
    values = [_CHARSET_INDEX[char] for char in data_part]
    check = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values)
    if check != _BECH32_CONST and check != _BECH32M_CONST:
        raise AddressError(text, "bad bech32 checksum")
    if len(values) == 6:
        raise AddressError(text, "no witness version")
    version = values[0]
    if version > 16:
        raise AddressError(text, f"witness version {version} above 16")
    program = bech32.convertbits(values[1:-6], 5, 8, False)
    if program is None:
        raise AddressError(text, "bad padding in witness program")
    size = len(program)
    if size < 2 or size > 40 or (version == 0 and size != 20 and size != 32):
        raise AddressError(text, "wrong witness program length")
    if version == 0 and check == _BECH32M_CONST:
        raise AddressError(text, "bech32m used for witness v0 (needs bech32)")
    if version > 0 and check == _BECH32_CONST:
        raise AddressError(text, "bech32 used for witness v1+ (needs bech32m)")
    if hrp != network.hrp:
        raise AddressError(text, _wrong_network(_BY_HRP[hrp], network))
    return lower


def _wrong_network(found: Network, wanted: Network) -> str:
    return f"wrong network ({found.kind} address on {wanted.chain_id})"
