"""The Merkle tree against RFC 6962 alone: reference vectors and an independent oracle."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core import merkle
from exchange.errors import LedgerIntegrityError

# The eight leaves of the RFC 6962 / Certificate Transparency reference tests
# (certificate-transparency merkle_tree_test, also in Trillian's testonly package).
LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path) and (first, second, proof) from the same suite.
INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


# An independent oracle, written from RFC 6962 section 2.1 alone: plain recursion on lists.
def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


class Log:
    """What the exchange's store does, in memory: append leaves, keep perfect subtrees."""

    def __init__(self, entries: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        merkle.append(0, [merkle.leaf_hash(e) for e in entries], self.nodes)

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


def test_roots_match_the_rfc_6962_reference_vectors() -> None:
    for size, expected in enumerate(ROOTS, start=1):
        assert merkle.root(size, Log(LEAVES[:size]).node).hex() == expected


def test_the_empty_tree_hashes_the_empty_string() -> None:
    assert merkle.root(0, Log([]).node).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, expected: list[str]
) -> None:
    log = Log(LEAVES[:size])
    proof = merkle.inclusion_proof(index, size, log.node)
    assert [h.hex() for h in proof] == expected
    root = merkle.root(size, log.node)
    merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, proof, root)


@pytest.mark.parametrize(("first", "second", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(
    first: int, second: int, expected: list[str]
) -> None:
    log = Log(LEAVES[:second])
    proof = merkle.consistency_proof(first, second, log.node)
    assert [h.hex() for h in proof] == expected
    merkle.verify_consistency(
        first, second, proof, merkle.root(first, log.node), merkle.root(second, log.node)
    )


sizes = st.integers(min_value=1, max_value=300)


@given(size=sizes, data=st.data())
def test_proofs_agree_with_an_independent_rfc_6962_oracle(size: int, data: st.DataObject) -> None:
    entries = [i.to_bytes(4, "big") for i in range(size)]
    log = Log(entries)
    index = data.draw(st.integers(0, size - 1))
    first = data.draw(st.integers(1, size))
    assert merkle.root(size, log.node) == mth(entries)
    assert merkle.inclusion_proof(index, size, log.node) == path(index, entries)
    assert merkle.consistency_proof(first, size, log.node) == subproof(first, entries, True)


@given(size=sizes, data=st.data())
def test_a_changed_entry_never_verifies(size: int, data: st.DataObject) -> None:
    entries = [i.to_bytes(4, "big") for i in range(size)]
    log = Log(entries)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, log.node)
    forged = merkle.leaf_hash(b"forged")
    with pytest.raises(LedgerIntegrityError):
        merkle.verify_inclusion(forged, index, size, proof, mth(entries))


@given(size=st.integers(2, 300), data=st.data())
def test_a_rewritten_history_is_not_consistent_with_the_old_root(
    size: int, data: st.DataObject
) -> None:
    entries = [i.to_bytes(4, "big") for i in range(size)]
    first = data.draw(st.integers(1, size - 1))
    changed = data.draw(st.integers(0, first - 1))
    rewritten = [*entries[:changed], b"rewritten", *entries[changed + 1 :]]
    log = Log(rewritten)
    proof = merkle.consistency_proof(first, size, log.node)
    with pytest.raises(LedgerIntegrityError):
        merkle.verify_consistency(first, size, proof, mth(entries[:first]), mth(rewritten))


def test_appending_in_batches_gives_the_same_tree_as_one_by_one() -> None:
    entries = [i.to_bytes(4, "big") for i in range(37)]
    nodes: dict[tuple[int, int], bytes] = {}
    for start in range(0, 37, 5):
        frontier = {key: nodes[key] for key in merkle.frontier(start)}
        batch = [merkle.leaf_hash(e) for e in entries[start : start + 5]]
        for level, index, value in merkle.append(start, batch, frontier):
            nodes[(level, index)] = value
    assert merkle.root(37, lambda lv, ix: nodes[(lv, ix)]) == mth(entries)


def test_proofs_read_only_o_log_n_nodes() -> None:
    log = Log([i.to_bytes(4, "big") for i in range(1000)])
    assert len(merkle.nodes_needed(lambda n: merkle.inclusion_proof(517, 1000, n))) <= 20
    assert len(merkle.nodes_needed(lambda n: merkle.consistency_proof(300, 1000, n))) <= 20
    assert merkle.root(1000, log.node)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: merkle.verify_inclusion(bytes(32), 5, 5, [], bytes(32)), "not in a tree"),
        (lambda: merkle.verify_consistency(3, 2, [bytes(32)], bytes(32), bytes(32)), "no valid"),
        (lambda: merkle.verify_consistency(2, 4, [], bytes(32), bytes(32)), "no valid"),
        (lambda: merkle.verify_consistency(4, 4, [], bytes(32), b"x" * 32), "different trees"),
    ],
)
def test_malformed_proofs_are_refused(call: object, says: str) -> None:
    with pytest.raises(LedgerIntegrityError, match=says):
        call()  # type: ignore[operator]
