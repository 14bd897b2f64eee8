"""Real answers of every route against their response models (app/api/responses.py).

Each body validates against its model, dumps back to exactly the JSON the route sent
(nothing dropped, added or changed), and carries no field the model leaves unnamed.
The documents come from real signing, real C2PA, a real log and, for anchors, an
in-process EVM chain.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.exc import OperationalError
from web3 import EthereumTesterProvider, Web3

from app.anchoring import Anchorer
from app.api import responses
from app.engine import TrustEngine
from signing.anchor import ChainClient
from signing.bundle import verify_bundle
from signing.keys import Ed25519Key
from signing.records import build_record, sha256_hex, sign_record, verify_record
from tests.app.conftest import auth
from tests.support import golden, media_factory
from tests.support.documents import answer, problem, unnamed_keys
from tests.support.tamper import flip_content_byte


@pytest.fixture
def signer_token(engine: TrustEngine) -> str:
    return engine.store.create_api_key("all", ["admin"]).token


@pytest.fixture
def chain(engine: TrustEngine) -> Iterator[Anchorer]:
    """The engine anchoring its log on an in-process EVM chain."""
    tester = EthereumTester(PyEVMBackend())
    client = ChainClient.from_web3(
        Web3(EthereumTesterProvider(tester)), tester.backend.account_keys[0].to_bytes(), timeout=5
    )
    client.deploy_contract()
    anchorer = Anchorer(engine.db, engine.log, client)
    engine.anchorer = anchorer
    yield anchorer
    engine.anchorer = None


def sign_upload(
    client: TestClient, engine: TrustEngine, token: str, data: bytes, **fields: str
) -> dict[str, Any]:
    r = client.post("/v1/sign", files={"file": ("f", data)}, data=fields, headers=auth(token))
    body = answer(r, responses.SignResult)
    assert verify_record(body["record"], engine.resolve_key).valid  # served as signed
    return body


def test_verdicts_of_media_text_and_digests(
    client: TestClient, engine: TrustEngine, signer_token: str
) -> None:
    photo = sign_upload(client, engine, signer_token, media_factory.make_jpeg(), title="photo")
    content = base64.b64decode(photo["content_base64"])
    octets = {"content-type": "application/octet-stream"}
    verdicts = [
        client.post("/v1/verify", files={"file": ("f", content)}),  # log entry queued
        client.post("/v1/verify", json={"text": "buy cheap pills now", "id": "post-1"}),
        client.post("/v1/verify", json={"sha256": "0" * 64}),  # unknown digest
        client.post("/v1/verify", content=b"plain words", headers=octets),
    ]
    engine.log.sequence_all()
    tampered = flip_content_byte(content, "image/jpeg")
    verdicts += [
        client.post("/v1/verify", files={"file": ("f", content)}),  # logged
        client.post("/v1/verify", json={"sha256": photo["sha256"]}),
        client.post("/v1/verify", files={"file": ("f", tampered)}),
        client.post("/v1/verify", content=content, headers={"content-type": "image/jpeg"}),
    ]
    docs = [answer(r, responses.Verdict) for r in verdicts]
    assert {d["verdict"] for d in docs} >= {"verified", "tampered", "unverified"}
    assert any(d["provenance"]["c2pa"] for d in docs)
    assert any(d["provenance"]["log"] and d["provenance"]["log"]["index"] == 0 for d in docs)
    assert any(d["content"]["campaign"] for d in docs)
    # the hot path's cached JSON is the same document
    again = client.post("/v1/verify", json={"sha256": photo["sha256"]})
    assert answer(again, responses.Verdict) == docs[5]

    lookup = answer(client.get(f"/v1/lookup/{photo['sha256'][:4]}"), responses.LookupResult)
    assert [d["sha256"] for d in lookup["items"]] == [photo["sha256"]]
    assert lookup["items"][0] == docs[5]


def test_sign_results_each_kind(
    client: TestClient, engine: TrustEngine, signer_token: str, admin_token: str
) -> None:
    sidecar = sign_upload(client, engine, signer_token, media_factory.make_png(), sidecar="true")
    assert sidecar["content_base64"] is None and sidecar["manifest_base64"]
    unsigned_kind = sign_upload(client, engine, signer_token, b"\x00\x01 not media")
    assert unsigned_kind["c2pa"] == {"embedded": False, "sidecar": False}
    text = answer(
        client.post(
            "/v1/sign", json={"text": "words", "claims": {"n": 1}}, headers=auth(signer_token)
        ),
        responses.SignResult,
    )
    assert "content_base64" not in text  # left out, not null
    assert "publisher" not in text["record"]["record"]  # so the envelope still verifies
    assert verify_record(text["record"], engine.resolve_key).valid

    # a publisher's own record, with a field the service does not know, kept as signed
    key = Ed25519Key(SigningKey.generate())
    client.post(
        "/v1/publishers",
        json={"name": "Planet", "public_key": key.public_b64},
        headers=auth(admin_token),
    )
    token = engine.store.create_api_key("planet", ["sign"], "Planet").token
    record = build_record(sha256=sha256_hex(b"at the source"), media_type="text/plain", key=key)
    envelope = sign_record({**record, "edition": "morning"}, key)
    r = client.post("/v1/sign", json={"record": envelope}, headers=auth(token))
    assert r.status_code == 200, r.text
    submitted = r.json()
    assert submitted["record"] == envelope
    assert verify_record(submitted["record"], engine.resolve_key).valid
    assert TypeAdapter(responses.SignResult).validate_python(submitted).record.record.model_extra


def test_items_bundles_proofs_and_keys_with_anchors(
    client: TestClient, engine: TrustEngine, signer_token: str, chain: Anchorer
) -> None:
    first = sign_upload(client, engine, signer_token, media_factory.make_jpeg())
    queued = answer(client.get(f"/v1/items/{first['sha256']}"), responses.ItemInfo)
    assert queued["records"][0]["log"]["index"] is None
    problem(client.get(f"/v1/items/{first['sha256']}/bundle"), 409)
    engine.log.sequence_all()
    chain.anchor_latest()
    client.post("/v1/sign", json={"text": "second"}, headers=auth(signer_token))
    engine.log.sequence_all()

    item = answer(client.get(f"/v1/items/{first['sha256']}"), responses.ItemInfo)
    assert item["records"][0]["log"]["status"] == "sequenced"
    bundle = answer(client.get(f"/v1/items/{first['sha256']}/bundle"), responses.ProofBundle)
    assert bundle["anchor"] is not None
    checked = verify_bundle(bundle, engine.pinned_keys(), content_sha256=first["sha256"])
    assert "log.inclusion.verified" in checked.passed
    verdict = answer(client.post("/v1/verify", json={"sha256": first["sha256"]}), responses.Verdict)
    assert verdict["provenance"]["anchor"]["chain_id"] == bundle["anchor"]["chain_id"]

    answer(client.get("/v1/log/proof/inclusion?index=0&size=2"), responses.InclusionProof)
    answer(client.get("/v1/log/proof/consistency?old=1&new=2"), responses.ConsistencyProof)
    same = answer(client.get("/v1/log/proof/consistency?old=2&new=2"), responses.ConsistencyProof)
    assert same["proof"] == []
    keys = answer(client.get("/v1/keys"), responses.PublicKeys)
    assert keys["chain"]["development"] is True


def test_keys_while_the_chain_is_unreachable(
    client: TestClient, engine: TrustEngine, admin_token: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    node = ChainClient.from_rpc_url(
        f"http://127.0.0.1:{port}", None, contract_address="0x" + "11" * 20, timeout=1
    )
    engine.anchorer = Anchorer(engine.db, engine.log, node)
    key = Ed25519Key(SigningKey.generate())
    client.post(
        "/v1/publishers",
        json={"name": "Listed", "public_key": key.public_b64},
        headers=auth(admin_token),
    )
    keys = answer(client.get("/v1/keys"), responses.PublicKeys)
    assert keys["chain"] == {"status": "unavailable"}
    assert [p["name"] for p in keys["publishers"]] == ["Listed"]


def test_publishers_feedback_and_health(
    client: TestClient, engine: TrustEngine, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519Key(SigningKey.generate())
    answer(
        client.post(
            "/v1/publishers",
            json={"name": "Gazette", "public_key": key.public_b64},
            headers=auth(admin_token),
        ),
        responses.PublisherInfo,
        201,
    )
    listed = answer(client.get("/v1/publishers"), list[responses.PublisherInfo])
    assert [p["name"] for p in listed] == ["Gazette"]
    answer(
        client.post(
            "/v1/feedback", json={"text": "win a prize", "label": "spam"}, headers=auth(admin_token)
        ),
        responses.FeedbackLabel,
        201,
    )
    assert answer(client.get("/healthz"), responses.Health) == {"status": "ok", "database": "ok"}

    def database_down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(engine.store, "ping", database_down)
    down = answer(client.get("/healthz"), responses.Health, 503)
    assert down == {"status": "unhealthy", "database": "OperationalError"}


def test_every_golden_verdict_field_is_named() -> None:
    """The recorded verdict documents (tests/app/golden; normalised, so their values are
    placeholders) use no field the Verdict model leaves unnamed."""
    verdicts = {k: v for k, v in golden.load().items() if isinstance(v, dict) and "receipt" in v}
    assert len(verdicts) > 100
    for case, doc in verdicts.items():
        receipt = {k: v for k, v in doc["receipt"].items() if k != "verified"}  # the recorder's
        assert unnamed_keys(responses.Verdict, {**doc, "receipt": receipt}) == [], case


def test_problems_and_text_answers(client: TestClient) -> None:
    problem(client.get(f"/v1/items/{'0' * 64}"), 404)
    problem(client.get("/v1/items/not-a-digest"), 422)
    assert client.get("/v1/items/not-a-digest").json()["errors"][0]["loc"] == ["path", "sha256"]
    problem(client.post("/v1/sign", json={"text": "x"}), 401)
    problem(client.post("/v1/verify", content=b"x", headers={"content-type": "text/x"}), 415)
    problem(client.post("/v1/verify", json={}), 422)
    checkpoint = client.get("/v1/log/checkpoint")
    assert checkpoint.headers["content-type"].startswith("text/plain")
    assert checkpoint.text.splitlines()[1] == "0"
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/log/checkpoint"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {
        "text/plain",
        "application/openmetrics-text",
    }


def test_schema_values_are_the_vocabulary() -> None:
    """The documented labels and states are exactly the engine's vocabulary."""
    from app.api.responses import verdict as schema
    from app.verdict.vocabulary import C2paState, LogStatus, ProofSource, Verdict

    def allowed(model: type[BaseModel], name: str) -> set[str]:
        annotation = model.model_fields[name].annotation
        literals = [annotation, *get_args(annotation)]  # a Literal, or Literal | None
        return {a for arg in literals for a in get_args(arg) if isinstance(a, str)}

    assert set(get_args(schema.VerdictLabel)) == {v.value for v in Verdict}
    assert allowed(schema.C2paCheck, "state") == {s.value for s in C2paState}
    assert allowed(schema.LogCheck, "status") == {s.value for s in LogStatus}
    assert allowed(schema.LogCheck, "proof_source") == {s.value for s in ProofSource}
