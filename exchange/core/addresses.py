"""Which chain an address belongs to, and its one canonical spelling there.

Two spellings of one address (`0xAbC…` and `0xabc…`, `BC1Q…` and `bc1q…`, `1BpEi…` and
`bitcoincash:qpm2…` on Bitcoin Cash) parse to one equal `Address`, so deduplication and
watchlist matching compare canonical values only. The rules of each chain family live in
`exchange.core.chains`; this module holds the registry, the dispatch and the inference of a
chain from the spelling.

Inference, when the submitter states no chain: a chain is inferred only when exactly one
chain reads the spelling as its own; otherwise the address is refused with "ambiguous
address: state the chain (one of: …)". Shared spellings are handled so:

- A bare `0x…` address is inferred as `ethereum`, the dominant EVM chain. Every EVM chain
  (`is_evm`) spells accounts alike and one key holds the same account on all of them, so
  refusing bare `0x…` would refuse nearly every Ethereum flag partners send. The default
  changes only the chain recorded with the flag, not what it matches: `Address.key` is the
  same on every EVM chain. Partners state the chain to record where they saw the address.
- Bitcoin Cash and Bitcoin SV kept Bitcoin's legacy base58 spelling (1…, 3…) when they
  forked Bitcoin's ledger, so that spelling is read on them only when they are stated; a
  bare 1… is Bitcoin's. (CashAddr is Bitcoin Cash's own spelling and is inferred.)
- Chains that chose the same version independently are ambiguous without a chain: 3… is
  Bitcoin's and Litecoin's P2SH (version 0x05), D… is Dogecoin's and Verge's P2PKH (0x1e).
- With `asset` (a token such as USDT), an ambiguous spelling is read on the one candidate
  chain the token is issued on (`TOKEN_CHAINS`): USDT's Omni 3… addresses are Bitcoin's.

Matching: `Address.key` is the identity to deduplicate and match on: ("evm", value) on every
EVM chain, (chain, value) elsewhere. A watchlist entry matches on the key by default, so an
EVM address is matched on all EVM chains; an entry that names one chain also compares
`Address.chain`. A token flag is an address on the chain the token lives on, plus the asset
(carried next to the address, e.g. the STIX extension's `asset`); the asset never changes
the address or its key.

Tagged addresses: an XRP X-address with a destination tag, and a Monero integrated address
with a payment ID, are kept whole. The tag names one destination inside an account, often one
customer of an exchange's shared account; reducing it to the account would flag every
customer of that exchange. Untagged X-addresses canonicalise to the classic address.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from exchange.core.chains import altcoins, bitcoin, bitcoin_cash, ethereum, monero, solana, xrp
from exchange.errors import AddressError


class Chain(StrEnum):
    """The chains the exchange accepts addresses on; the value is the chain id on the wire."""

    BITCOIN = "bitcoin"
    BITCOIN_TESTNET = "bitcoin-testnet"
    BITCOIN_CASH = "bitcoin-cash"
    BITCOIN_SV = "bitcoin-sv"
    BITCOIN_GOLD = "bitcoin-gold"
    LITECOIN = "litecoin"
    DOGECOIN = "dogecoin"
    DASH = "dash"
    ZCASH = "zcash"
    VERGE = "verge"
    ETHEREUM = "ethereum"
    ETHEREUM_CLASSIC = "ethereum-classic"
    BSC = "bsc"
    POLYGON = "polygon"
    ARBITRUM = "arbitrum"
    OPTIMISM = "optimism"
    BASE = "base"
    AVALANCHE = "avalanche"  # the C-Chain
    TRON = "tron"
    MONERO = "monero"
    SOLANA = "solana"
    XRP = "xrp"


EVM_CHAINS = frozenset(
    {
        Chain.ETHEREUM,
        Chain.ETHEREUM_CLASSIC,
        Chain.BSC,
        Chain.POLYGON,
        Chain.ARBITRUM,
        Chain.OPTIMISM,
        Chain.BASE,
        Chain.AVALANCHE,
    }
)

_L2S = (Chain.POLYGON, Chain.ARBITRUM, Chain.OPTIMISM, Chain.AVALANCHE)
TOKEN_CHAINS: Mapping[str, frozenset[Chain]] = {
    # Tether: ERC-20, TRC-20, Omni (on Bitcoin), SPL, BEP-20 and the L2/sidechain deployments.
    "USDT": frozenset({Chain.ETHEREUM, Chain.TRON, Chain.BITCOIN, Chain.SOLANA, Chain.BSC, *_L2S}),
    # Circle's native USDC deployments among our chains.
    "USDC": frozenset({Chain.ETHEREUM, Chain.SOLANA, Chain.BASE, *_L2S}),
}
"""The chains a token is issued on, to resolve ambiguous spellings; never used to refuse."""


def is_evm(chain: Chain | str) -> bool:
    """Whether `chain` is an EVM chain, where one address is one account on all EVM chains."""
    return chain in EVM_CHAINS


@dataclass(frozen=True, slots=True)
class Address:
    """An address in its canonical spelling: equal addresses are the same address."""

    chain: Chain
    value: str  # the canonical spelling

    @property
    def key(self) -> tuple[str, str]:
        """The dedup and match identity: ("evm", value) on any EVM chain, else (chain, value)."""
        return ("evm" if self.chain in EVM_CHAINS else self.chain.value, self.value)


@dataclass(frozen=True, slots=True)
class _Rules:
    """How one chain reads addresses: `canonical` raises AddressError or returns the canonical
    spelling; `claims` is a cheap first-sight test used only to infer the chain."""

    chain: Chain
    canonical: Callable[[str], str]
    claims: Callable[[str], bool]
    formats: tuple[str, ...]
    firsts: str = ""  # the first characters it can claim, to skip it quickly for the others


_BASE58_LETTERS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _never(text: str) -> bool:
    return False


def _network(chain: Chain, network: bitcoin.Network) -> _Rules:
    firsts = "".join(lead[0] for lead in network.leads)
    if network.hrp:
        firsts += network.hrp[0] + network.hrp[0].upper()
    claims = network.claims if firsts else _never
    return _Rules(chain, network.canonical, claims, network.formats, firsts)


def _evm(chain: Chain) -> _Rules:
    if chain is Chain.ETHEREUM:
        return _Rules(chain, ethereum.canonical, ethereum.claims, ethereum.FORMATS, "0")
    stated = "only with the chain stated: a bare 0x… address is inferred as ethereum"
    return _Rules(chain, ethereum.canonical, _never, (*ethereum.FORMATS, stated))


_RULES: dict[str, _Rules] = {
    rules.chain.value: rules
    for rules in (
        _network(Chain.BITCOIN, bitcoin.MAINNET),
        _network(Chain.BITCOIN_TESTNET, bitcoin.TESTNET),
        _Rules(
            Chain.BITCOIN_CASH,
            bitcoin_cash.canonical,
            bitcoin_cash.claims,
            bitcoin_cash.FORMATS,
            "bBqpzrQPZR",
        ),
        _network(Chain.BITCOIN_SV, altcoins.BITCOIN_SV),
        _network(Chain.BITCOIN_GOLD, altcoins.BITCOIN_GOLD),
        _network(Chain.LITECOIN, altcoins.LITECOIN),
        _network(Chain.DOGECOIN, altcoins.DOGECOIN),
        _network(Chain.DASH, altcoins.DASH),
        _network(Chain.ZCASH, altcoins.ZCASH),
        _network(Chain.VERGE, altcoins.VERGE),
        *(_evm(chain) for chain in Chain if chain in EVM_CHAINS),
        _network(Chain.TRON, altcoins.TRON),
        _Rules(Chain.MONERO, monero.canonical, monero.claims, monero.FORMATS, "48"),
        _Rules(Chain.SOLANA, solana.canonical, solana.claims, solana.FORMATS, _BASE58_LETTERS),
        _Rules(Chain.XRP, xrp.canonical, xrp.claims, xrp.FORMATS, "rXT"),
    )
}
_BY_FIRST: dict[str, tuple[_Rules, ...]] = {
    first: tuple(rules for rules in _RULES.values() if first in rules.firsts)
    for first in {char for rules in _RULES.values() for char in rules.firsts}
}
"""The chains that may claim a spelling, by its first character (inference only)."""


def parse_address(
    text: str, chain: Chain | str | None = None, *, asset: str | None = None
) -> Address:
    """Validate `text` and return its canonical form on `chain`.

    With `chain` None the chain is inferred from the spelling (see the module docstring);
    `asset` (a token, e.g. "USDT") only helps to pick among candidate chains. Nothing is
    stripped: callers strip whitespace if they want to.

    Raises AddressError with a reason a partner can act on: "whitespace around address",
    "unknown chain 'x'", "ambiguous address: state the chain (one of: a, b)", "not an address
    on any supported chain", or the chain's own reason ("bad base58check checksum",
    "mixed-case bech32", "EIP-55 checksum mismatch", "wrong network (…)", …). When no chain
    is given and the chains that recognise the spelling all refuse it for one reason, that
    reason is the one raised.
    """
    if not text or text.strip() != text:
        raise AddressError(text, "empty address" if not text else "whitespace around address")
    if not text.isascii():
        raise AddressError(text, "non-ASCII character in address")
    if chain is None:
        return _infer(text, _BY_FIRST.get(text[0], ()), asset=asset)
    rules = _RULES.get(chain)
    if rules is None:
        raise AddressError(text, f"unknown chain {str(chain)!r}")
    return Address(rules.chain, rules.canonical(text))


def chain_formats() -> dict[Chain, tuple[str, ...]]:
    """Human-readable list of formats each chain accepts, for GET /api/v1/chains."""
    return {rules.chain: rules.formats for rules in _RULES.values()}


def _infer(text: str, candidates: Iterable[_Rules], *, asset: str | None = None) -> Address:
    claimants = [rules for rules in candidates if rules.claims(text)]
    if len(claimants) == 1:  # the common case: no exception unless the address is bad
        only = claimants[0]
        return Address(only.chain, only.canonical(text))
    if not claimants:
        raise AddressError(text, "not an address on any supported chain")
    accepted: list[Address] = []
    reasons: set[str] = set()
    for rules in claimants:
        try:
            accepted.append(Address(rules.chain, rules.canonical(text)))
        except AddressError as refused:
            reasons.add(refused.reason)
    if len(accepted) == 1:
        return accepted[0]
    if not accepted:
        reason = reasons.pop() if len(reasons) == 1 else "not an address on any supported chain"
        raise AddressError(text, reason)
    issued_on = TOKEN_CHAINS.get(asset.upper(), frozenset()) if asset else frozenset()
    on_token_chain = [address for address in accepted if address.chain in issued_on]
    if len(on_token_chain) == 1:
        return on_token_chain[0]
    names = ", ".join(address.chain.value for address in accepted)
    raise AddressError(text, f"ambiguous address: state the chain (one of: {names})")
