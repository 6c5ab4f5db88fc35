"""Which learners a transaction changed, so their HR summary rows are rewritten before it commits.

Every session notes the accounts whose summarised facts it writes: lesson progress, quiz
attempts, case decisions, certificates, cohort memberships (and a cohort's name or due
date), reminders and the account itself. Changes made through the unit of work are read from
the flush; bulk ``update()`` / ``delete()`` statements on those tables are read from their
WHERE clause just before they run. At commit the noted learners are handed to the refresher
``courseware.hr.summary`` registers (``register_refresher``), in the same transaction, so the
summary never lags the facts it sums up.

Writes that bypass the session (the load seed's COPY) rebuild the summary themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from courseware.core.db import begin_write
from courseware.core.models import (
    CaseDecision,
    Certificate,
    Cohort,
    CohortMembership,
    LessonProgress,
    QuizAttempt,
    Reminder,
    User,
)

USERS = "courseware.summary_users"
OPENED = "courseware.summary_opened"  # (user, module): a lesson opened, nothing else
ACTIVE = "courseware.summary_active"  # user: first activity, nothing else
COHORTS = "courseware.summary_cohorts"
# An execution option: this bulk statement's caller marks its learners itself.
MARKED = "courseware_summary_marked"
NEW_USERS = "courseware.summary_new_users"  # accounts were inserted in bulk
ALL_USERS = "courseware.summary_all_users"  # rows of unknown owners were inserted

# Per table: the columns whose change changes a summary row (None: any change, and every
# new or deleted row). A lesson view that only moves ``last_viewed_at`` changes nothing.
RELEVANT: dict[type, frozenset[str] | None] = {
    User: frozenset(
        {"username", "display_name", "employee_id", "branch", "role", "active", "first_active_at"}
    ),
    LessonProgress: frozenset({"completed_at", "module_slug", "lesson_slug", "user_id"}),
    QuizAttempt: frozenset({"status", "passed", "reset_at", "kind", "module_slug", "user_id"}),
    CaseDecision: frozenset({"first_key", "reset_at", "decided_at", "user_id"}),
    Certificate: None,
    CohortMembership: None,
    Reminder: frozenset({"status", "sent_at", "user_id"}),
}
COHORT_COLUMNS = frozenset({"name", "due_date"})

Refresher = Callable[[Session, "Marks"], None]
_refreshers: list[Refresher] = []


def register_refresher(refresh: Refresher) -> None:
    """``refresh(session, marks)`` runs before each commit that changed anything summarised."""
    if refresh not in _refreshers:
        _refreshers.append(refresh)


def mark(session: Session, user_ids: Iterable[int | None]) -> None:
    """Note that these accounts' summarised facts changed in this transaction."""
    session.info.setdefault(USERS, set()).update(int(i) for i in user_ids if i is not None)


def mark_cohorts(session: Session, cohort_ids: Iterable[int | None]) -> None:
    session.info.setdefault(COHORTS, set()).update(int(i) for i in cohort_ids if i is not None)


def pending(session: Session) -> tuple[set[int], set[int]]:
    return set(session.info.get(USERS, ())), set(session.info.get(COHORTS, ()))


@dataclass
class Marks:
    """What a transaction changed, for the refresher."""

    users: set[int] = field(default_factory=set)  # recount these accounts' rows
    cohorts: set[int] = field(default_factory=set)  # and these cohorts' members'
    new_users: bool = False  # accounts were inserted in bulk (ids unknown)
    every_user: bool = False  # rows of unknown owners were inserted
    opened: set[tuple[int, str]] = field(default_factory=set)  # (user, module) first opened
    active: dict[int, datetime] = field(default_factory=dict)  # user: first activity at


KEYS = (USERS, COHORTS, NEW_USERS, ALL_USERS, OPENED, ACTIVE)


def note_opened(session: Session, user_id: int, module_slug: str) -> None:
    session.info.setdefault(OPENED, set()).add((user_id, module_slug))


def note_active(session: Session, user_id: int, at: datetime) -> None:
    session.info.setdefault(ACTIVE, {}).setdefault(user_id, at)


def _clear(session: Session) -> Marks:
    info = session.info
    marks = Marks(
        set(info.get(USERS, ())),
        set(info.get(COHORTS, ())),
        bool(info.get(NEW_USERS)),
        bool(info.get(ALL_USERS)),
        set(info.get(OPENED, ())),
        dict(info.get(ACTIVE, {})),
    )
    for key in KEYS:
        info.pop(key, None)
    return marks


def _owner(instance: Any) -> int | None:
    return instance.id if isinstance(instance, User) else getattr(instance, "user_id", None)


def _changed(instance: Any, columns: frozenset[str]) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in columns if name in state.attrs)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    for instance in session.new:
        if isinstance(instance, LessonProgress) and instance.completed_at is None:
            note_opened(session, instance.user_id, instance.module_slug)
        elif isinstance(instance, QuizAttempt) and instance.status != "submitted":
            continue  # an attempt counts once submitted (an update, seen below)
        elif type(instance) in RELEVANT:
            mark(session, [_owner(instance)])
    for instance in session.deleted:
        if type(instance) in RELEVANT:
            mark(session, [_owner(instance)])
    for instance in session.dirty:
        kind = type(instance)
        if kind is Cohort:
            if _changed(instance, COHORT_COLUMNS):
                mark_cohorts(session, [instance.id])
            continue
        if kind not in RELEVANT:
            continue
        columns = RELEVANT[kind]
        if columns is None or _changed(instance, columns):
            previous = inspect(instance).attrs["id" if kind is User else "user_id"].history
            mark(session, [_owner(instance), *(previous.deleted or ())])
    for instance in session.deleted:
        if isinstance(instance, Cohort):
            mark_cohorts(session, [instance.id])


def _inserted(session: Session, kind: type, state: ORMExecuteState) -> None:
    """Bulk ``insert()``: the owners named in its values; new accounts (ids not known yet)
    are found at commit as the accounts without a summary row."""
    if kind is User:
        session.info[NEW_USERS] = True
        return
    params = state.parameters
    rows = params if isinstance(params, list) else [params or {}]
    values: Any = getattr(state.statement, "_values", None) or {}
    owners = [row.get("user_id") for row in rows if isinstance(row, dict)]
    owners += [
        getattr(v, "value", v) for c, v in values.items() if getattr(c, "key", c) == "user_id"
    ]
    if kind is Cohort:
        return
    if any(o is None for o in owners) or not owners:
        session.info[NEW_USERS] = True  # an INSERT ... SELECT: whose rows is unknown
        session.info[ALL_USERS] = True
        return
    mark(session, owners)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if state.execution_options.get(MARKED) or not (
        state.is_update or state.is_delete or state.is_insert
    ):
        return
    mapper = state.bind_mapper
    kind = mapper.class_ if mapper is not None else None
    if kind is not Cohort and kind not in RELEVANT:
        return
    if state.is_insert:
        _inserted(state.session, kind, state)
        return
    statement: Any = state.statement
    if state.is_update:
        names = {getattr(c, "key", str(c)) for c in statement._values or {}}
        wanted = COHORT_COLUMNS if kind is Cohort else RELEVANT[kind]
        if wanted is not None and not names & wanted:
            return
    table: Any = statement.table
    key = table.c.id if kind in (User, Cohort) else table.c.user_id
    # The statement writes: start as a writer (SQLite: BEGIN IMMEDIATE) as the statement
    # itself would have, not as a reader that then cannot take the write lock.
    begin_write(state.session)
    query = select(key)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    found = state.session.execute(query, execution_options={MARKED: True}).scalars().all()
    if kind is Cohort:
        mark_cohorts(state.session, found)
    else:
        mark(state.session, found)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if not _refreshers:
        return
    session.flush()
    if not any(session.info.get(k) for k in KEYS):
        return
    marks = _clear(session)
    for refresh in _refreshers:
        refresh(session, marks)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    _clear(session)
