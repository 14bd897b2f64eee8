"""soft bindings: the value's 64-bit words in covering band indexes

A look-up used to read every candidate row from the table to compute its distance: at
1,000,000 fingerprints about 4,150 random table pages per query. The band indexes now
hold the four 64-bit words of the value (and on PostgreSQL the id), so the database
computes each candidate's distance from the index alone and reads the table only for the
values that are near.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BANDS = 16
WORDS = ("w0", "w1", "w2", "w3")
_BATCH = 5000


def _words(value: bytes) -> dict[str, int]:
    return {
        w: int.from_bytes(value[i * 8 : i * 8 + 8], "big", signed=True) for i, w in enumerate(WORDS)
    }


def upgrade() -> None:
    for w in WORDS:
        op.add_column("soft_bindings", sa.Column(w, sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    table = sa.table(
        "soft_bindings",
        sa.column("id", sa.BigInteger()),
        sa.column("value", sa.LargeBinary()),
        *(sa.column(w, sa.BigInteger()) for w in WORDS),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.value)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")),
            [{"row_id": row_id, **_words(bytes(value))} for row_id, value in rows],
        )
        last = rows[-1][0]
    with op.batch_alter_table("soft_bindings") as batch:
        for w in WORDS:
            batch.alter_column(w, existing_type=sa.BigInteger(), nullable=False)
    for i in range(BANDS):
        op.drop_index(f"ix_soft_bindings_b{i}", table_name="soft_bindings")
        op.create_index(
            f"ix_soft_bindings_near_b{i}",
            "soft_bindings",
            [f"b{i}", *WORDS],
            postgresql_include=["id"],
        )
    if conn.dialect.name == "postgresql":
        # index-only scans need pages marked all-visible: vacuum after every 1 % of
        # new rows rather than PostgreSQL's default 20 %
        op.execute("ALTER TABLE soft_bindings SET (autovacuum_vacuum_insert_scale_factor = 0.01)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE soft_bindings RESET (autovacuum_vacuum_insert_scale_factor)")
    for i in range(BANDS):
        op.drop_index(f"ix_soft_bindings_near_b{i}", table_name="soft_bindings")
        op.create_index(f"ix_soft_bindings_b{i}", "soft_bindings", [f"b{i}"])
    with op.batch_alter_table("soft_bindings") as batch:
        for w in WORDS:
            batch.drop_column(w)
