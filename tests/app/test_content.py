"""Spam probability, campaigns and moderator feedback in verdicts, end to end."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from app.engine import TrustEngine
from app.settings import Settings
from app.state.campaign_store import RedisCampaignStorage
from app.state.redis_link import RedisLink
from app.store.database import Database
from app.verdict.content import ContentAnalyzer
from detectors.campaign import CampaignIndex
from signing.keys import Ed25519Key
from tests.app.conftest import auth
from tests.support.cli import assert_one_line_error, run

SPAM = "WIN a FREE iPhone!!! click http://bit.ly/xyz now to claim your prize"
HAM = "Thanks for the notes from today's meeting, see you on Tuesday."


def test_spam_and_ham_verdicts(client: TestClient, engine: TrustEngine) -> None:
    spam = client.post("/v1/verify", json={"text": SPAM}).json()
    assert spam["verdict"] == "spam"
    assert spam["content"]["spam_probability"] >= engine.content.threshold
    assert spam["model_version"] == engine.content.model_version
    assert any("spam probability" in r for r in spam["reasons"])
    ham = client.post("/v1/verify", json={"text": HAM}).json()
    assert ham["verdict"] == "unverified"
    assert ham["content"]["spam_probability"] < 0.3


def test_spam_lowers_a_trusted_publishers_verdict(
    client: TestClient, engine: TrustEngine, admin_token: str
) -> None:
    key = Ed25519Key(SigningKey.generate())
    client.post(
        "/v1/publishers",
        json={"name": "Loud Shop", "public_key": key.public_b64},
        headers=auth(admin_token),
    )
    token = engine.store.create_api_key("shop", ["sign"], "Loud Shop").token
    client.post("/v1/sign", json={"text": SPAM}, headers=auth(token))
    client.post("/v1/sign", json={"text": HAM}, headers=auth(token))
    assert client.post("/v1/verify", json={"text": HAM}).json()["verdict"] == "trusted"
    doc = client.post("/v1/verify", json={"text": SPAM}).json()
    assert doc["verdict"] == "spam" and doc["score"] <= 0.05
    assert doc["provenance"]["record"]["publisher"] == "Loud Shop"


def test_rewritten_copies_form_a_campaign(client: TestClient) -> None:
    base = (
        "Great deals on vintage watches this weekend only, visit our store downtown and "
        "mention this post for an extra discount on every purchase you make"
    )
    variants = [
        base,
        base.replace("Great", "Amazing"),
        base.replace("weekend", "week"),
        base + " today",
    ]
    sizes = []
    for i, text in enumerate(variants):
        doc = client.post("/v1/verify", json={"text": text, "id": f"post-{i}"}).json()
        sizes.append(doc["content"]["campaign"]["size"])
    assert sizes == [1, 2, 3, 4]
    last = client.post("/v1/verify", json={"text": variants[-1], "id": "post-3"}).json()
    assert last["verdict"] in ("suspicious", "spam")
    assert any("campaign of 4" in r for r in last["reasons"])
    other = client.post("/v1/verify", json={"text": HAM, "id": "post-x"}).json()
    assert other["content"]["campaign"]["size"] == 1


def test_feedback_needs_moderate_scope_and_is_stored(
    client: TestClient, engine: TrustEngine, sign_token: str
) -> None:
    body = {"text": "buy cheap followers", "label": "spam", "id": "c1"}
    assert client.post("/v1/feedback", json=body).status_code == 401
    assert client.post("/v1/feedback", json=body, headers=auth(sign_token)).status_code == 403
    moderator = engine.store.create_api_key("mod", ["moderate"]).token
    r = client.post("/v1/feedback", json=body, headers=auth(moderator))
    assert r.status_code == 201 and r.json()["label"] == "spam"
    bad = client.post("/v1/feedback", json={**body, "label": "maybe"}, headers=auth(moderator))
    assert bad.status_code == 422
    assert engine.store.training_labels() == [("buy cheap followers", "spam")]


def test_label_and_train_change_the_answer(tmp_path: Path) -> None:
    """Moderator labels, retrained: the operator's model takes over and flips a text."""
    data_dir = tmp_path / "data"
    target = "Join the weekly knitting circle at the library annex"
    rows = [
        {"text": f"Join the weekly knitting circle at the library annex {i}", "label": "spam"}
        for i in range(12)
    ]
    rows += [
        {"text": t, "label": "ham"}
        for t in (
            "See you at lunch",
            "The report is attached",
            "Happy birthday, Sam!",
            "Meeting moved to 3pm",
            "Can you review my pull request?",
            "Thanks for the help",
            "The train is late again",
            "Dinner at seven?",
            "Lovely photos from the trip",
            "I fixed the typo in chapter two",
            "Our flight lands at noon",
            "Good luck tomorrow",
        )
    ]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    before = json.loads(run(["verify", "--json", "--text", target], data_dir).stdout)
    stored = run(["label", str(labels)], data_dir)
    report = json.loads(stored.stdout)
    assert (report["stored"], report["skipped"]) == (24, 1)
    assert "+site." in report["model_version"]  # the labels refitted the site head
    trained = run(["train"], data_dir)
    assert trained.returncode == 0, trained.stderr
    version = json.loads(trained.stdout)["model_version"]
    after = json.loads(run(["verify", "--json", "--text", target], data_dir).stdout)
    assert after["model_version"] == version != before["model_version"]
    assert after["content"]["spam_probability"] > before["content"]["spam_probability"]
    assert after["verdict"] == "spam" and before["verdict"] != "spam"


def test_label_and_train_reject_bad_input(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert_one_line_error(run(["label", "--text", "x", "--label", "maybe"], data_dir))
    assert_one_line_error(run(["train"], data_dir))
    assert_one_line_error(run(["eval", "--data", str(tmp_path / "none")], data_dir))
    both = ["eval", "--data", str(tmp_path), "--within-video", "--model-dir", str(tmp_path)]
    assert_one_line_error(run(both, data_dir))
    # a folder without the corpora is refused in one line, whichever protocol is asked for
    assert_one_line_error(run(["eval", "--data", str(tmp_path), "--within-video"], data_dir))
    assert_one_line_error(run(["eval", "--data", str(tmp_path), "--disguises"], data_dir))
    disguises = ["eval", "--data", str(tmp_path), "--disguises", "--model-dir", str(tmp_path)]
    assert_one_line_error(run(disguises, data_dir))
    assert_one_line_error(
        run(["eval", "--data", str(tmp_path), "--disguises", "--within-video"], data_dir)
    )


BATCH_TEXTS = [
    SPAM,
    HAM,
    "Hey guys check out my new channel, we post funny videos every day, please subscribe!!",
    "hey guys, check out my NEW channel - we post funny videos every day. Please subscribe!",
    "<p>Cheap <b>pills</b> at <a href='http://x.example/p'>our shop</a> today only</p>",
    "Ｆｕｌｌ ｗｉｄｔｈ letters, café crème and zero\u200bwidth spaces in a longer comment",
    "short",
    "Short!",
]


def test_batch_analysis_matches_item_by_item(tmp_path: Path) -> None:
    """One model call and batch signatures give each text what it gets on its own."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.ensure_data_dir()
    db = Database.open(settings.effective_database_url)
    batch, single = ContentAnalyzer(settings, None, db), ContentAnalyzer(settings, None, db)
    items = [(f"b{i}", text) for i, text in enumerate(BATCH_TEXTS)]
    version, analyses = batch.analyze(items)
    probabilities = single.spam_probabilities(BATCH_TEXTS)
    campaigns = [single.campaign(item_id, text) for item_id, text in items]
    assert [(p, version) for p, _ in analyses] == probabilities
    assert version == batch.base_version == batch.model_version
    assert [(c["id"], c["size"]) for _, c in analyses] == [(c["id"], c["size"]) for c in campaigns]
    assert [c["size"] for _, c in analyses] == [1, 1, 1, 2, 1, 1, 1, 2]


class RedisGoesAway:
    """Redis campaign storage that stops answering after ``calls`` calls."""

    def __init__(self, storage: RedisCampaignStorage, calls: int):
        self.storage = storage
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.storage, name)

        def call(*args: Any) -> Any:
            self.calls -= 1
            if self.calls < 0:
                raise redis.ConnectionError("connection refused")
            return method(*args)

        return call


@pytest.mark.redis
@pytest.mark.parametrize("fails_at", [0, 1, 2])
def test_batch_campaigns_fall_back_to_memory_batch_by_batch(tmp_path: Path, fails_at: int) -> None:
    """Batches recorded before Redis went away stay there; a batch during which it goes
    away (at any of its look-up, claims or writes), and the ones after, go to process
    memory whole: a batch's writes land in Redis together or not at all."""
    link = RedisLink("redis://127.0.0.1:6379/0")
    prefix = f"trustseal-test-{secrets.token_hex(6)}:"
    try:
        settings = Settings(data_dir=tmp_path / "data")
        settings.ensure_data_dir()
        analyzer = ContentAnalyzer(settings, link, Database.open(settings.effective_database_url))
        storage = RedisCampaignStorage(link.client, prefix)
        # a batch of new, unrelated texts costs three calls: lookup_many, claim_exacts and
        # commit_many
        analyzer._redis_index = CampaignIndex(RedisGoesAway(storage, calls=3 + fails_at))
        items = [(f"r{i}", f"message number {i}") for i in range(5)]
        first = analyzer.campaigns(items[:2])
        assert link.available
        campaigns = first + analyzer.campaigns(items[2:])
        assert [c["size"] for c in campaigns] == [1] * 5
        in_redis = [storage.get_item(f"r{i}") is not None for i in range(5)]
        assert in_redis == [True, True, False, False, False]
        memory = analyzer._memory_index.storage
        assert [memory.get_item(f"r{i}") is not None for i in range(5)] == [
            False,
            False,
            True,
            True,
            True,
        ]
        assert not link.available
    finally:
        keys = list(link.client.scan_iter(match=prefix + "*"))
        if keys:
            link.client.delete(*keys)
        link.close()
