"""Private near-copy look-ups (GET /v1/lookup/near): a client that holds a copy computes
its bindings itself, asks by coarse buckets, and finds the signed original by computing
the distances locally; on real SQLite and PostgreSQL, through the real API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from PIL import Image

from app.api import responses
from app.engine import TrustEngine
from app.soft_binding import BUCKET_FAMILIES, bucket_of, parse_bucket
from signing import fingerprints, text_binding
from signing.pinning import receipt_keys_from_document
from signing.receipts import verify_receipt
from signing.soft_binding import hamming
from tests.support.documents import answer, problem
from tests.support.pictures import encode, photo

POST = (
    "The council approved the new cycle lanes on Market Street tonight, with work "
    "starting in March and finishing before the summer festival"
)


def ask(client: TestClient, buckets: list[str]) -> dict:
    query = "&".join(f"bucket={b}" for b in buckets)
    return answer(client.get(f"/v1/lookup/near?{query}"), responses.BucketLookupAnswer)


def nearest(doc: dict, value: bytes) -> tuple[str, int] | None:
    """What the client does: the closest entry over every bucket's answer, if within the
    answer's threshold."""
    best: tuple[str, int] | None = None
    for result in doc["results"]:
        for entry in result["entries"]:
            d = hamming(bytes.fromhex(entry["value"]), value)
            if d <= result["threshold"] and (best is None or d < best[1]):
                best = (entry["sha256"], d)
    return best


def test_a_resized_copy_is_found_by_four_image_buckets(
    engine: TrustEngine, client: TestClient
) -> None:
    original = photo(11)
    signed = engine.sign_bytes(encode(original, quality=92))
    engine.sign_bytes(encode(photo(12), quality=92))  # another original in the index
    w, h = original.size
    copy = encode(original.resize((w * 3 // 5, h * 3 // 5), Image.LANCZOS), "WEBP", quality=70)
    value = fingerprints.query_hashes(copy)[0].value
    buckets = [bucket_of("image", value, band) for band in range(4)]
    doc = ask(client, buckets)
    assert [r["bucket"] for r in doc["results"]] == buckets
    assert all(r["alg"] == fingerprints.ALG and r["threshold"] == 31 for r in doc["results"])
    found = nearest(doc, value)
    assert found is not None and found[0] == signed.sha256 and found[1] <= 16
    # every entry really lies in the bucket it was listed under
    for result in doc["results"]:
        family, band, _ = parse_bucket(result["bucket"])
        for entry in result["entries"]:
            assert bucket_of(family, bytes.fromhex(entry["value"]), band) == result["bucket"]
    # the original's signed verdict comes with it, and its receipt verifies
    originals = {o["sha256"]: o for o in doc["originals"]}
    verdict = originals[signed.sha256]["verdict"]
    assert verdict["sha256"] == signed.sha256 and verdict["verdict"] == "verified"
    assert "text" not in originals[signed.sha256]
    keys = receipt_keys_from_document(engine.public_keys())
    assert verify_receipt(verdict, keys) == engine.keys.current("receipt").key_id


def test_text_copies_found_by_their_buckets(engine: TrustEngine, client: TestClient) -> None:
    signed = engine.sign_text(POST)
    # re-wrapped: its normalised binding is the original's, found in one text-exact bucket
    rewrapped = POST.replace(" on ", "\n  on ").replace("new", "new\u00a0")
    exact = bytes.fromhex(text_binding.exact_binding(rewrapped))
    doc = ask(client, [bucket_of("text-exact", exact, 0)])
    assert doc["results"][0]["threshold"] == 0
    assert [e["sha256"] for e in doc["results"][0]["entries"] if e["value"] == exact.hex()] == [
        signed.sha256
    ]
    # one word changed: the near signature's buckets, and the original text to diff against
    edited = POST.replace("approved", "rejected")
    near = text_binding.near_signature(edited)
    doc = ask(client, [bucket_of("text", near, band) for band in range(16)])
    found = nearest(doc, near)
    assert found is not None and found[0] == signed.sha256
    (original,) = [o for o in doc["originals"] if o["sha256"] == signed.sha256]
    assert original["text"] == text_binding.normalize(POST)
    changes = text_binding.compare(original["text"], edited).changes
    assert [(c.op, c.before, c.after) for c in changes] == [("replace", "approved", "rejected")]


def test_buckets_of_unrelated_content_hold_no_match(
    engine: TrustEngine, client: TestClient
) -> None:
    engine.sign_bytes(encode(photo(13), quality=92))
    value = fingerprints.query_hashes(encode(photo(14), quality=90))[0].value
    doc = ask(client, [bucket_of("image", value, band) for band in range(16)])
    assert nearest(doc, value) is None


def test_a_full_bucket_says_it_was_truncated(engine: TrustEngine, client: TestClient) -> None:
    engine.sign_bytes(encode(photo(15), quality=92))
    engine.buckets.limit = 2
    # the regions of one picture share their leading bits often: find a bucket with >2
    counts: dict[str, int] = {}
    for b in engine.soft_index.bindings_of(engine.store.digests_with_prefix("", 1)[0]):
        if b.alg == fingerprints.ALG:
            key = bucket_of("image", b.value, 0)
            counts[key] = counts.get(key, 0) + 1
    crowded = max(counts, key=lambda k: counts[k])
    assert counts[crowded] > 2
    (result,) = ask(client, [crowded])["results"]
    assert len(result["entries"]) == 2 and result["truncated"] is True


def test_bad_buckets_are_refused_with_problem_details(client: TestClient) -> None:
    for query in (
        "bucket=audio:0abc",  # unknown family
        "bucket=image:0ab",  # too short
        "bucket=image:0ABC",  # upper case
        "",  # none
        "&".join(f"bucket=image:{i:04x}" for i in range(65)),  # too many
    ):
        problem(client.get(f"/v1/lookup/near?{query}"), 422)
    # the families are the ones the module names
    assert set(BUCKET_FAMILIES) == {"image", "text", "text-exact"}


def test_an_empty_index_answers_empty_buckets(client: TestClient) -> None:
    value = bytes(range(32))
    doc = ask(client, [bucket_of("image", value, 5), bucket_of("text", value, 15)])
    assert [r["entries"] for r in doc["results"]] == [[], []]
    assert doc["originals"] == []
