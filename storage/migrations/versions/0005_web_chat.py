"""web_chats and web_events: the web chat's sessions and its replayable, sealed events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("recovery_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_web_chats")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_chats_token_hash")),
        sa.UniqueConstraint("recovery_hash", name=op.f("uq_web_chats_recovery_hash")),
    )
    with op.batch_alter_table("web_chats") as batch:
        batch.create_index(batch.f("ix_web_chats_pseudonym"), ["pseudonym"], unique=False)
        batch.create_index(batch.f("ix_web_chats_last_seen_at"), ["last_seen_at"], unique=False)
    op.create_table(
        "web_events",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=True),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "seq", name=op.f("pk_web_events")),
        sa.UniqueConstraint("chat_id", "origin", name="uq_web_events_origin"),
    )
    with op.batch_alter_table("web_events") as batch:
        batch.create_index(batch.f("ix_web_events_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("web_events")
    op.drop_table("web_chats")
