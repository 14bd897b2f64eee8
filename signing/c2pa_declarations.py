"""What a C2PA manifest declares, read from c2pa's manifest-store report.

Beside its signature, a manifest makes claims about the asset: how it came to be (the
IPTC digital source type on its actions), who stands behind it (CAWG identity
assertions), whether it may be used to train AI (CAWG training-and-mining entries), and
what it was made from (its ingredients). This module reads those claims from the JSON
that ``c2pa.Reader.json()`` returns, without reinterpreting them: the values are c2pa's,
and whether a claim can be believed is the signature's business, not this module's.

Every function takes the whole store (``{"active_manifest", "manifests",
"validation_results", ...}``) and one manifest of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signing.source_types import SourceKind, lookup

__all__ = [
    "ACTION_LABELS",
    "IDENTITY_LABEL",
    "NO_AI_TRAINING",
    "TRAINING_MINING_LABELS",
    "Ingredient",
    "assertions_of",
    "declared_source_type",
    "identities",
    "ingredients",
    "status_codes",
    "training_mining",
    "training_mining_assertion",
]

ACTION_LABELS = ("c2pa.actions", "c2pa.actions.v2")
IDENTITY_LABEL = "cawg.identity"
# CAWG's label, and the C2PA 1.x one it replaced (files signed then still carry it)
TRAINING_MINING_LABELS = ("cawg.training-mining", "c2pa.training-mining")
# failure codes of an identity assertion that say its signer is not vouched for by a
# configured CAWG anchor: its signature still holds
_UNTRUSTED = frozenset({"cawg.x509.credential.untrusted", "signingCredential.untrusted"})


def _base_label(assertion: dict[str, Any]) -> str:
    # c2pa numbers repeated assertions "label__1", "label__2"
    return str(assertion.get("label", "")).split("__")[0]


def assertions_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in manifest.get("assertions") or () if isinstance(a, dict)]


def declared_source_type(manifest: dict[str, Any]) -> tuple[str | None, str | None]:
    """The digital source type the manifest's actions declare: ``(uri, unrecognised)``.

    The ``c2pa.created`` action's declaration wins, then the first action that makes one.
    A value of the IPTC (or C2PA) vocabulary is returned trimmed as ``uri``; anything else
    comes back as ``unrecognised`` (trimmed, at most 200 characters) and ``uri`` None.
    C2PA's "empty" value declares nothing, and reads as no declaration.
    """
    declared: list[tuple[bool, str]] = []
    for assertion in assertions_of(manifest):
        if _base_label(assertion) not in ACTION_LABELS:
            continue
        for action in (assertion.get("data") or {}).get("actions") or ():
            if isinstance(action, dict) and "digitalSourceType" in action:
                value = action["digitalSourceType"]
                text = value.strip() if isinstance(value, str) else repr(value)
                declared.append((action.get("action") == "c2pa.created", text))
    if not declared:
        return None, None
    created = [value for is_created, value in declared if is_created]
    value = (created or [declared[0][1]])[0]
    found = lookup(value)
    if found is not None and found.kind is SourceKind.UNDECLARED:
        return None, None  # c2pa's "empty" value: the action makes no claim
    return (found.uri, None) if found else (None, value[:200])


def _identity_failures(store: dict[str, Any], label: str) -> list[str]:
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    suffix = f"/c2pa.assertions/{label}"
    return [
        str(s.get("code"))
        for s in results.get("failure") or ()
        if isinstance(s, dict) and str(s.get("url", "")).endswith(suffix)
    ]


def identities(store: dict[str, Any], manifest: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The manifest's CAWG identity assertions, or None when it has none.

    Each is ``{"type", "name", "valid", "trusted", "failures"}``: ``type`` is the
    signature type the signer payload names (``cawg.x509.cose``,
    ``cawg.identity_claims_aggregation``), ``name`` whom the credential names (an X.509
    certificate's common name or organisation; the first verified identity of a claims
    aggregation), ``valid`` that c2pa validated the assertion with no failure other than an
    untrusted credential, ``trusted`` that its credential chains to a configured CAWG anchor
    too. Only the active manifest's assertions are read (c2pa validates those).
    """
    found: list[dict[str, Any]] = []
    for assertion in assertions_of(manifest):
        if _base_label(assertion) != IDENTITY_LABEL:
            continue
        raw = assertion.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        payload = data.get("signer_payload") or {}
        failures = _identity_failures(store, str(assertion.get("label")))
        decoded = bool(data.get("signature_info") or data.get("verifiedIdentities"))
        valid = decoded and not [f for f in failures if f not in _UNTRUSTED]
        found.append(
            {
                "type": str(payload.get("sig_type") or "unknown"),
                "name": _identity_name(data),
                "valid": valid,
                "trusted": valid and not failures,
                "failures": failures,
            }
        )
    return found or None


def _identity_name(data: dict[str, Any]) -> str | None:
    info = data.get("signature_info") or {}
    if isinstance(info, dict) and (info.get("common_name") or info.get("issuer")):
        return str(info.get("common_name") or info.get("issuer"))
    for identity in data.get("verifiedIdentities") or ():
        if isinstance(identity, dict):
            name = identity.get("name") or identity.get("username") or identity.get("uri")
            if name:
                return str(name)
    return None


def training_mining(manifest: dict[str, Any]) -> dict[str, str] | None:
    """The training-and-mining entries, ``{"cawg.ai_generative_training": "notAllowed",
    ...}`` as the assertion states each entry's ``use``; None without the assertion."""
    entries: dict[str, str] = {}
    seen = False
    for assertion in assertions_of(manifest):
        if _base_label(assertion) not in TRAINING_MINING_LABELS:
            continue
        seen = True
        listed = (assertion.get("data") or {}).get("entries") or {}
        if isinstance(listed, dict):
            for key, entry in listed.items():
                if isinstance(entry, dict) and isinstance(entry.get("use"), str):
                    entries.setdefault(str(key), entry["use"])
    return entries if seen else None


@dataclass(frozen=True)
class Ingredient:
    """One ingredient of the active manifest: what the asset was made from."""

    title: str | None
    relationship: str | None  # parentOf, componentOf, inputTo
    format: str | None
    state: str  # Trusted, Valid, Invalid, or absent (no manifest of its own)
    digital_source_type: str | None
    signer: str | None
    failures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "relationship": self.relationship,
            "format": self.format,
            "state": self.state,
            "digital_source_type": self.digital_source_type,
            "signer": self.signer,
            "failures": list(self.failures),
        }


_TRUSTED = "signingCredential.trusted"


def status_codes(statuses: Any) -> list[str]:
    return [str(s["code"]) for s in statuses or () if isinstance(s, dict) and "code" in s]


def _delta_for(store: dict[str, Any], label: str) -> dict[str, Any]:
    active = store.get("active_manifest")
    suffix = f"{active}/c2pa.assertions/{label}"
    for delta in (store.get("validation_results") or {}).get("ingredientDeltas") or ():
        if isinstance(delta, dict) and str(delta.get("ingredientAssertionURI", "")).endswith(
            suffix
        ):
            return delta.get("validationDeltas") or {}
    return {}


def ingredients(store: dict[str, Any], manifest: dict[str, Any]) -> tuple[Ingredient, ...]:
    """The active manifest's ingredients with their own manifests' state and declarations.

    An ingredient's state is what the signer recorded when it validated that
    ingredient's manifest (1), corrected by what c2pa finds when it validates it again
    here (2, the store's ``ingredientDeltas``): ``Invalid`` on any failure other than an
    untrusted signer, ``Trusted`` when its signer is under the configured anchors,
    ``Valid`` otherwise; ``absent`` for an ingredient without a manifest.
    """
    manifests = store.get("manifests") or {}
    found: list[Ingredient] = []
    for item in manifest.get("ingredients") or ():
        if not isinstance(item, dict):
            continue
        label = item.get("active_manifest")
        own = manifests.get(label) if isinstance(label, str) else None
        # (1) what the signer recorded of the ingredient when it signed
        recorded = (item.get("validation_results") or {}).get("activeManifest") or {}
        failures = status_codes(recorded.get("failure")) + status_codes(
            item.get("validation_status")
        )
        successes = set(status_codes(recorded.get("success")))
        # (2) what c2pa found now, against this service's anchors, where it differs from
        # what the signer recorded
        delta = _delta_for(store, str(item.get("label", "")))
        now_failed, now_succeeded = (
            status_codes(delta.get("failure")),
            status_codes(delta.get("success")),
        )
        if _TRUSTED in now_succeeded:
            failures = [f for f in failures if f not in _UNTRUSTED]
        if set(now_failed) & _UNTRUSTED:
            successes.discard(_TRUSTED)
        failures += now_failed
        successes |= set(now_succeeded)
        if not isinstance(own, dict):
            state = "Invalid" if [f for f in failures if f not in _UNTRUSTED] else "absent"
            uri, signer = None, None
        else:
            if [f for f in failures if f not in _UNTRUSTED]:
                state = "Invalid"
            elif _TRUSTED in successes and not failures:
                state = "Trusted"
            else:
                state = "Valid"
            uri, _ = declared_source_type(own)
            signature = own.get("signature_info") or {}
            signer = signature.get("common_name") or signature.get("issuer")
        found.append(
            Ingredient(
                title=item.get("title"),
                relationship=item.get("relationship"),
                format=item.get("format"),
                state=state,
                digital_source_type=uri,
                signer=signer,
                failures=tuple(dict.fromkeys(failures)),
            )
        )
    return tuple(found)


TRAINING_MINING_USES = ("allowed", "notAllowed", "constrained")
TRAINING_MINING_KEYS = (
    "cawg.data_mining", "cawg.ai_inference", "cawg.ai_generative_training", "cawg.ai_training"
)  # fmt: skip


def training_mining_assertion(entries: dict[str, str]) -> dict[str, Any]:
    """A CAWG ``cawg.training-mining`` assertion from ``{entry: use}``; ValueError for an
    entry or use the CAWG training-and-mining specification does not define."""
    if not entries:
        raise ValueError("a training-and-mining assertion needs at least one entry")
    for key, use in entries.items():
        if key not in TRAINING_MINING_KEYS:
            raise ValueError(
                f"unknown training-and-mining entry {key!r}: use one of {TRAINING_MINING_KEYS}"
            )
        if use not in TRAINING_MINING_USES:
            raise ValueError(f"unknown use {use!r} for {key}: use one of {TRAINING_MINING_USES}")
    data = {"entries": {key: {"use": use} for key, use in entries.items()}}
    return {"label": "cawg.training-mining", "data": data}


# What --no-ai-training declares: no training of AI models, generative or not, on it.
NO_AI_TRAINING = {"cawg.ai_generative_training": "notAllowed", "cawg.ai_training": "notAllowed"}
