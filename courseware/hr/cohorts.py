"""Cohorts and due dates, and learners' memberships (history kept).

Every change is audited: creating a cohort, changing its due date, assigning and
removing learners. Reminders and contact addresses are in ``courseware.hr.reminders``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import Cohort, CohortMembership, User
from courseware.hr.compliance import LEARNER_ROLE, Scope

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class CohortError(ValueError):
    """A request about cohorts that cannot be done; ``message`` is a translatable id."""

    def __init__(self, field: str, message: str, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.params = params or {}


@dataclass(frozen=True)
class CohortSummary:
    id: int
    name: str
    branch: str
    due_date: date
    members: int


def list_cohorts(session: Session, scope: Scope) -> list[CohortSummary]:
    """Cohorts a reader may see, with their current member counts (one query)."""
    members = (
        select(CohortMembership.cohort_id, func.count().label("members"))
        .where(CohortMembership.left_at.is_(None))
        .group_by(CohortMembership.cohort_id)
        .subquery()
    )
    query = (
        select(Cohort, func.coalesce(members.c.members, 0))
        .outerjoin(members, members.c.cohort_id == Cohort.id)
        .order_by(Cohort.due_date, Cohort.name)
    )
    if scope.nobody:
        return []
    if scope.branch is not None:
        query = query.where(Cohort.branch == scope.branch)
    return [
        CohortSummary(c.id, c.name, c.branch, c.due_date, count)
        for c, count in session.execute(query)
    ]


@dataclass(frozen=True)
class CohortChoice:
    id: int
    name: str
    due_date: date


def cohort_choices(session: Session, scope: Scope) -> list[CohortChoice]:
    """The cohorts a reader may put learners in (the learner table's bulk action): as
    ``list_cohorts`` in the same order, without counting their members."""
    if scope.nobody:
        return []
    query = select(Cohort.id, Cohort.name, Cohort.due_date).order_by(Cohort.due_date, Cohort.name)
    if scope.branch is not None:
        query = query.where(Cohort.branch == scope.branch)
    return [CohortChoice(*row) for row in session.execute(query)]


def _check(session: Session, name: str, branch: str, due: date | None, cohort_id: int | None):
    name, branch = name.strip(), branch.strip()
    if not name or len(name) > 100:
        raise CohortError("name", N_("Give the cohort a name of at most 100 characters."))
    if len(branch) > 64:
        raise CohortError("branch", N_("Keep the branch under 64 characters."))
    if due is None or not EARLIEST <= due <= LATEST:
        raise CohortError("due_date", N_("Give a due date between 2000 and 2100."))
    clash = session.scalar(
        select(Cohort.id).where(
            func.lower(Cohort.name) == name.lower(), Cohort.id != (cohort_id or 0)
        )
    )
    if clash is not None:
        raise CohortError("name", N_("Another cohort already has that name."))
    return name, branch


def create_cohort(
    session: Session,
    name: str,
    branch: str,
    due_date: date | None,
    actor_id: int | None,
    now: datetime | None = None,
) -> Cohort:
    name, branch = _check(session, name, branch, due_date, None)
    assert due_date is not None
    cohort = Cohort(
        name=name, branch=branch, due_date=due_date, created_at=now or utcnow(), created_by=actor_id
    )
    session.add(cohort)
    session.flush()
    record(
        session,
        actor_id,
        "cohort.create",
        "cohort",
        cohort.id,
        after={"name": name, "branch": branch, "due_date": due_date.isoformat()},
    )
    return cohort


def update_cohort(
    session: Session,
    cohort: Cohort,
    actor_id: int,
    *,
    name: str,
    branch: str,
    due_date: date | None,
    reason: str = "",
) -> None:
    """Rename, move or re-date a cohort; a due-date change is its own audit event."""
    name, branch = _check(session, name, branch, due_date, cohort.id)
    assert due_date is not None
    if due_date != cohort.due_date:
        record(
            session,
            actor_id,
            "cohort.due_date",
            "cohort",
            cohort.id,
            before={"name": cohort.name, "due_date": cohort.due_date.isoformat()},
            after={"name": name, "due_date": due_date.isoformat()},
            reason=reason.strip(),
        )
        cohort.due_date = due_date
    before = {"name": cohort.name, "branch": cohort.branch}
    after = {"name": name, "branch": branch}
    if before != after:
        changed = [k for k in before if before[k] != after[k]]
        record(
            session,
            actor_id,
            "cohort.update",
            "cohort",
            cohort.id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            reason=reason.strip(),
        )
        cohort.name, cohort.branch = name, branch


def find_learners(session: Session, identifiers: Iterable[str]) -> tuple[list[User], list[str]]:
    """Learners named by user name or employee id; the identifiers that matched no learner."""
    wanted = [i.strip() for i in identifiers if i.strip()][:1000]
    if not wanted:
        return [], []
    lowered = [w.lower() for w in wanted]
    users = session.scalars(
        select(User).where(
            User.role == LEARNER_ROLE,
            (func.lower(User.username).in_(lowered)) | (User.employee_id.in_(wanted)),
        )
    ).all()
    known = {u.username.lower() for u in users} | {u.employee_id for u in users if u.employee_id}
    unknown = [w for w in wanted if w.lower() not in known and w not in known]
    return list(users), unknown


def current_memberships(session: Session, user_ids: Sequence[int]) -> dict[int, Cohort]:
    rows = session.execute(
        select(CohortMembership.user_id, Cohort)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(CohortMembership.user_id.in_(list(user_ids)), CohortMembership.left_at.is_(None))
    )
    return {user_id: cohort for user_id, cohort in rows}


def assign(
    session: Session,
    cohort: Cohort,
    learners: Sequence[User],
    actor_id: int | None,
    now: datetime | None = None,
) -> int:
    """Make ``cohort`` the current cohort of each learner, closing the previous membership.

    Returns how many learners moved (those already in it are left alone).
    """
    now = now or utcnow()
    wrong = [u.username for u in learners if u.role != LEARNER_ROLE]
    if wrong:
        raise CohortError(
            "learners", N_("Only trainees join cohorts: %(names)s"), {"names": ", ".join(wrong)}
        )
    if cohort.branch:
        elsewhere = [u.username for u in learners if u.branch != cohort.branch]
        if elsewhere:
            raise CohortError(
                "learners",
                N_("These learners are not in the branch %(branch)s: %(names)s"),
                {"branch": cohort.branch, "names": ", ".join(elsewhere)},
            )
    current = current_memberships(session, [u.id for u in learners])
    moving = [u for u in learners if getattr(current.get(u.id), "id", None) != cohort.id]
    if not moving:
        return 0
    try:
        with session.begin_nested():
            session.execute(
                update(CohortMembership)
                .where(
                    CohortMembership.user_id.in_([u.id for u in moving]),
                    CohortMembership.left_at.is_(None),
                )
                .values(left_at=now, current_key=None)
            )
            session.add_all(
                CohortMembership(
                    user_id=u.id, cohort_id=cohort.id, joined_at=now, current_key=str(u.id)
                )
                for u in moving
            )
            session.flush()
    except IntegrityError as exc:
        raise CohortError(
            "learners", N_("Someone changed these memberships meanwhile; try again.")
        ) from exc
    for user in moving:
        previous = current.get(user.id)
        record(
            session,
            actor_id,
            "cohort.assign",
            "user",
            user.id,
            before={"cohort": previous.name} if previous else None,
            after={"cohort": cohort.name, "due_date": cohort.due_date.isoformat()},
        )
    return len(moving)


def remove(session: Session, user: User, actor_id: int, now: datetime | None = None) -> bool:
    """End the learner's current membership (kept in the history); False if there was none."""
    current = current_memberships(session, [user.id]).get(user.id)
    if current is None:
        return False
    session.execute(
        update(CohortMembership)
        .where(CohortMembership.user_id == user.id, CohortMembership.left_at.is_(None))
        .values(left_at=now or utcnow(), current_key=None)
    )
    record(session, actor_id, "cohort.remove", "user", user.id, before={"cohort": current.name})
    return True


def members(session: Session, cohort: Cohort) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(CohortMembership, CohortMembership.user_id == User.id)
            .where(CohortMembership.cohort_id == cohort.id, CohortMembership.left_at.is_(None))
            .order_by(User.display_name, User.id)
        )
    )


def membership_history(session: Session, user_id: int) -> list[tuple[CohortMembership, Cohort]]:
    return [
        (m, c)
        for m, c in session.execute(
            select(CohortMembership, Cohort)
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .where(CohortMembership.user_id == user_id)
            .order_by(CohortMembership.joined_at.desc(), CohortMembership.id.desc())
        )
    ]
