"""RFC 6962 Merkle tree: vectors, properties against a literal reference, attacks."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from signing.errors import VerificationError
from signing.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    NodeCache,
    TreeAppender,
    compact_range_coords,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_range,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "vectors" / "merkle"

MALFORMED = "log.proof.malformed"
INC_INVALID = "log.inclusion.invalid"
OUT_OF_RANGE = "log.inclusion.index_out_of_range"
CON_INVALID = "log.consistency.invalid"
SIZE_RANGE = "log.consistency.size_out_of_range"


class Reference:
    """RFC 6962 section 2.1 definitions of MTH, PATH and PROOF, applied literally."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves
        self._memo: dict[tuple[int, int], bytes] = {}

    @staticmethod
    def split(n: int) -> int:
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def mth(self, lo: int, hi: int) -> bytes:
        if (lo, hi) not in self._memo:
            n = hi - lo
            if n == 0:
                h = hashlib.sha256(b"").digest()
            elif n == 1:
                h = self.leaves[lo]
            else:
                k = self.split(n)
                h = hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()
            self._memo[(lo, hi)] = h
        return self._memo[(lo, hi)]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = self.split(n)
        if m - lo < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m, lo + k, hi), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if whole else [self.mth(lo, hi)]
        k = self.split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, whole), self.mth(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


MAX = 300
LEAVES = [hashlib.sha256(b"\x00leaf %d" % i).digest() for i in range(MAX)]
REF = Reference(LEAVES)


def build(leaves: Sequence[bytes]) -> InMemoryNodeStore:
    store = InMemoryNodeStore()
    store.put(TreeAppender().append(leaves).nodes)
    return store


STORE = build(LEAVES)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def run_inclusion(v: dict[str, Any]) -> None:
    proof = [b64(p) for p in v["proof"] or []]
    verify_inclusion(b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, b64(v["root"]))


def run_consistency(v: dict[str, Any]) -> None:
    proof = [b64(p) for p in v["proof"] or []]
    verify_consistency(v["size1"], v["size2"], b64(v["root1"]), b64(v["root2"]), proof)


def shared_files(kind: str) -> list[Any]:
    if not (SHARED / kind).is_dir():
        reason = f"shared Merkle vectors not found at {SHARED / kind}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    files = sorted((SHARED / kind).rglob("*.json"))
    return [pytest.param(p, id=str(p.relative_to(SHARED / kind))) for p in files]


# --- Standard vectors -------------------------------------------------------------

INCLUSION_CODES = {
    "1/modified-proof[1]-bit-@3": INC_INVALID,
    "1/leafIdx-plus-@1": INC_INVALID,
    "1/treeSize-mul-@2": MALFORMED,
    "1/preceding-garbage": MALFORMED,
    "1/removed-component": MALFORMED,
    "1/inserted-component": MALFORMED,
    "1/wrong-leaf": MALFORMED,
    "4/trailing-root": MALFORMED,
    "single-entry/empty-leaf": MALFORMED,
    "additional/2/random-leaf": OUT_OF_RANGE,
}
CONSISTENCY_CODES = {
    "1/modified-proof@1-bit-@4": CON_INVALID,
    "1/truncated-proof": MALFORMED,
    "1/swapped-roots": CON_INVALID,
    "4/wrong-root2": CON_INVALID,
    "2/size1-plus-@1": MALFORMED,
    "2/preceding-root1": MALFORMED,
    "additional/size1-is-greater-than-size2": SIZE_RANGE,
    "additional/sizes-are-equal-zero-and-proof-is-empty": CON_INVALID,
    "additional/size1-is-zero-and-size2-is-not-zero": SIZE_RANGE,
    "additional/sizes-match-but-proof-is-not-empty-and-sizes-are-one": MALFORMED,
}


@pytest.mark.parametrize("vector", load(VECTORS / "merkle_inclusion.json"), ids=lambda v: v["name"])
def test_inclusion_vector(vector: dict[str, Any]) -> None:
    if not vector["wantErr"]:
        run_inclusion(vector)
        return
    with pytest.raises(VerificationError) as exc:
        run_inclusion(vector)
    assert exc.value.code == INCLUSION_CODES[vector["name"]]


@pytest.mark.parametrize(
    "vector", load(VECTORS / "merkle_consistency.json"), ids=lambda v: v["name"]
)
def test_consistency_vector(vector: dict[str, Any]) -> None:
    if not vector["wantErr"]:
        run_consistency(vector)
        return
    with pytest.raises(VerificationError) as exc:
        run_consistency(vector)
    assert exc.value.code == CONSISTENCY_CODES[vector["name"]]


@pytest.mark.parametrize("path", shared_files("inclusion"))
def test_shared_inclusion_vector(path: Path) -> None:
    vector = load(path)
    if not vector["wantErr"]:
        run_inclusion(vector)
        return
    with pytest.raises(VerificationError) as exc:
        run_inclusion(vector)
    assert exc.value.code.startswith("log.")


@pytest.mark.parametrize("path", shared_files("consistency"))
def test_shared_consistency_vector(path: Path) -> None:
    vector = load(path)
    if not vector["wantErr"]:
        run_consistency(vector)
        return
    with pytest.raises(VerificationError) as exc:
        run_consistency(vector)
    assert exc.value.code.startswith("log.")


# The leaves behind the transparency-dev vectors, and their roots at sizes 1..8.
VECTOR_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243"]] + [
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_hashes_match_rfc6962() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    appender = TreeAppender()
    assert appender.root() == EMPTY_ROOT
    roots = [appender.append([leaf_hash(leaf)]).root.hex() for leaf in VECTOR_LEAVES]
    assert roots == VECTOR_ROOTS


def test_generated_proofs_reproduce_vectors() -> None:
    store = build([leaf_hash(leaf) for leaf in VECTOR_LEAVES])
    for vector in load(VECTORS / "merkle_inclusion.json"):
        if not vector["wantErr"] and vector["treeSize"] <= 8 and vector["proof"]:
            got = inclusion_proof(vector["leafIdx"], vector["treeSize"], store)
            assert got == [b64(p) for p in vector["proof"]]
    for vector in load(VECTORS / "merkle_consistency.json"):
        if not vector["wantErr"] and vector["proof"]:
            got = consistency_proof(vector["size1"], vector["size2"], store)
            assert got == [b64(p) for p in vector["proof"]]


# --- Properties against the reference --------------------------------------------

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sizes = st.integers(min_value=1, max_value=MAX)


@FAST
@given(size=sizes)
def test_every_inclusion_proof_matches_reference_and_verifies(size: int) -> None:
    store = build(LEAVES[:size])
    root = REF.mth(0, size)
    assert tree_root(size, store) == tree_root(size, STORE) == root
    for index in range(size):
        proof = inclusion_proof(index, size, store)
        assert proof == REF.path(index, 0, size) == inclusion_proof(index, size, STORE)
        verify_inclusion(LEAVES[index], index, size, proof, root)
        assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == root


@FAST
@given(new_size=sizes)
def test_every_consistency_proof_matches_reference_and_verifies(new_size: int) -> None:
    store = build(LEAVES[:new_size])
    new_root = REF.mth(0, new_size)
    for old_size in range(1, new_size + 1):
        proof = consistency_proof(old_size, new_size, store)
        assert proof == REF.proof(old_size, new_size)
        assert proof == consistency_proof(old_size, new_size, STORE)
        verify_consistency(old_size, new_size, REF.mth(0, old_size), new_root, proof)


def flip(h: bytes, bit: int) -> bytes:
    out = bytearray(h)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_every_byte_mutation_of_small_inclusion_proofs_rejected() -> None:
    for size in range(2, 34):
        root = REF.mth(0, size)
        for index in range(size):
            proof = inclusion_proof(index, size, STORE)
            for i, h in enumerate(proof):
                for byte in range(32):
                    bad = [*proof[:i], flip(h, byte * 8 + byte % 8), *proof[i + 1 :]]
                    with pytest.raises(VerificationError) as exc:
                        verify_inclusion(LEAVES[index], index, size, bad, root)
                    assert exc.value.code == INC_INVALID


def test_every_byte_mutation_of_small_consistency_proofs_rejected() -> None:
    for new_size in range(2, 26):
        new_root = REF.mth(0, new_size)
        for old_size in range(1, new_size):
            old_root = REF.mth(0, old_size)
            proof = consistency_proof(old_size, new_size, STORE)
            for i, h in enumerate(proof):
                for byte in range(32):
                    bad = [*proof[:i], flip(h, byte * 8 + byte % 8), *proof[i + 1 :]]
                    with pytest.raises(VerificationError) as exc:
                        verify_consistency(old_size, new_size, old_root, new_root, bad)
                    assert exc.value.code == CON_INVALID


INCLUSION_MUTATIONS = [
    "flip_bit", "truncate", "drop_first", "append", "prepend", "duplicate", "swap",
    "wrong_index", "wrong_size", "wrong_leaf", "wrong_root",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kind=st.sampled_from(INCLUSION_MUTATIONS))
def test_mutated_inclusion_proof_rejected(data: st.DataObject, kind: str) -> None:
    size = data.draw(sizes, label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, size, STORE)
    leaf, root, claimed_index, claimed_size = LEAVES[index], REF.mth(0, size), index, size
    codes = {INC_INVALID}
    if kind in {"flip_bit", "truncate", "drop_first", "swap"}:
        assume(len(proof) >= (2 if kind == "swap" else 1))
    if kind == "flip_bit":
        i = data.draw(st.integers(0, len(proof) - 1))
        proof[i] = flip(proof[i], data.draw(st.integers(0, 255)))
    elif kind == "swap":
        i, j = data.draw(
            st.lists(st.integers(0, len(proof) - 1), min_size=2, max_size=2, unique=True)
        )
        proof[i], proof[j] = proof[j], proof[i]
    elif kind in {"truncate", "drop_first", "append", "prepend", "duplicate"}:
        extra = data.draw(st.binary(min_size=32, max_size=32))
        proof = {
            "truncate": proof[:-1],
            "drop_first": proof[1:],
            "append": [*proof, extra],
            "prepend": [extra, *proof],
            "duplicate": [*proof, *proof[-1:]] if proof else [root],
        }[kind]
        codes = {MALFORMED}
    elif kind == "wrong_index":
        claimed_index = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index))
        codes = {INC_INVALID, MALFORMED, OUT_OF_RANGE}
    elif kind == "wrong_size":
        # The claimed size comes with the real root of that size, as in a checkpoint.
        claimed_size = data.draw(st.integers(0, MAX).filter(lambda s: s != size))
        root = REF.mth(0, claimed_size)
        codes = {INC_INVALID, MALFORMED, OUT_OF_RANGE}
    elif kind == "wrong_leaf":
        other = data.draw(st.integers(0, MAX - 1).filter(lambda i: i != index))
        leaf = LEAVES[other]
    else:
        root = data.draw(st.one_of(st.binary(min_size=32, max_size=32), st.just(EMPTY_ROOT)))
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(leaf, claimed_index, claimed_size, proof, root)
    assert exc.value.code in codes


CONSISTENCY_MUTATIONS = [
    "flip_bit", "truncate", "drop_first", "append", "prepend", "swap",
    "wrong_old_size", "wrong_new_size", "wrong_old_root", "wrong_new_root", "swap_roots",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kind=st.sampled_from(CONSISTENCY_MUTATIONS))
def test_mutated_consistency_proof_rejected(data: st.DataObject, kind: str) -> None:
    new_size = data.draw(st.integers(2, MAX), label="new_size")
    old_size = data.draw(st.integers(1, new_size - 1), label="old_size")
    proof = consistency_proof(old_size, new_size, STORE)
    old, new = old_size, new_size
    old_root, new_root = REF.mth(0, old_size), REF.mth(0, new_size)
    codes = {CON_INVALID}
    if kind == "flip_bit":
        i = data.draw(st.integers(0, len(proof) - 1))
        proof[i] = flip(proof[i], data.draw(st.integers(0, 255)))
    elif kind == "swap":
        assume(len(proof) >= 2)
        i, j = data.draw(
            st.lists(st.integers(0, len(proof) - 1), min_size=2, max_size=2, unique=True)
        )
        proof[i], proof[j] = proof[j], proof[i]
    elif kind in {"truncate", "drop_first", "append", "prepend"}:
        extra = data.draw(st.binary(min_size=32, max_size=32))
        proof = {
            "truncate": proof[:-1],
            "drop_first": proof[1:],
            "append": [*proof, extra],
            "prepend": [extra, *proof],
        }[kind]
        codes = {MALFORMED}
    elif kind == "wrong_old_size":
        old = data.draw(st.integers(0, MAX).filter(lambda s: s != old_size))
        old_root = REF.mth(0, old)
        codes = {CON_INVALID, MALFORMED, SIZE_RANGE}
    elif kind == "wrong_new_size":
        new = data.draw(st.integers(0, MAX).filter(lambda s: s != new_size))
        new_root = REF.mth(0, new)
        codes = {CON_INVALID, MALFORMED, SIZE_RANGE}
    elif kind == "wrong_old_root":
        old_root = REF.mth(0, data.draw(st.integers(0, MAX).filter(lambda s: s != old_size)))
    elif kind == "wrong_new_root":
        new_root = REF.mth(0, data.draw(st.integers(0, MAX).filter(lambda s: s != new_size)))
    else:
        old_root, new_root = new_root, old_root
    with pytest.raises(VerificationError) as exc:
        verify_consistency(old, new, old_root, new_root, proof)
    assert exc.value.code in codes


@FAST
@given(
    size=st.integers(0, MAX),
    cuts=st.lists(st.integers(0, MAX), max_size=8),
    start=st.integers(0, MAX),
)
def test_batched_appends_match_one_at_a_time(size: int, cuts: list[int], start: int) -> None:
    start = min(start, size)
    one = TreeAppender()
    per_leaf: list[list[tuple[int, int, bytes]]] = []
    roots = [one.root()]
    for leaf in LEAVES[:size]:
        result = one.append([leaf])
        per_leaf.append(result.nodes)
        roots.append(result.root)
    assert roots == [REF.mth(0, n) for n in range(size + 1)]

    # Resume from a store holding the first ``start`` leaves, then append in batches.
    store = build(LEAVES[:start])
    batched = TreeAppender.from_reader(start, store)
    assert batched.root() == REF.mth(0, start)
    emitted: list[tuple[int, int, bytes]] = []
    bounds = sorted({start, size, *(c for c in cuts if start <= c <= size)})
    for lo, hi in itertools.pairwise(bounds):
        result = batched.append(LEAVES[lo:hi])
        store.put(result.nodes)
        emitted += result.nodes
        assert (result.size, result.root) == (hi, REF.mth(0, hi))
    assert emitted == [n for nodes in per_leaf[start:] for n in nodes]
    assert list(store.nodes()) == sorted(n for nodes in per_leaf for n in nodes)
    assert batched.compact_range == one.compact_range
    assert batched.size == one.size == size


def test_store_holds_exactly_the_complete_subtrees() -> None:
    nodes = list(STORE.nodes())
    for level, index, h in nodes:
        lo, hi = index << level, (index + 1) << level
        assert hi <= MAX
        assert h == REF.mth(lo, hi)
    assert len(nodes) == sum(MAX >> level for level in range(MAX.bit_length()))
    assert STORE.size == MAX


class CountingReader:
    """A reader over a virtual tree whose leaves are all equal, counting reads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls: list[list[tuple[int, int]]] = []
        self.levels = [leaf_hash(b"same")]
        for _ in range(64):
            self.levels.append(node_hash(self.levels[-1], self.levels[-1]))

    def get_nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        self.calls.append(list(coords))
        for level, index in coords:
            assert (index + 1) << level <= self.size, "only complete subtrees are stored"
        return [self.levels[level] for level, _ in coords]

    def root(self, n: int) -> bytes:
        return root_from_range([self.levels[level] for level, _ in compact_range_coords(n)])


@pytest.mark.parametrize("index", [0, 1, 524_287, 524_288, 999_998, 999_999])
def test_proofs_at_a_million_leaves_are_one_batched_read(index: int) -> None:
    size = 1_000_000
    reader = CountingReader(size)
    proof = inclusion_proof(index, size, reader)
    assert len(reader.calls) == 1 and len(reader.calls[0]) <= 2 * size.bit_length()
    verify_inclusion(reader.levels[0], index, size, proof, reader.root(size))

    reader.calls.clear()
    old = index + 1
    proof = consistency_proof(old, size, reader)
    assert len(reader.calls) <= 1 and all(len(c) <= 2 * size.bit_length() for c in reader.calls)
    verify_consistency(old, size, reader.root(old), reader.root(size), proof)

    reader.calls.clear()
    appender = TreeAppender.from_reader(size, reader)
    assert len(reader.calls) == 1 and appender.root() == reader.root(size)


class GrowingStore:
    """An append-only store that only holds the nodes complete at its current size,
    counting the nodes asked of it."""

    def __init__(self) -> None:
        self.store = InMemoryNodeStore()
        self.appender = TreeAppender()
        self.asked: list[tuple[int, int]] = []

    def grow(self, leaves: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        nodes = self.appender.append(leaves).nodes
        self.store.put(nodes)
        return nodes

    def get_nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        self.asked += coords
        return self.store.get_nodes(coords)


@FAST
@given(cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6))
def test_proofs_through_a_node_cache_match_uncached_proofs_as_the_tree_grows(
    cuts: list[int],
) -> None:
    grown = GrowingStore()
    cache = NodeCache(capacity=64)
    size = 0
    for cut in cuts:
        grown.grow(LEAVES[size : size + cut])
        size += cut
        for index in range(size):
            proof = inclusion_proof(index, size, cache.reader(grown, size))
            assert proof == REF.path(index, 0, size)
        for old in range(1, size):
            proof = consistency_proof(old, size, cache.reader(grown, size))
            assert proof == REF.proof(old, size)
    assert len(cache) <= 64


def test_node_cache_serves_remembered_nodes_without_reading() -> None:
    grown = GrowingStore()
    grown.grow(LEAVES[:100])
    cache = NodeCache()
    first = inclusion_proof(37, 100, cache.reader(grown, 100))
    assert grown.asked
    grown.asked.clear()
    assert inclusion_proof(37, 100, cache.reader(grown, 100)) == first
    assert inclusion_proof(36, 100, cache.reader(grown, 100)) == REF.path(36, 0, 100)
    assert grown.asked == [(0, 37)]  # only the one node no earlier proof needed


def test_node_cache_never_serves_a_subtree_incomplete_in_the_tree_read() -> None:
    grown = GrowingStore()
    nodes = grown.grow(LEAVES[:4])
    cache = NodeCache()
    cache.put(nodes)  # (2, 0) covers leaves 0-3: complete at size 4, not at size 3
    grown.asked.clear()
    assert cache.reader(grown, 4).get_nodes([(2, 0)]) == [REF.mth(0, 4)]
    assert grown.asked == []
    with pytest.raises(KeyError):  # asked of the store, which has no such node either
        cache.reader(InMemoryNodeStore(), 3).get_nodes([(2, 0)])
    # nodes read for a tree they are incomplete in are not remembered
    cache = NodeCache()
    cache.reader(FixedReader(leaf_hash(b"not a stored node")), 1).get_nodes([(1, 0)])
    assert len(cache) == 0


class FixedReader:
    def __init__(self, h: bytes) -> None:
        self.h = h

    def get_nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        return [self.h for _ in coords]


def test_node_cache_drops_the_least_recently_used() -> None:
    grown = GrowingStore()
    nodes = grown.grow(LEAVES[:8])
    cache = NodeCache(capacity=3)
    cache.put(nodes[:3])
    cache.reader(grown, 8).get_nodes([nodes[0][:2]])  # used: kept
    cache.put(nodes[3:4])
    grown.asked.clear()
    cache.reader(grown, 8).get_nodes([nodes[0][:2], nodes[3][:2]])
    assert grown.asked == [] and len(cache) == 3
    cache.reader(grown, 8).get_nodes([nodes[1][:2]])
    assert grown.asked == [nodes[1][:2]]


def test_compact_range_coords() -> None:
    assert compact_range_coords(0) == []
    assert compact_range_coords(1) == [(0, 0)]
    assert compact_range_coords(6) == [(2, 0), (1, 2)]
    assert compact_range_coords(13) == [(3, 0), (2, 2), (0, 12)]


# --- Named attacks ----------------------------------------------------------------


def test_leaf_swap_rejected() -> None:
    size = 10
    root = REF.mth(0, size)
    proof = inclusion_proof(3, size, STORE)
    # Another leaf presented at index 3 with leaf 3's audit path.
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[4], 3, size, proof, root)
    assert exc.value.code == INC_INVALID
    # A tree with leaves 3 and 4 swapped has another root; old proofs do not carry over.
    swapped = [*LEAVES[:3], LEAVES[4], LEAVES[3], *LEAVES[5:size]]
    swapped_store = build(swapped)
    assert tree_root(size, swapped_store) != root
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[3], 3, size, proof, tree_root(size, swapped_store))
    assert exc.value.code == INC_INVALID
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[4], 3, size, inclusion_proof(3, size, swapped_store), root)
    assert exc.value.code == INC_INVALID
    # Nothing changed: the genuine proof still verifies against the genuine root.
    assert tree_root(size, STORE) == root
    verify_inclusion(LEAVES[3], 3, size, proof, root)


def test_proof_for_different_tree_size_rejected() -> None:
    proof = inclusion_proof(0, 5, STORE)
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[0], 0, 6, proof, REF.mth(0, 6))
    assert exc.value.code == INC_INVALID
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[0], 0, 9, proof, REF.mth(0, 9))
    assert exc.value.code == MALFORMED
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[4], 4, 4, inclusion_proof(4, 5, STORE), REF.mth(0, 4))
    assert exc.value.code == OUT_OF_RANGE
    cproof = consistency_proof(3, 7, STORE)
    with pytest.raises(VerificationError) as exc:
        verify_consistency(3, 8, REF.mth(0, 3), REF.mth(0, 8), cproof)
    assert exc.value.code in {CON_INVALID, MALFORMED}
    verify_inclusion(LEAVES[0], 0, 5, proof, REF.mth(0, 5))


# --- API edges --------------------------------------------------------------------


def test_generation_rejects_impossible_requests() -> None:
    for index, size in [(0, 0), (5, 5), (-1, 3)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, STORE)
    for old, new in [(0, 1), (4, 3), (-1, 2)]:
        with pytest.raises(ValueError):
            consistency_proof(old, new, STORE)
    assert consistency_proof(0, 0, STORE) == consistency_proof(7, 7, STORE) == []


def test_store_refuses_gaps_and_rewrites() -> None:
    store = InMemoryNodeStore()
    store.put([(0, 0, LEAVES[0])])
    store.put([(0, 0, LEAVES[0])])
    with pytest.raises(ValueError):
        store.put([(0, 2, LEAVES[2])])
    with pytest.raises(ValueError):
        store.put([(0, 0, LEAVES[1])])
    with pytest.raises(ValueError):
        store.put([(-1, 0, LEAVES[0])])
    for coord in [(1, 0), (0, 1), (0, -1), (-1, 0)]:
        with pytest.raises(KeyError):
            store.get_nodes([coord])
    assert store.size == 1 and list(store.nodes()) == [(0, 0, LEAVES[0])]


def test_appender_rejects_inconsistent_state() -> None:
    with pytest.raises(ValueError):
        TreeAppender(3, [LEAVES[0]])
    with pytest.raises(ValueError):
        TreeAppender(1, [b"short"])
    appender = TreeAppender()
    appender.append(LEAVES[:3])
    with pytest.raises(ValueError):
        appender.append([LEAVES[3], b"short", LEAVES[4]])
    assert (appender.size, appender.root()) == (3, REF.mth(0, 3))


def test_verifier_rejects_non_hash_inputs() -> None:
    proof = inclusion_proof(1, 4, STORE)
    root = REF.mth(0, 4)
    for bad in ([*proof[:-1], proof[-1][:31]], [*proof[:-1], proof[-1] + b"\x00"]):
        with pytest.raises(VerificationError) as exc:
            verify_inclusion(LEAVES[1], 1, 4, bad, root)
        assert exc.value.code == MALFORMED
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(LEAVES[1][:16], 1, 4, proof, root)
    assert exc.value.code == MALFORMED
