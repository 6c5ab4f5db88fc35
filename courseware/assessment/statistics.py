"""Item statistics for trainers: facility, discrimination, choice counts; score distribution.

Definitions (over closed attempts, submitted or expired and not reset, of one module quiz):

- answered: attempts in which the question was served and given an answer.
- facility index: the mean share of the question's points earned by the attempts it was
  served in (an unanswered question earns 0). For all-or-nothing questions this is the share
  answering correctly.
- discrimination index: D = p_upper - p_lower. The attempts the question was served in are
  ranked by total score (share of the attempt's maximum; ties broken by attempt id);
  the upper and lower groups are the top and bottom 27% (round(0.27 n), at least one);
  p is the group's facility on the question.
- flags: negative discrimination, facility above 0.95 (too easy) or below 0.2 (too hard),
  only once the question was served in ``min_responses`` attempts (settings.yaml,
  ``studio.item_min_responses``, default 30): below that a figure says too little.

Everything comes from four aggregate queries per quiz, whatever the number of attempts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, case, cast, func, select
from sqlalchemy.orm import Session

from courseware.core.errors import N_
from courseware.core.models import AttemptQuestion, QuizAttempt

from .bank import Bank
from .questions import format_number

EASY = 0.95
HARD = 0.2
GROUP_SHARE_PERCENT = 27
BINS = 10
MIN_RESPONSES = 30  # the default of settings.yaml's studio.item_min_responses


@dataclass(frozen=True)
class ChoiceCount:
    key: str
    text: str
    count: int
    right: bool


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    qtype: str
    lesson: str
    prompt: str
    in_bank: bool
    served: int = 0
    answered: int = 0
    facility: float | None = None
    discrimination: float | None = None
    choices: list[ChoiceCount] = field(default_factory=list)
    min_responses: int = MIN_RESPONSES

    @property
    def too_few(self) -> bool:
        """Served in too few attempts for its figures to be judged."""
        return self.served < self.min_responses

    @property
    def flags(self) -> list[str]:
        found: list[str] = []
        if self.too_few:
            return found
        if self.discrimination is not None and self.discrimination < 0:
            found.append(N_("negative discrimination"))
        if self.facility is not None and self.facility > EASY:
            found.append(N_("too easy"))
        if self.facility is not None and self.facility < HARD:
            found.append(N_("too hard"))
        return found


@dataclass(frozen=True)
class QuizStats:
    module: str
    attempts: int
    learners: int
    passed: int
    distribution: list[tuple[int, int, int]]  # (from %, to %, attempts)
    items: list[ItemStats]

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts else None


def _closed(module: str) -> tuple[Any, ...]:
    return (
        QuizAttempt.kind == "module",
        QuizAttempt.module_slug == module,
        QuizAttempt.status != "open",
        QuizAttempt.reset_at.is_(None),
    )


def score_distribution(
    session: Session, module: str
) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(attempts, passed, bins of 10 percentage points) from one grouped query."""
    rows = session.execute(
        select(QuizAttempt.score, QuizAttempt.max_score, QuizAttempt.passed, func.count())
        .where(*_closed(module))
        .group_by(QuizAttempt.score, QuizAttempt.max_score, QuizAttempt.passed)
    )
    counts = [0] * BINS
    attempts = passed = 0
    for score, max_score, did_pass, count in rows:
        attempts += count
        passed += count if did_pass else 0
        share = (score or 0) / max_score if max_score else 0.0
        counts[min(BINS - 1, int(share * BINS + 1e-9))] += count
    width = 100 // BINS
    return attempts, passed, [(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]


def _item_rows(session: Session, module: str) -> dict[str, tuple[int, int, float, float, float]]:
    total = QuizAttempt.score / func.nullif(QuizAttempt.max_score, 0)
    share = AttemptQuestion.points / func.nullif(AttemptQuestion.max_points, 0)
    ranked = (
        select(
            AttemptQuestion.question_id.label("qid"),
            func.coalesce(share, 0.0).label("share"),
            case((AttemptQuestion.answer.is_(None), 0), else_=1).label("answered"),
            func.row_number()
            .over(
                partition_by=AttemptQuestion.question_id,
                order_by=(total.desc(), QuizAttempt.id),
            )
            .label("rank"),
            func.count().over(partition_by=AttemptQuestion.question_id).label("n"),
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id)
        .where(*_closed(module))
        .subquery()
    )
    rounded = (GROUP_SHARE_PERCENT * ranked.c.n + 50) // 100
    group = case((rounded < 1, 1), else_=rounded)
    upper = func.avg(case((ranked.c.rank <= group, ranked.c.share)))
    lower = func.avg(case((ranked.c.rank > ranked.c.n - group, ranked.c.share)))
    rows = session.execute(
        select(
            ranked.c.qid,
            func.count(),
            func.sum(ranked.c.answered),
            func.avg(ranked.c.share),
            upper,
            lower,
        ).group_by(ranked.c.qid)
    )
    return {
        qid: (int(n), int(answered or 0), float(facility), float(up), float(low))
        for qid, n, answered, facility, up, low in rows
    }


def _answer_counts(session: Session, module: str) -> dict[str, list[tuple[Any, int]]]:
    text = cast(AttemptQuestion.answer, Text)
    rows = session.execute(
        select(AttemptQuestion.question_id, text, func.count())
        .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id)
        .where(
            *_closed(module),
            AttemptQuestion.answer.is_not(None),
            AttemptQuestion.qtype.in_(("single", "multiple", "true_false", "numeric")),
        )
        .group_by(AttemptQuestion.question_id, text)
    )
    found: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    for qid, answer, count in rows:
        found[qid].append((json.loads(answer), int(count)))
    return found


def _choices(question: Any, answers: list[tuple[Any, int]]) -> list[ChoiceCount]:
    tally: dict[str, int] = defaultdict(int)
    for answer, count in answers:
        for key in answer if isinstance(answer, list) else [answer]:
            label = json.dumps(key) if isinstance(key, bool) else str(key)
            if isinstance(key, int | float) and not isinstance(key, bool):
                label = format_number(key)
            tally[label] += count
    if question is None:
        return [ChoiceCount(k, "", c, False) for k, c in sorted(tally.items())]
    if question.type in ("single", "multiple"):
        right = set(question.answer if isinstance(question.answer, list) else [question.answer])
        return [
            ChoiceCount(key, text, tally.get(key, 0), key in right)
            for key, text in question.choices.items()
        ]
    if question.type == "true_false":
        return [
            ChoiceCount(key, "", tally.get(key, 0), json.dumps(question.answer) == key)
            for key in ("true", "false")
        ]
    # numeric: the five most common answers, the right ones marked
    common = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return [
        ChoiceCount(
            key,
            question.unit,
            count,
            abs(float(key) - question.answer) <= question.tolerance + 1e-9,
        )
        for key, count in common
    ]


def quiz_overview(session: Session) -> dict[str, tuple[int, int]]:
    """(closed attempts, passed) per module quiz, from one grouped query."""
    rows = session.execute(
        select(
            QuizAttempt.module_slug,
            func.count(),
            func.sum(case((QuizAttempt.passed.is_(True), 1), else_=0)),
        )
        .where(
            QuizAttempt.kind == "module",
            QuizAttempt.status != "open",
            QuizAttempt.reset_at.is_(None),
        )
        .group_by(QuizAttempt.module_slug)
    )
    return {module: (int(n), int(passed or 0)) for module, n, passed in rows}


def quiz_statistics(session: Session, bank: Bank, min_responses: int = MIN_RESPONSES) -> QuizStats:
    """Summary and per-question statistics of one module quiz."""
    module = bank.module
    attempts, passed, distribution = score_distribution(session, module)
    learners = session.scalar(
        select(func.count(func.distinct(QuizAttempt.user_id))).where(*_closed(module))
    )
    rows = _item_rows(session, module)
    answers = _answer_counts(session, module)
    items = []
    known = {q.id: q for q in bank.questions}
    for qid in [*known, *sorted(set(rows) - set(known))]:
        question = known.get(qid)
        n, answered, facility, up, low = rows.get(qid, (0, 0, None, None, None))
        items.append(
            ItemStats(
                question_id=qid,
                qtype=question.type if question else "",
                lesson=question.lesson if question else "",
                prompt=question.prompt if question else "",
                in_bank=question is not None,
                served=n,
                answered=answered,
                facility=facility,
                discrimination=(up - low) if n and up is not None and low is not None else None,
                choices=_choices(question, answers.get(qid, [])),
                min_responses=min_responses,
            )
        )
    return QuizStats(module, attempts, int(learners or 0), passed, distribution, items)
