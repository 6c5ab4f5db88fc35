"""credential_status: each certificate's bit in the Bitstring Status List of its credential

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("allocated_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_credential_status_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_status")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_credential_status_certificate_id")),
        sa.UniqueConstraint(
            "status_list",
            "status_index",
            name=op.f("uq_credential_status_status_list"),
        ),
    )


def downgrade() -> None:
    op.drop_table("credential_status")
