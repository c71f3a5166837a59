"""The benchmark workload: realistic random addresses, indicators and signed bundles.

Shared by bench/ingest.py and bench/stages.py. Everything is generated in memory from a
seeded `random.Random`, so two runs (and two engines in one run) see the same addresses,
categories and object ids; only the partner ids and the signatures differ.

Address mix (per fresh indicator): 30% P2PKH and 15% P2SH base58check, 15% bech32 P2WPKH,
40% Ethereum (half all-lowercase, half EIP-55 checksummed). About 5% of every bundle's
indicators repeat an address another partner submitted earlier, often in its other spelling
(EIP-55 vs lowercase, bech32 upper vs lower case), so they corroborate an existing flag: the
exchange accepts them as a new report on that flag. One indicator in ten names its chain in
the exchange's property-extension, and so does every indicator whose spelling the exchange
cannot attribute to one chain by itself (e.g. a 3… P2SH once Litecoin is a chain too); the
others leave the chain to be inferred.
"""

import json
import random
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import base58
import bech32
from Crypto.Hash import keccak

import exchange
from exchange.core.addresses import parse_address
from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import TLP2_MARKING_IDS, Category, Tlp
from exchange.errors import AddressError
from exchange.signatures import SigningKey, sign_bundle

CATEGORIES = tuple(Category)
TLPS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
REPEAT_SHARE = 0.05
EXPLICIT_CHAIN_SHARE = 0.10


def eip55(lower_hex: str) -> str:
    """The EIP-55 checksummed spelling of 40 lowercase hex digits (with 0x)."""
    nibbles = keccak.new(data=lower_hex.encode("ascii"), digest_bits=256).hexdigest()
    return "0x" + "".join(
        d.upper() if n >= "8" else d for d, n in zip(lower_hex, nibbles[:40], strict=True)
    )


@dataclass(frozen=True, slots=True)
class Spelling:
    """One address: the spelling sent, the chain id, and its other acceptable spelling."""

    text: str
    chain: str
    kind: str  # p2pkh, p2sh, bech32, eth-lower, eth-eip55
    other: str  # another spelling of the same address (or the same text)


def random_address(rng: random.Random) -> Spelling:
    roll = rng.random()
    payload = rng.randbytes(20)
    if roll < 0.30:
        text = base58.b58encode_check(b"\x00" + payload).decode()
        return Spelling(text, "bitcoin", "p2pkh", text)
    if roll < 0.45:
        text = base58.b58encode_check(b"\x05" + payload).decode()
        return Spelling(text, "bitcoin", "p2sh", text)
    if roll < 0.60:
        text = bech32.encode("bc", 0, payload)
        assert text is not None
        return Spelling(text, "bitcoin", "bech32", text.upper())
    lower = payload.hex()
    checksummed = eip55(lower)
    if roll < 0.80:
        return Spelling("0x" + lower, "ethereum", "eth-lower", checksummed)
    return Spelling(checksummed, "ethereum", "eth-eip55", "0x" + lower)


def indicator(
    rng: random.Random, submitter: str, address: Spelling, text: str, *, explicit_chain: bool
) -> dict[str, Any]:
    """A STIX 2.1 indicator of `text` as the exchange's STIX profile models it."""
    category = rng.choice(CATEGORIES)
    day = rng.randint(1, 28)
    stamp = f"2026-10-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.000Z"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": submitter,
        "name": f"Wallet tied to {category}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[cryptocurrency-wallet:value = '{text}']",
        "pattern_type": "stix",
        "valid_from": stamp,
        "labels": [category.value],
        "confidence": rng.choice((50, 60, 70, 80, 85, 90, 95, 100)),
        "object_marking_refs": [TLP2_MARKING_IDS[rng.choice(TLPS)]],
    }
    if explicit_chain:
        obj["extensions"] = {
            EXTENSION_ID: {"extension_type": "property-extension", "chain": address.chain}
        }
    return obj


@dataclass
class Workload:
    """Generates bundles round robin over partners, tracking who submitted which address."""

    partners: list[str]  # STIX identity ids, in round-robin order
    bundle_size: int = 1000
    seed: int = 20261125
    rng: random.Random = field(init=False)
    submitted: list[tuple[Spelling, int]] = field(init=False, default_factory=list)
    claimed: list[set[tuple[str, str]]] = field(init=False)  # per partner: (chain, canonical)
    kinds: dict[str, int] = field(init=False, default_factory=dict)
    repeats: int = field(init=False, default=0)
    explicit: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.claimed = [set() for _ in self.partners]

    def bundles(self, count: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """(partner index, bundle) for `count` bundles, round robin over the partners."""
        for number in range(count):
            who = number % len(self.partners)
            yield who, self.bundle(who)

    def bundle(self, who: int) -> dict[str, Any]:
        rng, submitter = self.rng, self.partners[who]
        objects = []
        fresh_this_bundle: list[tuple[Spelling, int]] = []
        repeats_wanted = round(self.bundle_size * REPEAT_SHARE)
        for position in range(self.bundle_size):
            spelling = None
            if position < repeats_wanted:
                spelling = self._repeat_for(who)
            if spelling is None:
                spelling = random_address(rng)
                fresh_this_bundle.append((spelling, who))
                text = spelling.text
            else:
                self.repeats += 1
                text = spelling.other if rng.random() < 0.5 else spelling.text
            key = (spelling.chain, parse_address(spelling.text, spelling.chain).value)
            assert key not in self.claimed[who], "the workload never repeats a partner's claim"
            self.claimed[who].add(key)
            self.kinds[spelling.kind] = self.kinds.get(spelling.kind, 0) + 1
            explicit = rng.random() < EXPLICIT_CHAIN_SHARE or not inferred(text, spelling.chain)
            self.explicit += explicit
            objects.append(indicator(rng, submitter, spelling, text, explicit_chain=explicit))
        rng.shuffle(objects)
        self.submitted.extend(fresh_this_bundle)
        bundle_id = f"bundle--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        return {"type": "bundle", "id": bundle_id, "objects": objects}

    def _repeat_for(self, who: int) -> Spelling | None:
        """An address another partner submitted earlier and `who` never did; None if none."""
        for _ in range(20):
            if not self.submitted:
                return None
            spelling, by = self.submitted[self.rng.randrange(len(self.submitted))]
            if by == who:
                continue
            key = (spelling.chain, parse_address(spelling.text, spelling.chain).value)
            if key not in self.claimed[who]:
                return spelling
        return None


def code_version() -> str:
    """Which exchange code is measured: its checkout, commit and uncommitted changes."""
    root = Path(exchange.__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "exchange", "migrations"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return f"{root} (not a git checkout)"
    return f"{root} at {head}" + (f" + {len(changed)} uncommitted file(s)" if changed else "")


def inferred(text: str, chain: str) -> bool:
    """Whether the exchange infers `chain` for `text` when no chain is stated.

    Spellings several chains share (a 3… P2SH is Bitcoin's and Litecoin's) must name the
    chain, as a partner's tool would after the exchange refused them once.
    """
    try:
        return parse_address(text).chain == chain
    except AddressError:
        return False


def sign(bundle: dict[str, Any], key: SigningKey, *, iat: int) -> bytes:
    """The signed-bundle document's bytes, as a partner's tool would send them."""
    return json.dumps(sign_bundle(bundle, key, iat=iat), ensure_ascii=False).encode()
