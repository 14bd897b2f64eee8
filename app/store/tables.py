"""Database tables (SQLModel). Schema changes go through Alembic in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Publisher(SQLModel, table=True):
    __tablename__ = "publishers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    key_id: str = Field(max_length=16, unique=True, index=True)
    public_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16, unique=True, index=True)
    secret_hash: str = Field(max_length=64)
    scopes: str = Field(max_length=200)
    publisher_id: int | None = Field(default=None, foreign_key="publishers.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)


class Item(SQLModel, table=True):
    """Content the service has signed or been given a record for, by digest."""

    __tablename__ = "items"

    sha256: str = Field(primary_key=True, max_length=64)
    media_type: str = Field(max_length=200)
    size: int
    created_at: datetime = Field(default_factory=utcnow)


class Record(SQLModel, table=True):
    """A signed record envelope about an item."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("signature", name="uq_records_signature"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True, foreign_key="items.sha256")
    key_id: str = Field(max_length=16, index=True)
    publisher_id: int | None = Field(default=None, foreign_key="publishers.id")
    signature: str = Field(max_length=100)
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LogEntry(SQLModel, table=True):
    """An accepted entry waiting for, or placed in, the transparency log.

    ``leaf_hash`` (hex) is fixed when the entry is accepted; ``leaf_index`` is null until
    the sequencer integrates the entry.
    """

    __tablename__ = "log_entries"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    record_id: int | None = Field(default=None, foreign_key="records.id", unique=True)
    leaf_hash: str = Field(max_length=64)
    leaf_index: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, index=True, nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow)


class TreeNode(SQLModel, table=True):
    """The hash of a complete subtree; ``id`` packs (level, index) as level << 56 | index."""

    __tablename__ = "tree_nodes"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class CheckpointRow(SQLModel, table=True):
    """A signed checkpoint, one per tree size the sequencer reached."""

    __tablename__ = "checkpoints"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # True from the commit until the configured witnesses were asked for cosignatures
    # and the note rewritten with them (app.witnessing): until then no process caches it
    cosigning: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class Cosignature(SQLModel, table=True):
    """A witness's cosignature of one of this log's checkpoints (C2SP tlog-cosignature)."""

    __tablename__ = "cosignatures"

    checkpoint_size: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    witness: str = Field(primary_key=True, max_length=500)  # its verifier key
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))
    line: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class WitnessedLog(SQLModel, table=True):
    """As a witness for another log: the last checkpoint this service cosigned for it."""

    __tablename__ = "witnessed_logs"

    origin: str = Field(primary_key=True, max_length=500)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class AnchorRow(SQLModel, table=True):
    """A checkpoint root published on an EVM chain."""

    __tablename__ = "anchors"

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    contract: str = Field(max_length=42)
    tx: str = Field(max_length=66, unique=True)
    block: int = Field(sa_column=Column(BigInteger, nullable=False))
    block_hash: str = Field(max_length=66)
    status: str = Field(max_length=16, default="anchored")  # anchored | reorged
    confirmations: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    checked_at: datetime | None = None


class ServiceState(SQLModel, table=True):
    """Small named values the service keeps: the log lock row, the anchor contract."""

    __tablename__ = "service_state"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class Label(SQLModel, table=True):
    """A moderator's decision on a text: spam or ham, kept for retraining."""

    __tablename__ = "labels"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    label: str = Field(max_length=8)  # spam | ham
    item_id: str | None = Field(default=None, max_length=200)
    api_key_id: int | None = Field(default=None, foreign_key="api_keys.id")
    created_at: datetime = Field(default_factory=utcnow)


class SiteHeadRow(SQLModel, table=True):
    """One fitted per-site head over the spam model (:mod:`detectors.adaptation`), kept
    so that any of them can be made active again. Which one is active is the service
    state ``spam.adaptation``."""

    __tablename__ = "site_heads"

    id: int | None = Field(default=None, primary_key=True)
    model_version: str = Field(max_length=64, unique=True, index=True)
    base_version: str = Field(max_length=32)
    n_labels: int
    n_spam: int
    #: the newest label the head was fitted with (labels.id)
    last_label_id: int
    head: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LabelFeatures(SQLModel, table=True):
    """A labelled text as one base model reads it: its stacked logit and its embedding
    (float16), kept so that refitting a site head does not run the encoder again."""

    __tablename__ = "label_features"

    label_id: int = Field(foreign_key="labels.id", primary_key=True)
    base_version: str = Field(max_length=32, primary_key=True)
    logit: float
    embedding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Comment(SQLModel, table=True):
    """A comment a platform asked about through the Akismet-compatible door
    (``comment-check``) or reported (``submit-spam`` / ``submit-ham``): the fields it sent,
    the answer it got, and the moderators' decision on it."""

    __tablename__ = "comments"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)  # of the comment's text, as verify does
    blog: str = Field(max_length=2000)
    content: str = Field(sa_column=Column(Text, nullable=False))
    author: str | None = Field(default=None, max_length=500)
    author_email: str | None = Field(default=None, max_length=500)
    author_url: str | None = Field(default=None, max_length=2000)
    user_ip: str = Field(max_length=100)
    comment_type: str | None = Field(default=None, max_length=100)
    #: every field the platform sent (JSON object), the documented ones and its own
    fields: str = Field(sa_column=Column(Text, nullable=False))
    verdict: str | None = Field(default=None, max_length=16)
    spam_probability: float | None = None
    #: the signals that decided beside the verdict (JSON list of strings)
    signals: str = Field(sa_column=Column(Text, nullable=False))
    spam: bool  # the answer: comment-check's "true"
    discard: bool = False  # X-akismet-pro-tip: discard
    is_test: bool = False
    #: the platform's or a moderator's decision: spam | ham, once reported
    label: str | None = Field(default=None, max_length=8)
    api_key_id: int | None = Field(default=None, foreign_key="api_keys.id")
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    """An item the moderator console lists: its newest verdict was spam, suspicious,
    similar or tampered. Texts keep their text, pictures their bytes (to show them)."""

    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)  # text | image | media
    media_type: str = Field(max_length=200)
    source: str = Field(max_length=16)  # verify | akismet
    verdict: str = Field(max_length=16, index=True)
    spam_probability: float | None = None
    campaign_id: str | None = Field(default=None, max_length=64, index=True)
    #: the cluster a text starts if it is the first of a campaign (whose id it becomes)
    own_cluster: str | None = Field(default=None, max_length=64, index=True)
    doc: str = Field(sa_column=Column(Text, nullable=False))  # the signed verdict document
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    label: str | None = Field(default=None, max_length=8)  # spam | ham, a moderator's
    labelled_by: int | None = Field(default=None, foreign_key="api_keys.id")
    labelled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


NEAR_INDEX_WORDS = ("w0", "w1", "w2", "w3")


class SoftBinding(SQLModel, table=True):
    """One fingerprint (or text binding) of a signed item: its value, the value's 16-bit
    bands (``b0`` … ``b15``) and its four 64-bit words (``w0`` … ``w3``), see
    :mod:`signing.soft_binding`. Each band has an index that also holds the words (and,
    on PostgreSQL, the id; SQLite's indexes hold the rowid anyway), so a look-up reads
    its candidates and their distances from the indexes alone."""

    __tablename__ = "soft_bindings"
    __table_args__ = (
        UniqueConstraint("sha256", "alg", "region", name="uq_soft_bindings_item_region"),
        Index("ix_soft_bindings_alg_value", "alg", "value"),
        *(
            Index(
                f"ix_soft_bindings_near_b{i}",
                f"b{i}",
                *NEAR_INDEX_WORDS,
                postgresql_include=["id"],
            )
            for i in range(16)
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    sha256: str = Field(max_length=64, index=True, foreign_key="items.sha256")
    alg: str = Field(max_length=64)
    region: str = Field(max_length=32)
    value: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    b0: int
    b1: int
    b2: int
    b3: int
    b4: int
    b5: int
    b6: int
    b7: int
    b8: int
    b9: int
    b10: int
    b11: int
    b12: int
    b13: int
    b14: int
    b15: int
    w0: int = Field(sa_column=Column(BigInteger(), nullable=False))
    w1: int = Field(sa_column=Column(BigInteger(), nullable=False))
    w2: int = Field(sa_column=Column(BigInteger(), nullable=False))
    w3: int = Field(sa_column=Column(BigInteger(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class SoftBindingSource(SQLModel, table=True):
    """What confirming a match needs of the original: compact image features, or the
    signed text (normalised)."""

    __tablename__ = "soft_binding_sources"

    sha256: str = Field(primary_key=True, max_length=64, foreign_key="items.sha256")
    alg: str = Field(primary_key=True, max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# SQLAlchemy Core handles on the tables, for the queries that need no ORM objects;
# declared here once.
PUBLISHERS = Publisher.__table__  # type: ignore[attr-defined]
API_KEYS = ApiKey.__table__  # type: ignore[attr-defined]
ITEMS = Item.__table__  # type: ignore[attr-defined]
RECORDS = Record.__table__  # type: ignore[attr-defined]
ENTRIES = LogEntry.__table__  # type: ignore[attr-defined]
NODES = TreeNode.__table__  # type: ignore[attr-defined]
CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]
ANCHORS = AnchorRow.__table__  # type: ignore[attr-defined]
COSIGNATURES = Cosignature.__table__  # type: ignore[attr-defined]
WITNESSED_LOGS = WitnessedLog.__table__  # type: ignore[attr-defined]
STATE = ServiceState.__table__  # type: ignore[attr-defined]
LABELS = Label.__table__  # type: ignore[attr-defined]
COMMENTS = Comment.__table__  # type: ignore[attr-defined]
REVIEWS = Review.__table__  # type: ignore[attr-defined]
SITE_HEADS = SiteHeadRow.__table__  # type: ignore[attr-defined]
LABEL_FEATURES = LabelFeatures.__table__  # type: ignore[attr-defined]
SOFT_BINDINGS = SoftBinding.__table__  # type: ignore[attr-defined]
SOFT_SOURCES = SoftBindingSource.__table__  # type: ignore[attr-defined]
