"""Bitcoin-style address rules: base58check (a version and a hash) and bech32/bech32m segwit.

`Network` reads the addresses of one network of one chain. Bitcoin's mainnet and testnet are
defined here; the other chains that spell addresses the same way are in `altcoins`.

- Base58check (P2PKH, P2SH): the version names the network and the kind; base58 is
  case-sensitive, so the canonical form is the spelling itself.
- Segwit (BIP-173, amended by BIP-350): witness v0 uses bech32 and has a 20- or 32-byte
  program; v1 to v16 use bech32m and have 2 to 40 bytes. All-uppercase is valid input;
  the canonical form is lowercase; mixed case is refused.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from exchange.core.chains import codecs
from exchange.errors import AddressError

_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,36}").fullmatch  # 25 or 26 bytes in base58
_BECH32_DATA = re.compile(r"[qpzry9x8gf2tvdw0s3jn54khce6mua7l]*").fullmatch
_CHARSET_INDEX = {char: index for index, char in enumerate(codecs.BECH32_CHARSET)}
_MAX_BECH32_LENGTH = 90  # BIP-173


@dataclass(frozen=True, slots=True, eq=False)
class Network:
    """One network of one chain: the base58check versions and the bech32 hrp of its addresses."""

    chain_id: str  # the exchange's chain id, e.g. "bitcoin"
    versions: frozenset[bytes]  # base58check version prefixes, all of one length
    leads: tuple[str, ...]  # first characters of its base58check addresses, for inference
    formats: tuple[str, ...]
    hrp: str | None = None  # bech32 human-readable part, for chains with segwit
    siblings: Mapping[bytes | str, str] = field(default_factory=dict)
    """Versions and hrps of the chain's other networks, with the reason to give for them."""
    heads: tuple[str, ...] = field(init=False)  # "bc1", "tb1": how its segwit spellings start
    version_size: int = field(init=False)

    def __post_init__(self) -> None:
        hrps = [self.hrp] if self.hrp else []
        hrps += [key for key in self.siblings if isinstance(key, str)]
        object.__setattr__(self, "heads", tuple(hrp + "1" for hrp in hrps))
        object.__setattr__(self, "version_size", len(next(iter(self.versions))))

    def claims(self, text: str) -> bool:
        """Whether `text` is spelled like an address of this network at first sight."""
        if self.leads and text.startswith(self.leads):
            return True
        hrp = self.hrp
        return hrp is not None and text[: len(hrp) + 1].lower() == hrp + "1"

    def canonical(self, text: str) -> str:
        """Return the canonical spelling of `text` as an address on this network.

        Raises AddressError naming the defect: bad checksum, mixed-case bech32, wrong witness
        program length, wrong checksum variant for the witness version, a version of another
        chain, or the wrong network.
        """
        if not text.isascii():
            raise AddressError(text, "non-ASCII character in address")
        if self.heads:
            lower = text.lower()
            for head in self.heads:
                if lower.startswith(head):
                    return _segwit(text, lower, head[:-1], self)
        return _base58check(text, self)


def _siblings(kind: str, chain_id: str, *keys: bytes | str) -> dict[bytes | str, str]:
    return dict.fromkeys(keys, f"wrong network ({kind} address on {chain_id})")


MAINNET = Network(
    chain_id="bitcoin",
    versions=frozenset({b"\x00", b"\x05"}),
    leads=("1", "3"),
    hrp="bc",
    siblings=_siblings("testnet", "bitcoin", b"\x6f", b"\xc4", "tb"),
    formats=(
        "P2PKH base58check (1…)",
        "P2SH base58check (3…)",
        "segwit v0 bech32, BIP-173 (bc1q…)",
        "segwit v1-v16 bech32m, BIP-350 (bc1p… for taproot)",
    ),
)
TESTNET = Network(
    chain_id="bitcoin-testnet",
    versions=frozenset({b"\x6f", b"\xc4"}),
    leads=("m", "n", "2"),
    hrp="tb",
    siblings=_siblings("mainnet", "bitcoin-testnet", b"\x00", b"\x05", "bc"),
    formats=(
        "P2PKH base58check (m… or n…)",
        "P2SH base58check (2…)",
        "segwit v0 bech32, BIP-173 (tb1q…)",
        "segwit v1-v16 bech32m, BIP-350 (tb1p…)",
    ),
)


def _base58check(text: str, network: Network) -> str:
    if _BASE58(text) is None:
        raise AddressError(text, _not_ours(network))
    payload = codecs.base58check(text)
    version_size = network.version_size
    if len(payload) != version_size + 20:
        raise AddressError(
            text, f"base58check payload of {len(payload)} bytes, not {version_size + 20}"
        )
    version = payload[:version_size]
    if version in network.versions:
        return text
    sibling = network.siblings.get(version)
    if sibling is not None:
        raise AddressError(text, sibling)
    raise AddressError(text, f"version 0x{version.hex()} is not a {network.chain_id} version")


def _not_ours(network: Network) -> str:
    if network.hrp is None:
        return "not base58check"
    return f"neither base58check nor bech32 with hrp '{network.hrp}'"


def _segwit(text: str, lower: str, hrp: str, network: Network) -> str:
    if lower != text and text.upper() != text:
        raise AddressError(text, "mixed-case bech32")
    if len(text) > _MAX_BECH32_LENGTH:
        raise AddressError(text, f"bech32 longer than {_MAX_BECH32_LENGTH} characters")
    data_part = lower[len(hrp) + 1 :]
    if _BECH32_DATA(data_part) is None:
        stray = next(char for char in data_part if char not in _CHARSET_INDEX)
        raise AddressError(text, f"character {stray!r} not in the bech32 alphabet")
    if len(data_part) < 6:
        raise AddressError(text, "bech32 checksum too short")
    values = [_CHARSET_INDEX[char] for char in data_part]
    check = codecs.bech32_polymod(hrp, values)
    if check != codecs.BECH32_CONST and check != codecs.BECH32M_CONST:
        raise AddressError(text, "bad bech32 checksum")
    if len(values) == 6:
        raise AddressError(text, "no witness version")
    version = values[0]
    if version > 16:
        raise AddressError(text, f"witness version {version} above 16")
    program = codecs.regroup(values[1:-6], 5, 8)
    if program is None:
        raise AddressError(text, "bad padding in witness program")
    size = len(program)
    if size < 2 or size > 40 or (version == 0 and size != 20 and size != 32):
        raise AddressError(text, "wrong witness program length")
    if version == 0 and check == codecs.BECH32M_CONST:
        raise AddressError(text, "bech32m used for witness v0 (needs bech32)")
    if version > 0 and check == codecs.BECH32_CONST:
        raise AddressError(text, "bech32 used for witness v1+ (needs bech32m)")
    if hrp != network.hrp:
        raise AddressError(text, network.siblings[hrp])
    return lower
