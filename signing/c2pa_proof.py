"""Carry a transparency-log proof bundle inside the C2PA manifest store of signed media.

The bundle goes into an ``org.trustseal.proof`` assertion of a C2PA *update manifest*:
a manifest without a hard binding whose single ``parentOf`` ingredient is the file's
current active manifest. The parent's hard binding keeps covering the content, so the
asset bytes stay as they are and only the manifest store changes; a verifier holding
just the file can read the bundle and check the whole chain offline.

c2pa-python 0.38.1 (c2pa-rs 0.91.3) writes update manifests that validate only for the
types in ``PROOF_MEDIA_TYPES``. For PDF, WAV, WebP and TIFF the enlarged store moves
bytes that the parent's data hash covers, so the file would no longer validate; those
types are refused (see tests/signing/test_c2pa_proof.py).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import c2pa

from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import SOFTWARE_AGENT, new_context, readable_media_types
from signing.c2pa_trust import C2paTrust, is_anchored
from signing.codes import C2paState
from signing.errors import KeyStoreError, MalformedContent, UnsupportedMediaType
from signing.media import normalize_media_type

__all__ = [
    "PROOF_LABEL",
    "PROOF_MEDIA_TYPES",
    "AttachedProof",
    "active_manifest_label",
    "attach_proof",
    "read_attached_proof",
]

PROOF_LABEL = "org.trustseal.proof"
PROOF_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/avif", "video/mp4"})
_HARD_BINDING_PREFIX = "c2pa.hash."


@dataclass(frozen=True)
class AttachedProof:
    """A proof bundle found in the active (update) manifest of a file.

    ``parent_manifest_label`` is the manifest the chain of update manifests builds on,
    that is the one created when the content was signed. ``state`` and ``failures``
    describe the whole manifest store (active manifest failures, then ingredient
    failures); ``signer`` is the signer of the update manifest.
    """

    bundle: dict[str, Any] = field(hash=False)
    proof_manifest_label: str
    parent_manifest_label: str
    state: str
    failures: tuple[str, ...]
    signer: str | None


def attach_proof(
    signing: C2paSigningMaterial,
    data: bytes,
    media_type: str,
    bundle: Mapping[str, Any],
    *,
    trust_anchors_pem: C2paTrust | bytes | None = None,
) -> bytes:
    """Return ``data`` with ``bundle`` attached in a new update manifest.

    ``data`` must already carry an embedded, valid (not necessarily trusted) C2PA
    manifest; it becomes the parent of the update manifest, signed with ``signing``.
    The parent's validation, as recorded in the update manifest, uses
    ``trust_anchors_pem`` (by default ``signing.root_pem``).
    Attaching again adds another update manifest on top: the latest bundle is the one
    :func:`read_attached_proof` returns, earlier ones stay in the store.
    """
    media_type = normalize_media_type(media_type)
    if media_type not in PROOF_MEDIA_TYPES:
        raise UnsupportedMediaType(f"cannot attach a proof to a C2PA manifest in {media_type}")
    if not data:
        raise MalformedContent("empty content")
    try:
        payload = json.loads(json.dumps(dict(bundle), allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"bundle must be JSON-serialisable: {e}") from e
    anchors = trust_anchors_pem if is_anchored(trust_anchors_pem) else signing.root_pem
    with _context(anchors, signing) as context:
        before = _load(context, data, media_type)
        if before is None:
            raise MalformedContent(
                f"this {media_type} carries no embedded C2PA manifest; sign it before "
                "attaching a proof"
            )
        state, failures = _verdict(before[0], anchored=False)
        if state == C2paState.INVALID:
            raise MalformedContent(
                f"the C2PA manifest of this {media_type} does not validate "
                f"({', '.join(failures) or 'no reason given'}); no proof attached"
            )
        definition = {
            "claim_generator_info": [{"name": SOFTWARE_AGENT}],
            "assertions": [{"label": PROOF_LABEL, "data": payload}],
        }
        output = io.BytesIO()
        try:
            with c2pa.Builder(definition, context=context) as builder:
                builder.set_intent(c2pa.C2paBuilderIntent.UPDATE)
                builder.sign(media_type, io.BytesIO(data), output)
        except c2pa.C2paError.Signature as e:
            raise KeyStoreError(f"c2pa refused the signing certificate: {e}") from e
        except c2pa.C2paError as e:
            raise MalformedContent(f"c2pa cannot update this {media_type}: {e}") from e
        after = _load(context, output.getvalue(), media_type)
    if after is None or _verdict(after[0], anchored=False)[0] == C2paState.INVALID:
        raise UnsupportedMediaType(f"c2pa wrote an update manifest that breaks this {media_type}")
    return output.getvalue()


def read_attached_proof(
    data: bytes, media_type: str, *, trust_anchors_pem: C2paTrust | bytes | None
) -> AttachedProof | None:
    """Read and validate the proof bundle attached to ``data``, offline.

    Returns None when there is no embedded manifest or when the active manifest is not
    an update manifest carrying an ``org.trustseal.proof`` assertion (for example after
    the content was signed again). Without ``trust_anchors_pem`` the state is at best
    "Valid".
    """
    media_type = _readable(data, media_type)
    with _context(trust_anchors_pem) as context:
        loaded = _load(context, data, media_type)
    if loaded is None:
        return None
    store, detailed = loaded
    label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    manifest = manifests.get(label) or {}
    assertions = [a for a in manifest.get("assertions") or () if isinstance(a, dict)]
    bundle = next((a.get("data") for a in assertions if a.get("label") == PROOF_LABEL), None)
    if not (isinstance(label, str) and isinstance(bundle, dict)):
        return None
    if not _is_update_manifest(detailed, label):
        return None  # a proof only counts in an update manifest over signed content
    state, failures = _verdict(store, anchored=is_anchored(trust_anchors_pem))
    signature = manifest.get("signature_info") or {}
    return AttachedProof(
        bundle=bundle,
        proof_manifest_label=label,
        parent_manifest_label=_original_label(manifests, detailed, label),
        state=state,
        failures=failures,
        signer=signature.get("common_name") or signature.get("issuer"),
    )


def active_manifest_label(data: bytes, media_type: str) -> str | None:
    """The label of the active manifest embedded in ``data``, or None when there is none."""
    media_type = _readable(data, media_type)
    with _context(None) as context:
        loaded = _load(context, data, media_type)
    label = loaded[0].get("active_manifest") if loaded else None
    return label if isinstance(label, str) else None


def _readable(data: bytes, media_type: str) -> str:
    media_type = normalize_media_type(media_type)
    if media_type not in readable_media_types():
        raise UnsupportedMediaType(f"c2pa cannot read {media_type}")
    if not data:
        raise MalformedContent("empty content")
    return media_type


@contextlib.contextmanager
def _context(
    trust_anchors_pem: C2paTrust | bytes | None, signing: C2paSigningMaterial | None = None
) -> Iterator[c2pa.Context]:
    context = new_context(trust_anchors_pem, signing)
    with context:
        yield context


def _load(
    context: c2pa.Context, data: bytes, media_type: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The validated store as c2pa reports it (plain and detailed), None when absent."""
    try:
        reader = c2pa.Reader(media_type, io.BytesIO(data), context=context)
    except (c2pa.C2paError.ManifestNotFound, c2pa.C2paError.RemoteManifest):
        return None
    except c2pa.C2paError as e:
        raise MalformedContent(f"c2pa cannot read this {media_type}: {e}") from e
    with reader:
        try:
            return json.loads(reader.json()), json.loads(reader.detailed_json())
        except (c2pa.C2paError, ValueError) as e:
            raise MalformedContent(f"c2pa cannot report on this {media_type}: {e}") from e


def _verdict(store: dict[str, Any], *, anchored: bool) -> tuple[str, tuple[str, ...]]:
    results = store.get("validation_results") or {}
    if results:
        codes = _codes((results.get("activeManifest") or {}).get("failure"))
        for delta in results.get("ingredientDeltas") or ():
            codes += _codes((delta.get("validationDeltas") or {}).get("failure"))
    else:  # stores without validation_results only list failures
        codes = _codes(store.get("validation_status"))
    state = store.get("validation_state")
    if state not in (C2paState.TRUSTED, C2paState.VALID, C2paState.INVALID):
        state = C2paState.INVALID  # an unknown verdict is never taken as success
    if state == C2paState.TRUSTED and not anchored:
        state = C2paState.VALID  # trust may only come from anchors the caller configured
    return str(state), tuple(dict.fromkeys(codes))


def _is_update_manifest(detailed: dict[str, Any], label: str) -> bool:
    """True when the claim of manifest ``label`` references no hard binding."""
    claim = ((detailed.get("manifests") or {}).get(label) or {}).get("claim") or {}
    if not claim:
        return False
    refs = [
        *(claim.get("assertions") or ()),
        *(claim.get("created_assertions") or ()),
        *(claim.get("gathered_assertions") or ()),
    ]
    labels = [str(ref.get("url", "")).rsplit("/", 1)[-1] for ref in refs if isinstance(ref, dict)]
    return not any(name.startswith(_HARD_BINDING_PREFIX) for name in labels)


def _original_label(manifests: dict[str, Any], detailed: dict[str, Any], label: str) -> str:
    """Follow ``parentOf`` ingredients down from an update manifest to a full manifest."""
    seen: set[str] = set()
    while _is_update_manifest(detailed, label):
        seen.add(label)
        ingredients = (manifests.get(label) or {}).get("ingredients") or ()
        parents = [
            i.get("active_manifest")
            for i in ingredients
            if isinstance(i, dict) and i.get("relationship") == "parentOf"
        ]
        if len(parents) != 1 or parents[0] in seen or parents[0] not in manifests:
            raise MalformedContent(f"update manifest {label} has no parent manifest in the store")
        label = parents[0]
    return label


def _codes(statuses: Any) -> list[str]:
    return [s["code"] for s in statuses or () if isinstance(s, dict) and "code" in s]
