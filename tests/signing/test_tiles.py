"""C2SP tlog-tiles in the core: paths, which tiles a tree has, entry bundles, and the
root rebuilt from tiles alone (RFC 6962 trees built here from the leaves)."""

from __future__ import annotations

import hashlib

import pytest

from signing.errors import MalformedContent, VerificationError
from signing.merkle import leaf_hash, root_from_range
from signing.tiles import (
    TILE_PATH,
    Tile,
    encode_index,
    entry_bundle,
    parse_entry_bundle,
    root_from_tiles,
    tiles_for,
)


def rfc6962_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


def build(entries: list[bytes]) -> dict[str, bytes]:
    """The tiles of a log of ``entries``, computed naively from the spec."""
    files: dict[str, bytes] = {}
    level_hashes = [leaf_hash(e) for e in entries]
    level = 0
    while level_hashes:
        for tile in [t for t in tiles_for(len(entries)) if t.level == level]:
            start = tile.index * 256
            files[tile.path] = b"".join(level_hashes[start : start + tile.width])
            if level == 0:
                files[Tile(None, tile.index, tile.width).path] = entry_bundle(
                    entries[start : start + tile.width]
                )
        # the next tile level: roots of each complete group of 256
        level_hashes = [
            rfc6962_root(level_hashes[i : i + 256]) for i in range(0, len(level_hashes) - 255, 256)
        ]
        level += 1
    return files


def test_paths_follow_the_spec() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(1000) == "x001/000"
    assert Tile(0, 1234067).path == "tile/0/x001/x234/067"
    assert Tile(1, 3, 17).path == "tile/1/003.p/17"
    assert Tile(None, 0, 5).path == "tile/entries/000.p/5"
    for good in ("tile/0/000", "tile/2/x001/x234/067.p/255", "tile/entries/001"):
        assert TILE_PATH.match(good), good
    for bad in ("tile/0/1", "tile/../etc", "tile/0/000.p/", "checkpoint", "tile/0/x01/000"):
        assert not TILE_PATH.match(bad), bad


def test_which_tiles_a_tree_has() -> None:
    assert tiles_for(0) == []
    assert tiles_for(1) == [Tile(0, 0, 1), Tile(None, 0, 1)]
    assert [t.path for t in tiles_for(256)] == ["tile/0/000", "tile/entries/000", "tile/1/000.p/1"]
    sizes = {t.path for t in tiles_for(70_000)}
    assert "tile/0/273.p/112" in sizes and "tile/1/001.p/17" in sizes and "tile/2/000.p/1" in sizes
    # growing from 300 to 600: level 0's tile 1 (full now) and the new partial; what a
    # tree of 300 had whole (tile 0) is not written again
    grown = {t.path for t in tiles_for(600, since=300)}
    assert grown == {
        "tile/0/001",
        "tile/entries/001",
        "tile/0/002.p/88",
        "tile/entries/002.p/88",
        "tile/1/000.p/2",
    }


def test_entry_bundles_round_trip_and_refuse_cut_ones() -> None:
    entries = [b"", b"a", bytes(range(256)) * 3]
    data = entry_bundle(entries)
    assert parse_entry_bundle(data) == entries
    for cut in (data[:1], data[:-1]):
        with pytest.raises(MalformedContent):
            parse_entry_bundle(cut)
    with pytest.raises(ValueError):
        entry_bundle([b"x" * 70_000])


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 4_099, 66_000])
def test_root_from_tiles_is_the_tree_s(size: int) -> None:
    entries = [f"entry {i}".encode() for i in range(size)]
    files = build(entries)
    root, checked = root_from_tiles(size, files.__getitem__)
    assert root == rfc6962_root([leaf_hash(e) for e in entries])
    assert root == root_from_range([rfc6962_root([leaf_hash(e) for e in entries])])
    assert checked == size


def test_tiles_that_disagree_are_caught() -> None:
    entries = [f"entry {i}".encode() for i in range(600)]
    files = build(entries)
    changed = dict(files)
    changed["tile/entries/001"] = entry_bundle([b"forged", *entries[257:512]])
    with pytest.raises(VerificationError) as err:
        root_from_tiles(600, changed.__getitem__)
    assert err.value.code == "tiles.entry.mismatch"
    level1 = dict(files)
    level1["tile/1/000.p/2"] = bytes(32) + files["tile/1/000.p/2"][32:]
    with pytest.raises(VerificationError) as err:
        root_from_tiles(600, level1.__getitem__)
    assert err.value.code == "tiles.level.mismatch"
    short = dict(files)
    short["tile/0/000"] = files["tile/0/000"][:-32]
    with pytest.raises(VerificationError) as err:
        root_from_tiles(600, short.__getitem__)
    assert err.value.code == "tiles.tile.malformed"
