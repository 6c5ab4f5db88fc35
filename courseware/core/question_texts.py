"""Served questions' JSON stored once: ``question_texts``, addressed by content.

A quiz serves the same question (its definition, and one of a few shuffles of what is shown)
to many learners, so ``attempt_questions`` points at shared texts instead of carrying the
JSON in every row. A text is found by the sha256 of its canonical JSON (keys sorted, no
spaces, UTF-8 kept), so the same document with its keys in another order is the same text.
Texts are only ever added: a stored text is shared by every attempt that served it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.db import conflict_insert
from courseware.core.models import QuestionText

BATCH = 500  # digests looked up or added per statement


def canonical(body: Any) -> str:
    """The one JSON spelling of ``body`` its digest is taken of."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(body: Any) -> str:
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def intern_texts(session: Session, bodies: Sequence[Any]) -> list[QuestionText]:
    """The stored text of each of ``bodies``, in their order, added if new (in the caller's
    transaction).

    Safe when another transaction adds the same text at the same moment: the insert skips a
    digest already there or being added (``ON CONFLICT DO NOTHING``, which waits for the other
    transaction), and the texts are read again afterwards. New digests are added in sorted
    order, so two transactions adding several never wait on each other crosswise. An existing
    text keeps its body as first stored (the same document, perhaps with its keys in another
    order). The read after the insert relies on READ COMMITTED (the default): under
    REPEATABLE READ a text another transaction committed meanwhile is not seen, and this
    raises.
    """
    digests = [digest_of(body) for body in bodies]
    wanted = dict(zip(digests, bodies, strict=True))
    found = _stored(session, list(wanted))
    missing = sorted(d for d in wanted if d not in found)
    if missing:
        insert = conflict_insert(session.get_bind().dialect.name, QuestionText.__table__)
        for start in range(0, len(missing), BATCH):
            part = missing[start : start + BATCH]
            session.execute(
                insert.on_conflict_do_nothing(index_elements=["digest"]),
                [{"digest": d, "body": wanted[d]} for d in part],
            )
        found.update(_stored(session, missing))
    gone = [d for d in wanted if d not in found]
    if gone:
        raise RuntimeError(f"question texts not found after adding them: {gone[:3]}")
    return [found[d] for d in digests]


def _stored(session: Session, digests: list[str]) -> dict[str, QuestionText]:
    found: dict[str, QuestionText] = {}
    for start in range(0, len(digests), BATCH):
        part = digests[start : start + BATCH]
        for text in session.scalars(select(QuestionText).where(QuestionText.digest.in_(part))):
            found[text.digest] = text
    return found
