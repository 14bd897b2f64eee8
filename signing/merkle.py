"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

The log persists only *complete* subtrees, addressed as ``(level, index)``: level 0
holds leaf hashes and node ``(l, i)`` covers leaves ``[i * 2**l, (i + 1) * 2**l)``.
Such a node never changes once written, so a store only ever appends.

A tree of ``size`` leaves is described by its *compact range*: the complete subtrees
that tile ``[0, size)``, one per set bit of ``size``, largest first. Appending needs
only that range (:class:`TreeAppender`); proofs fetch the O(log n) complete nodes they
need in a single :meth:`NodeReader.get_nodes` call and rebuild the incomplete nodes of
the right edge from them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from signing.codes import Code
from signing.errors import VerificationError
from signing.lru import Lru

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AppendResult",
    "Coord",
    "InMemoryNodeStore",
    "NodeCache",
    "NodeEntry",
    "NodeReader",
    "TreeAppender",
    "compact_range_coords",
    "consistency_proof",
    "inclusion_proof",
    "is_complete",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_from_range",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]  # a complete subtree as (level, index)
NodeEntry = tuple[int, int, bytes]  # (level, index, hash) of a complete subtree

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


class NodeReader(Protocol):
    """Read access to stored complete-subtree hashes."""

    def get_nodes(self, coords: Sequence[Coord]) -> Sequence[bytes]:
        """Return the hash of each ``(level, index)`` in ``coords``, in order."""
        ...


def compact_range_coords(size: int) -> list[Coord]:
    """The complete subtrees tiling ``[0, size)``, largest (leftmost) first."""
    if size < 0:
        raise ValueError("size must not be negative")
    coords: list[Coord] = []
    offset = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            coords.append((level, offset >> level))
            offset += 1 << level
    return coords


def root_from_range(hashes: Sequence[bytes]) -> bytes:
    """Hash of a compact range given left to right: folded from the right edge."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = node_hash(h, root)
    return root


def tree_root(size: int, reader: NodeReader) -> bytes:
    """Root of the first ``size`` leaves, read as one batch of O(log n) nodes."""
    return root_from_range(_read(reader, compact_range_coords(size)))


@dataclass(frozen=True)
class AppendResult:
    """Outcome of one :meth:`TreeAppender.append` call."""

    size: int
    root: bytes
    nodes: list[NodeEntry]
    """Every complete subtree created by the batch, leaves included, to persist."""


class TreeAppender:
    """Extends a tree from its compact range, emitting each new complete node once.

    Amortised O(1) hashing per leaf and no reads beyond the compact range it starts
    from (see :meth:`from_reader`).
    """

    __slots__ = ("_range", "_size")

    def __init__(self, size: int = 0, compact_range: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError("size must not be negative")
        if len(compact_range) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} range hashes")
        if any(len(h) != HASH_SIZE for h in compact_range):
            raise ValueError("range hashes must be 32 bytes")
        self._size = size
        self._range = [bytes(h) for h in compact_range]

    @classmethod
    def from_reader(cls, size: int, reader: NodeReader) -> TreeAppender:
        """Resume a stored tree of ``size`` leaves with one batched read."""
        return cls(size, _read(reader, compact_range_coords(size)))

    @property
    def size(self) -> int:
        return self._size

    @property
    def compact_range(self) -> tuple[bytes, ...]:
        return tuple(self._range)

    def root(self) -> bytes:
        return root_from_range(self._range)

    def append(self, leaf_hashes: Iterable[bytes]) -> AppendResult:
        """Append leaf hashes in order (all or none); return new nodes, size and root."""
        batch = list(leaf_hashes)
        if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in batch):
            raise ValueError("leaf hashes must be 32 bytes")
        sha256 = _sha256
        stack = self._range
        size = self._size
        nodes: list[NodeEntry] = []
        emit = nodes.append
        for h in batch:
            emit((0, size, h))
            index = size
            level = 0
            # Each trailing 1 bit of the index is a left sibling waiting on the stack.
            while index & 1:
                h = sha256(b"\x01" + stack.pop() + h).digest()
                index >>= 1
                level += 1
                emit((level, index, h))
            stack.append(h)
            size += 1
        self._size = size
        return AppendResult(size=size, root=root_from_range(stack), nodes=nodes)


class InMemoryNodeStore:
    """A :class:`NodeReader` keeping every complete node in memory, level by level."""

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []

    @property
    def size(self) -> int:
        return len(self._levels[0]) if self._levels else 0

    def put(self, nodes: Iterable[NodeEntry]) -> None:
        """Store nodes; each level must grow without gaps, rewrites must match."""
        levels = self._levels
        for level, index, h in nodes:
            if level < 0 or index < 0:
                raise ValueError(f"node ({level}, {index}) has a negative coordinate")
            while len(levels) <= level:
                levels.append([])
            row = levels[level]
            if index == len(row):
                row.append(h)
            elif index > len(row):
                raise ValueError(f"node ({level}, {index}) leaves a gap")
            elif row[index] != h:
                raise ValueError(f"node ({level}, {index}) already holds another hash")

    def nodes(self) -> Iterator[NodeEntry]:
        """Every stored node, level by level, left to right."""
        for level, row in enumerate(self._levels):
            for index, h in enumerate(row):
                yield level, index, h

    def get_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        levels = self._levels
        out = []
        for level, index in coords:
            if not (0 <= level < len(levels) and 0 <= index < len(levels[level])):
                raise KeyError(f"node ({level}, {index}) is not stored")
            out.append(levels[level][index])
        return out


def is_complete(coord: Coord, size: int) -> bool:
    """Whether subtree ``(level, index)`` is complete in a tree of ``size`` leaves."""
    level, index = coord
    return level >= 0 and index >= 0 and (index + 1) << level <= size


class NodeCache:
    """Complete-subtree hashes kept in memory, the least recently used dropped first.

    A complete subtree never changes once a log holds it, so a hash read for one tree
    size is right for every larger tree. :meth:`reader` serves and remembers only the
    nodes complete in the tree it reads, never a node of an incomplete subtree.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._hashes: Lru[Coord, bytes] = Lru(capacity)

    def __len__(self) -> int:
        return len(self._hashes)

    def put(self, nodes: Iterable[NodeEntry]) -> None:
        """Remember nodes known complete and durable (as a sequencer has just written)."""
        for level, index, h in nodes:
            self._hashes.put((level, index), h)

    def reader(self, backing: NodeReader, size: int) -> NodeReader:
        """A reader for the tree of ``size`` leaves: cached nodes, the rest in one
        batch from ``backing``."""
        return _CachedNodeReader(self, backing, size)

    def _get(self, coords: Sequence[Coord], size: int) -> list[bytes | None]:
        return [self._hashes.get(c) if is_complete(c, size) else None for c in coords]


class _CachedNodeReader:
    def __init__(self, cache: NodeCache, backing: NodeReader, size: int) -> None:
        self.cache, self.backing, self.size = cache, backing, size

    def get_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        found = self.cache._get(coords, self.size)
        missing = [c for c, h in zip(coords, found, strict=True) if h is None]
        if not missing:
            return [h for h in found if h is not None]
        read = _read(self.backing, missing)
        self.cache.put(
            (lv, ix, h)
            for (lv, ix), h in zip(missing, read, strict=True)
            if is_complete((lv, ix), self.size)
        )
        fetched = iter(read)
        return [h if h is not None else next(fetched) for h in found]


def _read(reader: NodeReader, coords: Sequence[Coord]) -> list[bytes]:
    if not coords:
        return []
    hashes = list(reader.get_nodes(coords))
    if len(hashes) != len(coords):
        raise ValueError(f"reader returned {len(hashes)} hashes for {len(coords)} nodes")
    return hashes


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_coords(lo: int, hi: int) -> list[Coord]:
    """Complete subtrees tiling ``[lo, hi)``, where ``lo`` is aligned as in RFC 6962."""
    coords: list[Coord] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        coords.append((level, lo >> level))
        lo += 1 << level
    return coords


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes form PATH(index, D[0:size]), bottom up."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes form PROOF(old_size, D[0:new_size]), in order."""
    ranges: list[tuple[int, int]] = []
    lo, hi, m, whole_old_tree = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _proof_from_ranges(ranges: list[tuple[int, int]], reader: NodeReader) -> list[bytes]:
    plans = [_range_coords(lo, hi) for lo, hi in ranges]
    hashes = _read(reader, [c for plan in plans for c in plan])
    proof: list[bytes] = []
    pos = 0
    for plan in plans:
        proof.append(root_from_range(hashes[pos : pos + len(plan)]))
        pos += len(plan)
    return proof


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of ``size`` leaves (one batched read)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _proof_from_ranges(_inclusion_ranges(index, size), reader)


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    """Proof that the first ``old_size`` leaves are a prefix of ``new_size`` leaves."""
    if not 0 <= old_size <= new_size or (old_size == 0 < new_size):
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size == new_size:
        return []
    return _proof_from_ranges(_consistency_ranges(old_size, new_size), reader)


def _check_hashes(proof: Sequence[bytes], expected_len: int) -> None:
    if len(proof) != expected_len:
        raise VerificationError(
            Code.LOG_PROOF_MALFORMED, f"proof has {len(proof)} hashes, expected {expected_len}"
        )
    if any(not isinstance(p, bytes) or len(p) != HASH_SIZE for p in proof):
        raise VerificationError(Code.LOG_PROOF_MALFORMED, "proof hashes must be 32 bytes")


def _path_shape(index: int, size: int) -> tuple[int, int]:
    """(inner, border): path hashes below the right-edge fork, and left-border hashes."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Root implied by an audit path (RFC 9162 2.1.3.2), after checking its shape."""
    # (1) the index must lie inside the tree
    if not 0 <= index < size:
        raise VerificationError(
            Code.LOG_INCLUSION_INDEX_OUT_OF_RANGE, f"leaf index {index} not in tree of size {size}"
        )
    # (2) the path length is fixed by index and size
    if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
        raise VerificationError(Code.LOG_PROOF_MALFORMED, "leaf hash must be 32 bytes")
    inner, border = _path_shape(index, size)
    _check_hashes(proof, inner + border)
    # (3) hash up to the fork with the right edge, then fold in the left border
    r = leaf_hash
    for i in range(inner):
        r = node_hash(proof[i], r) if index >> i & 1 else node_hash(r, proof[i])
    for p in proof[inner:]:
        r = node_hash(p, r)
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`VerificationError` unless ``proof`` puts the leaf under ``root``."""
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    # (4) the computed root must be the expected one
    if not hmac.compare_digest(computed, root):
        raise VerificationError(Code.LOG_INCLUSION_INVALID, "inclusion proof does not match root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`VerificationError` unless the trees are consistent (RFC 9162 2.1.4.2)."""
    # (1) sizes: equal trees need no proof; otherwise 0 < old_size < new_size
    if old_size < 0 or old_size > new_size:
        raise VerificationError(
            Code.LOG_CONSISTENCY_SIZE_OUT_OF_RANGE, f"old size {old_size} > new size {new_size}"
        )
    if old_size == new_size:
        _check_hashes(proof, 0)
        if not hmac.compare_digest(old_root, new_root) or (
            old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT)
        ):
            raise VerificationError(Code.LOG_CONSISTENCY_INVALID, "roots of equal trees differ")
        return
    if old_size == 0:
        raise VerificationError(
            Code.LOG_CONSISTENCY_SIZE_OUT_OF_RANGE, "no consistency proof from the empty tree"
        )
    # (2) shape: the old tree's last complete subtree, seen at its own level, is
    # included in the new tree; a power-of-two old tree is that subtree itself.
    shift = (old_size & -old_size).bit_length() - 1
    seed_index = (old_size - 1) >> shift
    inner, border = _path_shape(seed_index, ((new_size - 1) >> shift) + 1)
    old_is_perfect = old_size == 1 << shift
    _check_hashes(proof, inner + border + (0 if old_is_perfect else 1))
    rest = proof if old_is_perfect else proof[1:]
    # (3) rebuild both roots; right siblings only belong to the new tree
    old_r = new_r = old_root if old_is_perfect else proof[0]
    for i in range(inner):
        if seed_index >> i & 1:
            old_r = node_hash(rest[i], old_r)
            new_r = node_hash(rest[i], new_r)
        else:
            new_r = node_hash(new_r, rest[i])
    for p in rest[inner:]:
        old_r = node_hash(p, old_r)
        new_r = node_hash(p, new_r)
    # (4) both must match the claimed roots
    if not hmac.compare_digest(old_r, old_root):
        raise VerificationError(Code.LOG_CONSISTENCY_INVALID, "proof does not match the old root")
    if not hmac.compare_digest(new_r, new_root):
        raise VerificationError(Code.LOG_CONSISTENCY_INVALID, "proof does not match the new root")
