"""Receipts, the verdict cache, rate limits, Redis outages, prefix lookup and scopes."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import redis
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.engine import TrustEngine
from app.observability import DEGRADED
from app.settings import Settings
from app.state.ratelimit import RateLimited, RateLimiter, SweptMemoryStorage
from app.state.redis_link import RedisLink
from app.state.verdict_cache import ExpiringLru, VerdictCache
from app.store.audit import audit_log
from detectors.spam import SHIPPED_DIR
from signing.errors import VerificationError
from signing.pinning import receipt_keys_from_document
from signing.receipts import verify_receipt
from tests.app.conftest import auth
from tests.conftest import FaultFigures
from tests.support.cli import run
from tests.support.servers import OwnRedis

# --- receipts ---------------------------------------------------------------------


def test_receipts_valid_altered_rotated_unknown(engine: TrustEngine) -> None:
    doc = engine.verify_text("a receipt for this")
    keys = receipt_keys_from_document(engine.public_keys())
    assert verify_receipt(doc, keys) == engine.keys.current("receipt").key_id

    altered = copy.deepcopy(doc)
    altered["verdict"] = "trusted"
    with pytest.raises(VerificationError) as err:
        verify_receipt(altered, keys)
    assert err.value.code == "receipt.signature.invalid"

    engine.keys.rotate("receipt")
    rotated_keys = receipt_keys_from_document(engine.public_keys())
    assert verify_receipt(doc, rotated_keys)  # old receipts keep verifying
    fresh = engine.verify_sha256("0" * 64)
    assert fresh["receipt"]["key_id"] != doc["receipt"]["key_id"]
    assert verify_receipt(fresh, rotated_keys)

    with pytest.raises(VerificationError) as err:
        verify_receipt(doc, {})
    assert err.value.code == "receipt.key.unknown"


def test_receipt_cli(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    line = run(["verify", "--json", "--text", "stored verdict"], data_dir).stdout
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.json"
    good.write_text(line)
    doc = json.loads(line)
    doc["score"] = 1.0
    bad.write_text(json.dumps(doc))
    keys = tmp_path / "keys.json"
    run(["keys", "export", "-o", str(keys)], data_dir)
    assert (
        run(["verify", "--receipt", str(good), "--keys", str(keys)], tmp_path / "x").returncode == 0
    )
    failed = run(["verify", "--receipt", str(bad)], data_dir)
    assert failed.returncode == 1 and "receipt.signature.invalid" in failed.stdout


def test_batch_output_receipts_verify(tmp_path: Path) -> None:
    """A batch writes each item's id into its verdict document after the service signed
    it; the receipt covers everything else, so stored batch output stays checkable."""
    data_dir = tmp_path / "d"
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"id": "post-1", "text": "batch receipt one"})
        + "\n"
        + json.dumps({"id": "post-2", "text": "batch receipt two"})
        + "\n"
    )
    out = tmp_path / "verdicts.jsonl"
    assert run(["batch", str(items), "-o", str(out)], data_dir).returncode == 0
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["id"] for d in docs] == ["post-1", "post-2"]
    checked = run(["verify", "--receipt", str(out)], data_dir)
    assert checked.returncode == 0, checked.stdout
    assert "post-1" in checked.stdout and "post-2" in checked.stdout
    docs[0]["verdict"] = "trusted"  # the signed fields stay covered
    out.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    failed = run(["verify", "--receipt", str(out)], data_dir)
    assert failed.returncode == 1 and "receipt.signature.invalid" in failed.stdout


# --- cache --------------------------------------------------------------------------


def test_cache_invalidated_by_signing(engine: TrustEngine) -> None:
    assert engine.verify_text("soon signed")["verdict"] == "unverified"
    assert engine.verify_text("soon signed")["verdict"] == "unverified"  # cached
    engine.sign_text("soon signed")
    assert engine.verify_text("soon signed")["verdict"] == "verified"


def test_a_missed_upload_is_validated_while_the_cache_is_read(engine: TrustEngine) -> None:
    """``missed`` (the route found the digest absent from the cache): the C2PA read starts
    first, the same verdict comes back, no worker is left holding an answer, and unsigned
    media asked for again is answered from the cache without a new read."""
    from tests.support.media_factory import make_jpeg
    from tests.support.pictures import encode, photo

    collector = engine.verifier.pipeline.c2pa
    pool = collector.workers
    started: list[int] = []
    start = collector.start

    def counted(data: bytes, media_type: str, sidecar: bytes | None) -> object:
        started.append(len(data))
        return start(data, media_type, sidecar)

    collector.start = counted  # type: ignore[method-assign]
    picture = make_jpeg(96, 64)
    first, second = (engine.sign_bytes(picture).content for _ in range(2))
    assert first is not None and second is not None and first != second

    fresh = engine.verify_bytes(first, missed=True)
    alone = engine.verify_bytes(second)  # the same picture signed again, the usual order
    assert fresh["verdict"] == alone["verdict"] == "verified"
    # the same evidence, but for the new manifest's label
    label = {"manifest_label": None}
    assert {**fresh["provenance"]["c2pa"], **label} == {**alone["provenance"]["c2pa"], **label}
    assert fresh["provenance"]["records"] == alone["provenance"]["records"] == 1
    assert fresh["reasons"] == alone["reasons"]
    assert len(started) == 2
    # cached now: read again as if the route had just missed it (a race with another
    # request): the cached answer, and the read that was started is waited for
    assert engine.verify_bytes(first, missed=True) == fresh
    assert len(started) == 3
    assert len(pool._idle) == pool._count

    unsigned = encode(photo(3), quality=85)
    doc = engine.verify_bytes(unsigned, missed=True)
    assert doc["verdict"] == "unverified" and len(started) == 4
    # its verdict is cached under the soft-binding generation, which the route's look-up
    # does not read: asked for again, it is found without validating the file anew
    assert engine.verify_bytes(unsigned, missed=True) == doc
    assert len(started) == 4
    assert len(pool._idle) == pool._count


def test_concurrent_texts_share_one_pass_and_answer_as_alone(engine: TrustEngine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.spam_texts import HAM, SPAM

    texts = [*SPAM[:4], *HAM[:4], SPAM[0], "a text only once"]
    model_calls: list[int] = []
    analyze = engine.content.analyze

    def counted(items: list[tuple[str, str]]) -> object:
        model_calls.append(len(items))
        return analyze(items)

    engine.content.analyze = counted  # type: ignore[method-assign]
    engine.text_batcher = None
    with ThreadPoolExecutor(len(texts)) as pool:
        together = list(pool.map(engine.verify_text, texts))
    batcher = engine.text_batcher
    assert batcher is not None and batcher.items == len(texts)
    # fewer passes than requests, and a repeated text is computed once per pass
    assert batcher.batches < len(texts) and sum(model_calls) <= len(set(texts))
    for text, doc in zip(texts, together, strict=True):
        assert doc["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    # the same verdicts as one text alone: from the cache now, and computed afresh by
    # the unbatched path (an item id) with the same probability
    for text, doc in zip(texts, together, strict=True):
        assert engine.verify_text(text) == doc
        alone = engine.verify_text(text, item_id=f"alone-{text[:8]}")
        assert alone["verdict"] == doc["verdict"]
        assert alone["content"]["spam_probability"] == doc["content"]["spam_probability"]
    # a flagged text went to the review queue from the batched path too
    flagged = [d["sha256"] for d in together if d["verdict"] in ("spam", "suspicious")]
    assert flagged
    queued = {row.sha256 for row in engine.reviews.page().rows}
    assert set(flagged) <= queued


def test_a_bad_text_fails_alone_beside_good_ones(engine: TrustEngine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    too_long = "x" * (engine.settings.max_text_chars + 1)

    def verify(text: str) -> object:
        try:
            return engine.verify_text(text)["verdict"]
        except Exception as e:  # the failure is what is compared
            return type(e).__name__

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(verify, ["fine one", too_long, "fine two", "fine three"]))
    assert answers[1] == "MalformedContent"
    assert [answers[i] for i in (0, 2, 3)] == ["unverified"] * 3


def test_cache_keyed_by_policy_and_model(tmp_path: Path) -> None:
    cache = VerdictCache(None, ttl=60)
    cache.set("a" * 64, "text", "policy-1|model-1", {"verdict": "unverified"})
    assert cache.get("a" * 64, "text", "policy-1|model-1") == {"verdict": "unverified"}
    assert cache.get("a" * 64, "text", "policy-2|model-1") is None
    assert cache.get("a" * 64, "text", "policy-1|model-2") is None

    # the same through engines: a new policy setting or new weights give new versions
    base = Settings(data_dir=tmp_path / "d", log_worker=False)
    first = TrustEngine.open(base)
    stricter = TrustEngine.open(base.model_copy(update={"suspicious_threshold": 0.1}))
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_DIR, model)
    heads = dict(np.load(model / "head.npz"))
    heads[next(iter(heads))] = heads[next(iter(heads))] * 1.0001
    np.savez(model / "head.npz", **heads)
    retrained = TrustEngine.open(base.model_copy(update={"model_dir": model}))
    try:
        assert first.versions != stricter.versions
        assert first.versions.split("|")[1] != retrained.versions.split("|")[1]
        assert first.policy.version == retrained.policy.version
    finally:
        for eng in (first, stricter, retrained):
            eng.close()


def test_expiring_lru_bounds_expiry_and_drops(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("app.state.verdict_cache.time.monotonic", lambda: now[0])
    lru: ExpiringLru[int] = ExpiringLru(max_items=2)
    lru.put("a|x", 1, ttl=10)
    lru.put("b|x", 2, ttl=10)
    assert lru.get("a|x") == 1  # a is now the most recent: b goes first
    lru.put("c|x", 3, ttl=1)
    assert lru.get("b|x") is None and lru.get("a|x") == 1 and lru.get("c|x") == 3
    now[0] += 5  # c has expired, a has not
    assert lru.get("c|x") is None and lru.get("a|x") == 1
    lru.put("ab|y", 4, ttl=10)
    lru.drop(["a"])  # by digest: "ab|y" is another item's entry and stays
    assert lru.get("a|x") is None and lru.get("ab|y") == 4
    lru.drop(None)
    assert lru.get("ab|y") is None


# --- rate limits --------------------------------------------------------------------


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        log_worker=False,
        rate_limit_per_client="3/minute",
        rate_limit_per_api_key="2/minute",
    )
    with TestClient(create_app(settings)) as c:
        eng = c.app.state.engine  # type: ignore[attr-defined]
        codes = [c.post("/v1/verify", json={"sha256": "1" * 64}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = c.post("/v1/verify", json={"sha256": "1" * 64})
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        token = eng.store.create_api_key("k", ["sign"]).token
        signs = [
            c.post("/v1/sign", json={"text": f"t{i}"}, headers=auth(token)).status_code
            for i in range(3)
        ]
        assert signs == [200, 200, 429]


def test_in_process_limits_start_no_threads_and_sweep_expired_counters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter = RateLimiter(None)
    storage = limiter.memory.storage
    assert isinstance(storage, SweptMemoryStorage)

    def no_timer(*_a: object, **_k: object) -> None:
        raise AssertionError("a timer thread was started")

    monkeypatch.setattr("limits.storage.memory.threading.Timer", no_timer)
    for i in range(300):
        limiter.hit("1000/minute", "ip", f"client-{i % 30}")
    with pytest.raises(RateLimited):
        for _ in range(3):
            limiter.hit("2/second", "ip", "eager")
    assert len(storage.storage) > 30
    now = [time.monotonic() + 3600]  # an hour on: every counter has expired
    monkeypatch.setattr("app.state.ratelimit.time.monotonic", lambda: now[0])
    real_time = time.time
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: real_time() + 3600)
    limiter.hit("1000/minute", "ip", "late")  # the next write sweeps
    assert set(storage.storage) <= {k for k in storage.storage if "late" in k}
    assert len(storage.storage) >= 1


# --- Redis outage and recovery, on a Redis server of the test's own ---------------


@pytest.mark.redis
def test_redis_outage_is_served_degraded_and_recovers(
    tmp_path: Path, own_redis: OwnRedis, fault_figures: Callable[[str], FaultFigures]
) -> None:
    figures = fault_figures("Redis stopped and restarted")
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    settings = Settings(data_dir=tmp_path / "d", redis_url=url, log_worker=False)
    probe = redis.Redis(port=own_redis.port)
    with TestClient(create_app(settings)) as c:
        engine: TrustEngine = c.app.state.engine  # type: ignore[attr-defined]
        signer = auth(engine.store.create_api_key("signer", ["sign"]).token)

        def sign(text: str) -> str:
            r = c.post("/v1/sign", json={"text": text}, headers=signer)
            assert r.status_code == 200, r.text
            return str(r.json()["sha256"])

        engine.verify_text("loads the classifier, which a busy machine can take long to do")
        accepted = [sign(f"signed before the outage {i}") for i in range(3)]
        c.post("/v1/verify", json={"text": "before the outage"})
        assert probe.keys("trustseal:verdict:*")  # the cache lives in Redis
        degraded = DEGRADED.labels("redis")._value.get()
        own_redis.stop()
        started = time.monotonic()
        answers = [c.post("/v1/verify", json={"text": f"during {i}"}) for i in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert time.monotonic() - started < 5  # the breaker keeps requests fast
        answers.append(c.post("/v1/verify", json={"sha256": "2" * 64}))
        assert answers[-1].status_code == 200
        during = [sign(f"signed during the outage {i}") for i in range(3)]
        assert DEGRADED.labels("redis")._value.get() > degraded
        own_redis.start()  # an empty Redis comes back on the same port
        back = time.monotonic()
        probe = redis.Redis(port=own_redis.port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not probe.keys("trustseal:verdict:*"):
            c.post("/v1/verify", json={"text": "after the outage"})
            time.sleep(0.3)
        recovered = time.monotonic() - back
        assert probe.keys("trustseal:verdict:*")  # back on Redis by itself
        assert probe.keys("trustseal:campaign:*")
        engine.log.sequence_all()
        found = audit_log(engine.db, accepted + during)
    figures.accepted_before, figures.accepted_during = len(accepted), len(during)
    figures.in_log = found.logged_once
    figures.duplicates = len(found.duplicated) + found.shared_leaves
    figures.unacknowledged = found.unacknowledged
    figures.served_degraded = len(answers) + len(during)
    figures.recovery_seconds = recovered
    figures.note = "verdicts and signs answered from process memory while Redis was away"
    assert found.ok and found.logged_once == 6, found.to_dict()


@pytest.mark.redis
def test_event_loop_cache_reads_what_threads_wrote(own_redis: OwnRedis) -> None:
    link = RedisLink(f"redis://127.0.0.1:{own_redis.port}/0")
    cache = VerdictCache(link, ttl=60)
    other_worker = VerdictCache(RedisLink(link.url), ttl=60)
    sha, versions, doc = "c" * 64, "p1|m1", {"verdict": "verified", "score": 0.6}

    def aget(c: VerdictCache, variant: str = "sha256", v: str = versions) -> bytes | None:
        return asyncio.run(c.aget_json(sha, variant, v))

    assert aget(cache) is None
    cache.set(sha, "sha256", versions, doc)
    raw = aget(other_worker)
    assert raw is not None and json.loads(raw) == doc
    assert aget(other_worker, "text") is None
    assert aget(other_worker, v="p2|m1") is None
    other_worker.bump_generation()  # a reorg seen by another worker
    assert aget(cache) is None and cache.get(sha, "sha256", versions) is None
    cache.set(sha, "sha256", versions, doc)
    assert aget(cache) is not None
    cache.invalidate([sha])
    assert aget(other_worker) is None

    cache.set(sha, "sha256", versions, doc)
    own_redis.stop()
    assert aget(cache) is None  # Redis gone: a miss, no error, and the breaker opens
    assert not link.available
    cache.set(sha, "sha256", versions, doc)  # computed again, kept in process meanwhile
    raw = aget(cache)
    assert raw is not None and json.loads(raw) == doc


@pytest.mark.redis
def test_batch_cache_reads_and_writes_match_single_ones(own_redis: OwnRedis) -> None:
    """get_many and set_many read and write what get and set do, across workers,
    after a reorg, after Redis forgets its scripts, and in memory while Redis is away."""
    link = RedisLink(f"redis://127.0.0.1:{own_redis.port}/0")
    cache = VerdictCache(link, ttl=60)
    other_worker = VerdictCache(RedisLink(link.url), ttl=60)
    docs = {c * 64: {"verdict": "unverified", "score": i / 10} for i, c in enumerate("abc")}
    keys = [(sha, "text", "p1|m1") for sha in docs]
    assert cache.get_many(keys) == [None, None, None]
    cache.set_many([(sha, "text", "p1|m1", doc) for sha, doc in list(docs.items())[:2]])
    assert other_worker.get_many(keys) == [docs["a" * 64], docs["b" * 64], None]
    assert other_worker.get_many(keys) == [other_worker.get(*key) for key in keys]
    assert cache.get_many([("a" * 64, "text", "p2|m1"), ("a" * 64, "sha256", "p1|m1")]) == [
        None,
        None,
    ]
    redis.Redis(port=own_redis.port).script_flush()
    assert cache.get_many(keys[:1]) == [docs["a" * 64]]
    other_worker.bump_generation()
    assert cache.get_many(keys) == [None, None, None]
    assert cache.get_many([]) == []
    cache.set_many([])

    own_redis.stop()
    assert cache.get_many(keys) == [None, None, None]  # a miss, no error
    assert not link.available
    cache.set_many([(sha, "text", "p1|m1", doc) for sha, doc in docs.items()])
    assert cache.get_many(keys) == list(docs.values())  # kept in process meanwhile
    local = VerdictCache(None, ttl=60)
    local.set_many([(sha, "text", "p1|m1", doc) for sha, doc in docs.items()])
    assert local.get_many(keys) == list(docs.values()) == [local.get(*key) for key in keys]


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.redis
def test_near_copies_serve_hot_verdicts_and_go_when_any_worker_invalidates(
    own_redis: OwnRedis,
) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    probe = redis.Redis(port=own_redis.port)
    writer = VerdictCache(RedisLink(url), ttl=60, near_ttl=30)
    reader = VerdictCache(RedisLink(url), ttl=60, near_ttl=30)
    sha, versions, doc = "d" * 64, "p1|m1", {"verdict": "verified"}

    def read() -> bytes | None:
        return asyncio.run(reader.aget_json(sha, "sha256", versions))

    def shadowed() -> bool:
        # the Redis entry is deleted behind the caches' backs (no invalidation message):
        # only a near copy can still answer
        writer.set(sha, "sha256", versions, doc)
        assert read() is not None
        probe.delete("trustseal:verdict:" + sha)
        return read() is not None

    try:
        assert reader.near is not None
        assert wait_for(lambda: reader.near._fd is not None)  # subscribed
        assert wait_for(shadowed, 3)  # a hot verdict is answered with no round trip
        writer.invalidate([sha])  # another worker signs the item: the copy goes
        # (Redis writes the writer's reply and the reader's message in one pass, but a
        # busy machine can pause it between the two: allow a moment, far below the TTL)
        assert wait_for(lambda: read() is None, 2)
        assert wait_for(shadowed, 3)
        writer.bump_generation()  # a reorg: every copy goes
        assert wait_for(lambda: read() is None, 2)
        assert wait_for(shadowed, 3)
        own_redis.stop()  # no invalidations can arrive: copies are not used
        assert wait_for(lambda: reader.near._fd is None)
        assert read() is None
        own_redis.start()
        probe = redis.Redis(port=own_redis.port)
        reader.link._down_until = 0.0  # type: ignore[union-attr]  # skip the breaker's wait
        writer.link._down_until = 0.0  # type: ignore[union-attr]
        assert wait_for(lambda: reader.near._fd is not None, 10)
        assert wait_for(shadowed, 3)  # back in use once it listens again
    finally:
        reader.close()
        writer.close()

    short = VerdictCache(RedisLink(url), ttl=60, near_ttl=0.2)
    try:
        assert short.near is not None and wait_for(lambda: short.near._fd is not None)
        short.set(sha, "sha256", versions, doc)
        assert asyncio.run(short.aget_json(sha, "sha256", versions)) is not None
        probe.delete("trustseal:verdict:" + sha)
        time.sleep(0.3)
        assert asyncio.run(short.aget_json(sha, "sha256", versions)) is None  # expired
    finally:
        short.close()


@pytest.mark.redis
def test_rate_limits_count_together_across_threads_loops_and_workers(
    own_redis: OwnRedis,
) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    first, second = RateLimiter(RedisLink(url)), RateLimiter(RedisLink(url))
    first.hit("4/minute", "ip", "192.0.2.1")
    second.hit("4/minute", "ip", "192.0.2.1")
    asyncio.run(first.ahit("4/minute", "ip", "192.0.2.1"))
    asyncio.run(second.ahit("4/minute", "ip", "192.0.2.1"))
    with pytest.raises(RateLimited) as refused:
        asyncio.run(second.ahit("4/minute", "ip", "192.0.2.1"))
    assert 1 <= refused.value.retry_after <= 60
    with pytest.raises(RateLimited):
        first.hit("4/minute", "ip", "192.0.2.1")
    asyncio.run(first.ahit("4/minute", "ip", "192.0.2.2"))  # another client is not limited

    own_redis.stop()  # no Redis: each worker counts alone, and still refuses
    for _ in range(4):
        asyncio.run(first.ahit("4/minute", "ip", "192.0.2.3"))
    with pytest.raises(RateLimited):
        asyncio.run(first.ahit("4/minute", "ip", "192.0.2.3"))


@pytest.mark.redis
def test_rate_limit_leases_stay_within_a_lease_of_the_limit(own_redis: OwnRedis) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    probe = redis.Redis(port=own_redis.port)
    workers = [RateLimiter(RedisLink(url)), RateLimiter(RedisLink(url))]
    limit, lease = "1000/minute", 10  # 1 % of the limit

    def threads(n: int) -> int:
        admitted = 0
        for i in range(n):
            try:
                workers[i % 2].hit(limit, "ip", "198.51.100.7")
                admitted += 1
            except RateLimited:
                pass
        return admitted

    async def loop(n: int) -> int:
        admitted = 0
        for i in range(n):
            try:
                await workers[i % 2].ahit(limit, "ip", "198.51.100.7")
                admitted += 1
            except RateLimited:
                pass
        return admitted

    probe.config_resetstat()
    admitted = threads(300) + asyncio.run(loop(300))
    calls = probe.info("commandstats")["cmdstat_evalsha"]["calls"]
    assert admitted == 600
    assert calls <= 600 / lease + 4  # one Redis round trip per lease, not per request
    admitted += threads(300) + asyncio.run(loop(300))
    # two workers, each may hold an unspent lease when the limit is reached
    assert 1000 - 2 * (lease - 1) <= admitted <= 1000
    with pytest.raises(RateLimited) as refused:
        workers[0].hit(limit, "ip", "198.51.100.7")
    assert refused.value.retry_after >= 1


def test_concurrent_requests_waste_no_leased_hits(own_redis: OwnRedis) -> None:
    """Requests that find no lease at the same moment each take one; the hits of all of
    them are kept for later requests, not lost (which made a client reach its limit
    early)."""
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    worker = RateLimiter(RedisLink(url))
    limit, lease, connections = "1000/minute", 10, 4

    async def connection() -> int:
        admitted = 0
        for _ in range(300):
            try:
                await worker.ahit(limit, "ip", "198.51.100.9")
                admitted += 1
            except RateLimited:
                pass
            await asyncio.sleep(0)  # the request's own I/O: the others run meanwhile
        return admitted

    async def all_connections() -> int:
        return sum(await asyncio.gather(*(connection() for _ in range(connections))))

    admitted = asyncio.run(all_connections())
    # every hit Redis counted is spent, but for the leases still held at the end
    assert 1000 - connections * (lease - 1) <= admitted <= 1000


@pytest.mark.redis
def test_cached_verdicts_over_http_match_computed_ones(tmp_path: Path, own_redis: OwnRedis) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    settings = Settings(data_dir=tmp_path / "d", redis_url=url, log_worker=False)
    with TestClient(create_app(settings)) as c:
        eng = c.app.state.engine  # type: ignore[attr-defined]
        sha = hashlib.sha256(b"answered from the cache").hexdigest()
        first = c.post("/v1/verify", json={"sha256": sha})
        again = c.post("/v1/verify", json={"sha256": sha})
        assert first.status_code == again.status_code == 200
        assert again.headers["content-type"] == "application/json"
        assert again.json() == first.json() and first.json()["verdict"] == "unverified"
        keys = receipt_keys_from_document(c.get("/v1/keys").json())
        assert verify_receipt(again.json(), keys)
        assert eng.sign_text("answered from the cache").sha256 == sha  # the entry goes
        assert c.post("/v1/verify", json={"sha256": sha}).json()["verdict"] == "verified"


# --- prefix lookup ------------------------------------------------------------------


def test_prefix_lookup_bounds_and_answers(client: TestClient, sign_token: str) -> None:
    sha = client.post("/v1/sign", json={"text": "look me up"}, headers=auth(sign_token)).json()[
        "sha256"
    ]
    found = client.get(f"/v1/lookup/{sha[:5]}").json()
    assert [d["sha256"] for d in found["items"]] == [sha]
    assert found["truncated"] is False
    assert found["items"][0]["provenance"]["record"]["valid"] is True
    other = "0" if sha[0] != "0" else "1"
    assert client.get(f"/v1/lookup/{other}{sha[1:5]}").json()["items"] == []
    for bad in (sha[:3], sha[:7], sha, "zzzz", "ABCD"):
        r = client.get(f"/v1/lookup/{bad}")
        assert r.status_code == 422, bad


def test_batched_lookup_answers_each_prefix_among_decoys(
    client: TestClient, sign_token: str
) -> None:
    sha = client.post("/v1/sign", json={"text": "find me in a batch"}, headers=auth(sign_token))
    sha = sha.json()["sha256"]
    decoys = [f"{i:04x}" for i in range(7) if f"{i:04x}" != sha[:4]]
    asked = [decoys[0], sha[:4], *decoys[1:], sha[:4]]  # a repeat is answered once
    r = client.get("/v1/lookup", params=[("prefix", p) for p in asked])
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["prefix"] for x in results] == list(dict.fromkeys(asked))
    by_prefix = {x["prefix"]: x for x in results}
    assert sha in [d["sha256"] for d in by_prefix[sha[:4]]["items"]]
    single = client.get(f"/v1/lookup/{sha[:4]}").json()
    assert [d["sha256"] for d in by_prefix[sha[:4]]["items"]] == [
        d["sha256"] for d in single["items"]
    ]
    for d in by_prefix[decoys[0]]["items"]:
        assert d["sha256"].startswith(decoys[0])
    for bad in ([], ["abc"], ["ABCD"], ["abcd", "zzzz"], [f"{i:04x}" for i in range(65)]):
        r = client.get("/v1/lookup", params=[("prefix", p) for p in bad])
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")


# --- scopes -------------------------------------------------------------------------


SCOPE_TABLE = [
    # (method, path, body, scope -> expected status)
    (
        "post",
        "/v1/sign",
        {"text": "scoped"},
        {None: 401, "sign": 200, "moderate": 403, "admin": 200},
    ),
    (
        "post",
        "/v1/feedback",
        {"text": "scoped", "label": "ham"},
        {None: 401, "sign": 403, "moderate": 201, "admin": 201},
    ),
    (
        "post",
        "/v1/publishers",
        {"name": "P", "public_key": "A" * 43 + "="},
        {None: 401, "sign": 403, "moderate": 403, "admin": 201},
    ),
    (
        "post",
        "/v1/verify",
        {"text": "scoped"},
        {None: 200, "sign": 200, "moderate": 200, "admin": 200},
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), SCOPE_TABLE, ids=[row[1] for row in SCOPE_TABLE]
)
def test_scope_table(client: TestClient, engine: TrustEngine, method, path, body, expected) -> None:
    for scope, status in expected.items():
        headers = {}
        if scope is not None:
            headers = auth(engine.store.create_api_key(f"k-{scope}", [scope]).token)
        payload = dict(body)
        if path == "/v1/publishers" and scope:
            payload["name"] = f"P-{scope}"
            payload["public_key"] = base64.b64encode(os.urandom(32)).decode()
        r = getattr(client, method)(path, json=payload, headers=headers)
        assert r.status_code == status, (path, scope, r.text)
