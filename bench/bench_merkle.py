"""Benchmark: the Merkle log at a million leaves, against plain hashlib in the same run.

    .venv/bin/python bench/bench_merkle.py [--leaves 1000000] [--proofs 1000] [--batch 1024]

Appends leaf hashes through TreeAppender into an InMemoryNodeStore (leaves/s), then
generates and verifies inclusion and consistency proofs at the final size (mean
microseconds over random indexes). Baselines: one SHA-256 per leaf over a node-sized
input (the hashing a tree cannot avoid), and a raw batched read of the nodes a proof
needs. Prints figures and ratios.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signing.merkle import (
    InMemoryNodeStore,
    TreeAppender,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)


class Recorder:
    """Passes reads through to a store and remembers the last request."""

    def __init__(self, store: InMemoryNodeStore) -> None:
        self.store, self.coords = store, []

    def get_nodes(self, coords):
        self.coords = list(coords)
        return self.store.get_nodes(coords)


def mean_us(fn, args: list[tuple]) -> float:
    t0 = time.perf_counter()
    for a in args:
        fn(*a)
    return (time.perf_counter() - t0) / len(args) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1024)
    args = parser.parse_args()
    n, rng = args.leaves, random.Random(6962)

    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    gc.collect()

    # Baseline: one SHA-256 per leaf over a 65-byte node input, hashlib alone.
    sha256 = hashlib.sha256
    t0 = time.perf_counter()
    for h in leaves:
        sha256(b"\x01" + h + h).digest()
    base_s = time.perf_counter() - t0

    # TreeAppender alone, then TreeAppender feeding the node store.
    appender = TreeAppender()
    t0 = time.perf_counter()
    for lo in range(0, n, args.batch):
        appender.append(leaves[lo : lo + args.batch])
    append_s = time.perf_counter() - t0

    store, appender = InMemoryNodeStore(), TreeAppender()
    t0 = time.perf_counter()
    for lo in range(0, n, args.batch):
        store.put(appender.append(leaves[lo : lo + args.batch]).nodes)
    stored_s = time.perf_counter() - t0
    root = appender.root()
    assert tree_root(n, store) == root

    print(f"append {n:,} leaves (batches of {args.batch})")
    print(f"  hashlib baseline        {n / base_s:12,.0f} leaves/s")
    print(f"  TreeAppender            {n / append_s:12,.0f} leaves/s   x{append_s / base_s:.2f}")
    print(f"  TreeAppender + store    {n / stored_s:12,.0f} leaves/s   x{stored_s / base_s:.2f}")

    # Proofs at the full size over random indexes.
    indexes = [rng.randrange(n) for _ in range(args.proofs)]
    inc_args = [(i, n, store) for i in indexes]
    recorder = Recorder(store)
    proofs, coords = [], []
    for i in indexes:
        proofs.append(inclusion_proof(i, n, recorder))
        coords.append(recorder.coords)
    path_len = sum(len(p) for p in proofs) / len(proofs)

    read_us = mean_us(store.get_nodes, [(c,) for c in coords])
    hash_args = [(b"\x01" + leaves[i] + leaves[i],) for i in indexes]
    sha_us = mean_us(lambda d: [sha256(d).digest() for _ in range(round(path_len))], hash_args)
    gen_us = mean_us(inclusion_proof, inc_args)
    ver_us = mean_us(
        verify_inclusion, [(leaves[i], i, n, p, root) for i, p in zip(indexes, proofs, strict=True)]
    )
    olds = [rng.randrange(1, n) for _ in range(args.proofs)]
    cons_us = mean_us(consistency_proof, [(m, n, store) for m in olds])

    print(f"inclusion proofs at size {n:,}, mean over {args.proofs} random indexes")
    print(f"  mean path length        {path_len:12.1f} hashes, one batched read each")
    print(f"  raw batched node read   {read_us:12.2f} us")
    print(f"  {round(path_len)} x SHA-256 baseline   {sha_us:12.2f} us")
    print(
        f"  inclusion_proof         {gen_us:12.2f} us   x{gen_us / read_us:.2f} read"
        f"   x{gen_us / sha_us:.2f} hashing"
    )
    print(f"  verify_inclusion        {ver_us:12.2f} us   x{ver_us / sha_us:.2f} hashing")
    print(f"  consistency_proof       {cons_us:12.2f} us   x{cons_us / read_us:.2f} read")
    m = olds[0]
    verify_consistency(m, n, tree_root(m, store), root, consistency_proof(m, n, store))


if __name__ == "__main__":
    main()
