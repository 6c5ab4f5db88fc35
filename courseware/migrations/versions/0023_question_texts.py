"""Served questions' JSON stored once: question_texts, attempt_questions pointing at it

Each served question carried two JSON documents (what was shown, ~450 bytes, and the
question's definition, ~920 bytes), though a few hundred definitions and shuffles are all a
quiz serves. ``question_texts`` keeps each distinct document once under the sha256 of its
canonical JSON (``courseware.core.question_texts.digest_of``); ``attempt_questions`` gets
``served_id`` and ``definition_id`` in place of ``served`` and ``definition``.

Upgrade: each distinct stored text (as the database spells it) is read once, its digest
taken in Python and its text added (documents equal but for key order or spacing share one);
the rows get their ids by one UPDATE joined on the stored text; then the JSON columns go.
Downgrade: the columns come back with their texts' JSON, and the table goes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 11:40:00.000000
"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAP = "question_texts_0023"  # temporary: stored text -> question_texts.id
BATCH = 1000


def _digest(body):  # courseware.core.question_texts.digest_of, as of this revision
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        "question_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_texts")),
        sa.UniqueConstraint("digest", name=op.f("uq_question_texts_digest")),
    )
    with op.batch_alter_table("attempt_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("served_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("definition_id", sa.Integer(), nullable=True))
    _move_texts(op.get_bind())
    with op.batch_alter_table("attempt_questions", schema=None) as batch_op:
        batch_op.alter_column("served_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("definition_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_attempt_questions_served_id_question_texts"),
            "question_texts",
            ["served_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_attempt_questions_definition_id_question_texts"),
            "question_texts",
            ["definition_id"],
            ["id"],
        )
        batch_op.drop_column("served")
        batch_op.drop_column("definition")


def _move_texts(bind) -> None:
    """question_texts from the distinct stored texts; each row's two ids filled in."""
    bind.execute(sa.text(f"CREATE TEMPORARY TABLE {MAP} (stored TEXT PRIMARY KEY, id INTEGER)"))
    distinct = bind.execute(
        sa.text(
            "SELECT CAST(served AS TEXT) FROM attempt_questions"
            " UNION SELECT CAST(definition AS TEXT) FROM attempt_questions"
        )
    ).scalars()
    stored = sorted(distinct)
    ids: dict[str, int] = {}  # digest -> id
    texts = sa.table(
        "question_texts", sa.column("id"), sa.column("digest"), sa.column("body", sa.JSON)
    )
    for start in range(0, len(stored), BATCH):
        part = stored[start : start + BATCH]
        digests = [_digest(json.loads(value)) for value in part]
        new = {}
        for value, digest in zip(part, digests, strict=True):
            if digest not in ids and digest not in new:
                new[digest] = json.loads(value)
        if new:
            bind.execute(
                texts.insert(), [{"digest": d, "body": body} for d, body in new.items()]
            )
            ids.update(
                bind.execute(
                    sa.select(texts.c.digest, texts.c.id).where(texts.c.digest.in_(list(new)))
                ).all()
            )
        bind.execute(
            sa.text(f"INSERT INTO {MAP} (stored, id) VALUES (:stored, :id)"),
            [{"stored": v, "id": ids[d]} for v, d in zip(part, digests, strict=True)],
        )
    bind.execute(
        sa.text(
            f"UPDATE attempt_questions SET served_id = s.id, definition_id = d.id"  # noqa: S608
            f" FROM {MAP} s, {MAP} d"
            " WHERE s.stored = CAST(attempt_questions.served AS TEXT)"
            " AND d.stored = CAST(attempt_questions.definition AS TEXT)"
        )
    )
    bind.execute(sa.text(f"DROP TABLE {MAP}"))


def downgrade() -> None:
    with op.batch_alter_table("attempt_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("served", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("definition", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE attempt_questions SET"
        " served = (SELECT body FROM question_texts t WHERE t.id = served_id),"
        " definition = (SELECT body FROM question_texts t WHERE t.id = definition_id)"
    )
    with op.batch_alter_table("attempt_questions", schema=None) as batch_op:
        batch_op.alter_column("served", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("definition", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("fk_attempt_questions_definition_id_question_texts"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_attempt_questions_served_id_question_texts"), type_="foreignkey"
        )
        batch_op.drop_column("definition_id")
        batch_op.drop_column("served_id")
    op.drop_table("question_texts")
