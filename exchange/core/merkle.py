"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs from stored subtrees, and proof checks.

Leaf hash `SHA-256(0x00 || entry)`, interior `SHA-256(0x01 || left || right)`. A log keeps
the hash of every perfect subtree, addressed as (level, index): the node at level `l` and
index `i` covers leaves [i * 2**l, (i + 1) * 2**l). Every root and proof is then built from
O(log n) stored nodes, never by recomputing the tree. Functions that need nodes take a
`node(level, index)` callable, so the caller decides how to fetch them (`nodes_needed`
lists them first, so a database can fetch them in one query).
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

from exchange.errors import LedgerIntegrityError

Hash = bytes
NodeReader = Callable[[int, int], Hash]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_hash(start: int, n: int, node: NodeReader) -> Hash:
    """MTH of leaves [start, start + n), from perfect subtrees."""
    if n & (n - 1) == 0:  # a perfect subtree; `start` is aligned by construction
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = _split(n)
    return node_hash(_range_hash(start, k, node), _range_hash(start + k, n - k, node))


def root(size: int, node: NodeReader) -> Hash:
    """The Merkle tree hash of the first `size` leaves."""
    return EMPTY_ROOT if size == 0 else _range_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[Hash]:
    """RFC 6962 section 2.1.1 PATH(index, D[size])."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    proof: list[Hash] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            proof.append(_range_hash(start + k, n - k, node))
            n = k
        else:
            proof.append(_range_hash(start, k, node))
            start, n, m = start + k, n - k, m - k
    return proof[::-1]


def consistency_proof(first: int, second: int, node: NodeReader) -> list[Hash]:
    """RFC 6962 section 2.1.2 PROOF(first, D[second])."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    proof: list[Hash] = []
    start, n, m, complete = 0, second, first, True
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(_range_hash(start + k, n - k, node))
            n = k
        else:
            proof.append(_range_hash(start, k, node))
            start, n, m, complete = start + k, n - k, m - k, False
    if not complete:
        proof.append(_range_hash(start, n, node))
    return proof[::-1]


def nodes_needed(compute: Callable[[NodeReader], object]) -> set[tuple[int, int]]:
    """Which stored nodes `compute` reads, found by a dry run with placeholder hashes."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> Hash:
        seen.add((level, index))
        return bytes(32)

    compute(record)
    return seen


def frontier(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees whose roots make up a tree of `size`, left to right."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def append(
    size: int, leaves: Iterable[Hash], known: dict[tuple[int, int], Hash]
) -> list[tuple[int, int, Hash]]:
    """New (level, index, hash) nodes once `leaves` are appended to a tree of `size`.

    `known` must hold the frontier of the tree (`frontier(size)`); it is updated in place.
    """
    created: list[tuple[int, int, Hash]] = []
    for offset, leaf in enumerate(leaves):
        level, index, value = 0, size + offset, leaf
        while True:
            known[(level, index)] = value
            created.append((level, index, value))
            if index & 1 == 0:
                break
            value = node_hash(known[(level, index - 1)], value)
            level, index = level + 1, index >> 1
    return created


def verify_inclusion(
    leaf: Hash, index: int, size: int, proof: Sequence[Hash], expected_root: Hash
) -> None:
    """RFC 9162 section 2.1.3.2; raises LedgerIntegrityError."""
    if not 0 <= index < size:
        raise LedgerIntegrityError(f"index {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise LedgerIntegrityError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != expected_root:
        raise LedgerIntegrityError(f"entry {index} is not in the tree of size {size}")


def verify_consistency(
    first: int, second: int, proof: Sequence[Hash], first_root: Hash, second_root: Hash
) -> None:
    """RFC 9162 section 2.1.4.2; raises LedgerIntegrityError."""
    if first == second:
        if proof or first_root != second_root:
            raise LedgerIntegrityError(f"two different trees of size {first}")
        return
    if not 0 < first < second or not proof:
        raise LedgerIntegrityError(f"no valid consistency proof from {first} to {second}")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise LedgerIntegrityError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise LedgerIntegrityError(
            f"the tree of size {second} does not extend the tree of size {first}"
        )
