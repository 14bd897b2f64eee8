"""C2PA validation in worker processes: the same evidence as in process, errors carried
back, and a dead worker costing one call at most."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import C2paMedia
from signing.c2pa_proof import attach_proof
from signing.c2pa_workers import C2paReaders, ReadJob
from signing.errors import MalformedContent, UnsupportedMediaType
from tests import media_factory


@pytest.fixture(scope="module")
def readers(local_chain: C2paSigningMaterial) -> Iterator[C2paReaders]:
    pool = C2paReaders(local_chain.root_pem, workers=2)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def signed_jpeg(trusting_media: C2paMedia) -> bytes:
    return trusting_media.sign(media_factory.make_jpeg(160, 120), "image/jpeg").data


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "video/mp4", "application/pdf"])
def test_workers_give_the_evidence_of_an_in_process_read(
    readers: C2paReaders, trusting_media: C2paMedia, media_type: str
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
    readers: C2paReaders, trusting_media: C2paMedia
) -> None:
    png = media_factory.make("image/png")
    manifest = trusting_media.sign(png, "image/png", sidecar=True).manifest
    assert manifest is not None
    evidence = readers.read(png, "image/png", manifest)
    assert evidence == trusting_media.read(png, "image/png", sidecar_manifest=manifest)
    assert evidence.state == "Trusted"


def test_errors_come_back_as_they_are_and_the_worker_goes_on(
    readers: C2paReaders, signed_jpeg: bytes
) -> None:
    with pytest.raises(MalformedContent):
        readers.read(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    with pytest.raises(UnsupportedMediaType):
        readers.read(signed_jpeg, "text/plain")
    assert readers.read(signed_jpeg, "image/jpeg").state == "Trusted"


def test_attached_proof_is_read_with_the_pool_anchors(
    readers: C2paReaders, local_chain: C2paSigningMaterial, signed_jpeg: bytes
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
    pool = C2paReaders(local_chain.root_pem, workers=1)
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
    pool = C2paReaders(local_chain.root_pem, workers=1)
    try:
        worker = pool._acquire()
        worker.process.kill()  # as if the native parser had crashed on the content
        worker.process.wait()
        with pytest.raises(MalformedContent, match="could not process"):
            ReadJob(pool, worker).result()
        assert pool.read(signed_jpeg, "image/jpeg").state == "Trusted"
    finally:
        pool.close()


def test_callers_beyond_the_pool_size_wait_their_turn(
    readers: C2paReaders, signed_jpeg: bytes
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


def test_closed_pool_refuses_work(local_chain: C2paSigningMaterial, signed_jpeg: bytes) -> None:
    pool = C2paReaders(local_chain.root_pem, workers=1)
    pool.start()
    pool.close()
    assert pool._idle == []
    with pytest.raises(RuntimeError, match="closed"):
        pool.read(signed_jpeg, "image/jpeg")


def test_shared_pool_is_one_per_anchor_bundle(local_chain: C2paSigningMaterial) -> None:
    assert C2paReaders.shared(local_chain.root_pem) is C2paReaders.shared(local_chain.root_pem)
    assert C2paReaders.shared(None) is not C2paReaders.shared(local_chain.root_pem)
