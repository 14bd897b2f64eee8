"""Moderators' labels adapt the deployment's model at once, name it, and can be undone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine import TrustEngine
from app.errors import InvalidInput
from app.settings import Settings
from app.store import site_heads
from tests.app.conftest import auth
from tests.support.cli import assert_one_line_error, run

#: the shipped model calls this spam; this site's moderators say it is not
PROMO = "Check out my new channel, I post guitar covers every week, subscribe if you like!"
OTHERS = [
    ("Free gift cards for everyone, click http://bit.ly/gift now!!!", "spam"),
    ("Great song, I listen to it every morning before work", "ham"),
]


@pytest.fixture
def moderator(engine: TrustEngine) -> dict[str, str]:
    return auth(engine.store.create_api_key("mod", ["moderate"]).token)


def verify(client: TestClient, text: str) -> dict:
    r = client.post("/v1/verify", json={"text": text})
    assert r.status_code == 200
    return r.json()


def test_a_label_changes_the_next_answer_and_names_the_new_model(
    client: TestClient, engine: TrustEngine, moderator: dict[str, str]
) -> None:
    base = engine.content.base_version
    before = verify(client, PROMO)
    assert before["verdict"] == "spam" and before["model_version"] == base
    for text, label in OTHERS:
        r = client.post("/v1/feedback", json={"text": text, "label": label}, headers=moderator)
        assert r.status_code == 201
    r = client.post("/v1/feedback", json={"text": PROMO, "label": "ham"}, headers=moderator)
    assert r.status_code == 201
    version = r.json()["model_version"]
    assert version.startswith(f"{base}+site.") and len(version) == len(base) + 14
    after = verify(client, PROMO)  # not the cached verdict: the model changed
    assert after["model_version"] == version
    assert after["verdict"] != "spam"
    assert after["content"]["spam_probability"] < engine.content.threshold
    # the other labelled texts keep their labels' side
    assert verify(client, OTHERS[0][0])["verdict"] == "spam"
    status = client.get("/v1/model", headers=moderator).json()
    assert status["model_version"] == version and status["mode"] == "auto"
    assert [h["n_labels"] for h in status["heads"]] == [3, 2, 1]


def test_adaptation_can_be_undone_and_restored(
    client: TestClient, engine: TrustEngine, moderator: dict[str, str]
) -> None:
    base = engine.content.base_version
    first = client.post(
        "/v1/feedback", json={"text": PROMO, "label": "ham"}, headers=moderator
    ).json()["model_version"]
    second = client.post(
        "/v1/feedback", json={"text": OTHERS[1][0], "label": "ham"}, headers=moderator
    ).json()["model_version"]
    assert first != second
    off = client.put("/v1/model/adaptation", json={"mode": "off"}, headers=moderator)
    assert off.status_code == 200 and off.json()["model_version"] == base
    plain = verify(client, PROMO)
    assert plain["model_version"] == base and plain["verdict"] == "spam"
    pinned = client.put("/v1/model/adaptation", json={"mode": first}, headers=moderator)
    assert pinned.json()["mode"] == f"pinned:{first}"
    assert verify(client, PROMO)["model_version"] == first
    # while pinned, a new label is stored and fitted but does not answer
    third = client.post(
        "/v1/feedback", json={"text": OTHERS[0][0], "label": "spam"}, headers=moderator
    ).json()
    assert third["model_version"] == first
    back = client.put("/v1/model/adaptation", json={"mode": "auto"}, headers=moderator).json()
    assert back["model_version"] not in (base, first, second)
    assert back["heads"][0]["model_version"] == back["model_version"]
    assert back["heads"][0]["n_labels"] == 3


def test_model_routes_need_the_moderate_scope_and_valid_modes(
    client: TestClient, engine: TrustEngine, moderator: dict[str, str], sign_token: str
) -> None:
    assert client.get("/v1/model").status_code == 401
    assert client.get("/v1/model", headers=auth(sign_token)).status_code == 403
    put = client.put("/v1/model/adaptation", json={"mode": "off"}, headers=auth(sign_token))
    assert put.status_code == 403
    for mode in ("sometimes", "", "x" * 100):
        bad = client.put("/v1/model/adaptation", json={"mode": mode}, headers=moderator)
        assert bad.status_code == 422, mode
        assert bad.headers["content-type"].startswith("application/problem+json")
    unknown = f"{engine.content.base_version}+site.0123abcd"
    missing = client.put("/v1/model/adaptation", json={"mode": unknown}, headers=moderator)
    assert missing.status_code == 404
    assert client.get("/v1/model", headers=moderator).json()["heads"] == []


def test_refits_reuse_stored_features(engine: TrustEngine, monkeypatch) -> None:
    """The encoder runs once per label and base model; refits read the rest stored."""
    texts = [f"comment number {i} about the video" for i in range(6)]
    calls: list[int] = []
    clf = engine.content.classifier
    original = clf.scores_normalized

    def counting(batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        return original(batch)

    monkeypatch.setattr(clf, "scores_normalized", counting)
    for i, text in enumerate(texts):
        row = engine.store.add_label(text=text, label="spam" if i % 2 else "ham")
        engine.content.adaptation.refit(after_label_id=row.id)
    assert calls == [1] * 6
    engine.content.adaptation.refit()  # nothing new: a fit over stored features only
    assert calls == [1] * 6
    stored = site_heads.features(engine.db, engine.content.base_version, list(range(1, 7)))
    assert sorted(stored) == [1, 2, 3, 4, 5, 6]
    # a head row holds its parameters only; the memory is rebuilt from the labels
    newest = site_heads.head_by_version(engine.db, engine.content.model_version)
    assert newest is not None and len(newest.head) < 4096
    fresh = TrustEngine.open(engine.settings)
    try:
        again = fresh.content.adaptation.head()
        assert again is not None and again.model_version == engine.content.model_version
        assert len(again.memory) == 6
        assert again.apply(*clf.scores_normalized(texts)) == pytest.approx(
            engine.content.adaptation.head().apply(*clf.scores_normalized(texts)), abs=1e-4
        )
    finally:
        fresh.close()


def test_a_head_fitted_in_one_worker_answers_in_another(tmp_path: Path) -> None:
    """Two engines on one database, as two worker processes are: the second reads the
    newest head within its poll interval (here: at once)."""
    settings = Settings(data_dir=tmp_path / "data", log_worker=False, adaptation_poll_seconds=0)
    a, b = TrustEngine.open(settings), TrustEngine.open(settings)
    try:
        assert b.content.model_version == b.content.base_version
        row = a.store.add_label(text=PROMO, label="ham")
        fitted = a.content.adaptation.refit(after_label_id=row.id).model_version
        assert b.content.model_version == fitted
        assert b.verifier.verify_text(PROMO)["model_version"] == fitted
        assert b.verifier.verify_text(PROMO)["verdict"] != "spam"
    finally:
        a.close()
        b.close()


def test_adaptation_can_be_switched_off_by_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", log_worker=False, spam_adaptation=False)
    eng = TrustEngine.open(settings)
    try:
        eng.store.add_label(text=PROMO, label="ham")
        assert eng.content.adaptation.refit().model_version == eng.content.base_version
        assert eng.verifier.verify_text(PROMO)["verdict"] == "spam"
        assert eng.content.adaptation.status()["mode"] == "off"
    finally:
        eng.close()


def test_cli_labels_refit_and_adaptation_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stored = run(["label", "--text", PROMO, "--label", "ham"], data)
    assert stored.returncode == 0, stored.stderr
    version = json.loads(stored.stdout)["model_version"]
    assert "+site." in version
    assert json.loads(run(["adaptation", "show"], data).stdout)["model_version"] == version
    off = json.loads(run(["adaptation", "set", "off"], data).stdout)
    assert off["model_version"] == off["base_version"]
    verdict = json.loads(run(["verify", "--text", PROMO, "--json"], data).stdout)
    assert verdict["model_version"] == off["base_version"]
    again = json.loads(run(["adaptation", "set", version], data).stdout)
    assert again["mode"] == f"pinned:{version}"
    assert_one_line_error(run(["adaptation", "set", "whenever"], data))


#: a site where "thumbs up if ..." comments are ham (as on one of the labelled videos);
#: the shipped model is unsure of them
THUMBS_HAM = [
    "Thumbs up if you are watching in 2015",
    "thumbs up if you love this song",
    "Thumbs up if you came here from the radio",
    "Thumbs up if this gives you chills",
    "Thumbs up if you still listen to this every day",
    "Thumbs up if you know all the words",
]
BORDERLINE = "Thumbs up if this song reminds you of summer"


def test_labels_of_similar_comments_adapt_a_borderline_one(
    client: TestClient, engine: TrustEngine, moderator: dict[str, str]
) -> None:
    """Not the same text: the head learns the site's convention from its neighbours."""
    before = verify(client, BORDERLINE)["content"]["spam_probability"]
    assert 0.3 < before and before >= engine.content.threshold  # borderline, called spam
    labels = [(t, "ham") for t in THUMBS_HAM] + [(t, "spam") for t, lab in OTHERS if lab == "spam"]
    labels.append((PROMO, "spam"))
    for text, label in labels:
        r = client.post("/v1/feedback", json={"text": text, "label": label}, headers=moderator)
        assert r.status_code == 201
    after = verify(client, BORDERLINE)
    assert after["content"]["spam_probability"] < engine.content.threshold
    assert after["verdict"] != "spam" and "+site." in after["model_version"]
    # the site's spam stays spam
    assert (
        verify(client, "Check out my channel for free gift cards, subscribe now!!")["verdict"]
        == "spam"
    )


def test_a_label_with_a_nul_character_is_refused_on_every_database(
    client: TestClient, engine: TrustEngine, moderator: dict[str, str]
) -> None:
    for body in (
        {"text": "free prizes\u0000 here", "label": "spam"},
        {"text": "free prizes here", "label": "spam", "id": "c\u00001"},
    ):
        r = client.post("/v1/feedback", json=body, headers=moderator)
        assert r.status_code == 422, r.text  # the schema says so (the fuzz test holds it)
        assert r.headers["content-type"].startswith("application/problem+json")
    # and so does the store, for every other way in (the label command, for one)
    with pytest.raises(InvalidInput, match="NUL"):
        engine.store.add_label(text="free\x00prizes", label="spam")
    ok = client.post(
        "/v1/feedback", json={"text": "free prizes", "label": "spam"}, headers=moderator
    )
    assert ok.status_code == 201
    assert engine.store.training_labels() == [("free prizes", "spam")]
