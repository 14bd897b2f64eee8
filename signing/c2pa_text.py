"""C2PA manifests inside text (C2PA specification, "Embedding manifests into unstructured
text"): the manifest store travels with a copied post as invisible Unicode variation
selectors appended to it.

    Hello world.<U+FEFF><variation selectors: "C2PATXT\\0" | version | length | manifest>

Two libraries share the work. c2pa-rs (through c2pa-python's native library) builds and
signs the manifest and validates its claim, signature and trust; the wrapper and the
text's hard binding come from ``c2pa-unstructured-text``: the ``c2pa.hash.data``
assertion excludes the wrapper's bytes, and the rest, normalised to NFC, is hashed.
c2pa-rs 0.91 has no handler for text assets, so its own data-hash check of a text (raw
bytes, and a wrapper it cannot locate) is replaced by the specification's check here.

Signing (the numbered steps in :func:`sign_text`):
(1) the visible text is normalised to NFC, which is what the hash covers;
(2) c2pa reserves a manifest of fixed size for a data-hashed asset (a placeholder);
(3) the wrapper's length follows from that size alone (the specification's padded
    target), so the exclusion is known before the manifest is signed;
(4) the manifest is signed over the text's hash with that exclusion;
(5) the signed manifest is wrapped, padded to the target length, and appended.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import c2pa
import c2pa_unstructured_text as text_wrapper
from c2pa import c2pa as _native

from signing.c2pa_certs import C2paSigningMaterial
from signing.c2pa_media import (
    C2paEvidence,
    evidence_from_store,
    manifest_definition,
    new_context,
)
from signing.c2pa_trust import C2paTrust, is_anchored
from signing.canonical import b64decode
from signing.codes import C2paState
from signing.errors import KeyStoreError, MalformedContent, SigningError
from signing.source_types import UNDECLARED, parse_source_type

__all__ = [
    "TEXT_FORMAT",
    "SignedText",
    "carries_manifest",
    "read_text",
    "sign_text",
    "visible_text",
]

TEXT_FORMAT = "text/plain"
# c2pa's format for a bare manifest store: the data-hashed placeholder comes back as raw
# JUMBF, which is what the wrapper carries
_STORE_FORMAT = b"application/c2pa"
# what c2pa reports for a text asset whose manifest it cannot locate in the bytes
_LOCATION = "exclusion does not match the manifest location"
_DATA_HASH_MATCH = "assertion.dataHash.match"
_DATA_HASH_MISMATCH = "assertion.dataHash.mismatch"

_U8P = ctypes.POINTER(ctypes.c_ubyte)
_lib = _native._lib
_lib.c2pa_builder_data_hashed_placeholder.argtypes = [
    ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(_U8P)
]  # fmt: skip
_lib.c2pa_builder_data_hashed_placeholder.restype = ctypes.c_int64
_lib.c2pa_builder_sign_data_hashed_embeddable.argtypes = [
    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
    ctypes.POINTER(_U8P),
]  # fmt: skip
_lib.c2pa_builder_sign_data_hashed_embeddable.restype = ctypes.c_int64


@dataclass(frozen=True)
class SignedText:
    text: str  # the visible text (NFC) followed by the wrapper
    visible: str  # the text as it reads
    manifest_store: bytes  # the JUMBF the wrapper carries


def visible_text(text: str) -> str:
    """``text`` without its C2PA wrapper(s): what a reader sees."""
    for start, length in sorted(text_wrapper.locate_all(text), reverse=True):
        text = text_wrapper.strip(text, start, length)
    return text


def carries_manifest(text: str) -> bool:
    """Whether ``text`` holds a C2PA text wrapper, a valid one or a corrupted one."""
    if text_wrapper.MARKER not in text:
        return False
    try:
        return text_wrapper.extract(text) is not None
    except ValueError:
        return True  # the magic is there, the wrapper is not whole: reported when read


def _take(ptr: Any, size: int, doing: str) -> bytes:
    if size < 0 or not ptr:
        raise SigningError(
            f"c2pa cannot {doing}: {_native._read_native_error() or 'unknown error'}"
        )
    try:
        return bytes(ptr[:size])
    finally:
        _lib.c2pa_free(ctypes.cast(ptr, ctypes.c_void_p))


def sign_text(
    text: str,
    signing: C2paSigningMaterial,
    *,
    generator: dict[str, str],
    title: str | None = None,
    source_type: str | None = None,
    training_mining: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
) -> SignedText:
    """``text`` with a C2PA manifest embedded: a ``c2pa.created`` action (declaring
    ``source_type`` when given) and a ``c2pa.published`` one, signed with ``signing``."""
    if not text.strip():
        raise MalformedContent("empty text")
    if carries_manifest(text):
        raise MalformedContent("this text already carries a C2PA manifest")
    # (1) what the hash covers: the visible text, NFC
    visible = unicodedata.normalize("NFC", text)
    body = visible.encode("utf-8")
    # text is created as it is signed: its c2pa.created action declares the source type
    # given, or c2pa's "empty" (no claim) without one
    created = parse_source_type(source_type) if source_type is not None else UNDECLARED
    definition = manifest_definition(
        generator, title, claims, created, training_mining=training_mining
    )
    definition["format"] = TEXT_FORMAT
    info = c2pa.C2paSignerInfo(signing.alg, signing.cert_chain_pem, signing.private_key_pem, None)
    try:
        signer = c2pa.Signer.from_info(info)
    except c2pa.C2paError as e:
        raise KeyStoreError(f"c2pa rejected the signing material: {e}") from e
    with signer, new_context(None) as context:
        builder = c2pa.Builder(definition, context=context)
        with builder:
            # (2) a manifest of fixed size for a data-hashed asset
            out = _U8P()
            size = _lib.c2pa_builder_data_hashed_placeholder(
                builder._handle, signer.reserve_size(), _STORE_FORMAT, ctypes.byref(out)
            )
            placeholder = _take(out, size, "reserve a text manifest")
            # (3) the wrapper's length, known from the manifest's size alone
            wrapper_length = text_wrapper.target_length(len(placeholder))
            data_hash = {
                "name": "jumbf manifest",
                "alg": "sha256",
                "hash": list(hashlib.sha256(body).digest()),
                "exclusions": [{"start": len(body), "length": wrapper_length}],
                "pad": [],
            }
            # (4) sign over the text's hash with that exclusion
            out = _U8P()
            size = _lib.c2pa_builder_sign_data_hashed_embeddable(
                builder._handle,
                signer._handle,
                json.dumps(data_hash).encode(),
                _STORE_FORMAT,
                None,
                ctypes.byref(out),
            )
            manifest = _take(out, size, "sign a text manifest")
    # (5) wrap, pad to the target and append
    wrapper = text_wrapper.encode_padded(manifest)
    if len(wrapper.encode("utf-8")) != wrapper_length:
        raise SigningError("the signed text manifest does not fit the length it declared")
    signed = visible + wrapper
    _verify_binding(signed, _binding_of(data_hash))
    return SignedText(text=signed, visible=visible, manifest_store=manifest)


def _binding_of(data_hash: dict[str, Any]) -> dict[str, Any]:
    raw = data_hash.get("hash")
    digest = bytes(raw) if isinstance(raw, list) else _b64(raw)
    exclusions = [
        (int(e["start"]), int(e["length"]))
        for e in data_hash.get("exclusions") or ()
        if isinstance(e, dict)
    ]
    return {"alg": str(data_hash.get("alg") or "sha256"), "hash": digest, "exclusions": exclusions}


def _verify_binding(text: str, binding: dict[str, Any]) -> None:
    """ValueError (carrying the status code) unless ``text`` matches the binding."""
    text_wrapper.verify_data_hash(text, binding["hash"], binding["exclusions"], binding["alg"])


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise MalformedContent("the text manifest's data hash is not readable")
    return b64decode(value, what="the text manifest's data hash")


def read_text(text: str, trust: C2paTrust | bytes | None) -> C2paEvidence | None:
    """Validate the C2PA manifest embedded in ``text``; None when it carries none.

    (1) the wrapper is located (one valid wrapper, or the text is refused as corrupt);
    (2) c2pa validates the manifest's claim, signature and trust;
    (3) the hard binding is checked as the specification defines it for text, in place
        of c2pa's own data-hash check, which cannot apply to a text asset.
    """
    if text_wrapper.MARKER not in text:
        return None
    # (1) the wrapper
    try:
        found = text_wrapper.extract(text)
    except ValueError as e:
        return C2paEvidence(
            state=C2paState.INVALID, failures=(_status(e, "manifest.text.corruptedWrapper"),)
        )
    if found is None:
        return None
    payload = bytes(found["payload"])
    # (2) the manifest, validated by c2pa
    with new_context(trust) as context:
        try:
            reader = c2pa.Reader(
                "application/c2pa", io.BytesIO(text.encode("utf-8")), payload, context=context
            )
        except c2pa.C2paError as e:
            return C2paEvidence(
                state=C2paState.INVALID,
                failures=("manifest.text.unreadable",),
                codes=(str(e)[:120],),
            )
        with reader:
            store = json.loads(reader.json())
            detailed = json.loads(reader.detailed_json())
    # (3) the text's hard binding
    label = store.get("active_manifest")
    assertions = ((detailed.get("manifests") or {}).get(label) or {}).get("assertion_store") or {}
    data_hash = assertions.get("c2pa.hash.data")
    binding_ok, binding_code = False, _DATA_HASH_MISMATCH
    if isinstance(data_hash, dict):
        binding = _binding_of(data_hash)
        try:
            _verify_binding(text, binding)
            located = binding["exclusions"] == [(int(found["start"]), int(found["length"]))]
            binding_ok, binding_code = (
                located,
                (_DATA_HASH_MATCH if located else _DATA_HASH_MISMATCH),
            )
        except ValueError as e:
            binding_code = _status(e, _DATA_HASH_MISMATCH)
    _replace_data_hash(store, binding_ok, binding_code)
    return evidence_from_store(store, anchored=is_anchored(trust))


_STATUS = re.compile(r"\b(manifest\.text\.[A-Za-z]+|assertion\.dataHash\.[A-Za-z]+)")


def _status(error: ValueError, default: str) -> str:
    """The status code c2pa-unstructured-text names in its error, else ``default``."""
    found = _STATUS.search(str(error))
    return found.group(1) if found else default


def _replace_data_hash(store: dict[str, Any], ok: bool, code: str) -> None:
    """Put the specification's hard-binding result where c2pa reported its own."""
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    for key in ("success", "failure", "informational"):
        results[key] = [
            s
            for s in results.get(key) or ()
            if not (isinstance(s, dict) and str(s.get("code", "")).startswith("assertion.dataHash"))
        ]
    entry = {"code": code, "explanation": "text hard binding (NFC, wrapper excluded)"}
    (results["success"] if ok else results["failure"]).append(entry)
    others = [s for s in results["failure"] if s.get("code") != "signingCredential.untrusted"]
    if others:
        store["validation_state"] = C2paState.INVALID
    elif store.get("validation_state") == C2paState.INVALID:
        # c2pa's verdict rested on its data-hash check alone: trusted when the signer is
        trusted = any(s.get("code") == "signingCredential.trusted" for s in results["success"])
        store["validation_state"] = C2paState.TRUSTED if trusted else C2paState.VALID
    store.setdefault("validation_results", {})["activeManifest"] = results
