"""Drawing an attempt's questions from one or more banks, and serving them shuffled.

Drawing is round-robin over the lessons' question pools, so an attempt covers the module's
lessons evenly: each pool and the order of the pools are shuffled, then one question is
taken from each pool in turn until ``count`` are drawn. Within a pool, questions the learner
was not served before come first, then those served least often, and a question from the
attempt just before comes last: with banks of at least two draws per lesson, two attempts in
a row share at most a third of their questions (tested on the course's banks). The
generator is seeded from
``secrets`` (unpredictable to trainees); the attempt stores what was served, so nothing needs
the seed again.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .bank import Bank
from .questions import QuestionBase, question_type


@dataclass(frozen=True)
class Drawn:
    bank: Bank
    question: QuestionBase


def new_rng() -> random.Random:
    """A generator seeded from the operating system's secure source."""
    return random.Random(secrets.randbits(64))  # noqa: S311 - shuffling, not secrets


def draw_questions(
    banks: Sequence[Bank],
    count: int,
    rng: random.Random,
    earlier: Sequence[Collection[str]] = (),
) -> list[Drawn]:
    """Up to ``count`` active questions spread over the banks' lessons, in random order.

    ``earlier`` holds the question ids of the learner's earlier attempts, newest first:
    questions not served before are drawn first, the last attempt's last of all.
    """
    last = set(earlier[0]) if earlier else set()
    served = Counter(qid for ids in earlier for qid in set(ids))
    pools: list[list[Drawn]] = []
    for bank in banks:
        by_lesson: dict[str, list[Drawn]] = {slug: [] for slug in bank.lessons}
        for question in bank.active:
            by_lesson.setdefault(question.lesson, []).append(Drawn(bank, question))
        pools.extend(pool for pool in by_lesson.values() if pool)
    for pool in pools:
        rng.shuffle(pool)
        # Taken from the end: the least served last, the last attempt's first of all.
        pool.sort(key=lambda d: (d.question.id not in last, -served[d.question.id]))
    rng.shuffle(pools)  # which lessons get one more question when count is not a multiple
    # Lessons with fresh questions left are visited first, so the one more question a
    # lesson gets when count is not a multiple comes from where there is something new.
    pools.sort(key=lambda pool: -sum(1 for d in pool if d.question.id not in served))
    drawn: list[Drawn] = []
    while len(drawn) < count and any(pools):
        for pool in pools:
            if pool and len(drawn) < count:
                drawn.append(pool.pop())
    rng.shuffle(drawn)
    return drawn


def serve(question: QuestionBase, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the trainee is shown, the definition kept for grading and review)."""
    qtype = question_type(question.type)
    return qtype.serve(question, rng), question.model_dump(mode="json")
