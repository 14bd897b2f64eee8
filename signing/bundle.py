"""Proof bundles: everything needed to check, offline, that an item is in the log.

A bundle holds the item's signed record envelope, its leaf index, the inclusion proof,
the signed checkpoint that proof leads to, and that checkpoint's chain anchor if any.
:func:`verify_bundle` is a pure function of the bundle, the content digest, pinned keys
and (for the anchor only) an injected chain client.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from signing.anchor import AnchorEvidence, AnchorRecord, ChainClient, verify_anchor
from signing.checkpoint import Checkpoint, CheckpointVerifier, check_consistent
from signing.codes import AnchorCode, C2paState, Code
from signing.cosignature import WitnessPolicy
from signing.errors import MalformedContent, VerificationError
from signing.merkle import verify_inclusion
from signing.note import NoteVerifier
from signing.records import KeyResolver, RecordEvidence, parse_envelope, record_leaf_hash
from signing.records import verify_record as check_record

__all__ = [
    "BUNDLE_TYPE",
    "CLOCK_SKEW",
    "BundleEvidence",
    "PinnedKeys",
    "make_bundle",
    "parse_bundle",
    "verify_bundle",
]

BUNDLE_TYPE = "trustseal.proof/v1"
CLOCK_SKEW = timedelta(minutes=5)


def make_bundle(
    *,
    envelope: Mapping[str, Any],
    leaf_index: int,
    checkpoint_note: str,
    inclusion_proof: Sequence[bytes],
    anchor: AnchorRecord | None,
) -> dict[str, Any]:
    return {
        "type": BUNDLE_TYPE,
        "envelope": {"record": envelope["record"], "signature": envelope["signature"]},
        "leaf_index": leaf_index,
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in inclusion_proof],
        "checkpoint": checkpoint_note,
        "anchor": anchor.to_dict() if anchor else None,
    }


@dataclass(frozen=True)
class PinnedKeys:
    """What a verifier trusts, fixed before it looks at any bundle.

    The checkpoint keys are copied into a tuple when the object is made; each signed
    checkpoint note that verified under them is remembered (by its exact text) for as
    long as this object lives. A changed key set needs a new ``PinnedKeys``.
    """

    origin: str
    checkpoint_verifiers: Sequence[NoteVerifier]
    record_keys: KeyResolver
    chain_id: int | None = None
    contract: str | None = None
    min_confirmations: int = 1
    allow_untrusted_dev_chain: bool = False
    # witnesses of which a quorum must have cosigned a checkpoint; None: none required
    witnesses: WitnessPolicy | None = None
    _checkpoints: CheckpointVerifier = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        verifiers = tuple(self.checkpoint_verifiers)
        object.__setattr__(self, "checkpoint_verifiers", verifiers)
        checkpoints = CheckpointVerifier(verifiers, expected_origin=self.origin)
        object.__setattr__(self, "_checkpoints", checkpoints)

    def verify_checkpoint(self, note_text: str) -> Checkpoint:
        """Open a signed checkpoint of this log under the pinned checkpoint keys."""
        return self._checkpoints.verify(note_text)


@dataclass
class BundleEvidence:
    """Every check, with its reason code. ``ok`` only if none failed."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    sha256: str | None = None
    leaf_index: int | None = None
    checkpoint: Checkpoint | None = None
    record: RecordEvidence | None = None
    anchor: AnchorEvidence | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    def pass_(self, code: str) -> None:
        self.passed.append(str(code))

    def skip(self, code: str) -> None:
        self.skipped.append(str(code))

    def fail(self, code: str, detail: str = "") -> BundleEvidence:
        self.failed.append(str(code))
        if detail:
            self.details.append(f"{code}: {detail}")
        return self

    def to_dict(self) -> dict[str, Any]:
        # Codes are StrEnum members in the code; the documents hold their plain strings.
        return {
            "ok": self.ok,
            "passed": [str(c) for c in self.passed],
            "failed": [str(c) for c in self.failed],
            "skipped": [str(c) for c in self.skipped],
            "details": self.details,
            "sha256": self.sha256,
            "leaf_index": self.leaf_index,
            "tree_size": self.checkpoint.size if self.checkpoint else None,
            "record": self.record.to_dict() if self.record else None,
            "anchor": self.anchor.to_dict() if self.anchor else None,
        }


def parse_bundle(bundle: Any) -> tuple[dict[str, Any], int, list[bytes], str, AnchorRecord | None]:
    if not isinstance(bundle, dict) or bundle.get("type") != BUNDLE_TYPE:
        raise MalformedContent(f"not a {BUNDLE_TYPE} bundle")
    envelope = bundle.get("envelope")
    parse_envelope(envelope)
    assert isinstance(envelope, dict)
    index = bundle.get("leaf_index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise MalformedContent("bundle leaf_index must be a non-negative integer")
    raw_proof = bundle.get("inclusion_proof")
    if not isinstance(raw_proof, list) or not all(isinstance(h, str) for h in raw_proof):
        raise MalformedContent("bundle inclusion_proof must be a list of base64 hashes")
    try:
        proof = [base64.b64decode(h, validate=True) for h in raw_proof]
    except (binascii.Error, ValueError) as e:
        raise MalformedContent("bundle inclusion_proof is not base64") from e
    note = bundle.get("checkpoint")
    if not isinstance(note, str):
        raise MalformedContent("bundle checkpoint must be a signed note")
    anchor_data = bundle.get("anchor")
    anchor = AnchorRecord.from_dict(anchor_data) if anchor_data is not None else None
    return envelope, index, proof, note, anchor


def verify_bundle(
    bundle: Any,
    keys: PinnedKeys,
    *,
    content_sha256: str | None,
    content_manifest: tuple[str, str] | None = None,
    chain: ChainClient | None = None,
    previous: Checkpoint | None = None,
    consistency_proof: Sequence[bytes] = (),
    checked_records: Sequence[RecordEvidence] = (),
    require_anchor: bool = False,
    now: datetime | None = None,
) -> BundleEvidence:
    """Check a bundle. Raises :class:`MalformedContent` only for unparseable input;
    every failed check is a reason code in the evidence.

    With ``require_anchor`` (a verifier that asked for the chain check) a bundle without
    an anchor, or one that cannot be checked (no chain client, or keys that name no
    chain and contract), fails with ``anchor.absent`` / ``anchor.unchecked`` instead of
    skipping the step: no silent downgrade.

    ``checked_records`` is evidence the caller has just had from
    :func:`~signing.records.verify_record` with ``keys.record_keys``: a valid one for
    the bundle's exact envelope (the same log leaf) stands for step (3).

    With a witness policy in ``keys``, the checkpoint must carry a quorum of valid
    cosignatures (``witness.quorum.insufficient`` otherwise); ``now`` (seconds) bounds
    their timestamps.

    ``content_manifest`` is ``(original manifest label, validation state)`` read from a
    file that carries the bundle itself; it stands in for the digest, which the attached
    manifest changed.
    """
    # (1) well formed
    envelope, index, proof, note, anchor = parse_bundle(bundle)
    ev = BundleEvidence(sha256=envelope["record"]["sha256"], leaf_index=index)
    # (2) the content is the one the record names (leaf recomputed, never taken from it):
    # by digest, or for media carrying this bundle in a C2PA update manifest, by the
    # original manifest (whose hard binding C2PA validated) that the record names
    if content_manifest is not None:
        label, state = content_manifest
        named = envelope["record"].get("claims", {}).get("c2pa_manifest")
        if state not in (C2paState.VALID, C2paState.TRUSTED):
            ev.fail(Code.BUNDLE_C2PA_INVALID, f"the file's C2PA manifests are {state}")
        elif named != label:
            ev.fail(Code.BUNDLE_C2PA_UNBOUND, "the record names another C2PA manifest")
        else:
            ev.pass_(Code.BUNDLE_C2PA_BOUND)
    elif content_sha256 is None:
        ev.skip(Code.BUNDLE_CONTENT_UNCHECKED)
    elif content_sha256 != envelope["record"]["sha256"]:
        ev.fail(Code.BUNDLE_CONTENT_MISMATCH, "the content's SHA-256 is not the record's")
    else:
        ev.pass_(Code.BUNDLE_CONTENT_MATCHES)
    # (3) the record is signed by a pinned key (the leaf hash binds any evidence the
    # caller already holds to these exact bytes)
    leaf = record_leaf_hash(envelope)
    ev.record = _checked_for(leaf, checked_records) or check_record(envelope, keys.record_keys)
    if ev.record.valid:
        ev.pass_(Code.RECORD_SIGNATURE_VERIFIED)
    else:
        ev.fail(ev.record.codes[0], "record signature does not verify under pinned keys")
    # (4) the checkpoint is signed by the pinned log key, for this log
    try:
        cp = keys.verify_checkpoint(note)
    except VerificationError as e:
        return ev.fail(e.code, str(e))
    ev.checkpoint = cp
    ev.pass_(Code.CHECKPOINT_SIGNATURE_VERIFIED)
    # (4b) cosigned by a quorum of the pinned witnesses, when the verifier requires it:
    # a checkpoint only this log signed may be one of a split view
    if keys.witnesses is not None:
        try:
            keys.witnesses.check(note, now=int(now.timestamp()) if now else None)
        except VerificationError as e:
            return ev.fail(e.code, str(e))
        ev.pass_(Code.WITNESS_QUORUM_VERIFIED)
    # (5) inclusion reproduces the checkpoint's root
    try:
        verify_inclusion(leaf, index, cp.size, proof, cp.root)
        ev.pass_(Code.LOG_INCLUSION_VERIFIED)
    except VerificationError as e:
        ev.fail(e.code, str(e))
    # (6) consistent with the newest checkpoint this verifier has seen
    if previous is not None:
        if previous.size > cp.size and previous.origin == cp.origin:
            ev.skip(Code.CHECKPOINT_CONSISTENCY_OLDER)
        else:
            try:
                check_consistent(previous, cp, consistency_proof)
                ev.pass_(Code.CHECKPOINT_CONSISTENT)
            except VerificationError as e:
                ev.fail(e.code, str(e))
    # (7) the chain holds this exact root, on the expected chain and contract
    if anchor is None:
        if require_anchor:
            return ev.fail(AnchorCode.ABSENT, "an anchor was required and the bundle has none")
        ev.skip(AnchorCode.ABSENT)
        return ev
    if chain is None or keys.chain_id is None or keys.contract is None:
        if require_anchor:
            missing = "no chain to ask" if chain is None else "the keys name no chain and contract"
            return ev.fail(AnchorCode.UNCHECKED, f"an anchor check was required: {missing}")
        ev.skip(AnchorCode.UNCHECKED)
        return ev
    ev.anchor = verify_anchor(
        anchor,
        cp.root,
        cp.size,
        cp.origin,
        chain,
        expected_chain_id=keys.chain_id,
        expected_contract=keys.contract,
        min_confirmations=keys.min_confirmations,
        allow_untrusted_dev_chain=keys.allow_untrusted_dev_chain,
    )
    if not ev.anchor.verified:
        return ev.fail(
            ev.anchor.codes[0] if ev.anchor.codes else AnchorCode.INVALID, ev.anchor.detail
        )
    ev.pass_(AnchorCode.VERIFIED)
    # (8) nothing claims a time after the block that proves it existed
    if ev.anchor.block_timestamp is not None:
        block_time = datetime.fromtimestamp(ev.anchor.block_timestamp, UTC)
        signed_at = _parse_time(envelope["record"]["signed_at"])
        if signed_at is None or signed_at > block_time + CLOCK_SKEW:
            ev.fail(AnchorCode.TIME_INCONSISTENT, "record claims a time after its anchor block")
        else:
            ev.pass_(AnchorCode.TIME_CONSISTENT)
    return ev


def _checked_for(leaf: bytes, checked: Sequence[RecordEvidence]) -> RecordEvidence | None:
    for record in checked:
        if record.valid and record.leaf_hash and hmac.compare_digest(record.leaf_hash, leaf):
            return record
    return None


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return when.replace(tzinfo=UTC)
