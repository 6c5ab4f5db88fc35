"""learner_summary search: trigram indexes for the HR table's search (PostgreSQL only)

The learner table's search finds a text anywhere in a learner's name, user name or employee
id, case-insensitively (``lower(column) LIKE '%text%'``). At 100,000 learners reading every
row for it took 100-250 ms per statement (and the page runs two: the count and the page). A
trigram GIN index on each ``lower(column)`` lets PostgreSQL answer the same condition from
the index for a text of three characters or more (``pg_trgm``, shipped with PostgreSQL and
trusted, so the database's owner may create it, in a schema of its own). SQLite keeps reading the narrow summary
table, which is fast enough at the sizes it serves.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 01:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The indexes' names and columns; the expressions must be the ones the search writes
# (courseware.hr.learner_table: ``lower(column)``) for PostgreSQL to use them.
SEARCH_INDEXES = (
    ("ix_learner_summary_display_name_trgm", "display_name"),
    ("ix_learner_summary_username_trgm", "username"),
    ("ix_learner_summary_employee_id_trgm", "employee_id"),
)


# The extension's own schema, not public: a restore (courseware.ops.backup) sets the live
# public schema aside and restores into a new one, and an operator class inside public would
# be set aside (then dropped) with it. The backup restores public only and creates this
# schema and extension first when the database has none (a restore into a new database).
EXTENSION_SCHEMA = "courseware_ext"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {EXTENSION_SCHEMA}")
    op.execute(f"CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA {EXTENSION_SCHEMA}")
    # Where the extension is (installed before, it may be elsewhere), for the operator class.
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    for name, column in SEARCH_INDEXES:
        op.execute(
            f"CREATE INDEX {name} ON learner_summary"
            f" USING gin (lower({column}) {schema}.gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _column in SEARCH_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
