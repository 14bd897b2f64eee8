"""The moderator console through the real app, on SQLite and PostgreSQL: signing in by
API key, the queue built from real verdicts, labels, refusals, CSRF and escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.engine import TrustEngine
from app.review import PAGE_SIZE
from tests.support import media_factory
from tests.support.tamper import flip_content_byte

SPAM = (
    "CLICK HERE to WIN a FREE iPhone!!! Limited offer, buy cheap followers now at "
    "www.cheap-deals.example"
)
HOSTILE = '<script>window.hacked=1</script><img src=x onerror="window.hacked=2"> FREE MONEY ' + SPAM


@pytest.fixture
def moderator(engine: TrustEngine) -> str:
    return engine.store.create_api_key("mod", ["moderate"]).token


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html[:500]
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    page = client.get("/console/login")
    assert page.status_code == 200
    r = client.post(
        "/console/login",
        data={"api_key": token, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console/"
    queue = client.get("/console/")
    assert queue.status_code == 200
    return csrf_of(queue.text)


def test_queue_from_real_verdicts_and_a_label(
    client: TestClient, engine: TrustEngine, moderator: str
) -> None:
    spam = engine.verify_text(SPAM)
    engine.verify_text("A perfectly ordinary comment about the weather today.")  # not flagged
    signed = engine.sign_bytes(media_factory.make_jpeg(320, 240))
    assert signed.content is not None
    tampered = engine.verify_bytes(flip_content_byte(signed.content, "image/jpeg"))
    assert (spam["verdict"], tampered["verdict"]) == ("spam", "tampered")
    csrf = sign_in(client, moderator)
    queue = client.get("/console/")
    assert queue.headers["content-security-policy"].startswith("default-src 'none'")
    rows = re.findall(r'<tr data-id="(\d+)" data-verdict="(\w+)"', queue.text)
    assert sorted(v for _, v in rows) == ["spam", "tampered"]
    ids = {v: i for i, v in rows}
    item = client.get(f"/console/items/{ids['spam']}")
    assert "CLICK HERE to WIN" in item.text and 'id="item-label">open<' in item.text
    picture = client.get(f"/console/items/{ids['tampered']}/content")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    # label the spam ham: the queue's open list loses it, the item says so, the head learns it
    r = client.post(
        f"/console/items/{ids['spam']}/label",
        data={"label": "ham", "csrf": csrf, "next": f"/console/items/{ids['spam']}"},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/console/items/{ids['spam']}")
    assert 'id="item-label">ham<' in client.get(f"/console/items/{ids['spam']}").text
    assert engine.store.training_labels() == [(SPAM, "ham")]
    open_rows = re.findall(r'<tr data-id="(\d+)"', client.get("/console/").text)
    assert open_rows == [ids["tampered"]]
    labelled = client.get("/console/?status=labelled").text
    assert re.findall(r'<tr data-id="(\d+)"', labelled) == [ids["spam"]]
    filtered = client.get("/console/?verdict=tampered&status=all").text
    assert re.findall(r'data-verdict="(\w+)"', filtered) == ["tampered"]


def test_an_item_lists_the_other_members_of_its_campaign(
    client: TestClient, engine: TrustEngine, moderator: str
) -> None:
    first = engine.verify_text(SPAM)
    second = engine.verify_text(SPAM + " Hurry, only today!")
    campaign = second["content"]["campaign"]
    assert first["content"]["campaign"]["id"] is None and campaign["size"] == 2
    sign_in(client, moderator)
    ids = re.findall(r'<tr data-id="(\d+)"', client.get("/console/").text)
    assert len(ids) == 2
    pages = {i: client.get(f"/console/items/{i}").text for i in ids}
    for i, page in pages.items():
        members = re.findall(r'<ul id="campaign-members"><li><a href="/console/items/(\d+)"', page)
        assert members == [j for j in ids if j != i], (i, page[page.find("Campaign") :][:600])
    assert any(campaign["id"] in page for page in pages.values())
    assert any("started a campaign" in page for page in pages.values())


def test_html_in_a_comment_shows_as_text(
    client: TestClient, engine: TrustEngine, moderator: str
) -> None:
    doc = engine.verify_text(HOSTILE)
    assert doc["verdict"] in ("spam", "suspicious")
    sign_in(client, moderator)
    queue = client.get("/console/").text
    item_id = re.findall(r'<tr data-id="(\d+)"', queue)[0]
    for page in (queue, client.get(f"/console/items/{item_id}").text):
        assert "<script>window.hacked" not in page
        assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in page
        assert "<img src=x onerror" not in page
    # the only scripts are the console's own
    assert re.findall(r"<script[^>]*>", queue) == [
        '<script src="/console/static/console.js" defer>'
    ]


def test_refusals(client: TestClient, engine: TrustEngine, moderator: str) -> None:
    # no session: pages redirect to sign-in, posts are refused
    r = client.get("/console/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/login")
    assert client.post("/console/items/1/label", data={"label": "spam"}).status_code == 401
    # a key without the moderate scope: refused at sign-in and by bearer
    signer = engine.store.create_api_key("cms", ["sign"]).token
    page = client.get("/console/login")
    r = client.post("/console/login", data={"api_key": signer, "csrf": csrf_of(page.text)})
    assert r.status_code == 403 and "lacks the &#39;moderate&#39; scope" in r.text
    assert client.get("/console/", headers={"Authorization": f"Bearer {signer}"}).status_code == 403
    assert client.get("/console/", headers={"Authorization": "Bearer ts_nope"}).status_code == 401
    assert (
        client.get("/console/", headers={"Authorization": f"Bearer {moderator}"}).status_code == 200
    )
    # a wrong key, and a sign-in form from elsewhere
    r = client.post("/console/login", data={"api_key": "ts_nope", "csrf": csrf_of(page.text)})
    assert r.status_code == 401
    assert (
        client.post("/console/login", data={"api_key": moderator, "csrf": "0" * 64}).status_code
        == 403
    )
    # signed in, a label without the session's CSRF token, or from another origin, is refused
    engine.verify_text(SPAM)
    csrf = sign_in(client, moderator)
    item_id = re.findall(r'<tr data-id="(\d+)"', client.get("/console/").text)[0]
    assert client.post(f"/console/items/{item_id}/label", data={"label": "spam"}).status_code == 403
    forged = client.post(
        f"/console/items/{item_id}/label",
        data={"label": "spam", "csrf": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    assert engine.store.training_labels() == []
    bad = client.post(f"/console/items/{item_id}/label", data={"label": "maybe", "csrf": csrf})
    assert bad.status_code == 422
    assert client.get("/console/items/999999").status_code == 404
    # a redirect target elsewhere is not followed
    r = client.post(
        f"/console/items/{item_id}/label",
        data={"label": "spam", "csrf": csrf, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/console/items/{item_id}"
    # signing out ends the session
    client.post("/console/logout", data={"csrf": csrf})
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_odd_text_is_kept_for_review(
    client: TestClient, engine: TrustEngine, moderator: str
) -> None:
    """NUL, which PostgreSQL's text columns refuse, is kept replaced."""
    engine.verify_text(SPAM + " \x00 end")
    sign_in(client, moderator)
    queue = client.get("/console/").text
    assert len(re.findall(r"<tr data-id=", queue)) == 1
    assert "\ufffd end" in queue


def test_a_long_queue_pages(client: TestClient, engine: TrustEngine, moderator: str) -> None:
    for i in range(PAGE_SIZE + 3):
        engine.reviews.consider(
            {"sha256": f"{i:064x}", "verdict": "spam", "media_type": "text/plain", "reasons": []},
            source="verify",
            text=f"spam number {i}",
        )
    sign_in(client, moderator)
    first = client.get("/console/").text
    assert len(re.findall(r"<tr data-id=", first)) == PAGE_SIZE
    assert "page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/console/?page=2").text
    assert len(re.findall(r"<tr data-id=", second)) == 3
    assert client.get("/console/?page=-5").status_code == 200


def test_texts_verified_together_join_the_queue_in_one_transaction(
    engine: TrustEngine,
) -> None:
    """A batch's flagged texts are upserted together: the same text twice leaves one row
    with its newest verdict, a text that is not flagged adds none, a moderator's label
    stays, and the rows read back as rows written one by one."""

    def doc(i: int, verdict: str, probability: float | None) -> dict:
        content = {"spam_probability": probability, "campaign": {"id": f"cmp-{i}"}}
        return {
            "sha256": f"{i:064x}",
            "verdict": verdict,
            "media_type": "text/plain",
            "content": content,
        }

    engine.reviews.consider(doc(1, "spam", 0.9), source="verify", text="first")
    first = engine.store.review_page()[0][0]
    engine.store.label_review(first.id, "spam", None)
    kept = engine.reviews.consider_texts(
        [
            (doc(1, "suspicious", 0.4), "verify", "first, again"),
            (doc(2, "spam", 0.8), "akismet", "second"),
            (doc(3, "unverified", 0.1), "verify", "not flagged"),
            (doc(2, "suspicious", None), "verify", "second, again"),
        ]
    )
    assert kept == 3
    rows, total = engine.store.review_page()
    assert total == 2
    by_sha = {row.sha256: row for row in rows}
    again = by_sha[f"{1:064x}"]
    assert (again.verdict, again.spam_probability, again.label) == ("suspicious", 0.4, "spam")
    assert again.text == "first, again"
    second = by_sha[f"{2:064x}"]
    assert (second.verdict, second.source, second.text) == ("suspicious", "verify", "second, again")
    assert second.spam_probability is None
    assert second.campaign_id == "cmp-2"
    assert engine.reviews.consider_texts([]) == 0
