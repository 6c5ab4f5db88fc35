"""Drawing an attempt's questions from one or more banks, and serving them shuffled.

Drawing is round-robin over the lessons' question pools, so an attempt covers the module's
lessons evenly: each pool and the order of the pools are shuffled, then one question is
taken from each pool in turn until ``count`` are drawn. Within a pool, the pick that keeps
the overlap with every earlier attempt of the learner smallest comes first: with the course's
banks (three questions per question drawn), any two attempts share at most a third of their
questions (tested). The generator is seeded from
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


# Drawings tried for a retake; the one sharing least with the earlier attempts is served.
TRIES = 24


def share_cap(active: int, count: int, attempts: int) -> int:
    """The fewest questions each pair of ``attempts`` attempts of ``count`` must share when
    ``active`` questions are drawn from: attempt k takes at most this many from each of the
    k-1 before it and the rest fresh, and the fresh ones must last to the last attempt."""
    for cap in range(count + 1):
        fresh = sum(max(0, count - cap * k) for k in range(attempts))
        if fresh <= active:
            return cap
    return count


def draw_questions(
    banks: Sequence[Bank],
    count: int,
    rng: random.Random,
    earlier: Sequence[Collection[str]] = (),
    attempts: int | None = None,
) -> list[Drawn]:
    """Up to ``count`` active questions spread over the banks' lessons, in random order.

    ``earlier`` holds the question ids of the learner's earlier attempts, newest first, and
    ``attempts`` how many a learner may make (None: no limit). A retake shares at most
    ``share_cap`` questions with each earlier attempt where the lessons allow, using that
    many again so fresh questions last to the last attempt: ``TRIES`` drawings are made and
    the one whose largest overlap with an earlier attempt is smallest is served.
    """
    earlier_sets = [set(ids) for ids in earlier]
    if not earlier_sets:
        return _draw_once(banks, count, rng, [], 0, count)
    active = len({q.id for bank in banks for q in bank.active})
    planned = max(attempts or 0, len(earlier_sets) + 1)
    cap = share_cap(active, count, planned) if attempts else 0
    fresh = max(0, count - cap * len(earlier_sets))
    best: list[Drawn] = []
    best_key: tuple[int, int, int] | None = None
    for _ in range(TRIES):
        drawn = _draw_once(banks, count, rng, earlier_sets, cap, fresh)
        ids = {d.question.id for d in drawn}
        overlaps = [len(ids & other) for other in earlier_sets]
        key = (max(overlaps), overlaps[0], sum(overlaps))
        if best_key is None or key < best_key:
            best, best_key = drawn, key
    return best


def _draw_once(
    banks: Sequence[Bank],
    count: int,
    rng: random.Random,
    earlier: list[set[str]],
    cap: int,
    fresh: int,
) -> list[Drawn]:
    """One drawing, round-robin over the lessons; in each, the question that keeps every
    overlap within ``cap``, fresh while ``fresh`` fresh ones are wanted, else reused."""
    served = Counter(qid for ids in earlier for qid in ids)
    pools: list[list[Drawn]] = []
    for bank in banks:
        by_lesson: dict[str, list[Drawn]] = {slug: [] for slug in bank.lessons}
        for question in bank.active:
            by_lesson.setdefault(question.lesson, []).append(Drawn(bank, question))
        pools.extend(pool for pool in by_lesson.values() if pool)
    for pool in pools:
        rng.shuffle(pool)
    rng.shuffle(pools)  # which lessons get one more question when count is not a multiple
    shared = [0] * len(earlier)  # questions drawn so far that each earlier attempt also had
    taken_fresh = 0

    def cost(item: Drawn) -> tuple[int, int, int, int]:
        qid = item.question.id
        over = sum(1 for i, ids in enumerate(earlier) if qid in ids and shared[i] >= cap)
        is_fresh = served[qid] == 0
        wanted = is_fresh == (taken_fresh < fresh)
        load = sum(shared[i] for i, ids in enumerate(earlier) if qid in ids)
        return over, 0 if wanted else 1, load, served[qid]

    drawn: list[Drawn] = []
    while len(drawn) < count and any(pools):
        for pool in pools:
            if pool and len(drawn) < count:
                pick = pool.pop(min(range(len(pool)), key=lambda i: cost(pool[i])))
                drawn.append(pick)
                taken_fresh += served[pick.question.id] == 0
                for i, ids in enumerate(earlier):
                    shared[i] += pick.question.id in ids
    rng.shuffle(drawn)
    return drawn


def serve(question: QuestionBase, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the trainee is shown, the definition kept for grading and review)."""
    qtype = question_type(question.type)
    return qtype.serve(question, rng), question.model_dump(mode="json")
