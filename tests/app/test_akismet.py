"""The Akismet-compatible door through the real API, on SQLite and PostgreSQL: Akismet's
bodies and headers, its refusals, the signals its fields carry, and what is recorded."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.akismet import SUBMITTED
from app.engine import TrustEngine
from app.store.tables import Comment

SPAM = (
    "CLICK HERE to WIN a FREE iPhone!!! Limited offer, buy cheap followers now at "
    "www.cheap-deals.example"
)
HAM = "Thanks for the write-up, the part about the cache invalidation helped me fix our build."
BLOG = "https://blog.example"


@pytest.fixture
def akismet_key(engine: TrustEngine) -> str:
    return engine.store.create_api_key("blog", ["akismet"]).token


def post(client: TestClient, endpoint: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(f"/1.1/{endpoint}", data=fields)


def check(client: TestClient, key: str, content: str, **extra: str):  # type: ignore[no-untyped-def]
    fields = {"api_key": key, "blog": BLOG, "user_ip": "203.0.113.9", "comment_content": content}
    return post(client, "comment-check", **(fields | extra))


def comments(engine: TrustEngine) -> list[Comment]:
    with engine.store.db.session() as s:
        return list(s.exec(select(Comment).order_by(Comment.id)))  # type: ignore[arg-type]


def test_verify_key_valid_and_invalid(
    client: TestClient, engine: TrustEngine, akismet_key: str
) -> None:
    r = post(client, "verify-key", key=akismet_key, blog=BLOG)
    assert (r.status_code, r.text, r.headers["content-type"].split(";")[0]) == (
        200,
        "valid",
        "text/plain",
    )
    assert post(client, "verify-key", api_key=akismet_key, blog=BLOG).text == "valid"
    signer = engine.store.create_api_key("cms", ["sign"]).token  # a key without the scope
    for fields, help in (
        ({"key": "ts_nope_nope", "blog": BLOG}, "We were unable to find your API key"),
        ({"key": signer, "blog": BLOG}, "We were unable to find your API key"),
        ({"blog": BLOG}, 'Empty "key" value'),
        ({"key": akismet_key, "blog": "not a url"}, "We were unable to parse your blog URI"),
        ({"key": akismet_key}, 'Empty "blog" value'),
    ):
        r = post(client, "verify-key", **fields)
        assert (r.status_code, r.text) == (200, "invalid"), fields
        assert r.headers["x-akismet-debug-help"] == help


def test_comment_check_spam_and_ham_answer_true_and_false(
    client: TestClient, engine: TrustEngine, akismet_key: str
) -> None:
    spam = check(client, akismet_key, SPAM, comment_author="promo", user_agent="curl/8")
    assert (spam.status_code, spam.text) == (200, "true")
    assert spam.headers["x-akismet-guid"].startswith("trustseal-")
    ham = check(client, akismet_key, HAM, comment_author="ana", comment_type="comment")
    assert (ham.status_code, ham.text) == (200, "false")
    assert "x-akismet-pro-tip" not in ham.headers
    first, second = comments(engine)
    assert (first.spam, first.verdict) == (True, "spam")
    assert second.spam is False and second.verdict not in ("spam", "suspicious")
    assert first.content == SPAM and first.author == "promo"
    fields = json.loads(first.fields)
    assert fields["user_agent"] == "curl/8" and "api_key" not in fields
    assert json.loads(first.signals) == ["verdict spam"]


def test_refusals_are_akismet_s(client: TestClient, engine: TrustEngine, akismet_key: str) -> None:
    cases = [
        (
            {"blog": BLOG, "user_ip": "1.2.3.4"},
            "Missing required field: api_key.",
            'Empty "api_key" value',
        ),
        (
            {"api_key": akismet_key, "user_ip": "1.2.3.4"},
            "Missing required field: blog.",
            'Empty "blog" value',
        ),
        (
            {"api_key": akismet_key, "blog": BLOG},
            "Missing required field: user_ip.",
            'Empty "user_ip" value',
        ),
        (
            {"api_key": "ts_wrong", "blog": BLOG, "user_ip": "1.2.3.4"},
            "invalid",
            "We were unable to find your API key",
        ),
        (
            {"api_key": akismet_key, "blog": "ftp://x", "user_ip": "1.2.3.4"},
            "invalid",
            "We were unable to parse your blog URI",
        ),
    ]
    for endpoint in ("comment-check", "submit-spam", "submit-ham"):
        for fields, body, help in cases:
            r = post(client, endpoint, **fields)
            assert (r.status_code, r.text, r.headers.get("x-akismet-debug-help")) == (
                200,
                body,
                help,
            )
    # not a form at all: the same refusal, never a 5xx
    r = client.post(
        "/1.1/comment-check",
        content=b"\xff\xfe{not a form",
        headers={"content-type": "application/json"},
    )
    assert (r.status_code, r.text) == (200, "Missing required field: api_key.")
    assert comments(engine) == []


def test_fields_as_signals_honeypot_administrator_and_spam_hosts(
    client: TestClient, engine: TrustEngine, akismet_key: str
) -> None:
    trap = check(
        client, akismet_key, HAM, honeypot_field_name="website2", website2="http://x.example"
    )
    assert (trap.text, trap.headers.get("x-akismet-pro-tip")) == ("true", "discard")
    empty_trap = check(client, akismet_key, HAM, honeypot_field_name="website2", website2="")
    assert empty_trap.text == "false"
    admin = check(client, akismet_key, SPAM, user_role="administrator")
    assert (admin.text, admin.headers.get("x-akismet-pro-tip")) == ("false", None)
    # an author URL on a host reported as spam marks the next comment from there
    fields = {"api_key": akismet_key, "blog": BLOG, "user_ip": "198.51.100.4"}
    url = "https://www.pills-shop.example/buy"
    assert check(client, akismet_key, HAM, comment_author_url=url).text == "false"
    r = post(
        client,
        "submit-spam",
        **fields,
        comment_content=HAM + " Visit my shop.",
        comment_author_url=url,
    )
    assert (r.status_code, r.text) == (200, SUBMITTED)
    again = check(
        client,
        akismet_key,
        "Nice post, I learned something today about caching.",
        comment_author_url="http://pills-shop.example/",
    )
    assert again.text == "true"
    assert any("pills-shop.example" in s for s in json.loads(comments(engine)[-1].signals))


def test_submit_labels_teach_the_next_check(
    client: TestClient, engine: TrustEngine, akismet_key: str
) -> None:
    borderline = "Check out my channel for more videos like this, subscribe and share with friends"
    before = check(client, akismet_key, borderline)
    fields = {
        "api_key": akismet_key,
        "blog": BLOG,
        "user_ip": "192.0.2.1",
        "comment_content": borderline,
    }
    label = "spam" if before.text == "false" else "ham"
    r = post(client, f"submit-{label}", **fields)
    assert r.text == SUBMITTED
    assert engine.store.training_labels() == [(borderline, label)]
    after = check(client, akismet_key, borderline)
    assert after.text == ("true" if label == "spam" else "false"), (before.text, after.text)
    checked, _ = comments(engine)
    assert checked.label == label  # the row checked before took the decision
    # a test submission is kept and answered, but teaches nothing
    test = post(client, "submit-spam", **(fields | {"comment_content": HAM, "is_test": "1"}))
    assert test.text == SUBMITTED
    assert engine.store.training_labels() == [(borderline, label)]


def test_odd_content_is_never_a_server_error(
    client: TestClient, engine: TrustEngine, akismet_key: str
) -> None:
    for content in (
        "",
        "\x00 nul \x00",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "é" * 20_000,
    ):
        r = check(client, akismet_key, content, comment_author="\x00x")
        assert r.status_code == 200 and r.text in ("true", "false"), (content[:10], r.text)
    r = post(
        client,
        "submit-ham",
        api_key=akismet_key,
        blog=BLOG,
        user_ip="1.1.1.1",
        comment_content="\x00",
    )
    assert r.text == SUBMITTED
