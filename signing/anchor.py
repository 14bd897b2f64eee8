"""Anchoring transparency-log checkpoints on an EVM chain.

A checkpoint is anchored by one call to ``CheckpointAnchor.anchor`` (one transaction per
checkpoint, whatever the number of entries it covers). The resulting :class:`AnchorRecord`
travels in proof bundles; :func:`verify_anchor` re-checks it against a chain node and
returns :class:`AnchorEvidence` with reason codes.

All network I/O goes through :class:`ChainClient`. Transport failures surface as
:class:`~signing.errors.ChainUnavailable` (retry later), failed checks as
:class:`~signing.errors.VerificationError` with an :class:`AnchorCode`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Self

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, keccak, to_checksum_address
from web3 import Web3
from web3 import exceptions as w3err
from web3.middleware import ExtraDataToPOAMiddleware

from signing.codes import AnchorCode
from signing.errors import ChainUnavailable, MalformedContent, SigningError, VerificationError

__all__ = [
    "ANCHORED_EVENT",
    "ANCHORED_TOPIC",
    "DEFAULT_TIMEOUT",
    "DEVELOPMENT_CHAIN_IDS",
    "REANCHOR_CODES",
    "AnchorCode",
    "AnchorEvidence",
    "AnchorPending",
    "AnchorRecord",
    "AnchorStatus",
    "ChainClient",
    "ChainRejected",
    "is_development_chain",
    "load_contract_artifact",
    "origin_hash",
    "verify_anchor",
]

#: anvil / hardhat, geth --dev / ganache, and eth-tester's EthereumTesterProvider ("web3py").
DEVELOPMENT_CHAIN_IDS = frozenset({31337, 1337, 0x776562337079})

DEFAULT_TIMEOUT = 10.0

ANCHORED_EVENT = "Anchored(bytes32,uint64,bytes32,address)"
ANCHORED_TOPIC = keccak(text=ANCHORED_EVENT)


#: Codes after which the checkpoint must be anchored again (the record is gone or void).
REANCHOR_CODES = frozenset({AnchorCode.NOT_FOUND, AnchorCode.REORGED, AnchorCode.TX_FAILED})


class ChainRejected(SigningError):
    """The node answered but refused the request (funds, nonce, revert); retrying as-is
    will not help."""


class AnchorPending(ChainUnavailable):
    """The anchor transaction was sent but no receipt arrived within the timeout."""

    def __init__(self, tx_hash: str, message: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


# One mapping from library errors to ours, applied at every call into the node.
_TRANSPORT: tuple[type[Exception], ...] = (
    *(requests.RequestException, ConnectionError, TimeoutError),
    *(w3err.ProviderConnectionError, w3err.TooManyRequests, w3err.MultipleFailedRequests),
    w3err.BadResponseFormat,
)
_ERROR_MAP: tuple[tuple[tuple[type[Exception], ...], type[SigningError]], ...] = (
    (_TRANSPORT, ChainUnavailable),
    ((w3err.Web3RPCError, w3err.ContractLogicError, w3err.InvalidTransaction), ChainRejected),
)


@contextmanager
def _node_errors(action: str) -> Iterator[None]:
    try:
        yield
    except SigningError:
        raise
    except Exception as e:
        for library_errors, ours in _ERROR_MAP:
            if isinstance(e, library_errors):
                raise ours(f"{action}: {e}") from e
        raise


def is_development_chain(chain_id: int) -> bool:
    """True for chain ids used by local development nodes, never public evidence."""
    return chain_id in DEVELOPMENT_CHAIN_IDS


def origin_hash(origin: str) -> bytes:
    """The ``originHash`` event topic: keccak256 of the checkpoint origin (UTF-8)."""
    return keccak(text=origin)


def load_contract_artifact() -> tuple[list[dict[str, Any]], str]:
    """The committed ABI and creation bytecode of ``CheckpointAnchor``."""
    folder = resources.files("signing").joinpath("contracts")
    abi = json.loads(folder.joinpath("CheckpointAnchor.abi.json").read_text("utf-8"))
    bytecode = folder.joinpath("CheckpointAnchor.bin").read_text("utf-8").strip()
    return abi, "0x" + bytecode.removeprefix("0x")


def _check_checkpoint(origin: str, tree_size: int, root: bytes) -> None:
    if not isinstance(origin, str) or not origin:
        raise ValueError("origin must be a non-empty string")
    if isinstance(tree_size, bool) or not isinstance(tree_size, int):
        raise ValueError("tree_size must be an integer")
    if not 0 <= tree_size < 2**64:
        raise ValueError("tree_size must fit in uint64")
    if not isinstance(root, bytes) or len(root) != 32:
        raise ValueError("root must be 32 bytes")


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


def _hex32(value: str, name: str) -> str:
    text = value.lower()
    if len(text) != 66 or not text.startswith("0x"):
        raise ValueError(f"{name} must be 0x-prefixed 32-byte hex")
    bytes.fromhex(text[2:])
    return text


@dataclass(frozen=True)
class AnchorRecord:
    """Where and how a checkpoint root was anchored."""

    chain_id: int
    contract: str
    tx: str
    block: int
    block_hash: str
    root: bytes
    tree_size: int
    origin: str

    def __post_init__(self) -> None:
        if not is_address(self.contract):
            raise ValueError("contract must be a 20-byte address")
        object.__setattr__(self, "contract", to_checksum_address(self.contract))
        object.__setattr__(self, "tx", _hex32(self.tx, "tx"))
        object.__setattr__(self, "block_hash", _hex32(self.block_hash, "block_hash"))
        _check_checkpoint(self.origin, self.tree_size, self.root)
        for number in (self.chain_id, self.block):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise ValueError("chain_id and block must be non-negative integers")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "root": _hex(self.root)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse an untrusted record; raises :class:`MalformedContent` when invalid."""
        try:
            fields = {name: data[name] for name in cls.__dataclass_fields__}
            for name in ("contract", "tx", "block_hash", "root", "origin"):
                if not isinstance(fields[name], str):
                    raise TypeError(f"{name} must be a string")
            if not fields["root"].startswith("0x"):
                raise ValueError("root must be 0x-prefixed hex")
            return cls(**{**fields, "root": bytes.fromhex(fields["root"][2:])})
        except (KeyError, TypeError, ValueError) as e:
            raise MalformedContent(f"invalid anchor record: {e}") from e


@dataclass(frozen=True)
class AnchorStatus:
    """What the chain says about an anchor right now."""

    confirmations: int
    head: int
    block_timestamp: int
    submitter: str


@dataclass(frozen=True)
class AnchorEvidence:
    """Outcome of :func:`verify_anchor`; ``public`` is what a verdict may rely on."""

    verified: bool
    codes: tuple[str, ...]
    development: bool
    chain_id: int
    contract: str
    tx: str
    block: int
    confirmations: int = 0
    block_timestamp: int | None = None
    detail: str = field(default="", compare=False)

    @property
    def public(self) -> bool:
        return self.verified and not self.development

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["detail"]
        return {**data, "codes": [str(c) for c in self.codes], "public": self.public}


class ChainClient:
    """Anchors checkpoints and checks anchors through one web3 connection."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        contract_address: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._w3 = w3
        self._account = account
        self._timeout = timeout
        self._abi, self._bytecode = load_contract_artifact()
        self._lock = threading.Lock()
        self._contract_address: str | None = None
        self._code_checked = False
        if contract_address is not None:
            if not is_address(contract_address):
                raise ValueError(f"not an address: {contract_address!r}")
            self._contract_address = to_checksum_address(contract_address)

    @classmethod
    def from_rpc_url(
        cls,
        url: str,
        private_key: str | bytes | None,
        *,
        contract_address: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Self:
        """A client for a JSON-RPC endpoint over HTTP(S); requests give up after ``timeout``.

        Without ``private_key`` the client only reads: it has a throwaway, unfunded account.
        """
        if not url.startswith(("http://", "https://")):
            raise ValueError("only http(s) JSON-RPC endpoints are supported")
        provider = Web3.HTTPProvider(
            url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )
        w3 = Web3(provider)
        # Some chains (Polygon PoS, BSC, Clique) put more than 32 bytes in extraData.
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        signer = Account.from_key(private_key) if private_key else Account.create()
        return cls(w3, signer, contract_address=contract_address, timeout=timeout)

    @classmethod
    def from_web3(
        cls,
        w3: Web3,
        account: LocalAccount | str | bytes,
        *,
        contract_address: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Self:
        """A client over an existing ``Web3`` (e.g. eth-tester's in-process provider)."""
        signer = account if isinstance(account, LocalAccount) else Account.from_key(account)
        return cls(w3, signer, contract_address=contract_address, timeout=timeout)

    @property
    def address(self) -> str:
        return str(self._account.address)

    @property
    def contract_address(self) -> str | None:
        return self._contract_address

    @property
    def web3(self) -> Web3:
        return self._w3

    def chain_id(self) -> int:
        with _node_errors("eth_chainId"):
            return int(self._w3.eth.chain_id)

    def deploy_contract(self) -> str:
        """Deploy ``CheckpointAnchor``; the client then anchors to it. Returns its address."""
        with self._lock:
            _, receipt = self._transact({"data": self._bytecode}, "deploy CheckpointAnchor")
        address = receipt["contractAddress"]
        if address is None:
            raise ChainRejected("deployment receipt holds no contract address")
        self._contract_address = to_checksum_address(address)
        self._code_checked = True
        return self._contract_address

    def anchor_checkpoint(self, origin: str, tree_size: int, root: bytes) -> AnchorRecord:
        """Publish one checkpoint in one transaction and return its record."""
        _check_checkpoint(origin, tree_size, root)
        contract = self._contract()
        data = contract.encode_abi("anchor", args=[origin_hash(origin), tree_size, root])
        with self._lock:
            chain_id, receipt = self._transact({"to": contract.address, "data": data}, "anchor")
        record = AnchorRecord(
            chain_id=chain_id,
            contract=contract.address,
            tx=_hex(receipt["transactionHash"]),
            block=int(receipt["blockNumber"]),
            block_hash=_hex(receipt["blockHash"]),
            root=root,
            tree_size=tree_size,
            origin=origin,
        )
        self._match_event(record, receipt)
        return record

    def confirmations(self, record: AnchorRecord) -> int:
        """Blocks on top of the anchor's block, itself included; 0 if it left the chain."""
        with _node_errors("confirmations"):
            head = int(self._w3.eth.block_number)
            if record.block > head:
                return 0
            block = self._w3.eth.get_block(record.block)
        if _hex(block["hash"]) != record.block_hash:
            return 0
        return head - record.block + 1

    def check_anchor(self, record: AnchorRecord) -> AnchorStatus:
        """Check ``record`` against the canonical chain; raises VerificationError."""
        with _node_errors("check anchor"):
            # (1) the node serves the record's chain
            chain_id = int(self._w3.eth.chain_id)
            if chain_id != record.chain_id:
                raise VerificationError(
                    AnchorCode.CHAIN_MISMATCH,
                    f"record is for chain {record.chain_id}, node serves {chain_id}",
                )
            # (2) the record names the contract this client trusts
            if self._contract_address and record.contract != self._contract_address:
                raise VerificationError(
                    AnchorCode.CONTRACT_MISMATCH,
                    f"record names {record.contract}, expected {self._contract_address}",
                )
            # (3) the anchoring block is still canonical at the same hash, and (4) the
            # transaction is in it and succeeded. A record whose block number or
            # transaction was edited is a mismatch, not a reorganisation: its block hash
            # names the block the transaction really is in, or its block is still
            # canonical while the transaction it names is in another one.
            head = int(self._w3.eth.block_number)
            try:
                block = self._w3.eth.get_block(record.block) if record.block <= head else None
            except w3err.BlockNotFound:
                block = None
            canonical = block is not None and _hex(block["hash"]) == record.block_hash
            try:
                receipt = self._w3.eth.get_transaction_receipt(record.tx)  # type: ignore[arg-type]
            except w3err.TransactionNotFound:
                receipt = None
            if receipt is not None and _hex(receipt["blockHash"]) == record.block_hash:
                if int(receipt["blockNumber"]) != record.block:
                    raise VerificationError(
                        AnchorCode.BLOCK_MISMATCH,
                        f"{record.tx} is in block {receipt['blockNumber']}, "
                        f"the record says {record.block}",
                    )
            elif receipt is not None and canonical:
                raise VerificationError(
                    AnchorCode.TX_MISMATCH,
                    f"{record.tx} is in another block than the record's {record.block}",
                )
            if not canonical:
                raise VerificationError(
                    AnchorCode.REORGED, f"block {record.block} is no longer {record.block_hash}"
                )
            if receipt is None:
                raise VerificationError(AnchorCode.NOT_FOUND, f"no receipt for {record.tx}")
            if receipt["status"] != 1:
                raise VerificationError(AnchorCode.TX_FAILED, f"{record.tx} reverted")
            assert block is not None
        # (5) the contract's event holds exactly this origin, size and root
        submitter = self._match_event(record, receipt)
        return AnchorStatus(
            confirmations=head - record.block + 1,
            head=head,
            block_timestamp=int(block["timestamp"]),
            submitter=submitter,
        )

    def needs_reanchor(self, record: AnchorRecord) -> bool:
        """True when the anchor is gone (reorged, missing, reverted) and must be redone."""
        try:
            self.check_anchor(record)
        except VerificationError as e:
            if e.code in REANCHOR_CODES:
                return True
            raise
        return False

    def _contract(self) -> Any:
        if self._contract_address is None:
            raise ValueError("no contract: pass contract_address or call deploy_contract()")
        if not self._code_checked:
            with _node_errors("eth_getCode"):
                code = self._w3.eth.get_code(self._contract_address)  # type: ignore[arg-type]
            if not code:
                raise ValueError(f"no contract code at {self._contract_address}")
            self._code_checked = True
        return self._w3.eth.contract(address=self._contract_address, abi=self._abi)  # type: ignore[call-overload]

    def _transact(self, fields: dict[str, Any], action: str) -> tuple[int, Any]:
        """Sign locally, send raw, wait for the receipt; returns (chain id, receipt)."""
        sender = self._account.address
        with _node_errors(action):
            chain_id = int(self._w3.eth.chain_id)
            tx: dict[str, Any] = {
                "from": sender,
                "chainId": chain_id,
                "nonce": self._w3.eth.get_transaction_count(sender, "pending"),
                **fields,
            }
            tx["gas"] = self._w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
            base_fee = int(self._w3.eth.get_block("latest").get("baseFeePerGas") or 0)
            tip = int(self._w3.eth.max_priority_fee)
            tx["maxPriorityFeePerGas"] = tip
            tx["maxFeePerGas"] = 2 * base_fee + tip
            signed = self._account.sign_transaction(tx)
            tx_hash = self._w3.eth.send_raw_transaction(signed.raw_transaction)
            try:
                receipt = self._w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=self._timeout, poll_latency=0.1
                )
            except w3err.TimeExhausted as e:
                pending = _hex(tx_hash)
                message = f"{action}: {pending} not mined within {self._timeout}s"
                raise AnchorPending(pending, message) from e
        if receipt["status"] != 1:
            raise ChainRejected(f"{action}: {_hex(receipt['transactionHash'])} reverted")
        return chain_id, receipt

    def _match_event(self, record: AnchorRecord, receipt: Any) -> str:
        """Decode the Anchored event of ``record.contract`` in ``receipt``; return submitter."""
        contract = self._w3.eth.contract(address=record.contract, abi=self._abi)  # type: ignore[call-overload]
        event = contract.events.Anchored()
        ours, foreign = [], 0
        for log in receipt["logs"]:
            if not log["topics"] or bytes(log["topics"][0]) != ANCHORED_TOPIC:
                continue
            if to_checksum_address(log["address"]) == record.contract:
                ours.append(event.process_log(log)["args"])
            else:
                foreign += 1
        if not ours:
            code = AnchorCode.CONTRACT_MISMATCH if foreign else AnchorCode.NOT_FOUND
            raise VerificationError(code, f"no Anchored event from {record.contract}")
        args = ours[0]
        if bytes(args["originHash"]) != origin_hash(record.origin):
            raise VerificationError(AnchorCode.ORIGIN_MISMATCH, "event holds another origin")
        if int(args["treeSize"]) != record.tree_size:
            raise VerificationError(
                AnchorCode.SIZE_MISMATCH, f"event holds tree size {args['treeSize']}"
            )
        if bytes(args["root"]) != record.root:
            raise VerificationError(AnchorCode.ROOT_MISMATCH, "event holds another root")
        return to_checksum_address(args["submitter"])


def verify_anchor(
    record: AnchorRecord,
    expected_root: bytes,
    expected_size: int,
    expected_origin: str,
    chain_client: ChainClient,
    *,
    expected_chain_id: int,
    expected_contract: str,
    min_confirmations: int,
    allow_untrusted_dev_chain: bool = False,
) -> AnchorEvidence:
    """Check that the chain holds this checkpoint with enough confirmations.

    A failed check returns evidence with its reason code; transport failures raise
    :class:`ChainUnavailable`. On a development chain the evidence is never ``public``,
    and is not even ``verified`` unless ``allow_untrusted_dev_chain`` is set.
    """
    if min_confirmations < 1:
        raise ValueError("min_confirmations must be at least 1")
    if not is_address(expected_contract):
        raise ValueError(f"expected_contract is not an address: {expected_contract!r}")
    development = is_development_chain(record.chain_id)

    def evidence(
        codes: tuple[str, ...],
        *,
        verified: bool = False,
        status: AnchorStatus | None = None,
        detail: str = "",
    ) -> AnchorEvidence:
        if development and AnchorCode.DEVELOPMENT not in codes:
            codes += (AnchorCode.DEVELOPMENT,)
        return AnchorEvidence(
            verified=verified,
            codes=tuple(str(c) for c in codes),
            development=development,
            chain_id=record.chain_id,
            contract=record.contract,
            tx=record.tx,
            block=record.block,
            confirmations=status.confirmations if status else 0,
            block_timestamp=status.block_timestamp if status else None,
            detail=detail,
        )

    # (1) the record is about the checkpoint being verified
    if record.origin != expected_origin:
        return evidence((AnchorCode.ORIGIN_MISMATCH,))
    if record.tree_size != expected_size:
        return evidence((AnchorCode.SIZE_MISMATCH,))
    if record.root != expected_root:
        return evidence((AnchorCode.ROOT_MISMATCH,))
    # (2) on the pinned chain and contract
    if record.chain_id != expected_chain_id:
        return evidence((AnchorCode.CHAIN_MISMATCH,))
    if record.contract != to_checksum_address(expected_contract):
        return evidence((AnchorCode.CONTRACT_MISMATCH,))
    # (3) the chain holds it now, at the recorded block
    try:
        status = chain_client.check_anchor(record)
    except VerificationError as e:
        return evidence((e.code,), detail=str(e))
    # (4) deep enough
    if status.confirmations < min_confirmations:
        return evidence((AnchorCode.CONFIRMATIONS_INSUFFICIENT,), status=status)
    # (5) a development chain proves nothing to the public
    if development and not allow_untrusted_dev_chain:
        return evidence((AnchorCode.DEVELOPMENT,), status=status)
    return evidence((AnchorCode.VERIFIED,), verified=True, status=status)
