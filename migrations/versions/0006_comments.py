"""comments asked about and reported through the Akismet-compatible door, and the
moderator console's review queue

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blog", sa.String(length=2000), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=500), nullable=True),
        sa.Column("author_email", sa.String(length=500), nullable=True),
        sa.Column("author_url", sa.String(length=2000), nullable=True),
        sa.Column("user_ip", sa.String(length=100), nullable=False),
        sa.Column("comment_type", sa.String(length=100), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("spam_probability", sa.Float(), nullable=True),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("spam", sa.Boolean(), nullable=False),
        sa.Column("discard", sa.Boolean(), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_comments_sha256", "comments", ["sha256"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("spam_probability", sa.Float(), nullable=True),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("own_cluster", sa.String(length=64), nullable=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("label", sa.String(length=8), nullable=True),
        sa.Column("labelled_by", sa.Integer(), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["labelled_by"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reviews_sha256", "reviews", ["sha256"], unique=True)
    op.create_index("ix_reviews_verdict", "reviews", ["verdict"])
    op.create_index("ix_reviews_campaign_id", "reviews", ["campaign_id"])
    op.create_index("ix_reviews_own_cluster", "reviews", ["own_cluster"])


def downgrade() -> None:
    op.drop_index("ix_reviews_own_cluster", table_name="reviews")
    op.drop_index("ix_reviews_campaign_id", table_name="reviews")
    op.drop_index("ix_reviews_verdict", table_name="reviews")
    op.drop_index("ix_reviews_sha256", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_comments_sha256", table_name="comments")
    op.drop_table("comments")
