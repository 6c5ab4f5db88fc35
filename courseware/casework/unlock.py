"""Which case templates a learner may open, and the case list grouped by course module.

A trainee starts with the difficulty-1 templates. Difficulty d+1 opens once they have
decided ``unlock_after`` templates of difficulty d: any decision on the template counts
(the first, a practice or a renewal one) unless staff reset it, because unlocking is
about having worked the easier cases, not about certification. When fewer than
``unlock_after`` templates of a difficulty are published, deciding all of them is
enough, and a difficulty with none is skipped, so every template can always be reached
(and with it any ``cases_required`` the course's templates can meet). A template the
learner has already decided stays open even if publishing more templates raises the
bar again. ``unlock_after`` 0 opens everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.casework.queries import CaseStatus
from courseware.core.models import CaseDecision
from courseware.lending.cases import Case

MAX_DIFFICULTY = 3  # case_schema.CaseFile.difficulty: 1..3


@dataclass(frozen=True)
class Requirement:
    """What opens a locked template: ``needed`` decided templates of ``difficulty``."""

    difficulty: int
    needed: int
    done: int


@dataclass(frozen=True)
class CaseAccess:
    level: int  # the hardest difficulty open to the learner
    decided: frozenset[str] = frozenset()  # templates with a decision that was not reset
    needed: dict[int, int] = field(default_factory=dict)  # d -> decided d-templates for d+1
    done: dict[int, int] = field(default_factory=dict)  # d -> d-templates decided

    def is_open(self, case: Case) -> bool:
        return case.spec.difficulty <= self.level or case.slug in self.decided

    def requirement(self, case: Case) -> Requirement | None:
        """None for an open template; else what opens it: deciding templates of the
        nearest easier difficulty that has any (or, when those are decided already,
        of the difficulty that still holds the learner back)."""
        if self.is_open(case):
            return None
        step = next(
            (d for d in range(case.spec.difficulty - 1, 0, -1) if self.needed.get(d)), self.level
        )
        if self.done.get(step, 0) >= self.needed.get(step, 0):
            step = self.level
        return Requirement(step, self.needed.get(step, 0), self.done.get(step, 0))


OPEN_ALL = CaseAccess(level=MAX_DIFFICULTY)


def decided_templates(session: Session, user_id: int) -> frozenset[str]:
    """Slugs of the templates the learner has a decision on that was not reset."""
    return frozenset(
        session.scalars(
            select(CaseDecision.case_slug)
            .where(CaseDecision.user_id == user_id, CaseDecision.reset_at.is_(None))
            .distinct()
        )
    )


def decided_of(statuses: Mapping[str, CaseStatus]) -> frozenset[str]:
    """The same set, from the case list's statuses (no further query)."""
    return frozenset(slug for slug, s in statuses.items() if s.counting or s.practice)


def access_from(decided: frozenset[str], cases: Iterable[Case], unlock_after: int) -> CaseAccess:
    """The access rule itself, on the learner's decided templates (no database)."""
    if unlock_after <= 0:
        return CaseAccess(level=MAX_DIFFICULTY, decided=decided)
    published: Counter[int] = Counter()
    done: Counter[int] = Counter()
    for case in cases:
        published[case.spec.difficulty] += 1
        done[case.spec.difficulty] += int(case.slug in decided)
    needed = {d: min(unlock_after, published[d]) for d in range(1, MAX_DIFFICULTY + 1)}
    level = 1
    while level < MAX_DIFFICULTY and done[level] >= needed[level]:
        level += 1
    return CaseAccess(level, decided, needed, dict(done))


def case_access(
    session: Session,
    user_id: int,
    cases: Iterable[Case],
    unlock_after: int,
    statuses: Mapping[str, CaseStatus] | None = None,
) -> CaseAccess:
    """Which of ``cases`` (the published templates) the learner may open: one query, or
    none when the learner's ``case_statuses`` are at hand."""
    if unlock_after <= 0:
        return OPEN_ALL
    decided = decided_templates(session, user_id) if statuses is None else decided_of(statuses)
    return access_from(decided, cases, unlock_after)


def case_requirement(
    session: Session, user_id: int, case: Case, cases: Iterable[Case], unlock_after: int
) -> Requirement | None:
    """What still locks one template for the learner; None when it is open (difficulty 1
    always is, and is answered without a query)."""
    if unlock_after <= 0 or case.spec.difficulty <= 1:
        return None
    return case_access(session, user_id, cases, unlock_after).requirement(case)


@dataclass(frozen=True)
class CaseGroup:
    module_slug: str | None  # None: templates that name no module of the course
    module_title: str | None
    cases: list[Case]


def group_by_module(cases: Sequence[Case], modules: Sequence[Any]) -> list[CaseGroup]:
    """The templates under their course module (``modules``: objects with slug and title,
    in course order), each group keeping the order of ``cases``; templates naming no
    module, or one the course does not have, come last under ``None``."""
    titles = {m.slug: m.title for m in modules}
    found: dict[str | None, list[Case]] = {}
    for case in cases:
        slug = case.spec.module if case.spec.module in titles else None
        found.setdefault(slug, []).append(case)
    groups = [CaseGroup(m.slug, m.title, found[m.slug]) for m in modules if m.slug in found]
    if None in found:
        groups.append(CaseGroup(None, None, found[None]))
    return groups
