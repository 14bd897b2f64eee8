"""C2SP signed notes: the Go sumdb/note vector, malformed notes, unknown signatures."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from signing.errors import MalformedContent, VerificationError
from signing.note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    NoteSigner,
    NoteVerifier,
    key_hash,
    open_note,
    sign_note,
)

LOCAL_VECTOR = Path(__file__).parent / "vectors" / "signed_note.json"
SHARED_VECTOR = Path(__file__).resolve().parents[3] / "shared/data/vectors/signed_note.json"

LOG = NoteSigner("log.example/trustseal", SigningKey(bytes(range(32))))
OTHER = NoteSigner("other.example/log", SigningKey(bytes(range(1, 33))))
TEXT = "log.example/trustseal\n42\nhello\n"


def vector_params() -> list[Any]:
    params = [pytest.param(LOCAL_VECTOR, id="local-copy")]
    if SHARED_VECTOR.is_file():
        params.append(pytest.param(SHARED_VECTOR, id="shared"))
    else:
        reason = f"shared signed-note vector not found at {SHARED_VECTOR}"
        params.append(
            pytest.param(SHARED_VECTOR, id="shared", marks=pytest.mark.skip(reason=reason))
        )
    return params


@pytest.mark.parametrize("path", vector_params())
def test_go_sumdb_note_vector_reproduced_exactly(path: Path) -> None:
    vector = json.loads(path.read_text())
    signer = NoteSigner.from_string(vector["signer_key"])
    verifier = NoteVerifier.from_string(vector["verifier_key"])
    assert signer.to_string() == vector["signer_key"]
    assert verifier.to_string() == vector["verifier_key"]
    assert signer.verifier() == verifier
    assert verifier.key_hash.hex() == "c74f20a3"

    note = sign_note(vector["text"], [signer])
    assert note == vector["signed_note"]
    assert note.encode("utf-8") == vector["signed_note"].encode("utf-8")

    text, sigs = open_note(vector["signed_note"], [verifier])
    assert text == vector["text"]
    assert [(s.name, s.key_hash.hex()) for s in sigs] == [("PeterNeumann", "c74f20a3")]

    for bad in vector["bad_verifier_keys"]:
        with pytest.raises(MalformedContent):
            NoteVerifier.from_string(bad)


def test_key_hash_follows_spec() -> None:
    pub = bytes(LOG.signing_key.verify_key)
    expected = hashlib.sha256(LOG.name.encode() + b"\n\x01" + pub).digest()[:4]
    assert key_hash(LOG.name, pub) == LOG.key_hash == expected
    assert NoteVerifier.from_string(LOG.verifier().to_string()) == LOG.verifier()
    assert NoteSigner.from_string(LOG.to_string()).key_hash == LOG.key_hash
    assert "signing_key" not in repr(LOG)


@pytest.mark.parametrize(
    "key",
    [
        "log.example+c74f20a3",
        "log.example+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "log example+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW==",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_rejected(key: str) -> None:
    with pytest.raises(MalformedContent):
        NoteVerifier.from_string(key)


def test_malformed_signer_keys_rejected() -> None:
    good = LOG.to_string()
    for bad in (good.removeprefix("PRIVATE+KEY+"), good.replace(LOG.name, "x.example"), good[:-4]):
        with pytest.raises(MalformedContent):
            NoteSigner.from_string(bad)


def test_verifier_with_mismatched_key_hash_refused() -> None:
    with pytest.raises(ValueError):
        NoteVerifier(LOG.name, b"\x00\x00\x00\x00", LOG.signing_key.verify_key)
    with pytest.raises(ValueError):
        NoteSigner("bad name", LOG.signing_key)


def test_unknown_signatures_ignored() -> None:
    note = sign_note(TEXT, [OTHER, LOG])
    text, sigs = open_note(note, [LOG.verifier()])
    assert text == TEXT
    assert [s.name for s in sigs] == [LOG.name]
    # Same name, other key (so other key id): ignored as unknown, not a failure.
    impostor = NoteSigner(LOG.name, SigningKey(bytes(32)))
    text, sigs = open_note(sign_note(TEXT, [impostor, LOG]), [LOG.verifier()])
    assert [s.key_hash for s in sigs] == [LOG.key_hash]


def test_note_signed_by_unknown_key_rejected() -> None:
    note = sign_note(TEXT, [OTHER])
    with pytest.raises(VerificationError) as exc:
        open_note(note, [LOG.verifier()])
    assert exc.value.code == "note.signature.unknown_key"
    # A verifier named like the log but holding another key does not accept it either.
    impostor = NoteSigner(LOG.name, SigningKey(bytes(32)))
    with pytest.raises(VerificationError) as exc:
        open_note(sign_note(TEXT, [impostor]), [LOG.verifier()])
    assert exc.value.code == "note.signature.unknown_key"


def replace_signature(note: str, name: str, blob: bytes) -> str:
    lines = note.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"\u2014 {name} "):
            lines[i] = f"\u2014 {name} {base64.b64encode(blob).decode()}"
    return "\n".join(lines)


def test_bad_signature_from_known_key_rejected() -> None:
    note = sign_note(TEXT, [LOG, OTHER])
    blob = bytearray(LOG.key_hash + LOG.sign(TEXT.encode()))
    blob[10] ^= 1
    with pytest.raises(VerificationError) as exc:
        open_note(
            replace_signature(note, LOG.name, bytes(blob)), [LOG.verifier(), OTHER.verifier()]
        )
    assert exc.value.code == "note.signature.invalid"
    # Altered text: every known signature fails.
    with pytest.raises(VerificationError) as exc:
        open_note(note.replace("42", "43", 1), [LOG.verifier()])
    assert exc.value.code == "note.signature.invalid"
    # Signature of the wrong length from a known key.
    with pytest.raises(VerificationError) as exc:
        open_note(replace_signature(note, LOG.name, LOG.key_hash + b"\x00" * 63), [LOG.verifier()])
    assert exc.value.code == "note.signature.invalid"


def test_signature_lines_above_the_last_blank_line_are_text() -> None:
    note = TEXT + "\n" + SIG + "\n" + SIG
    with pytest.raises(VerificationError) as exc:
        open_note(note, [LOG.verifier()])
    assert exc.value.code == "note.signature.invalid"


def test_repeated_known_signature_counts_once() -> None:
    note = sign_note(TEXT, [LOG, LOG])
    _, sigs = open_note(note, [LOG.verifier()])
    assert len(sigs) == 1


SIG = sign_note(TEXT, [LOG])[len(TEXT) + 1 :]
MALFORMED_NOTES = {
    "no blank line": TEXT + SIG,
    "no signature block": TEXT + "\n",
    "no final newline": TEXT + "\n" + SIG[:-1],
    "hyphen instead of em dash": TEXT + "\n" + SIG.replace("\u2014", "-"),
    "two hyphens": TEXT + "\n" + SIG.replace("\u2014", "--"),
    "no space after dash": TEXT + "\n" + SIG.replace("\u2014 ", "\u2014"),
    "name with plus": TEXT + "\n" + SIG.replace(LOG.name, LOG.name + "+x"),
    "missing signature": TEXT + "\n" + f"\u2014 {LOG.name}\n",
    "empty signature": TEXT + "\n" + f"\u2014 {LOG.name} \n",
    "double space": TEXT + "\n" + SIG.replace(LOG.name + " ", LOG.name + "  "),
    "bad base64": TEXT + "\n" + SIG.replace(" ", " !", 2),
    "short signature": TEXT + "\n" + f"\u2014 {LOG.name} AAAAAA==\n",
    "carriage return": TEXT + "\n" + SIG.replace("\n", "\r\n"),
    "tab in text": TEXT.replace("hello", "hel\tlo") + "\n" + SIG,
    "NUL in text": TEXT.replace("hello", "hel\x00lo") + "\n" + SIG,
    "lone surrogate": TEXT.replace("hello", "hel\udc80lo") + "\n" + SIG,
    "too many signatures": TEXT + "\n" + SIG * (MAX_SIGNATURES + 1),
    "too large": "x" * MAX_NOTE_BYTES + "\n\n" + SIG,
}


@pytest.mark.parametrize("note", MALFORMED_NOTES.values(), ids=MALFORMED_NOTES.keys())
def test_malformed_note_rejected(note: str) -> None:
    with pytest.raises(VerificationError) as exc:
        open_note(note, [LOG.verifier()])
    assert exc.value.code == "note.malformed"


def test_many_signatures_within_limit_accepted() -> None:
    note = TEXT + "\n" + SIG * MAX_SIGNATURES
    assert open_note(note, [LOG.verifier()])[0] == TEXT


def test_sign_and_open_refuse_misuse() -> None:
    for text in ("no newline", "", "tab\there\n"):
        with pytest.raises(ValueError):
            sign_note(text, [LOG])
    with pytest.raises(ValueError):
        sign_note(TEXT, [])
    with pytest.raises(ValueError):
        open_note(sign_note(TEXT, [LOG]), [])


note_texts = st.lists(
    st.text(st.characters(min_codepoint=0x20, codec="utf-8"), max_size=40),
    min_size=1,
    max_size=6,
).map(lambda lines: "\n".join(lines) + "\n")


@settings(max_examples=60, deadline=None)
@given(text=note_texts, position=st.integers(min_value=0), delta=st.integers(1, 255))
def test_any_text_round_trips_and_any_text_change_fails(
    text: str, position: int, delta: int
) -> None:
    note = sign_note(text, [LOG, OTHER])
    got, sigs = open_note(note, [LOG.verifier()])
    assert got == text and len(sigs) == 1
    data = bytearray(text.encode())
    data[position % len(data)] = (data[position % len(data)] + delta) % 256
    try:
        changed = data.decode()
    except UnicodeDecodeError:
        return
    with pytest.raises(VerificationError) as exc:
        open_note(changed + note[len(text) :], [LOG.verifier()])
    assert exc.value.code in {"note.signature.invalid", "note.malformed"}
