"""xapi_outbox: xAPI statements queued with the events they record, sent to the LRS later

A lesson opened or read, a quiz attempted, answered and graded, a case decided and a
certificate issued each add a statement row in the transaction that records the event (only
when COURSEWARE_LRS_URL is set); `courseware outbox run` sends them, retrying with back-off.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xapi_outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("created_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_outbox")),
    )
    op.create_index("ix_xapi_outbox_due", "xapi_outbox", ["sent_at", "next_try_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_xapi_outbox_due", table_name="xapi_outbox")
    op.drop_table("xapi_outbox")
