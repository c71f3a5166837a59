"""The offline verifier of the sharing log: trust the operator's key, nothing else.

It fetches the newest checkpoint and checks its signature, downloads the entries (all, or
only those after a checkpoint saved earlier), recomputes the Merkle root, checks the
consistency proof from the saved checkpoint, and says either that the log verifies or the
index of the first entry that does not match. Usable as a library: `verify_log(...)`.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.client import ExchangeClient
from exchange.core import merkle
from exchange.core.ledger import Checkpoint, parse_checkpoint
from exchange.errors import LedgerIntegrityError
from exchange.signatures import verify_note

PAGE = 10_000


@dataclass(frozen=True, slots=True)
class SavedState:
    """What a verifier remembers between runs: the last checkpoint it verified."""

    origin: str
    size: int
    root: bytes
    frontier: tuple[bytes, ...]  # the perfect subtree hashes making up that tree, left to right
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "frontier": [base64.b64encode(h).decode() for h in self.frontier],
            "checkpoint": self.note,
        }

    @classmethod
    def load(cls, path: Path) -> "SavedState":
        data = json.loads(path.read_text())
        return cls(
            origin=data["origin"],
            size=int(data["size"]),
            root=base64.b64decode(data["root"]),
            frontier=tuple(base64.b64decode(h) for h in data["frontier"]),
            note=data["checkpoint"],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


@dataclass(frozen=True, slots=True)
class Verified:
    checkpoint: Checkpoint
    checked: int  # entries downloaded and hashed in this run
    state: SavedState = field(repr=False)


def verify_log(
    client: ExchangeClient,
    *,
    origin: str,
    public_key: bytes,
    saved: SavedState | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Verified:
    """Verify the log behind `client`; raises LedgerIntegrityError naming what is wrong."""
    note = client.get("/api/v1/audit/checkpoint").text
    head = parse_checkpoint(verify_note(note, origin, public_key))
    if head.origin != origin:
        raise LedgerIntegrityError(f"the checkpoint is for log {head.origin!r}, not {origin!r}")
    start, known = 0, {}
    if saved is not None:
        _check_consistency(client, saved, head)
        start = saved.size
        known = dict(zip(merkle.frontier(saved.size), saved.frontier, strict=True))
    leaves = _download_leaves(client, start, head.size, progress)
    # The root needs only the tree's frontier: fold the leaves in, keeping O(log n) nodes.
    frontier_nodes = _fold(start, leaves, known)
    end = start + len(leaves)
    if end != head.size or merkle.root(end, _reader(frontier_nodes)) != head.root:
        nodes = known | {(lv, ix): h for lv, ix, h in merkle.append(start, leaves, dict(known))}
        bad = _first_bad_entry(client, head, start, end, nodes)
        raise LedgerIntegrityError(f"entry {bad} does not match the signed checkpoint")
    frontier = tuple(frontier_nodes[key] for key in merkle.frontier(head.size))
    state = SavedState(origin, head.size, head.root, frontier, note)
    return Verified(head, len(leaves), state)


def _fold(
    start: int, leaves: list[bytes], known: dict[tuple[int, int], bytes]
) -> dict[tuple[int, int], bytes]:
    """The frontier of the tree once `leaves` follow the tree of `start` (frontier `known`)."""
    nodes, size = dict(known), start
    for at in range(0, len(leaves), PAGE):
        batch = leaves[at : at + PAGE]
        merkle.append(size, batch, nodes)
        size += len(batch)
        nodes = {key: nodes[key] for key in merkle.frontier(size)}
    return nodes


def _check_consistency(client: ExchangeClient, saved: SavedState, head: Checkpoint) -> None:
    if head.size < saved.size:
        raise LedgerIntegrityError(
            f"the log shrank: {head.size} entries now, {saved.size} at the saved checkpoint"
        )
    proof: list[bytes] = []
    if head.size > saved.size and saved.size > 0:
        found = client.get_json(
            "/api/v1/audit/proofs/consistency", {"first": saved.size, "second": head.size}
        )
        proof = [base64.b64decode(h) for h in found["hashes"]]
    if saved.size > 0:
        merkle.verify_consistency(saved.size, head.size, proof, saved.root, head.root)


def _download_leaves(
    client: ExchangeClient, start: int, end: int, progress: Callable[[int, int], None] | None
) -> list[bytes]:
    leaves: list[bytes] = []
    at = start
    while at < end:
        wanted = min(PAGE, end - at)
        params = {"start": at, "limit": wanted, "format": "jsonl"}
        lines = client.get("/api/v1/audit/entries", params).content.splitlines()
        leaves.extend(merkle.leaf_hash(line) for line in lines[:wanted])
        if len(lines) < wanted:
            break  # entries are missing: the root check below names the first one
        at += wanted
        if progress is not None:
            progress(at - start, end - start)
    return leaves


def _first_bad_entry(
    client: ExchangeClient,
    head: Checkpoint,
    start: int,
    end: int,
    nodes: dict[tuple[int, int], bytes],
) -> int:
    """Binary search for the longest prefix that the signed root vouches for.

    A prefix of k entries is good when its root, computed here, is consistent with the
    checkpoint (a consistency proof from k to the checkpoint's size). The first bad
    entry is the length of the longest good prefix.
    """
    low, high = start, end  # prefix `low` is known good (the saved state, or empty)
    while low < high:
        k = (low + high + 1) // 2
        if _prefix_is_good(client, head, k, nodes):
            low = k
        else:
            high = k - 1
    return low


def _prefix_is_good(
    client: ExchangeClient, head: Checkpoint, k: int, nodes: dict[tuple[int, int], bytes]
) -> bool:
    prefix_root = merkle.root(k, _reader(nodes))
    if k == head.size:
        return prefix_root == head.root
    found = client.get_json("/api/v1/audit/proofs/consistency", {"first": k, "second": head.size})
    proof = [base64.b64decode(h) for h in found["hashes"]]
    try:
        merkle.verify_consistency(k, head.size, proof, prefix_root, head.root)
    except LedgerIntegrityError:
        return False
    return True


def _reader(nodes: dict[tuple[int, int], bytes]) -> merkle.NodeReader:
    return lambda level, index: nodes[(level, index)]
