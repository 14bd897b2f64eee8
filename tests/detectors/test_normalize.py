from detectors.normalize import canonical_key, looks_like_email, normalize_text

EMAIL = (
    "From bob@example.com  Thu Aug 22 12:36:23 2002\n"
    "Return-Path: <bob@example.com>\n"
    "Received: from mail.example.com by mx.example.org\n"
    "From: Bob <bob@example.com>\n"
    "To: alice@example.org\n"
    "Subject: Lunch on Friday\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><head><style>p {color: red}</style></head>"
    "<body><p>Shall we meet at <b>noon</b>?</p><script>alert(1)</script></body></html>\n"
)

MULTIPART = (
    "From: shop@example.com\n"
    "To: you@example.org\n"
    "Subject: =?utf-8?q?Caf=C3=A9_deals?=\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/alternative; boundary="XX"\n'
    "\n"
    "--XX\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Half price =E2=82=AC5 today\n"
    "--XX\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>Half price</p>\n"
    "--XX--\n"
)


def test_email_headers_stripped_and_html_rendered() -> None:
    text = normalize_text(EMAIL)
    assert text.splitlines()[0] == "Lunch on Friday"
    assert "Shall we meet at noon?" in text
    for leaked in ("Received", "Return-Path", "bob@example.com", "<p>", "alert", "color"):
        assert leaked not in text


def test_multipart_prefers_plain_part_and_decodes() -> None:
    text = normalize_text(MULTIPART)
    assert text == "Café deals\nHalf price €5 today"


def test_html_fragment_and_entities() -> None:
    raw = '<div>Visit <a href="http://spam.example/x">here</a> &amp; win</div>'
    assert normalize_text(raw) == "Visit here http://spam.example/x & win"


def test_plain_text_with_colon_is_not_an_email() -> None:
    raw = "Note: bring the slides\nTime: 10am"
    assert not looks_like_email(raw)
    assert normalize_text(raw) == raw


def test_obfuscation_folded() -> None:
    assert normalize_text("ＦＲＥＥ\u200b money") == "FREE money"
    assert canonical_key("Hello,   WORLD!!") == canonical_key("hello world")
    assert canonical_key("hello world") != canonical_key("hello there world")
