"""Which chain an address belongs to, and its one canonical spelling there.

Two spellings of one address (`0xAbC…` and `0xabc…`, `BC1Q…` and `bc1q…`) parse to one equal
`Address`, so deduplication and watchlist matching compare canonical values only. The rules of
each chain live in `exchange.core.chains`; this module holds the registry, the dispatch and
the inference of a chain from the spelling.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from exchange.core.chains import bitcoin, ethereum
from exchange.errors import AddressError


class Chain(StrEnum):
    """The chains the exchange accepts addresses on; the value is the chain id on the wire."""

    BITCOIN = "bitcoin"
    BITCOIN_TESTNET = "bitcoin-testnet"
    ETHEREUM = "ethereum"


@dataclass(frozen=True, slots=True)
class Address:
    """An address in its canonical spelling: equal addresses are the same address."""

    chain: Chain
    value: str  # the canonical spelling


@dataclass(frozen=True, slots=True)
class _Rules:
    """How one chain reads addresses: `canonical` raises AddressError or returns the canonical
    spelling; `claims` is a cheap first-sight test used only to infer the chain."""

    chain: Chain
    canonical: Callable[[str], str]
    claims: Callable[[str], bool]
    formats: tuple[str, ...]


_RULES: dict[str, _Rules] = {
    rules.chain.value: rules
    for rules in (
        _Rules(
            Chain.BITCOIN,
            bitcoin.MAINNET.canonical,
            bitcoin.MAINNET.claims,
            bitcoin.MAINNET.formats,
        ),
        _Rules(
            Chain.BITCOIN_TESTNET,
            bitcoin.TESTNET.canonical,
            bitcoin.TESTNET.claims,
            bitcoin.TESTNET.formats,
        ),
        _Rules(Chain.ETHEREUM, ethereum.canonical, ethereum.claims, ethereum.FORMATS),
    )
}


def parse_address(text: str, chain: Chain | str | None = None) -> Address:
    """Validate `text` and return its canonical form on `chain`.

    With `chain` None the chain is inferred from the spelling, and only when exactly one
    chain accepts it. Nothing is stripped: callers strip whitespace if they want to.

    Raises AddressError with a reason a partner can act on: "whitespace around address",
    "unknown chain 'x'", "ambiguous address: state the chain (one of: a, b)", "not an address
    on any supported chain", or the chain's own reason ("bad base58check checksum",
    "mixed-case bech32", "EIP-55 checksum mismatch", "wrong network (…)", …). When no chain
    is given and exactly one chain recognises the spelling, its reason is the one raised.
    """
    if not text or text.strip() != text:
        raise AddressError(text, "empty address" if not text else "whitespace around address")
    if not text.isascii():
        raise AddressError(text, "non-ASCII character in address")
    if chain is None:
        return _infer(text, _RULES.values())
    rules = _RULES.get(chain)
    if rules is None:
        raise AddressError(text, f"unknown chain {str(chain)!r}")
    return Address(rules.chain, rules.canonical(text))


def chain_formats() -> dict[Chain, tuple[str, ...]]:
    """Human-readable list of formats each chain accepts, for GET /api/v1/chains."""
    return {rules.chain: rules.formats for rules in _RULES.values()}


def _infer(text: str, candidates: Iterable[_Rules]) -> Address:
    claimants = [rules for rules in candidates if rules.claims(text)]
    if len(claimants) == 1:  # the common case: no exception unless the address is bad
        only = claimants[0]
        return Address(only.chain, only.canonical(text))
    if not claimants:
        raise AddressError(text, "not an address on any supported chain")
    accepted: list[Address] = []
    for rules in claimants:
        try:
            accepted.append(Address(rules.chain, rules.canonical(text)))
        except AddressError:
            continue
    if len(accepted) == 1:
        return accepted[0]
    if not accepted:
        raise AddressError(text, "not an address on any supported chain")
    names = ", ".join(address.chain.value for address in accepted)
    raise AddressError(text, f"ambiguous address: state the chain (one of: {names})")
