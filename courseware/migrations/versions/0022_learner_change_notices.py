"""Learner change notifications: PostgreSQL tells the web workers whose lesson state changed

The lesson page's fast path (``courseware.web.learner.lesson_fast``) keeps, per worker, the
one row it reads for a reader and a lesson (the account, the course version, the unread
notices, the recent view, the answered exercises). It may keep it only while nothing it
holds has changed, whichever process changed it: another worker, the CLI, a bulk load.
So each table the row is read from tells, after every statement that changed it, which
accounts were touched, on the channel ``courseware_learner`` (``pg_notify``; delivered when
the transaction commits, to every worker listening):

- ``users`` (by ``id``), ``notices``, ``lesson_progress`` and ``practice_answers`` (by
  ``user_id``): the distinct account ids, comma-separated, or ``*`` when more than
  ``MAX_IDS`` were touched (a bulk load: every worker forgets everything);
- ``content_state`` (the course version) and any TRUNCATE: ``*``.

The triggers are per statement (with the statement's rows as a transition table), so a bulk
insert of a million rows costs one grouped query and one notification, not a million.
SQLite has no notifications: there the fast path keeps nothing and reads the row each time.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 11:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "courseware_learner"  # courseware.core.db.LEARNER_CHANGES (as of this revision)
MAX_IDS = 200  # more accounts than this in one statement: "*" (the payload stays small)
ROW_FUNCTION = "courseware_learner_rows_changed"  # _id, _user_id: by the column
ALL_FUNCTION = "courseware_learner_all_changed"
# table -> the column holding the account's id
TABLES = {
    "users": "id",
    "notices": "user_id",
    "lesson_progress": "user_id",
    "practice_answers": "user_id",
}
# A trigger with a transition table may have one event only; UPDATE's new rows suffice
# (an account's id does not change), DELETE has only old ones.
EVENTS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in sorted(set(TABLES.values())):
        # Static SQL (one function per column name), so PL/pgSQL plans it once per session:
        # format()ed dynamic SQL was planned at every statement (0.19 ms each).
        op.execute(
            f"""
            CREATE FUNCTION {ROW_FUNCTION}_{column}() RETURNS trigger LANGUAGE plpgsql
            AS $body$
            DECLARE ids text;
            BEGIN
                SELECT CASE WHEN count(DISTINCT {column}) > {MAX_IDS} THEN '*'
                            ELSE string_agg(DISTINCT {column}::text, ',') END
                INTO ids FROM changed_rows;
                IF ids IS NOT NULL THEN
                    PERFORM pg_notify('{CHANNEL}', ids);
                END IF;
                RETURN NULL;
            END
            $body$
            """
        )
    op.execute(
        f"""
        CREATE FUNCTION {ALL_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '*');
            RETURN NULL;
        END
        $body$
        """
    )
    for table, column in TABLES.items():
        for event, rows in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_{event}_notify AFTER {event.upper()} ON {table}"
                f" REFERENCING {rows} TABLE AS changed_rows FOR EACH STATEMENT"
                f" EXECUTE FUNCTION {ROW_FUNCTION}_{column}()"
            )
    for table in (*TABLES, "content_state"):
        events = "TRUNCATE" if table != "content_state" else "INSERT OR UPDATE OR DELETE OR TRUNCATE"
        op.execute(
            f"CREATE TRIGGER {table}_all_notify AFTER {events} ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {ALL_FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*TABLES, "content_state"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_all_notify ON {table}")
        for event in EVENTS if table in TABLES else ():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_notify ON {table}")
    for column in sorted(set(TABLES.values())):
        op.execute(f"DROP FUNCTION IF EXISTS {ROW_FUNCTION}_{column}()")
    op.execute(f"DROP FUNCTION IF EXISTS {ALL_FUNCTION}()")
