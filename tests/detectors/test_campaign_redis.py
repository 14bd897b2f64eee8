from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from app.campaign_redis import RedisCampaignStorage
from detectors.campaign import CampaignIndex, InMemoryCampaignStorage
from tests.detectors.conftest import CAMPAIGN, UNRELATED

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
