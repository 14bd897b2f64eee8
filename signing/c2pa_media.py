"""Sign media with C2PA manifests and read them back as evidence (c2pa-python).

One ``C2paMedia`` holds one c2pa ``Context`` built from explicit per-instance settings:
the configured trust anchors, and no network use at all (remote manifests, OCSP and
every other fetch are refused). Readers and builders borrow that context per call.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

import c2pa

from signing import c2pa_declarations as declared
from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_declarations import NO_AI_TRAINING, training_mining_assertion
from signing.c2pa_trust import C2paTrust, as_trust, is_anchored
from signing.codes import C2paState, Code
from signing.errors import (
    KeyStoreError,
    MalformedContent,
    SigningError,
    UnsupportedMediaType,
)
from signing.media import normalize_media_type
from signing.source_types import SourceType, parse_source_type

__all__ = [
    "ABSENT",
    "CLAIMS_LABEL",
    "INVALID",
    "NO_AI_TRAINING",
    "REMOTE_NOT_FETCHED",
    "SIDECAR_MEDIA_TYPES",
    "SIGNABLE_MEDIA_TYPES",
    "SOFTWARE_AGENT",
    "TRUSTED",
    "VALID",
    "C2paEvidence",
    "C2paMedia",
    "SignedMedia",
    "c2pa_settings",
    "evidence_from_store",
    "manifest_definition",
    "new_context",
    "normalize_media_type",
    "readable_media_types",
    "training_mining_assertion",
]

SOFTWARE_AGENT = "TrustSeal"
CLAIMS_LABEL = "org.trustseal.claims"
REMOTE_NOT_FETCHED = Code.MANIFEST_REMOTE_NOT_FETCHED

# Aliases of the C2paState members, kept for callers that import them from here.
TRUSTED, VALID, INVALID, ABSENT = (
    C2paState.TRUSTED, C2paState.VALID, C2paState.INVALID, C2paState.ABSENT
)  # fmt: skip

# Every type below was signed and read back Trusted with c2pa-python 0.38.1 (c2pa-rs
# 0.91.3); see tests/signing/test_c2pa_media.py.
SIGNABLE_MEDIA_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/avif",
        "video/mp4", "application/pdf", "audio/wav",
    }
)  # fmt: skip
# A detached manifest must bind to the bytes as given. c2pa rewrites a PDF even when it
# does not embed (the sidecar then matches only c2pa's copy), so PDF is embed-only.
SIDECAR_MEDIA_TYPES = SIGNABLE_MEDIA_TYPES - {"application/pdf"}


@lru_cache(maxsize=1)
def readable_media_types() -> frozenset[str]:
    """Media types the installed c2pa library can read (MIME types only)."""
    return frozenset(t for t in c2pa.Reader.get_supported_mime_types() if "/" in t)


@dataclass(frozen=True)
class SignedMedia:
    """Signed content; ``manifest`` is set only for a detached (sidecar) manifest, while
    ``manifest_store`` is the signed manifest store either way (what a soft-binding
    resolver hands out for the content)."""

    data: bytes
    manifest: bytes | None
    media_type: str
    manifest_store: bytes | None = None


@dataclass(frozen=True)
class C2paEvidence:
    """What C2PA validation says about one piece of media.

    ``state`` is c2pa's ``validation_state`` ("Trusted", "Valid", "Invalid") or "absent"
    when there is no manifest to validate. ``failures`` and ``codes`` are the active
    manifest's failure and success/informational status codes as c2pa reports them; a
    "Valid" manifest lists ``signingCredential.untrusted`` among its failures because
    its signer chains to no configured anchor. ``ingredient_failures`` are the failures
    recorded for ingredients (for example a parent that was altered before re-signing).

    What the active manifest declares (:mod:`signing.c2pa_declarations`): the IPTC
    ``digital_source_type`` URI of its actions (a value outside the vocabulary is kept
    apart in ``unrecognised_source_type``), its CAWG ``identities``, its CAWG
    ``training_mining`` entries, and its ``ingredients``. These are the signer's claims;
    ``state`` says whether the signature that makes them holds.
    """

    state: str
    signer: str | None = None
    failures: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    manifest_label: str | None = None
    claim_generator: str | None = None
    title: str | None = None
    actions: tuple[str, ...] = ()
    remote_manifest_url: str | None = None
    signer_issuer: str | None = None
    ingredient_failures: tuple[str, ...] = ()
    claims: dict[str, Any] | None = field(default=None, hash=False)
    assertion_labels: tuple[str, ...] = ()
    digital_source_type: str | None = None
    unrecognised_source_type: str | None = None
    identities: tuple[dict[str, Any], ...] | None = field(default=None, hash=False)
    training_mining: dict[str, str] | None = field(default=None, hash=False)
    ingredients: tuple[declared.Ingredient, ...] = ()

    def __post_init__(self) -> None:
        # The state and codes may arrive as StrEnum members; the evidence holds (and
        # pickles across c2pa_workers) plain strings.
        object.__setattr__(self, "state", str(self.state))
        object.__setattr__(self, "codes", tuple(str(c) for c in self.codes))

    def to_dict(self) -> dict[str, Any]:
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        out["ingredients"] = [i.to_dict() for i in self.ingredients]
        return out


# One table from (operation, c2pa error) to ours. Anything unlisted is content that c2pa
# cannot parse: the caller already checked that the media type itself is supported.
_ERRORS: tuple[tuple[str, type[Exception], type[SigningError]], ...] = (
    ("sign", c2pa.C2paError.Signature, KeyStoreError),  # certificate refused at signing
)


def _translate(error: c2pa.C2paError, media_type: str, doing: str) -> SigningError:
    kind = next(
        (ours for op, theirs, ours in _ERRORS if op == doing and isinstance(error, theirs)),
        MalformedContent,
    )
    reason = " ".join(str(error).split()) or type(error).__name__
    return kind(f"c2pa cannot {doing} this {media_type}: {reason}")


_REMOTE_URL = re.compile(r"(https?://[^\s\"'<>]+)")


def _remote_manifest_url(error: c2pa.C2paError) -> str | None:
    message = str(error)
    if not (isinstance(error, c2pa.C2paError.RemoteManifest) or message.startswith("Remote")):
        return None
    found = _REMOTE_URL.search(message)
    return found.group(1) if found else ""


def c2pa_settings(trust_anchors_pem: C2paTrust | bytes | None) -> dict[str, Any]:
    """The c2pa settings used by ``C2paMedia``: explicit trust (a :class:`C2paTrust`, or a
    PEM bundle of signer anchors), no network access."""
    settings: dict[str, Any] = {
        "verify": {
            "verify_trust": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
        "core": {"allowed_network_hosts": []},
        "builder": {"thumbnail": {"enabled": False}},
    }
    trust = as_trust(trust_anchors_pem).settings()
    if trust:
        settings["trust"] = trust
    return settings


def new_context(
    trust_anchors_pem: C2paTrust | bytes | None, signing: C2paSigningMaterial | None = None
) -> c2pa.Context:
    """A c2pa Context with our settings (no network; these anchors) and, optionally, a
    signer made from ``signing``. The caller closes it."""
    signer = None
    if signing is not None:
        info = c2pa.C2paSignerInfo(
            signing.alg, signing.cert_chain_pem, signing.private_key_pem, None
        )
        try:
            signer = c2pa.Signer.from_info(info)
        except c2pa.C2paError as e:
            raise KeyStoreError(f"c2pa rejected the signing material: {e}") from e
    settings = c2pa.Settings.from_dict(c2pa_settings(trust_anchors_pem))
    try:
        return c2pa.Context(settings=settings, signer=signer)
    except c2pa.C2paError as e:
        raise KeyStoreError(f"c2pa rejected the configuration: {e}") from e
    finally:
        settings.close()


class C2paMedia:
    """C2PA signing and reading with one fixed configuration.

    ``trust_anchors_pem`` is the PEM bundle of roots whose signers count as Trusted, or
    a whole :class:`signing.c2pa_trust.C2paTrust` (allowed certificates, EKUs, TSA and
    CAWG anchors too); without it nothing can be Trusted and validly signed media is
    Valid. ``signing``
    enables :meth:`sign`. Close the instance (or use it as a context manager) to free
    the native context.
    """

    def __init__(
        self,
        *,
        trust_anchors_pem: C2paTrust | bytes | None = None,
        signing: C2paSigningMaterial | None = None,
        generator_version: str | None = None,
    ) -> None:
        self._anchored = is_anchored(trust_anchors_pem)
        self._generator: dict[str, str] = {"name": SOFTWARE_AGENT}
        if generator_version:
            self._generator["version"] = generator_version
        self._context = new_context(trust_anchors_pem, signing)

    def close(self) -> None:
        self._context.close()

    def __enter__(self) -> C2paMedia:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def can_sign(self) -> bool:
        return self._context.has_signer

    def sign(
        self,
        data: bytes,
        media_type: str,
        *,
        title: str | None = None,
        sidecar: bool = False,
        claims: dict[str, Any] | None = None,
        soft_bindings: list[dict[str, Any]] | None = None,
        source_type: str | None = None,
        training_mining: dict[str, str] | None = None,
    ) -> SignedMedia:
        """Attach a manifest recording that TrustSeal published ``data``.

        The manifest opens ``data`` as its parent ingredient (so any manifest it already
        carries stays in the provenance chain) and adds a ``c2pa.published`` action by
        the TrustSeal software agent; ``claims`` (JSON-serialisable) is stored as the
        ``org.trustseal.claims`` assertion, and ``soft_bindings`` (``c2pa.soft-binding``
        assertions, see :func:`signing.soft_binding.assertion`) are added as they are.
        With ``sidecar`` the content is returned unchanged and the manifest store comes
        back detached in ``manifest`` (only for ``SIDECAR_MEDIA_TYPES``).

        ``source_type`` (an IPTC digital source type term or URI, see
        :func:`signing.source_types.parse_source_type`) declares how the content was made:
        the manifest then records its creation (a ``c2pa.created`` action carrying that
        ``digitalSourceType``) instead of opening a parent, so it is refused for content
        that already carries a manifest. ``training_mining`` adds a CAWG
        ``cawg.training-mining`` assertion (``{"cawg.ai_training": "notAllowed", ...}``).
        An unknown source type or training-and-mining entry raises ValueError.
        """
        media_type = normalize_media_type(media_type)
        if not self.can_sign:
            raise KeyStoreError("no C2PA signing material configured")
        if media_type not in SIGNABLE_MEDIA_TYPES:
            raise UnsupportedMediaType(f"cannot embed a C2PA manifest in {media_type}")
        if sidecar and media_type not in SIDECAR_MEDIA_TYPES:
            raise UnsupportedMediaType(f"cannot detach a C2PA manifest from {media_type}")
        if not data:
            raise MalformedContent("empty content")
        created = parse_source_type(source_type) if source_type is not None else None
        definition = manifest_definition(
            self._generator, title, claims, created, training_mining=training_mining
        )
        definition["assertions"] += list(soft_bindings or ())
        if created is not None and self._has_manifest(data, media_type):
            raise MalformedContent(
                "this content already carries a C2PA manifest: a source type is declared when "
                "content is created; sign it without one to record an edit"
            )
        output = io.BytesIO()
        try:
            builder = c2pa.Builder(definition, context=self._context)
            with builder:
                if created is None:  # an edit of the content as given: it is the parent
                    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                if sidecar:
                    builder.set_no_embed()
                manifest = builder.sign(media_type, io.BytesIO(data), output)
        except c2pa.C2paError as e:
            raise _translate(e, media_type, "sign") from e
        if sidecar:
            if output.getvalue() != data:
                raise UnsupportedMediaType(f"c2pa rewrote this {media_type} for a sidecar")
            return SignedMedia(
                data=data, manifest=manifest, media_type=media_type, manifest_store=manifest
            )
        return SignedMedia(
            data=output.getvalue(), manifest=None, media_type=media_type, manifest_store=manifest
        )

    def _has_manifest(self, data: bytes, media_type: str) -> bool:
        try:
            with c2pa.Reader(media_type, io.BytesIO(data), context=self._context):
                return True
        except c2pa.C2paError.ManifestNotFound:
            return False
        except c2pa.C2paError:
            return True  # a manifest c2pa cannot validate is still a manifest

    def read(
        self, data: bytes, media_type: str, *, sidecar_manifest: bytes | None = None
    ) -> C2paEvidence:
        """Validate the C2PA manifest of ``data`` (embedded, or ``sidecar_manifest``).

        Never touches the network: a manifest that lives only at a remote URL is
        reported as absent with ``remote_manifest_url`` set and the code
        ``manifest.remote.notFetched``; pass the fetched bytes as ``sidecar_manifest``.
        """
        media_type = normalize_media_type(media_type)
        if media_type not in readable_media_types():
            raise UnsupportedMediaType(f"c2pa cannot read {media_type}")
        if not data:
            raise MalformedContent("empty content")
        try:
            # (1) Parse the asset and its manifest store; validation runs here.
            reader = c2pa.Reader(
                media_type, io.BytesIO(data), sidecar_manifest, context=self._context
            )
        except c2pa.C2paError.ManifestNotFound:
            return C2paEvidence(state=C2paState.ABSENT)
        except c2pa.C2paError as e:
            url = _remote_manifest_url(e)
            if url is not None:
                return C2paEvidence(
                    state=C2paState.ABSENT,
                    codes=(Code.MANIFEST_REMOTE_NOT_FETCHED,),
                    remote_manifest_url=url or None,
                )
            raise _translate(e, media_type, "read") from e
        with reader:
            try:
                store = json.loads(reader.json())
            except (c2pa.C2paError, ValueError) as e:
                raise MalformedContent(f"c2pa cannot report on this {media_type}: {e}") from e
        # (2) Map c2pa's verdict and status codes without reinterpreting them.
        return evidence_from_store(store, anchored=self._anchored)


def manifest_definition(
    generator: dict[str, str],
    title: str | None,
    claims: dict[str, Any] | None,
    created: SourceType | None,
    *,
    training_mining: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest TrustSeal signs: a ``c2pa.created`` action declaring ``created``
    (when the content is created here), a ``c2pa.published`` action, the
    ``org.trustseal.claims`` assertion for ``claims`` and a training-and-mining one."""
    actions: list[dict[str, Any]] = []
    if created is not None:
        actions.append(
            {
                "action": "c2pa.created",
                "digitalSourceType": created.uri,
                "softwareAgent": dict(generator),
            }
        )
    actions.append({"action": "c2pa.published", "softwareAgent": dict(generator)})
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": actions}}]
    if claims is not None:
        try:
            json.dumps(claims, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"claims must be JSON-serialisable: {e}") from e
        assertions.append({"label": CLAIMS_LABEL, "data": claims})
    if training_mining is not None:
        assertions.append(training_mining_assertion(training_mining))
    definition: dict[str, Any] = {
        "claim_generator_info": [dict(generator)],
        "assertions": assertions,
    }
    if title is not None:
        definition["title"] = title
    return definition


def evidence_from_store(store: dict[str, Any], *, anchored: bool) -> C2paEvidence:
    """Evidence from c2pa's manifest-store report (``Reader.json()``), trust only from
    anchors the caller configured (``anchored``)."""
    label = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(label) or {}
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    if results:
        failures = declared.status_codes(active.get("failure"))
    else:  # stores without validation_results only list failures
        failures = declared.status_codes(store.get("validation_status"))
    codes = declared.status_codes(active.get("success")) + declared.status_codes(
        active.get("informational")
    )
    state = store.get("validation_state")
    if state not in (C2paState.TRUSTED, C2paState.VALID, C2paState.INVALID):
        state = C2paState.INVALID  # an unknown verdict is never taken as success
    if state == C2paState.TRUSTED and not anchored:
        state = C2paState.VALID  # trust may only come from anchors this service configured
    signature = manifest.get("signature_info") or {}
    source_type, unrecognised = declared.declared_source_type(manifest)
    identities = declared.identities(store, manifest)
    ingredients = declared.ingredients(store, manifest)
    if not anchored:  # as for the active manifest: trust comes from our anchors only
        ingredients = tuple(
            replace(i, state=C2paState.VALID) if i.state == C2paState.TRUSTED else i
            for i in ingredients
        )
    return C2paEvidence(
        state=state,
        signer=signature.get("common_name") or signature.get("issuer"),
        failures=tuple(dict.fromkeys(failures)),
        codes=tuple(dict.fromkeys(codes)),
        manifest_label=label,
        claim_generator=_claim_generator(manifest),
        title=manifest.get("title"),
        actions=_actions(manifest),
        signer_issuer=signature.get("issuer"),
        ingredient_failures=_ingredient_failures(manifest, results),
        claims=next(
            (
                a.get("data")
                for a in declared.assertions_of(manifest)
                if a.get("label") == CLAIMS_LABEL
            ),
            None,
        ),
        assertion_labels=tuple(str(a.get("label")) for a in declared.assertions_of(manifest)),
        digital_source_type=source_type,
        unrecognised_source_type=unrecognised,
        identities=tuple(identities) if identities is not None else None,
        training_mining=declared.training_mining(manifest),
        ingredients=ingredients,
    )


def _actions(manifest: dict[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    for assertion in declared.assertions_of(manifest):
        if str(assertion.get("label", "")).split("__")[0] in ("c2pa.actions", "c2pa.actions.v2"):
            actions = (assertion.get("data") or {}).get("actions") or ()
            names += [a["action"] for a in actions if isinstance(a, dict) and "action" in a]
    return tuple(names)


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    infos = manifest.get("claim_generator_info") or ()
    if infos and isinstance(infos[0], dict) and infos[0].get("name"):
        version = infos[0].get("version")
        return f"{infos[0]['name']}/{version}" if version else str(infos[0]["name"])
    generator = manifest.get("claim_generator")
    return str(generator) if generator else None


def _ingredient_failures(manifest: dict[str, Any], results: dict[str, Any]) -> tuple[str, ...]:
    codes: list[str] = []
    for ingredient in manifest.get("ingredients") or ():
        recorded = (ingredient.get("validation_results") or {}).get("activeManifest") or {}
        codes += declared.status_codes(recorded.get("failure"))
    for delta in results.get("ingredientDeltas") or ():
        codes += declared.status_codes((delta.get("validationDeltas") or {}).get("failure"))
    return tuple(dict.fromkeys(codes))
