"""The witness's decisions (C2SP tlog-witness add-checkpoint), as pure steps: each refusal
with the spec's status, and the happy paths from nothing and from a cosigned size."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.codes import Code
from signing.cosignature import CosignatureSigner
from signing.errors import VerificationError
from signing.merkle import EMPTY_ROOT, InMemoryNodeStore, TreeAppender, consistency_proof, leaf_hash
from signing.note import NoteSigner
from signing.witness import (
    AddCheckpoint,
    WitnessRefusal,
    WitnessState,
    add_checkpoint_body,
    check_add_checkpoint,
    parse_add_checkpoint,
    read_cosignatures,
)

ORIGIN = "log.example/trustseal"
LOG = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"log key").digest()))
ROGUE = NoteSigner(ORIGIN, SigningKey(hashlib.sha256(b"rogue").digest()))
LOGS = {ORIGIN: [LOG.verifier()]}
WITNESS = CosignatureSigner("w.example/witness", SigningKey(hashlib.sha256(b"w").digest()))


class Tree:
    def __init__(self, salt: bytes = b"") -> None:
        self.store, self.appender, self.salt = InMemoryNodeStore(), TreeAppender(), salt

    def grow(self, n: int) -> Checkpoint:
        start = self.appender.size
        result = self.appender.append(
            leaf_hash(self.salt + b"entry %d" % i) for i in range(start, start + n)
        )
        self.store.put(result.nodes)
        return Checkpoint(ORIGIN, result.size, result.root)

    def proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(old, new, self.store) if 0 < old < new else []


def request(
    old: int, proof: list[bytes], cp: Checkpoint, signer: NoteSigner = LOG
) -> AddCheckpoint:
    return parse_add_checkpoint(add_checkpoint_body(old, proof, sign_checkpoint(cp, signer)))


def refusal(req: AddCheckpoint, state: WitnessState | None) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as e:
        check_add_checkpoint(req, LOGS, state)
    return e.value


def test_first_checkpoint_then_growth_are_cosigned() -> None:
    tree = Tree()
    cp5 = tree.grow(5)
    assert check_add_checkpoint(request(0, [], cp5), LOGS, None) == cp5
    cp9 = tree.grow(4)
    state = WitnessState(5, cp5.root)
    assert check_add_checkpoint(request(5, tree.proof(5, 9), cp9), LOGS, state) == cp9
    # the same checkpoint again (a retry) is cosigned again
    assert check_add_checkpoint(request(9, [], cp9), LOGS, WitnessState(9, cp9.root)) == cp9


def test_spec_example_body_parses() -> None:
    body = (
        "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
        "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\n"
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
        "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4U"
        "RYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    ).encode()
    req = parse_add_checkpoint(body)
    assert req.old_size == 20852014 and len(req.proof) == 2
    assert req.note.startswith("example.com/behind-the-sofa\n20852163\n")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1\n",  # no blank line, no checkpoint
        b"old 01\n\nx\n",  # leading zero
        b"old -1\n\nx\n",
        b"new 1\n\nx\n",
        b"old 1\nnot base64!\n\nx\n",
        b"old 1\n" + base64.b64encode(b"short") + b"\n\nx\n",
        b"old 0\n" + base64.b64encode(bytes(32)) + b"\n\nx\n",  # a proof from size 0
        b"old 1\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\nx\n",  # 64 lines
        b"old 1\n\n\xff\xfe\n",
    ],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(WitnessRefusal) as e:
        parse_add_checkpoint(body)
    assert e.value.code == Code.WITNESS_REQUEST_MALFORMED and e.value.status == 400


def test_unknown_origin_is_404() -> None:
    other = NoteSigner("other.example/log", LOG.signing_key)
    cp = Checkpoint("other.example/log", 1, hashlib.sha256(b"x").digest())
    e = refusal(request(0, [], cp, other), None)
    assert (e.code, e.status) == (Code.WITNESS_ORIGIN_UNKNOWN, 404)


def test_checkpoint_signed_by_another_key_is_403() -> None:
    e = refusal(request(0, [], Tree().grow(3), ROGUE), None)
    assert (e.code, e.status) == (Code.WITNESS_SIGNATURE_UNTRUSTED, 403)


def test_old_size_beyond_the_checkpoint_is_400() -> None:
    tree = Tree()
    cp = tree.grow(3)
    e = refusal(request(4, [bytes(32)], cp), WitnessState(4, bytes(32)))
    assert (e.code, e.status) == (Code.WITNESS_REQUEST_MALFORMED, 400)


def test_old_size_other_than_last_cosigned_is_409_with_that_size() -> None:
    tree = Tree()
    cp5 = tree.grow(5)
    cp9 = tree.grow(4)
    e = refusal(request(3, tree.proof(3, 9), cp9), WitnessState(5, cp5.root))
    assert (e.code, e.status, e.latest_size) == (Code.WITNESS_SIZE_CONFLICT, 409, 5)
    # a client that never asked starts from 0 and learns the size
    e = refusal(request(0, [], cp9), WitnessState(5, cp5.root))
    assert e.latest_size == 5


def test_forked_checkpoint_at_the_cosigned_size_is_409() -> None:
    """Same origin, same size, another root: the log shows two views."""
    cp = Tree().grow(6)
    fork = Tree(b"fork ").grow(6)
    e = refusal(request(6, [], fork), WitnessState(6, cp.root))
    assert (e.code, e.status, e.latest_size) == (Code.WITNESS_ROOT_CONFLICT, 409, 6)


def test_forked_larger_checkpoint_is_422() -> None:
    """A larger tree of a forked log cannot prove it extends what was cosigned."""
    honest, forked = Tree(), Tree(b"fork ")
    cp5 = honest.grow(5)
    forked.grow(5)
    fork9 = forked.grow(4)
    e = refusal(request(5, forked.proof(5, 9), fork9), WitnessState(5, cp5.root))
    assert (e.code, e.status) == (Code.WITNESS_CONSISTENCY_INVALID, 422)


def test_a_first_empty_tree_needs_the_empty_root() -> None:
    assert check_add_checkpoint(request(0, [], Checkpoint(ORIGIN, 0, EMPTY_ROOT)), LOGS, None)
    e = refusal(request(0, [], Checkpoint(ORIGIN, 0, bytes(32))), None)
    assert e.status == 409


@settings(max_examples=40, deadline=None)
@given(old=st.integers(1, 60), grow=st.integers(1, 60), flip=st.integers(0, 10_000))
def test_every_honest_extension_is_accepted_and_every_mutated_proof_refused(
    old: int, grow: int, flip: int
) -> None:
    tree = Tree()
    before = tree.grow(old)
    after = tree.grow(grow)
    proof = tree.proof(old, old + grow)
    state = WitnessState(old, before.root)
    assert check_add_checkpoint(request(old, proof, after), LOGS, state) == after
    if proof:
        bad = [bytearray(h) for h in proof]
        bad[flip % len(bad)][flip % 32] ^= 1 << (flip % 8)
        e = refusal(request(old, [bytes(h) for h in bad], after), state)
        assert e.status == 422


def test_client_reads_the_witness_answer() -> None:
    cp = Tree().grow(4)
    note = sign_checkpoint(cp, LOG)
    line, got = read_cosignatures(note, WITNESS.cosign(cp, 1_700_000_000), WITNESS.verifier())
    assert line == WITNESS.cosign(cp, 1_700_000_000)
    assert [(c.witness, c.timestamp) for c in got] == [("w.example/witness", 1_700_000_000)]
    other = CosignatureSigner("w.example/witness", SigningKey(bytes(32)))
    for answer in ("", "not a line\n", other.cosign(cp, 1)):
        with pytest.raises(VerificationError):
            read_cosignatures(note, answer, WITNESS.verifier())
