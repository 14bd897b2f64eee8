from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detectors.campaign import CampaignIndex, InMemoryCampaignStorage
from tests.detectors.conftest import CAMPAIGN, UNRELATED

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _index() -> CampaignIndex:
    return CampaignIndex(InMemoryCampaignStorage())


def test_rewritten_copies_form_one_campaign() -> None:
    index = _index()
    results = [
        index.observe(f"c{i}", text, now=T0 + timedelta(minutes=i))
        for i, text in enumerate(CAMPAIGN)
    ]
    assert results[0].campaign_id is None and results[0].size == 1
    ids = {r.campaign_id for r in results[1:]}
    assert len(ids) == 1 and None not in ids
    assert [r.size for r in results] == [1, 2, 3, 4]
    assert results[-1].first_seen == T0
    assert results[-1].reasons == ("campaign.member",)


def test_unrelated_texts_stay_apart() -> None:
    index = _index()
    for i, text in enumerate(CAMPAIGN[:2]):
        index.observe(f"c{i}", text, now=T0)
    for i, text in enumerate(UNRELATED):
        evidence = index.observe(f"u{i}", text, now=T0)
        assert evidence.campaign_id is None
        assert evidence.size == 1


def test_short_texts_match_only_exactly() -> None:
    index = _index()
    index.observe("a", "Subscribe to me!", now=T0)
    same = index.observe("b", "subscribe   to ME", now=T0 + timedelta(seconds=5))
    other = index.observe("c", "Subscribe to her!", now=T0)
    assert same.campaign_id is not None and same.size == 2 and same.first_seen == T0
    assert other.campaign_id is None


def test_reobserving_an_item_is_idempotent() -> None:
    index = _index()
    index.observe("a", CAMPAIGN[0], now=T0)
    first = index.observe("b", CAMPAIGN[1], now=T0)
    again = index.observe("b", CAMPAIGN[1], now=T0 + timedelta(days=1))
    assert again == first


def test_naive_time_is_utc_and_earliest_sighting_wins() -> None:
    index = _index()
    index.observe("late", CAMPAIGN[0], now=datetime(2025, 1, 2, 0, 0))
    evidence = index.observe("early", CAMPAIGN[1], now=datetime(2025, 1, 1, 0, 0))
    assert evidence.first_seen == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("kwargs", [{"num_perm": 100, "bands": 32}, {"threshold": 0.0}])
def test_bad_settings_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        CampaignIndex(InMemoryCampaignStorage(), **kwargs)


def test_band_membership_is_a_set_in_id_order() -> None:
    storage = InMemoryCampaignStorage()
    assert storage.band_members("0:ab") == []
    storage.add_to_band("0:ab", "x")
    storage.add_to_band("0:ab", "x")
    assert storage.band_members("0:ab") == ["x"]
    for item_id in ("y", "x", "z", "y"):
        storage.add_to_band("0:ab", item_id)
    assert storage.band_members("0:ab") == ["x", "y", "z"]
    assert storage.band_candidates(["0:ab", "1:ab"], 2) == ["x", "y"]
    assert storage.band_members("1:ab") == []
