"""A learner's standing on the module quizzes, for the dashboard and module pages.

One query for all modules: the dashboard stays a few queries whatever the course's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.models import QuizAttempt


@dataclass(frozen=True)
class QuizStanding:
    module: str
    attempts: int  # closed attempts
    in_progress: bool
    passed: bool
    best_percent: int | None

    @property
    def status(self) -> str:
        """'passed', 'failed', 'in_progress' or 'not_taken'."""
        if self.passed:
            return "passed"
        if self.in_progress:
            return "in_progress"
        return "failed" if self.attempts else "not_taken"


def quiz_standings(session: Session, user_id: int, kind: str = "module") -> dict[str, QuizStanding]:
    """This learner's standing on each quiz they have started, by module slug."""
    rows = session.execute(
        select(
            QuizAttempt.module_slug,
            QuizAttempt.status,
            QuizAttempt.score,
            QuizAttempt.max_score,
            QuizAttempt.passed,
        ).where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.kind == kind,
            QuizAttempt.reset_at.is_(None),  # a reset attempt counts for nothing
        )
    )
    closed: dict[str, list[tuple[int | None, bool]]] = defaultdict(list)
    opened: set[str] = set()
    for module, status, score, max_score, passed in rows:
        if status == "open":
            opened.add(module)
            continue
        percent = int(100 * score / max_score + 0.5) if score is not None and max_score else None
        closed[module].append((percent, bool(passed)))
    standings = {}
    for module in set(closed) | opened:
        results = closed.get(module, [])
        percents = [p for p, _passed in results if p is not None]
        standings[module] = QuizStanding(
            module=module,
            attempts=len(results),
            in_progress=module in opened,
            passed=any(passed for _p, passed in results),
            best_percent=max(percents) if percents else None,
        )
    return standings


def quiz_standing(session: Session, user_id: int, module: str) -> QuizStanding:
    found = quiz_standings(session, user_id).get(module)
    return found or QuizStanding(module, 0, False, False, None)
