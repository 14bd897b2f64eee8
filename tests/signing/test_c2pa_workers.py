"""C2PA validation and signing in worker processes: the same evidence and manifests as in
process, errors carried back, and a dead worker costing one call at most."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from signing import fingerprints
from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import C2paMedia
from signing.c2pa_proof import active_manifest_label, attach_proof, read_attached_proof
from signing.c2pa_workers import C2paWorkers, WorkerJob
from signing.errors import KeyStoreError, MalformedContent, UnsupportedMediaType
from tests.support import media_factory


@pytest.fixture(scope="module")
def readers(local_chain: C2paSigningMaterial) -> Iterator[C2paWorkers]:
    pool = C2paWorkers(local_chain.root_pem, workers=2)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def signers(local_chain: C2paSigningMaterial) -> Iterator[C2paWorkers]:
    pool = C2paWorkers(local_chain.root_pem, local_chain, workers=1)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def signed_jpeg(trusting_media: C2paMedia) -> bytes:
    return trusting_media.sign(media_factory.make_jpeg(160, 120), "image/jpeg").data


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "video/mp4", "application/pdf"])
def test_workers_give_the_evidence_of_an_in_process_read(
    readers: C2paWorkers, trusting_media: C2paMedia, media_type: str
) -> None:
    signed = trusting_media.sign(media_factory.make(media_type), media_type).data
    tampered = bytearray(signed)
    tampered[len(signed) // 2] ^= 0x10
    for data in (signed, bytes(tampered), media_factory.make(media_type)):
        try:
            expected = trusting_media.read(data, media_type)
        except MalformedContent:
            with pytest.raises(MalformedContent):
                readers.read(data, media_type)
            continue
        assert readers.read(data, media_type) == expected
    assert readers.read(signed, media_type).state == "Trusted"


def test_sidecar_manifest_goes_to_the_worker(
    readers: C2paWorkers, trusting_media: C2paMedia
) -> None:
    png = media_factory.make("image/png")
    manifest = trusting_media.sign(png, "image/png", sidecar=True).manifest
    assert manifest is not None
    evidence = readers.read(png, "image/png", manifest)
    assert evidence == trusting_media.read(png, "image/png", sidecar_manifest=manifest)
    assert evidence.state == "Trusted"


def test_errors_come_back_as_they_are_and_the_worker_goes_on(
    readers: C2paWorkers, signed_jpeg: bytes
) -> None:
    with pytest.raises(MalformedContent):
        readers.read(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    with pytest.raises(UnsupportedMediaType):
        readers.read(signed_jpeg, "text/plain")
    assert readers.read(signed_jpeg, "image/jpeg").state == "Trusted"


def test_attached_proof_is_read_with_the_pool_anchors(
    readers: C2paWorkers, local_chain: C2paSigningMaterial, signed_jpeg: bytes
) -> None:
    assert readers.attached_proof(signed_jpeg, "image/jpeg") is None
    bundle = {"leaf_index": 3, "tree_size": 8, "inclusion": ["a1" * 32, "b2" * 32]}
    with_proof = attach_proof(local_chain, signed_jpeg, "image/jpeg", bundle)
    proof = readers.attached_proof(with_proof, "image/jpeg")
    assert proof is not None
    assert proof.bundle == bundle
    assert proof.state == "Trusted"


def test_a_worker_killed_while_idle_is_replaced(
    local_chain: C2paSigningMaterial, signed_jpeg: bytes
) -> None:
    pool = C2paWorkers(local_chain.root_pem, workers=1)
    try:
        pool.start()
        (worker,) = pool._idle
        worker.process.kill()
        worker.process.wait()
        assert pool.read(signed_jpeg, "image/jpeg").state == "Trusted"
        assert pool._idle and pool._idle[0] is not worker
    finally:
        pool.close()


def test_a_worker_dying_during_a_call_fails_that_call_only(
    local_chain: C2paSigningMaterial, signed_jpeg: bytes
) -> None:
    pool = C2paWorkers(local_chain.root_pem, workers=1)
    try:
        worker = pool._acquire()
        worker.process.kill()  # as if the native parser had crashed on the content
        worker.process.wait()
        with pytest.raises(MalformedContent, match="could not process"):
            WorkerJob(pool, worker).result()
        assert pool.read(signed_jpeg, "image/jpeg").state == "Trusted"
    finally:
        pool.close()


def test_callers_beyond_the_pool_size_wait_their_turn(
    readers: C2paWorkers, signed_jpeg: bytes
) -> None:
    states: list[str] = []

    def read() -> None:
        states.append(readers.read(signed_jpeg, "image/jpeg").state)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert states == ["Trusted"] * 6
    assert len(readers._idle) <= readers.size


def test_a_job_nobody_took_is_waited_for_on_close_and_its_worker_goes_back(
    local_chain: C2paSigningMaterial, signed_jpeg: bytes
) -> None:
    pool = C2paWorkers(local_chain.root_pem, workers=1)
    try:
        job = pool.start_read(signed_jpeg, "image/jpeg")
        assert pool._idle == []
        job.close()
        assert len(pool._idle) == 1
        job.close()  # closing again changes nothing
        assert len(pool._idle) == 1
        with pytest.raises(RuntimeError, match="already taken"):
            job.result()
        # the next call gets its own answer, not the one nobody took
        unsigned = media_factory.make_jpeg(160, 120)
        assert pool.read(unsigned, "image/jpeg").state == "absent"
        taken = pool.start_read(signed_jpeg, "image/jpeg")
        assert taken.result().state == "Trusted"
        taken.close()  # after the result: nothing to wait for
        assert len(pool._idle) == 1
    finally:
        pool.close()


def test_closed_pool_refuses_work(local_chain: C2paSigningMaterial, signed_jpeg: bytes) -> None:
    pool = C2paWorkers(local_chain.root_pem, workers=1)
    pool.start()
    pool.close()
    assert pool._idle == []
    with pytest.raises(RuntimeError, match="closed"):
        pool.read(signed_jpeg, "image/jpeg")


def test_shared_pool_is_one_per_anchor_bundle(local_chain: C2paSigningMaterial) -> None:
    assert C2paWorkers.shared(local_chain.root_pem) is C2paWorkers.shared(local_chain.root_pem)
    assert C2paWorkers.shared(None) is not C2paWorkers.shared(local_chain.root_pem)


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "video/mp4", "application/pdf"])
def test_workers_sign_as_in_process(
    signers: C2paWorkers, trusting_media: C2paMedia, media_type: str
) -> None:
    original = media_factory.make(media_type)
    signed, label, signature = signers.sign(original, media_type, title="t", claims={"k": [1, "v"]})
    assert signed.manifest is None and signed.data != original and signature is None
    assert label is not None and label == active_manifest_label(signed.data, media_type)
    evidence = trusting_media.read(signed.data, media_type)
    assert evidence.state == "Trusted"
    assert evidence.manifest_label == label
    assert "org.trustseal.claims" in evidence.assertion_labels
    # a second signature is a new manifest over the same content
    again, other, _ = signers.sign(original, media_type)
    assert other != label and trusting_media.read(again.data, media_type).state == "Trusted"


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png"])
def test_workers_fingerprint_what_they_sign(
    signers: C2paWorkers, trusting_media: C2paMedia, media_type: str
) -> None:
    """With ``fingerprint`` the worker returns the image's signature, the same as taken
    in process, and the manifest carries its soft bindings."""
    original = media_factory.make(media_type)
    signed, _, signature = signers.sign(original, media_type, fingerprint=True)
    expected = fingerprints.signature_of(original)
    assert signature is not None and signature.hashes == expected.hashes
    assert signature.features == expected.features
    evidence = trusting_media.read(signed.data, media_type)
    assert evidence.state == "Trusted"
    assert evidence.assertion_labels.count("c2pa.soft-binding") == 2  # ours and io.iscc.v0
    with pytest.raises(MalformedContent):
        signers.sign(media_factory.make("video/mp4"), "video/mp4", fingerprint=True)


def test_workers_sign_sidecars(signers: C2paWorkers, trusting_media: C2paMedia) -> None:
    png = media_factory.make("image/png")
    signed, label, _ = signers.sign(png, "image/png", sidecar=True)
    assert label is None and signed.data == png and signed.manifest
    evidence = trusting_media.read(png, "image/png", sidecar_manifest=signed.manifest)
    assert evidence.state == "Trusted"


def test_signing_errors_come_back_as_they_are(
    signers: C2paWorkers, readers: C2paWorkers, signed_jpeg: bytes
) -> None:
    with pytest.raises(UnsupportedMediaType):
        signers.sign(b"plain text", "text/plain")
    with pytest.raises(ValueError, match="JSON-serialisable"):
        signers.sign(signed_jpeg, "image/jpeg", claims={"n": float("nan")})
    with pytest.raises(KeyStoreError, match="no C2PA signing material"):
        readers.sign(signed_jpeg, "image/jpeg")  # a pool without material reads only
    with pytest.raises(KeyStoreError, match="no C2PA signing material"):
        readers.attach_proof(signed_jpeg, "image/jpeg", {"leaf_index": 0})
    assert signers.sign(signed_jpeg, "image/jpeg")[0].data != signed_jpeg


def test_workers_attach_proofs(signers: C2paWorkers, signed_jpeg: bytes) -> None:
    bundle = {"leaf_index": 1, "tree_size": 2, "inclusion": ["c3" * 32]}
    with_proof = signers.attach_proof(signed_jpeg, "image/jpeg", bundle)
    proof = read_attached_proof(
        with_proof, "image/jpeg", trust_anchors_pem=signers.trust_anchors_pem
    )
    assert proof is not None and proof.bundle == bundle and proof.state == "Trusted"
    with pytest.raises(MalformedContent, match="no embedded C2PA manifest"):
        signers.attach_proof(media_factory.make_jpeg(64, 48), "image/jpeg", bundle)


def test_shared_pool_is_one_per_signing_material(local_chain: C2paSigningMaterial) -> None:
    anchors = local_chain.root_pem
    signing = C2paWorkers.shared(anchors, local_chain)
    assert signing is C2paWorkers.shared(anchors, local_chain)
    assert signing is not C2paWorkers.shared(anchors)
    assert signing.signing is local_chain
