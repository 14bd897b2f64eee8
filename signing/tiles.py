"""The log as C2SP ``tlog-tiles``: static files anyone can mirror and verify.

A tiled log is served as ``checkpoint`` (the signed note), hash tiles
``tile/<L>/<N>[.p/<W>]`` and entry bundles ``tile/entries/<N>[.p/<W>]``. Tiles are 8
levels of the tree high, so a full tile holds 256 hashes: the tile at level ``L`` and
index ``N`` holds the hashes of the tree nodes at height ``8 * L`` numbered
``256 * N`` to ``256 * N + 255`` (each 32 bytes, in order); a partial tile holds the first
``W`` of them, the ones a tree of the checkpoint's size has complete. An entry bundle
holds the leaf data of the same 256 entries as level 0's tile, each as a big-endian
16-bit length and its bytes. ``N`` is written in groups of three digits, each but the
last with an ``x`` prefix (``x001/x234/067``). A full tile never changes; a partial one
of a given width never changes either.

Here: the paths, the entry bundle format, the tiles a tree of a given size has, and a
verifier that rebuilds a checkpoint's root from tiles alone (and checks every entry
against its leaf hash), with the tile reading injected (files, HTTP, a mirror).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from signing.errors import MalformedContent, VerificationError
from signing.merkle import compact_range_coords, leaf_hash, node_hash, root_from_range

__all__ = [
    "HEIGHT",
    "TILE_PATH",
    "WIDTH",
    "Tile",
    "entry_bundle",
    "parse_entry_bundle",
    "root_from_tiles",
    "tiles_for",
]

HEIGHT = 8
WIDTH = 1 << HEIGHT
HASH = 32
MAX_ENTRY = 0xFFFF
#: Every path a tiled log serves below its prefix, and nothing else.
TILE_PATH = re.compile(r"^tile/(?:\d{1,2}|entries)/(?:x\d{3}/)*\d{3}(?:\.p/\d{1,3})?$")


@dataclass(frozen=True, order=True)
class Tile:
    """A hash tile (``level`` >= 0) or an entry bundle (``level`` None)."""

    level: int | None
    index: int
    width: int = WIDTH

    @property
    def full(self) -> bool:
        return self.width == WIDTH

    @property
    def path(self) -> str:
        kind = "entries" if self.level is None else str(self.level)
        partial = "" if self.full else f".p/{self.width}"
        return f"tile/{kind}/{encode_index(self.index)}{partial}"


def encode_index(n: int) -> str:
    """``1234067`` -> ``x001/x234/067``."""
    if n < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def tiles_for(size: int, *, since: int = 0) -> list[Tile]:
    """The tiles of a tree of ``size`` leaves that a tree of ``since`` leaves did not
    have: every level's new full tiles and its partial right edge, and the entry
    bundles alike."""
    if not 0 <= since <= size:
        raise ValueError("sizes out of order")
    out: list[Tile] = []
    level = 0
    while size >> (HEIGHT * level) >= 1:
        count, before = size >> (HEIGHT * level), since >> (HEIGHT * level)
        first = before // WIDTH
        for index in range(first, -(-count // WIDTH)):
            width = min(WIDTH, count - index * WIDTH)
            if index * WIDTH + width > before:  # not a tile the smaller tree had whole
                out.append(Tile(level, index, width))
                if level == 0:
                    out.append(Tile(None, index, width))
        level += 1
    return out


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    if not 0 < len(entries) <= WIDTH:
        raise ValueError("an entry bundle holds 1 to 256 entries")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise ValueError("an entry is at most 65,535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise MalformedContent("entry bundle cut inside a length")
        n = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + n > len(data):
            raise MalformedContent("entry bundle cut inside an entry")
        entries.append(data[at + 2 : at + 2 + n])
        at += 2 + n
    return entries


def _hashes(data: bytes, width: int, path: str) -> list[bytes]:
    if len(data) != width * HASH:
        raise VerificationError(
            "tiles.tile.malformed", f"{path}: {len(data)} bytes, not {width} hashes"
        )
    return [data[i : i + HASH] for i in range(0, len(data), HASH)]


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root of 256 sibling subtrees (a full tile), as the tree above them has it."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def root_from_tiles(size: int, read: Callable[[str], bytes]) -> tuple[bytes, int]:
    """The root of a tree of ``size`` leaves rebuilt from its tiles (``read(path)`` ->
    bytes), after checking that every entry hashes to its leaf and that each full tile's
    hashes fold into the hash one level up. Returns the root and the entries checked.
    Raises VerificationError (``tiles.*``) for tiles that disagree."""
    nodes: dict[tuple[int, int], bytes] = {}
    checked = 0
    for tile in tiles_for(size):
        data = read(tile.path)
        if tile.level is None:
            entries = parse_entry_bundle(data)
            if len(entries) != tile.width:
                raise VerificationError(
                    "tiles.entries.malformed", f"{tile.path}: {len(entries)} entries"
                )
            leaves = _hashes(read(Tile(0, tile.index, tile.width).path), tile.width, tile.path)
            for k, entry in enumerate(entries):
                if leaf_hash(entry) != leaves[k]:
                    index = tile.index * WIDTH + k
                    raise VerificationError(
                        "tiles.entry.mismatch", f"entry {index} does not hash to its leaf"
                    )
            checked += len(entries)
            continue
        hashes = _hashes(data, tile.width, tile.path)
        height = HEIGHT * tile.level
        for k, h in enumerate(hashes):
            if nodes.setdefault((height, tile.index * WIDTH + k), h) != h:
                raise VerificationError(
                    "tiles.level.mismatch", f"{tile.path} disagrees with the level below"
                )
        if tile.full:
            parent = (height + HEIGHT, tile.index)
            folded = _fold(hashes)
            if nodes.setdefault(parent, folded) != folded:
                raise VerificationError(
                    "tiles.level.mismatch", f"{tile.path} does not fold into the level above"
                )
    # the checkpoint's root from the compact range of complete subtrees: each comes from
    # the lowest tile level that holds it, folded up from there
    coords = compact_range_coords(size)
    return root_from_range([_subtree(nodes, level, index) for level, index in coords]), checked


def _subtree(nodes: dict[tuple[int, int], bytes], level: int, index: int) -> bytes:
    if (level, index) in nodes:
        return nodes[(level, index)]
    below = (level // HEIGHT) * HEIGHT
    span = 1 << (level - below)
    hashes = [nodes.get((below, index * span + k)) for k in range(span)]
    if any(h is None for h in hashes):
        raise VerificationError("tiles.tile.missing", f"no tile holds node {level}/{index}")
    return _fold([h for h in hashes if h is not None])


def iter_paths(size: int) -> Iterator[str]:
    """Every tile path of a tree of ``size`` leaves (what a mirror fetches)."""
    for tile in tiles_for(size):
        yield tile.path
