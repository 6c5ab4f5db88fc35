"""Actions on many learners at once, chosen from the filtered learner table.

A reader picks learners (ticked rows, or every learner the filter matches), an action
and its value; the page shows how many learners it will touch and asks to confirm; then
the action runs once per learner through the same service as a single change (reminders,
cohort assignment), each audited there, and one ``learners.bulk`` event records the
action, the count and the filter. The learners come from ``iter_learners`` under the
reader's scope, so an id outside it (another branch, for a manager) is never acted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from courseware.core.audit import record
from courseware.core.errors import N_
from courseware.core.models import Cohort, CohortMembership, User
from courseware.hr import cohorts
from courseware.hr.compliance import Moment, Scope
from courseware.hr.learner_table import LearnerQuery, LearnerRow, iter_learners
from courseware.hr.reports import CourseKeys

ACTIONS = {
    "remind": N_("Send a reminder"),
    "enrol": N_("Enrol in a cohort"),
    "due_set": N_("Set the due date"),
    "due_move": N_("Move the due date"),
}
MAX_SHIFT_DAYS = 366
SELECTIONS = ("selected", "all")
MAX_IDS = 1000


@dataclass(frozen=True)
class Selection:
    """Which learners: the ticked ids, or every learner matching the filter."""

    query: LearnerQuery
    everyone: bool
    ids: tuple[int, ...] = ()

    @classmethod
    def from_form(cls, form: Any) -> Selection:
        ids = tuple(int(v) for v in form.getlist("ids")[:MAX_IDS] if v.isdigit() and len(v) < 10)
        return cls(LearnerQuery.from_args(form), form.get("selection") == "all", ids)

    def rows(
        self, session: Session, at: Moment, scope: Scope, keys: CourseKeys
    ) -> list[LearnerRow]:
        if not self.everyone and not self.ids:
            return []
        ids = None if self.everyone else self.ids
        query = self.query if self.everyone else LearnerQuery()
        return list(iter_learners(session, at, scope, query, keys, ids=ids))

    def outside(self, rows: Sequence[LearnerRow]) -> list[int]:
        """Ticked ids that are not among the rows the reader may act on."""
        found = {r.user_id for r in rows}
        return [i for i in self.ids if i not in found] if not self.everyone else []

    def described(self) -> dict[str, Any]:
        if self.everyone:
            return {"selection": "all", "filter": self.query.filters()}
        return {"selection": "selected", "ids": list(self.ids)}


class BulkError(ValueError):
    def __init__(self, message: str, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = params or {}


def cohort_for(session: Session, scope: Scope, cohort_id: int | None) -> Cohort:
    """The cohort to enrol into, if the reader may use it (a manager: their branch's)."""
    cohort = session.get(Cohort, cohort_id) if cohort_id else None
    if cohort is None or scope.nobody:
        raise BulkError(N_("Choose a cohort."))
    if scope.branch is not None and cohort.branch != scope.branch:
        raise BulkError(N_("Choose a cohort of your branch."))
    return cohort


def enrol(
    session: Session, cohort: Cohort, rows: Sequence[LearnerRow], actor_id: int | None
) -> int:
    """Assign each learner to ``cohort`` (each move audited by ``cohorts.assign``)."""
    learners = list(session.scalars(select(User).where(User.id.in_([r.user_id for r in rows]))))
    try:
        return cohorts.assign(session, cohort, learners, actor_id)
    except cohorts.CohortError as exc:
        raise BulkError(exc.message, exc.params) from exc


def due_value(action: str, text: str) -> date | int:
    """The new due date (``due_set``) or the days to move it by (``due_move``), checked."""
    text = text.strip()
    if action == "due_set":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BulkError(N_("Give the new due date as a date.")) from None
        if not cohorts.EARLIEST <= day <= cohorts.LATEST:
            raise BulkError(N_("Give a due date between 2000 and 2100."))
        return day
    number = text[1:] if text[:1] in "+-" else text
    if not number.isdigit() or int(number) == 0 or int(number) > MAX_SHIFT_DAYS:
        raise BulkError(
            N_("Give the days to move the due date by: -%(max)s to %(max)s, not 0."),
            {"max": MAX_SHIFT_DAYS},
        )
    return int(text)


def set_due_dates(
    session: Session, rows: Sequence[LearnerRow], change: date | int, actor_id: int | None
) -> tuple[int, int]:
    """Give each learner in a cohort their own due date: ``change`` itself (a date) or
    theirs moved by ``change`` days. Each change is audited. Returns (changed, skipped:
    the learners in no cohort, who have no due date to set)."""
    changed = skipped = 0
    for row in rows:
        if row.cohort_id is None or row.due_date is None:
            skipped += 1
            continue
        new = change if isinstance(change, date) else row.due_date + timedelta(days=change)
        if new == row.due_date:
            continue
        session.execute(
            update(CohortMembership)
            .where(CohortMembership.user_id == row.user_id, CohortMembership.left_at.is_(None))
            .values(due_date=new)
        )
        record(
            session,
            actor_id,
            "learner.due_date",
            "user",
            row.user_id,
            before={"due_date": row.due_date.isoformat(), "cohort": row.cohort_name},
            after={"due_date": new.isoformat(), "cohort": row.cohort_name},
        )
        changed += 1
    return changed, skipped


def record_bulk(
    session: Session,
    actor_id: int | None,
    action: str,
    selection: Selection,
    count: int,
    **outcome: Any,
) -> None:
    """One audit event for the whole action: what, to how many, chosen how."""
    record(
        session,
        actor_id,
        "learners.bulk",
        "learners",
        "",
        after={"action": action, "learners": count, **selection.described(), **outcome},
    )
