"""Witnessing, both sides (C2SP tlog-witness, tlog-cosignature).

- :class:`WitnessService`: this service as a witness of other logs. ``add-checkpoint``
  requests are decided by :func:`signing.witness.check_add_checkpoint` against the last
  checkpoint cosigned for the log, which is advanced by compare-and-set before the
  cosignature is returned: of two racing requests one wins and the other is answered
  409, so the witness never cosigns a smaller tree after a larger one.
- :class:`Cosigner`: this log asking its witnesses to cosign each new checkpoint, with a
  consistency proof from the last checkpoint each of them cosigned (a 409 tells the size
  it has instead, once). The lines that verify are appended to the checkpoint's note and
  stored; a witness that does not answer in time is skipped until the next checkpoint.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.observability import WITNESS_REQUESTS
from app.store.database import Database
from app.store.log import SignedCheckpoint
from app.store.witness import (
    advance_witnessed,
    last_cosigned_size,
    save_cosignatures,
    witnessed_state,
)
from signing.codes import Code
from signing.cosignature import Cosignature, CosignatureSigner, CosignatureVerifier
from signing.errors import VerificationError
from signing.note import NoteVerifier
from signing.witness import (
    WitnessRefusal,
    add_checkpoint_body,
    check_add_checkpoint,
    parse_add_checkpoint,
    read_cosignatures,
)

__all__ = ["Cosigner", "WitnessService"]

_log = logging.getLogger("trustseal.witness")
_SIZE = re.compile(r"(0|[1-9][0-9]{0,19})\n")


class WitnessService:
    """Cosigns other logs' checkpoints that extend what it cosigned for them before."""

    def __init__(
        self,
        db: Database,
        signer: CosignatureSigner,
        logs: Mapping[str, Sequence[NoteVerifier]],
        clock: Callable[[], float] = time.time,
    ):
        self.db = db
        self.signer = signer
        self.logs = dict(logs)
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> str:
        """Answer one ``add-checkpoint`` request: the cosignature line, or WitnessRefusal."""
        request = parse_add_checkpoint(body)
        origin = request.note.partition("\n")[0]
        seen = witnessed_state(self.db, origin) if origin in self.logs else None
        cp = check_add_checkpoint(request, self.logs, seen)
        # the state it was checked against must still hold when the new one is written
        if not advance_witnessed(self.db, seen, cp, request.note):
            now = witnessed_state(self.db, origin)
            latest = now.size if now is not None else 0
            raise WitnessRefusal(
                Code.WITNESS_SIZE_CONFLICT,
                f"another request moved the log to size {latest} meanwhile",
                latest_size=latest,
            )
        return self.signer.cosign(cp, int(self.clock()))


class Cosigner:
    """Asks every configured witness to cosign a new checkpoint of this log."""

    def __init__(
        self,
        db: Database,
        witnesses: Sequence[tuple[CosignatureVerifier, str]],
        consistency_proof: Callable[[int, int], list[bytes]],
        *,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ):
        self.db = db
        self.witnesses = list(witnesses)
        self.consistency_proof = consistency_proof
        self.client = httpx.Client(timeout=timeout, transport=transport)
        self._pool = ThreadPoolExecutor(max(1, len(self.witnesses)), "trustseal-cosign")

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self.client.close()

    def __call__(self, signed: SignedCheckpoint) -> SignedCheckpoint:
        """The checkpoint with the cosignatures its witnesses gave, kept in the database
        (the note keeps its log signature first, then the witnesses' lines in the order
        configured)."""
        answers = list(self._pool.map(lambda w: self._safely(signed, *w), self.witnesses))
        got = [a for a in answers if a is not None]
        note = signed.note + "".join(line for _, _, line in got)
        try:
            save_cosignatures(self.db, signed.checkpoint.size, note, got)
        except Exception:
            _log.exception("cosignatures of checkpoint %d not kept", signed.checkpoint.size)
            return signed
        return SignedCheckpoint(signed.checkpoint, note)

    def _safely(
        self, signed: SignedCheckpoint, witness: CosignatureVerifier, url: str
    ) -> tuple[str, Cosignature, str] | None:
        """:meth:`_ask`, never raising: the checkpoint is committed, and what the log does
        after it (invalidating cached verdicts, writing tiles) must not wait on a witness's
        failure, whatever it is; the next checkpoint asks again."""
        try:
            return self._ask(signed, witness, url)
        except Exception:
            WITNESS_REQUESTS.labels("failed").inc()
            _log.exception("asking witness %s failed", witness.name)
            return None

    def _ask(
        self, signed: SignedCheckpoint, witness: CosignatureVerifier, url: str
    ) -> tuple[str, Cosignature, str] | None:
        size = signed.checkpoint.size
        vkey = witness.to_string()
        old = min(last_cosigned_size(self.db, vkey), size)
        for _attempt in range(2):
            try:
                proof = self.consistency_proof(old, size) if 0 < old < size else []
                answer = self.client.post(
                    f"{url}/add-checkpoint", content=add_checkpoint_body(old, proof, signed.note)
                )
            except (httpx.HTTPError, LookupError) as e:
                WITNESS_REQUESTS.labels("unreachable").inc()
                _log.warning("witness %s not asked for size %d: %s", witness.name, size, e)
                return None
            if answer.status_code == 409 and _SIZE.fullmatch(answer.text):
                # (the witness knows another size of this log: once, from there)
                WITNESS_REQUESTS.labels("conflict").inc()
                old = int(answer.text)
                if old > size:
                    return None  # it has cosigned a larger tree already
                continue
            if answer.status_code != 200:
                WITNESS_REQUESTS.labels("refused").inc()
                _log.warning(
                    "witness %s refused size %d: %d %s",
                    witness.name,
                    size,
                    answer.status_code,
                    answer.text[:200],
                )
                return None
            try:
                line, cosigned = read_cosignatures(signed.note, answer.text, witness)
            except VerificationError as e:
                WITNESS_REQUESTS.labels("invalid").inc()
                _log.warning("witness %s answered no valid cosignature: %s", witness.name, e)
                return None
            WITNESS_REQUESTS.labels("cosigned").inc()
            return vkey, cosigned[0], line
        return None
