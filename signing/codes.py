"""The core's vocabulary: C2PA validation states and the reason codes its checks emit.

Every check in :mod:`signing` names its outcome with one of these codes, so that a
verdict's reasons can be traced to the exact check. They are ``StrEnum`` members: they
compare equal to, and serialise as, their string values, which are part of the public
verdict and bundle documents.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AnchorCode", "C2paState", "Code"]


class C2paState(StrEnum):
    """c2pa's ``validation_state`` of the active manifest, or ``absent`` without one."""

    TRUSTED = "Trusted"
    VALID = "Valid"
    INVALID = "Invalid"
    ABSENT = "absent"


class Code(StrEnum):
    """Reason codes of records, receipts, signed notes, checkpoints, proofs and bundles."""

    # signed records
    RECORD_SIGNATURE_VERIFIED = "record.signature.verified"
    RECORD_SIGNATURE_INVALID = "record.signature.invalid"
    RECORD_SIGNER_SERVICE = "record.signer.service"
    RECORD_SIGNER_PUBLISHER = "record.signer.publisher"
    RECORD_KEY_UNKNOWN = "record.key.unknown"
    RECORD_HASH_MISMATCH = "record.hash.mismatch"
    # verdict receipts
    RECEIPT_SIGNATURE_INVALID = "receipt.signature.invalid"
    RECEIPT_KEY_UNKNOWN = "receipt.key.unknown"
    RECEIPT_MALFORMED = "receipt.malformed"
    # signed notes (C2SP signed-note)
    NOTE_MALFORMED = "note.malformed"
    NOTE_SIGNATURE_INVALID = "note.signature.invalid"
    NOTE_SIGNATURE_UNKNOWN_KEY = "note.signature.unknown_key"
    # checkpoints (C2SP tlog-checkpoint)
    CHECKPOINT_MALFORMED = "checkpoint.malformed"
    CHECKPOINT_ORIGIN_MISMATCH = "checkpoint.origin.mismatch"
    CHECKPOINT_ROLLBACK = "checkpoint.rollback"
    CHECKPOINT_FORK = "checkpoint.fork"
    CHECKPOINT_SIGNATURE_VERIFIED = "checkpoint.signature.verified"
    CHECKPOINT_CONSISTENT = "checkpoint.consistent"
    CHECKPOINT_CONSISTENCY_OLDER = "checkpoint.consistency.older"
    # witness cosignatures (C2SP tlog-cosignature, tlog-witness)
    WITNESS_QUORUM_VERIFIED = "witness.quorum.verified"
    WITNESS_QUORUM_INSUFFICIENT = "witness.quorum.insufficient"
    WITNESS_COSIGNATURE_INVALID = "witness.cosignature.invalid"
    WITNESS_ORIGIN_UNKNOWN = "witness.origin.unknown"
    WITNESS_SIGNATURE_UNTRUSTED = "witness.signature.untrusted"
    WITNESS_REQUEST_MALFORMED = "witness.request.malformed"
    WITNESS_SIZE_CONFLICT = "witness.size.conflict"
    WITNESS_ROOT_CONFLICT = "witness.root.conflict"
    WITNESS_CONSISTENCY_INVALID = "witness.consistency.invalid"
    # Merkle proofs (RFC 6962)
    LOG_INCLUSION_VERIFIED = "log.inclusion.verified"
    LOG_INCLUSION_INVALID = "log.inclusion.invalid"
    LOG_INCLUSION_INDEX_OUT_OF_RANGE = "log.inclusion.index_out_of_range"
    LOG_CONSISTENCY_INVALID = "log.consistency.invalid"
    LOG_CONSISTENCY_SIZE_OUT_OF_RANGE = "log.consistency.size_out_of_range"
    LOG_PROOF_MALFORMED = "log.proof.malformed"
    # proof bundles
    BUNDLE_CONTENT_MATCHES = "bundle.content.matches"
    BUNDLE_CONTENT_MISMATCH = "bundle.content.mismatch"
    BUNDLE_CONTENT_UNCHECKED = "bundle.content.unchecked"
    BUNDLE_C2PA_BOUND = "bundle.c2pa.bound"
    BUNDLE_C2PA_UNBOUND = "bundle.c2pa.unbound"
    BUNDLE_C2PA_INVALID = "bundle.c2pa.invalid"
    # C2PA reading
    MANIFEST_REMOTE_NOT_FETCHED = "manifest.remote.notFetched"


class AnchorCode(StrEnum):
    """Outcomes of checking a checkpoint root against its chain anchor."""

    VERIFIED = "anchor.verified"
    ABSENT = "anchor.absent"
    UNCHECKED = "anchor.unchecked"
    INVALID = "anchor.invalid"
    TIME_CONSISTENT = "anchor.time.consistent"
    TIME_INCONSISTENT = "anchor.time.inconsistent"
    DEVELOPMENT = "anchor.chain.development"
    CONFIRMATIONS_INSUFFICIENT = "anchor.confirmations.insufficient"
    NOT_FOUND = "anchor.not_found"
    REORGED = "anchor.reorged"
    TX_FAILED = "anchor.tx.failed"
    ROOT_MISMATCH = "anchor.root.mismatch"
    SIZE_MISMATCH = "anchor.size.mismatch"
    ORIGIN_MISMATCH = "anchor.origin.mismatch"
    CHAIN_MISMATCH = "anchor.chain.mismatch"
    CONTRACT_MISMATCH = "anchor.contract.mismatch"
    BLOCK_MISMATCH = "anchor.block.mismatch"  # the transaction is in another block
    TX_MISMATCH = "anchor.tx.mismatch"  # the named block holds no such transaction
