"""soft bindings: perceptual fingerprints and text bindings of signed content

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BANDS = 16


def upgrade() -> None:
    op.create_table(
        "soft_bindings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("value", sa.LargeBinary(length=32), nullable=False),
        *[sa.Column(f"b{i}", sa.Integer(), nullable=False) for i in range(BANDS)],
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["items.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256", "alg", "region", name="uq_soft_bindings_item_region"),
    )
    op.create_index("ix_soft_bindings_sha256", "soft_bindings", ["sha256"])
    op.create_index("ix_soft_bindings_alg_value", "soft_bindings", ["alg", "value"])
    for i in range(BANDS):
        op.create_index(f"ix_soft_bindings_b{i}", "soft_bindings", [f"b{i}"])
    op.create_table(
        "soft_binding_sources",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["items.sha256"]),
        sa.PrimaryKeyConstraint("sha256", "alg"),
    )


def downgrade() -> None:
    op.drop_table("soft_binding_sources")
    for i in range(BANDS):
        op.drop_index(f"ix_soft_bindings_b{i}", table_name="soft_bindings")
    op.drop_index("ix_soft_bindings_alg_value", table_name="soft_bindings")
    op.drop_index("ix_soft_bindings_sha256", table_name="soft_bindings")
    op.drop_table("soft_bindings")
