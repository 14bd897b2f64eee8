"""Spam probability, campaigns and moderator feedback in verdicts, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from app import services
from app.engine import TrustEngine
from signing.keys import Ed25519Key
from tests.app.conftest import auth
from tests.app.test_cli import assert_one_line_error, run

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
    with engine.db.session() as s:
        token = services.create_api_key(s, "shop", ["sign"], "Loud Shop").token
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
    with engine.db.session() as s:
        moderator = services.create_api_key(s, "mod", ["moderate"]).token
    r = client.post("/v1/feedback", json=body, headers=auth(moderator))
    assert r.status_code == 201 and r.json()["label"] == "spam"
    bad = client.post("/v1/feedback", json={**body, "label": "maybe"}, headers=auth(moderator))
    assert bad.status_code == 422
    with engine.db.session() as s:
        assert services.training_labels(s) == [("buy cheap followers", "spam")]


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
    assert json.loads(stored.stdout) == {"stored": 24, "skipped": 1}
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
