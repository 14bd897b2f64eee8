"""Campaign observation in batches: signatures made for a whole batch with numpy equal the
per-item datasketch ones, and observing a batch equals observing its items one by one."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import campaign
from detectors.campaign import (
    CampaignEvidence,
    CampaignIndex,
    InMemoryCampaignStorage,
    StoredItem,
    minhash_of,
    minhash_signatures,
    shingles,
)
from detectors.normalize import normalize_text
from tests.detectors.conftest import CAMPAIGN, UNRELATED
from tests.support.signatures import with_agreement

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def per_item(sets: list[set[bytes]], num_perm: int = 128) -> np.ndarray:
    rows = [minhash_of(s, num_perm).hashvalues.astype(np.uint64) for s in sets]
    return np.array(rows, dtype=np.uint64).reshape(len(sets), num_perm)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.binary(min_size=1, max_size=12), max_size=80), max_size=10),
    st.sampled_from([64, 128]),
)
def test_batch_signatures_equal_per_item_minhash(sets: list[set[bytes]], num_perm: int) -> None:
    batch = minhash_signatures(sets, num_perm)
    assert batch.dtype == np.uint64 and batch.shape == (len(sets), num_perm)
    assert np.array_equal(batch, per_item(sets, num_perm))


def test_batch_signatures_split_into_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches larger than one permuted array are split between sets, never inside one."""
    monkeypatch.setattr(campaign, "_SIGNATURE_SHINGLES", 50)
    rng = random.Random(3)
    sizes = [0, 30, 30, 0, 120, 5, 49, 50, 51, 0]
    sets = [{rng.randbytes(5) for _ in range(n)} for n in sizes]
    assert np.array_equal(minhash_signatures(sets), per_item(sets))


def test_signatures_and_band_keys_match_stored_ones() -> None:
    """Redis indexes hold signatures and band keys made by earlier versions: same values."""
    signature = minhash_signatures([shingles(CAMPAIGN[0])])[0]
    assert (
        hashlib.sha256(signature.tobytes()).hexdigest()
        == "6b4100d8c0c945eef7320b74f1ac382da16c1f2c435e9fbda13459f0e0f75823"
    )
    bands = CampaignIndex(InMemoryCampaignStorage())._band_keys(signature[None, :])[0]
    assert bands[:2] == ("0:3b1da5daa81acd3e", "1:95b513ba747176cd")
    assert len(bands) == 32


@pytest.mark.parametrize(
    "text",
    [
        "Ｆｕｌｌ ｗｉｄｔｈ café crème 😀 and more words",
        "plain ascii words, well past five characters",
        "abc",
    ],
)
def test_shingles_are_utf8_character_shingles(text: str) -> None:
    folded = campaign.fold_normalized(normalize_text(text))
    expected = {folded[i : i + 5].encode("utf-8") for i in range(len(folded) - 4)}
    assert shingles(text) == expected


def reference_observe(index: CampaignIndex, item_id: str, text: str, now: datetime) -> tuple:
    """The per-item path as it was before batching: one datasketch MinHash per text and
    candidates compared one at a time."""
    storage = index.storage
    seen_at = now.timestamp()
    known = storage.get_item(item_id)
    if known is not None:
        return evidence(index, known.cluster_id, *storage.cluster_info(known.cluster_id))
    folded = campaign._fold(text)
    exact_key = hashlib.sha256(folded.encode("utf-8")).hexdigest()
    own_cluster = "cmp-" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16]
    sh = shingles(text)
    signature = None
    cluster = None
    bands: list[str] = []
    if len(sh) >= index.min_shingles:
        signature = minhash_of(sh, index.num_perm).hashvalues.astype(np.uint64)
        for b in range(index.bands):
            chunk = signature[b * index.rows : (b + 1) * index.rows].tobytes()
            bands.append(f"{b}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
        candidates: set[str] = set()
        for band in bands:
            candidates.update(storage.band_members(band))
        best = None
        for cand in sorted(candidates)[: index.max_candidates]:
            stored = storage.get_item(cand)
            if stored is None or stored.signature is None:
                continue
            similarity = float(np.mean(np.frombuffer(stored.signature, np.uint64) == signature))
            if similarity >= index.threshold and (best is None or similarity > best[0]):
                best = (similarity, stored.cluster_id)
        cluster = best[1] if best else None
    cluster = storage.claim_exact(exact_key, cluster or own_cluster)
    storage.put_item(
        item_id, StoredItem(cluster, None if signature is None else signature.tobytes())
    )
    for band in bands:
        storage.add_to_band(band, item_id)
    return evidence(index, cluster, *storage.add_member(cluster, item_id, seen_at))


def evidence(index: CampaignIndex, cluster: str, size: int, first: float | None) -> tuple:
    return tuple(vars(index._evidence(cluster, size, first)).values())


def stream(n: int) -> list[tuple[str, str, datetime]]:
    """Rewritten campaign copies, unrelated and short texts, repeated ids, mixed clocks."""
    rng = random.Random(7)
    texts = [*CAMPAIGN, *UNRELATED, "short one", "Short one!", "x" * 30]
    items = []
    for k in range(n):
        words = rng.choice(texts).split()
        if rng.random() < 0.6:
            words[rng.randrange(len(words))] = rng.choice(["foo", "bar", "!!", "channel"])
        item_id = f"i{rng.randrange(n)}"
        items.append((item_id, " ".join(words), T0 + timedelta(seconds=rng.randrange(600))))
    return items


@pytest.mark.parametrize("max_candidates", [200, 3])
def test_batches_observe_like_the_per_item_path(max_candidates: int) -> None:
    items = stream(300)
    reference = CampaignIndex(InMemoryCampaignStorage(), max_candidates=max_candidates)
    expected = [reference_observe(reference, i, t, now) for i, t, now in items]
    index = CampaignIndex(InMemoryCampaignStorage(), max_candidates=max_candidates)
    got = []
    for start in range(0, len(items), 64):
        chunk = items[start : start + 64]
        observations = index.prepare([(i, t) for i, t, _ in chunk])
        got += [
            tuple(vars(index.record(o, now=now)).values())
            for o, (_, _, now) in zip(observations, chunk, strict=True)
        ]
    assert got == expected
    assert sum(1 for e in got if e[0]) > 100  # campaigns did form
    ref_storage, storage = reference.storage, index.storage
    assert isinstance(ref_storage, InMemoryCampaignStorage)
    assert isinstance(storage, InMemoryCampaignStorage)
    assert storage._items == ref_storage._items
    assert storage._bands == ref_storage._bands
    assert storage._exact == ref_storage._exact
    assert storage._members == ref_storage._members


def test_observe_many_equals_observe_one_by_one() -> None:
    items = [(i, t) for i, t, _ in stream(120)]
    one_by_one = CampaignIndex(InMemoryCampaignStorage())
    batch = CampaignIndex(InMemoryCampaignStorage())
    expected = [one_by_one.observe(i, t, now=T0) for i, t in items]
    normalized = [normalize_text(t) for _, t in items]
    got = batch.observe_many(items[:50], now=T0) + batch.observe_many(
        items[50:], now=T0, normalized=normalized[50:]
    )
    assert got == expected
    assert all(isinstance(e, CampaignEvidence) for e in got)


def test_normalized_texts_must_match_items() -> None:
    index = CampaignIndex(InMemoryCampaignStorage())
    with pytest.raises(ValueError):
        index.prepare([("a", CAMPAIGN[0]), ("b", CAMPAIGN[1])], normalized=[CAMPAIGN[0]])


@pytest.mark.parametrize(
    ("stored", "max_candidates", "joins"),
    [
        ({"a": 0.6, "b": 0.9}, 200, "B"),  # the most similar wins
        ({"a": 0.75, "b": 0.75}, 200, "A"),  # a tie goes to the first id
        ({"b": 0.75, "a": 0.75}, 200, "A"),  # whatever order they were stored in
        ({"a": 0.6, "b": 1.0}, 1, "A"),  # only the first max_candidates ids are compared
        ({"a": 0.4, "b": 0.45}, 200, None),  # none reaches the threshold
        ({"a": 0.5}, 200, "A"),  # the threshold itself is enough
    ],
)
def test_near_match_choice(
    stored: dict[str, float], max_candidates: int, joins: str | None
) -> None:
    storage = InMemoryCampaignStorage()
    index = CampaignIndex(storage, max_candidates=max_candidates)
    signature = minhash_signatures([shingles(CAMPAIGN[0])])[0]
    bands = index._band_keys(signature[None, :])[0]
    for item_id, share in stored.items():
        storage.put_item(item_id, StoredItem(item_id.upper(), with_agreement(signature, share)))
        storage.add_member(item_id.upper(), item_id, 0.0)
        storage.add_to_band(bands[0], item_id)
    observation = campaign.Observation("new", "exact-key", signature, bands)
    result = index.record(observation, now=T0)
    assert result.campaign_id == joins
    assert storage.get_item("new") == StoredItem(
        joins or result_cluster("new"), signature.tobytes()
    )


def result_cluster(item_id: str) -> str:
    return "cmp-" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16]
