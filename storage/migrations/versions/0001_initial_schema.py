"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 17:27:43.121906
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The key store: its own schema, so it can be backed up on its own (shorter) clock.
        op.execute("CREATE SCHEMA IF NOT EXISTS keystore")
    op.create_table(
        "event_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(length=48), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "event", "office_id", name=op.f("pk_event_counts")),
    )
    op.create_table(
        "join_attempts",
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=False),
        sa.Column("window_start", storage.models.UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_join_attempts")),
    )
    op.create_table(
        "erasure_journal",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("erased_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_erasure_journal")),
        schema="keystore",
    )
    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_keys")),
        schema="keystore",
    )
    with op.batch_alter_table("subject_keys", schema="keystore") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_keystore_subject_keys_kek_version"), ["kek_version"], unique=False
        )

    op.create_table(
        "mentors",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=False),
        sa.Column("pseudonym_version", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=True),
        sa.Column("pilot_area", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("display_name_ct", sa.LargeBinary(), nullable=True),
        sa.Column("chat_ref_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('mentor', 'coordinator')", name=op.f("ck_mentors_role")),
        sa.CheckConstraint(
            "status IN ('pending_name', 'pending_approval', 'active', 'revoked')",
            name=op.f("ck_mentors_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentors")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_mentors_pseudonym")),
    )
    with op.batch_alter_table("mentors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentors_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentors_pilot_area"), ["pilot_area"], unique=False)

    op.create_table(
        "operator_notes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_operator_notes")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.LargeBinary(length=32), nullable=False),
        sa.Column("pseudonym_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.Column("draft_ct", sa.LargeBinary(), nullable=True),
        sa.Column("chat_ref_ct", sa.LargeBinary(), nullable=True),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("notice_accepted_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_people_pseudonym")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_last_seen_at"), ["last_seen_at"], unique=False)

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_updates_processed_at"), ["processed_at"], unique=False
        )

    op.create_table(
        "disclosures",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_disclosures_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
        sa.UniqueConstraint("person_id", "field", name="person_field"),
    )
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosures_person_id"), ["person_id"], unique=False)

    op.create_table(
        "invites",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=True),
        sa.Column("pilot_area", sa.String(length=64), nullable=True),
        sa.Column("expires_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('mentor', 'coordinator')", name=op.f("ck_invites_role")),
        sa.ForeignKeyConstraint(
            ["used_by"],
            ["mentors.id"],
            name=op.f("fk_invites_used_by_mentors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invites_code_hash")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("public_ref", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("office_id", sa.String(length=64), nullable=False),
        sa.Column("pilot_area", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.String(length=32), nullable=True),
        sa.Column("contact_by", sa.String(length=16), nullable=False),
        sa.Column("time_window", sa.String(length=32), nullable=False),
        sa.Column("ladder_step", sa.Integer(), nullable=False),
        sa.Column("next_ladder_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("closed_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("feedback_helped", sa.String(length=16), nullable=True),
        sa.Column("feedback_next_step", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'closed', 'withdrawn')",
            name=op.f("ck_referrals_status"),
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentors.id"],
            name=op.f("fk_referrals_mentor_id_mentors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_referrals_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("public_ref", name=op.f("uq_referrals_public_ref")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "ix_referrals_status_next_ladder_at", ["status", "next_ladder_at"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("referral_id", sa.String(length=32), nullable=True),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.String(length=32), nullable=False),
        sa.Column("payload_subject", sa.String(length=32), nullable=True),
        sa.Column("payload_ct", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("lease_until", storage.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("sent_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.models.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'inflight', 'sent', 'dead')", name=op.f("ck_outbox_status")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_outbox_referral_id_referrals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_referral_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_recipient_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_status_next_ladder_at")
        batch_op.drop_index(batch_op.f("ix_referrals_person_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_office_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_mentor_id"))

    op.drop_table("referrals")
    op.drop_table("invites")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosures_person_id"))

    op.drop_table("disclosures")
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_processed_at"))

    op.drop_table("processed_updates")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_last_seen_at"))

    op.drop_table("people")
    op.drop_table("operator_notes")
    with op.batch_alter_table("mentors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentors_pilot_area"))
        batch_op.drop_index(batch_op.f("ix_mentors_office_id"))

    op.drop_table("mentors")
    with op.batch_alter_table("subject_keys", schema="keystore") as batch_op:
        batch_op.drop_index(batch_op.f("ix_keystore_subject_keys_kek_version"))

    op.drop_table("subject_keys", schema="keystore")
    op.drop_table("erasure_journal", schema="keystore")
    op.drop_table("join_attempts")
    op.drop_table("event_counts")
