"""Who holds which key: the service's own keys and the registered publishers', as
verifiers resolve them and as the service publishes them for pinning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nacl.signing import VerifyKey

from app.settings import Settings
from app.store import Store, parse_public_key
from signing.bundle import PinnedKeys
from signing.c2pa_certs import C2paSigningMaterial
from signing.canonical import b64decode
from signing.cosignature import CosignatureVerifier
from signing.keys import KeyRing
from signing.note import NoteVerifier
from signing.pinning import SERVICE_NAME
from signing.records import KeyOwner

__all__ = ["KeyDirectory"]


class KeyDirectory:
    def __init__(
        self,
        settings: Settings,
        keys: KeyRing,
        store: Store,
        c2pa_material: C2paSigningMaterial,
        chain_info: Callable[[], dict[str, Any] | None],
    ):
        self.settings = settings
        self.keys = keys
        self.store = store
        self.c2pa_material = c2pa_material
        self.chain_info = chain_info
        self._pinned: tuple[tuple[str, ...], PinnedKeys] | None = None

    def resolve_key(self, key_id: str) -> KeyOwner | None:
        """The owner of a record key: this service, or a registered publisher."""
        vk = self.keys.verify_key("record", key_id)
        if vk is not None:
            return KeyOwner(vk, SERVICE_NAME, attests_publisher=True)
        pub = self.store.publisher_by_key_id(key_id)
        if pub is None:
            return None
        return KeyOwner(parse_public_key(pub.public_key), pub.name)

    def public_keys(self) -> dict[str, Any]:
        """Everything a verifier pins: publish it, and check bundles offline against it."""
        publishers = [
            {"name": p.name, "key_id": p.key_id, "public_key": p.public_key}
            for p in self.store.list_publishers()
            if p.revoked_at is None
        ]
        return {
            "records": self.keys.public_keys("record"),
            "receipts": self.keys.public_keys("receipt"),
            "checkpoints": self.keys.public_keys("checkpoint"),
            # for clients that pin keys: each list signed by every key in it, so that a
            # pinned key vouches for its successors (signing.keys.KeyRing.signed_key_list)
            "key_lists": {
                "receipt": self.keys.signed_key_list("receipt"),
                "checkpoint": self.keys.signed_key_list("checkpoint"),
            },
            "log": {
                "origin": self.settings.log_origin,
                "verifiers": [v.to_string() for v in self.pinned_keys().checkpoint_verifiers],
                # the witnesses this log asks to cosign each checkpoint (their keys): a
                # verifier may require a quorum of them (proof verify --witness)
                "witnesses": [w.to_string() for w, _ in self.settings.witness_endpoints()],
            },
            # this service as a witness of other logs (POST /witness/add-checkpoint)
            "witness": {
                "verifier": self.witness_verifier().to_string(),
                "logs": sorted(self.settings.witnessed_logs()),
            },
            "chain": self.chain_info(),
            "publishers": publishers,
            "c2pa": {"certificate_chain": self.c2pa_material.cert_chain_pem.decode()},
        }

    def witness_verifier(self) -> CosignatureVerifier:
        """The key this service cosigns other logs' checkpoints with, under its name."""
        return CosignatureVerifier(
            self.settings.effective_witness_name, self.keys.current("witness").verify_key
        )

    def pinned_keys(self) -> PinnedKeys:
        """The keys a client pins, made once per checkpoint key set (a rotation makes new
        ones), so that the checkpoint notes they verified are remembered."""
        key_ids = self.keys.key_ids("checkpoint")
        pinned = self._pinned
        if pinned is not None and pinned[0] == key_ids:
            return pinned[1]
        verifiers = [
            NoteVerifier.for_key(
                self.settings.log_origin, VerifyKey(b64decode(str(k["public_key"])))
            )
            for k in self.keys.public_keys("checkpoint")
        ]
        keys = PinnedKeys(
            origin=self.settings.log_origin,
            checkpoint_verifiers=verifiers,
            record_keys=self.resolve_key,
            min_confirmations=self.settings.chain_min_confirmations,
        )
        self._pinned = (key_ids, keys)
        return keys
