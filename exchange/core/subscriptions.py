"""Subscriptions: what a subscriber wants to be told, and how to reach it.

A watchlist names addresses (matched on `Address.key`, so any spelling matches, and an EVM
address on every EVM chain unless the entry names one); a feed names chains, categories and
thresholds. Both filters apply to both kinds: a watchlist may also narrow by category.
Whether the subscriber may see a report at all is the sharing policy's decision, not this
module's.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from exchange.core.addresses import EVM_CHAINS, parse_address
from exchange.core.claims import Category
from exchange.core.flags import Flag, Report
from exchange.errors import AddressError


class Kind(StrEnum):
    WATCHLIST = "watchlist"
    FEED = "feed"


class Delivery(StrEnum):
    WEBHOOK = "webhook"
    STREAM = "stream"  # Server-Sent Events; polling reads the same alerts
    POLL = "poll"


class State(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    partner_id: str
    name: str
    kind: Kind
    delivery: Delivery
    state: State
    created_at: datetime
    webhook_url: str | None = None
    chains: frozenset[str] = frozenset()  # empty: every chain
    categories: frozenset[Category] = frozenset()  # empty: every category
    min_corroboration: int = 1
    min_confidence: int | None = None

    def wants(self, report: Report, flag: Flag) -> bool:
        """Whether `report`, on `flag` as the subscriber sees it, passes the filters."""
        if self.chains and flag.chain not in self.chains:
            return False
        if self.categories and report.category not in self.categories:
            return False
        if self.min_confidence is not None and (report.confidence or 0) < self.min_confidence:
            return False
        return flag.corroboration >= self.min_corroboration


@dataclass(frozen=True, slots=True)
class WatchEntry:
    match_chain: str  # Address.key[0]
    address: str  # canonical
    chain: str | None = None  # only this chain, when the entry names one

    def matches(self, chain: str, address: str) -> bool:
        return (match_key(chain, address) == (self.match_chain, self.address)) and (
            self.chain is None or self.chain == chain
        )


def match_key(chain: str, address: str) -> tuple[str, str]:
    """The key a flag on (chain, canonical address) is matched on: `Address.key`."""
    return ("evm" if chain in EVM_CHAINS else chain, address)


def watch_entry(address: str, chain: str | None = None) -> WatchEntry:
    """A watchlist entry for `address` as a user pasted it; raises AddressError."""
    parsed = parse_address(address.strip(), chain.strip().lower() if chain else None)
    match_chain, value = parsed.key
    return WatchEntry(match_chain, value, parsed.chain.value if chain else None)


def read_watchlist(
    lines: Iterable[str], *, ndjson: bool
) -> Iterator[tuple[int, WatchEntry | str]]:
    """(line number, entry or the reason it was refused) for each line that holds one.

    CSV: `address` or `address,chain`, an optional `address,chain` header, `#` comments.
    NDJSON: `{"address": "...", "chain": "..."}` per line. Blank lines are skipped.
    """
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not ndjson and number == 1 and line.replace(" ", "").lower() in _HEADERS:
            continue
        try:
            yield number, _entry(line, ndjson=ndjson)
        except AddressError as error:
            yield number, error.reason
        except ValueError as error:
            yield number, str(error)


_HEADERS = ("address", "address,chain")


def _entry(line: str, *, ndjson: bool) -> WatchEntry:
    if not ndjson:
        address, _, chain = line.partition(",")
        if "," in chain:
            raise ValueError("expected `address` or `address,chain`")
        return watch_entry(address, chain or None)
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg}") from None
    if not isinstance(item, dict) or not isinstance(item.get("address"), str):
        raise ValueError('expected an object with a string "address"')
    if set(item) - {"address", "chain"}:
        raise ValueError(f"unknown members: {', '.join(sorted(set(item) - {'address', 'chain'}))}")
    named: object = item.get("chain")
    if named is not None and not isinstance(named, str):
        raise ValueError('"chain" must be a string')
    return watch_entry(item["address"], named)


def retry_delay(attempt: int, *, first: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """Exponential backoff with jitter before attempt `attempt + 1`; `jitter` in [0, 1).

    The delay doubles from `first` up to `cap`; the jitter spreads each delay over its
    upper half, so receivers coming back up are not hit by every retry at once.
    """
    delay: timedelta = min(cap, first * 2 ** max(0, attempt - 1))
    return delay / 2 + delay / 2 * jitter
