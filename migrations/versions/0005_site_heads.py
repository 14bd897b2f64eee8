"""per-site heads over the spam model, fitted on moderators' labels, and the labels'
features they are fitted from

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("base_version", sa.String(length=32), nullable=False),
        sa.Column("n_labels", sa.Integer(), nullable=False),
        sa.Column("n_spam", sa.Integer(), nullable=False),
        sa.Column("last_label_id", sa.Integer(), nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_heads_model_version", "site_heads", ["model_version"], unique=True)
    op.create_table(
        "label_features",
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.String(length=32), nullable=False),
        sa.Column("logit", sa.Float(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"]),
        sa.PrimaryKeyConstraint("label_id", "base_version"),
    )


def downgrade() -> None:
    op.drop_table("label_features")
    op.drop_index("ix_site_heads_model_version", table_name="site_heads")
    op.drop_table("site_heads")
