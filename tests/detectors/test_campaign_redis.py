from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from app.state.campaign_store import RedisCampaignStorage
from detectors.campaign import (
    CANDIDATE_GROUP,
    CampaignIndex,
    InMemoryCampaignStorage,
    Observation,
    StoredItem,
    minhash_signatures,
    shingles,
)
from tests.detectors.conftest import CAMPAIGN, UNRELATED
from tests.support.signatures import with_agreement

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_prefix() -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379: {e}")
    prefix = f"trustseal-test-{secrets.token_hex(6)}:"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_redis_and_memory_storages_agree(redis_prefix: tuple[redis.Redis, str]) -> None:
    client, prefix = redis_prefix
    memory = CampaignIndex(InMemoryCampaignStorage())
    shared = CampaignIndex(RedisCampaignStorage(client, prefix))
    stream = [*CAMPAIGN, *UNRELATED, CAMPAIGN[0], "short one", "Short one!", CAMPAIGN[2]]
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    for i, text in enumerate(stream):
        now = t0 + timedelta(seconds=i)
        assert memory.observe(f"i{i}", text, now=now) == shared.observe(f"i{i}", text, now=now)
    assert shared.observe("i1", CAMPAIGN[1]).size == len(CAMPAIGN) + 2
    assert any(client.scan_iter(match=prefix + "*"))


def test_two_workers_share_one_redis_index(redis_prefix: tuple[redis.Redis, str]) -> None:
    client, prefix = redis_prefix
    worker_a = CampaignIndex(RedisCampaignStorage(client, prefix))
    worker_b = CampaignIndex(RedisCampaignStorage(client, prefix))
    first = worker_a.observe("a", CAMPAIGN[0])
    second = worker_b.observe("b", CAMPAIGN[1])
    assert first.campaign_id is None
    assert second.campaign_id is not None and second.size == 2


def test_prefix_required() -> None:
    with pytest.raises(ValueError):
        RedisCampaignStorage(redis.Redis(), "")


def test_batches_on_redis_match_items_in_memory(redis_prefix: tuple[redis.Redis, str]) -> None:
    client, prefix = redis_prefix
    memory = CampaignIndex(InMemoryCampaignStorage())
    shared = CampaignIndex(RedisCampaignStorage(client, prefix))
    stream = [*CAMPAIGN, *UNRELATED, CAMPAIGN[0], "short one", "Short one!", CAMPAIGN[2]]
    items = [(f"i{i}", text) for i, text in enumerate(stream)] + [("i1", CAMPAIGN[3])]
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    expected = [memory.observe(item_id, text, now=t0) for item_id, text in items]
    got = shared.observe_many(items[:5], now=t0) + shared.observe_many(items[5:], now=t0)
    assert got == expected
    assert got[-1].size == len(CAMPAIGN) + 2


class CountingRedis:
    """A Redis client that counts its round trips (a pipeline's execute is one)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.round_trips = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        pipe = self.client.pipeline(*args, **kwargs)
        execute = pipe.execute

        def counted() -> Any:
            self.round_trips += 1
            return execute()

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.round_trips += 1
            return method(*args, **kwargs)

        return counted


def test_a_big_campaign_costs_a_few_round_trips_per_item(
    redis_prefix: tuple[redis.Redis, str],
) -> None:
    client, prefix = redis_prefix
    counting = CountingRedis(client)
    shared = CampaignIndex(RedisCampaignStorage(counting, prefix), max_candidates=20)
    memory = CampaignIndex(InMemoryCampaignStorage(), max_candidates=20)
    base = CAMPAIGN[0]
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    items = [(f"c{i:04d}", f"{base} (copy {i})") for i in range(300)]
    assert shared.observe_many(items, now=t0) == memory.observe_many(items, now=t0)
    counting.round_trips = 0
    evidence = shared.observe("late", f"{base} (one more copy)", now=t0)
    assert evidence == memory.observe("late", f"{base} (one more copy)", now=t0)
    assert evidence.size == 301
    # what is known, the first candidates' signatures, the claim, the writes
    assert counting.round_trips == 4
    # a batch costs the same four, however many items it holds
    counting.round_trips = 0
    batch = [(f"d{i:04d}", f"{base} (batch copy {i})") for i in range(16)]
    assert shared.observe_many(batch, now=t0) == memory.observe_many(batch, now=t0)
    assert counting.round_trips == 4
    # each band is read only as far as the candidates need
    storage = RedisCampaignStorage(client, prefix)
    bands = shared.prepare([("late", f"{base} (one more copy)")])[0].bands
    biggest = max(bands, key=lambda b: len(storage.band_members(b)))
    assert len(storage.band_members(biggest)) > 20
    assert storage.band_candidates([biggest], 20) == storage.band_members(biggest)[:20]


@settings(max_examples=60, deadline=None)
@given(
    bands=st.lists(
        st.lists(st.text(alphabet="abcé0-", min_size=1, max_size=4), max_size=12),
        min_size=1,
        max_size=5,
    ),
    limit=st.integers(min_value=1, max_value=15),
)
def test_band_candidates_are_the_smallest_ids_of_the_union(
    bands: list[list[str]], limit: int
) -> None:
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    prefix = f"trustseal-test-{secrets.token_hex(6)}:"
    stores = [InMemoryCampaignStorage(), RedisCampaignStorage(client, prefix)]
    try:
        names = [f"{b}:band" for b in range(len(bands))]
        for name, members in zip(names, bands, strict=True):
            for store in stores:
                for item_id in members:
                    store.add_to_band(name, item_id)
        expected = sorted({m for members in bands for m in members})[:limit]
        for store in stores:
            assert store.band_candidates(names, limit) == expected
            assert store.band_members(names[0]) == sorted(set(bands[0]))
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.parametrize(
    ("shares", "joins"),
    [
        ({"c00": 0.6, "c19": 1.0}, "C00"),  # the first group with a match decides
        ({"c03": 0.6, "c09": 0.9}, "C09"),  # the most similar of that group
        ({"c17": 0.7, "c18": 0.9}, "C18"),  # the second group, when the first has none
        ({"c20": 0.4}, None),  # none anywhere
    ],
)
def test_candidates_are_compared_group_by_group(
    redis_prefix: tuple[redis.Redis, str], shares: dict[str, float], joins: str | None
) -> None:
    """Twenty-one earlier items share a band with the new one, all but the listed ones
    far from it; the memory and Redis stores choose alike."""
    client, prefix = redis_prefix
    chosen = []
    for storage in (InMemoryCampaignStorage(), RedisCampaignStorage(client, prefix)):
        index = CampaignIndex(storage)
        signature = minhash_signatures([shingles(CAMPAIGN[0])])[0]
        bands = index._band_keys(signature[None, :])[0]
        for k in range(21):
            item_id = f"c{k:02d}"
            stored = with_agreement(signature, shares.get(item_id, 0.1))
            storage.put_item(item_id, StoredItem(item_id.upper(), stored))
            storage.add_member(item_id.upper(), item_id, 0.0)
            storage.add_to_band(bands[0], item_id)
        result = index.record(Observation("new", "exact-key", signature, bands), now=T0)
        chosen.append(result.campaign_id)
    assert chosen == [joins, joins]
    assert CANDIDATE_GROUP == 16
