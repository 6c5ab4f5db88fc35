"""Each learner's compliance status, defined once: as SQL for reports and in Python for one row.

Precedence (first that applies wins):

1. revoked      the latest certificate (highest cycle) is revoked
2. expired      the latest certificate has expired
3. overdue      no certificate at all, and the due date has passed (the learner's own,
                set by HR, else their current cohort's)
4. expiring     certified, and the certificate expires within the longest window of
                ``compliance.expiring_windows_days`` (60 days by default)
5. certified    the latest certificate is valid
6. in_progress  not certified, some activity (a lesson opened, a quiz attempt, a case decision)
7. not_started  nothing yet

A learner whose certificate expired or was revoked is "expired" / "revoked" even when
their cohort's due date has passed: those states already say they are not certified and
why. "Overdue" is for learners who never held a certificate. A due date is a calendar
day in the site's time zone and has passed once that day is over.

Learners are the active accounts with the role ``trainee``; trainers, HR, managers and
administrators are not counted.

``status_expression`` builds the SQL CASE used by every report, filter and export;
``status_of`` is its twin for one learner's values. A test checks both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from courseware.certification.policy import Policy
from courseware.core.errors import N_
from courseware.core.models import (
    Certificate,
    Cohort,
    CohortMembership,
    User,
)

STATUSES = (
    "revoked",
    "expired",
    "overdue",
    "expiring",
    "certified",
    "in_progress",
    "not_started",
)
CERTIFIED = ("expiring", "certified")
STATUS_LABELS = {
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "overdue": N_("Overdue"),
    "expiring": N_("Expiring"),
    "certified": N_("Certified"),
    "in_progress": N_("In progress"),
    "not_started": N_("Not started"),
}
LEARNER_ROLE = "trainee"


@dataclass(frozen=True)
class Moment:
    """When a report is drawn: the instant, the local day, and the expiring windows."""

    now: datetime
    today: date
    windows: tuple[int, ...]

    @property
    def expiring_days(self) -> int:
        return max(self.windows)

    def window_end(self, days: int | None = None) -> datetime:
        return self.now + timedelta(days=self.expiring_days if days is None else days)


def moment(now: datetime, timezone: str, policy: Policy) -> Moment:
    windows = tuple(sorted(set(policy.compliance.expiring_windows_days)))
    return Moment(now, now.astimezone(ZoneInfo(timezone)).date(), windows)


def status_of(
    *,
    has_certificate: bool,
    revoked: bool,
    expires_at: datetime | None,
    due_date: date | None,
    has_activity: bool,
    at: Moment,
) -> str:
    """The status of one learner from plain values: the twin of ``status_expression``."""
    if has_certificate and revoked:
        return "revoked"
    if has_certificate and expires_at is not None and expires_at <= at.now:
        return "expired"
    if not has_certificate and due_date is not None and due_date < at.today:
        return "overdue"
    if has_certificate and expires_at is not None and expires_at < at.window_end():
        return "expiring"
    if has_certificate:
        return "certified"
    if has_activity:
        return "in_progress"
    return "not_started"


def status_expression(
    certificate: Any, due_date: ColumnElement[Any], activity: ColumnElement[bool], at: Moment
) -> ColumnElement[str]:
    """The SQL CASE for the status, over the latest certificate's columns (outer-joined)."""
    has = certificate.cycle.is_not(None)  # NOT NULL in every row: outer-joined or not
    return case(
        (and_(has, certificate.revoked_at.is_not(None)), "revoked"),
        (and_(has, certificate.expires_at <= at.now), "expired"),
        (and_(certificate.cycle.is_(None), due_date < at.today), "overdue"),
        (and_(has, certificate.expires_at < at.window_end()), "expiring"),
        (has, "certified"),
        (activity, "in_progress"),
        else_="not_started",
    )


def status_rank(status: ColumnElement[str]) -> ColumnElement[int]:
    """Sort by precedence: revoked first, not started last."""
    return case({name: index for index, name in enumerate(STATUSES)}, value=status, else_=99)


@dataclass(frozen=True)
class Scope:
    """Whose learners a reader may see: everyone (branch None) or one branch."""

    branch: str | None = None
    nobody: bool = False

    @classmethod
    def for_reader(cls, role: str, branch: str) -> Scope:
        if role == "manager":
            return cls(branch=branch, nobody=not branch)
        return cls()


def learner_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [User.role == LEARNER_ROLE, User.active.is_(True)]
    if scope.nobody:
        conditions.append(literal(False))
    elif scope.branch is not None:
        conditions.append(User.branch == scope.branch)
    return conditions


def activity_exists() -> ColumnElement[bool]:
    """Has the learner opened a lesson, a quiz or a case (courseware.core.activity keeps it)."""
    return User.first_active_at.is_not(None)


def due_date_expression() -> ColumnElement[Any]:
    """A learner's due date: their own (set by HR) if any, else their current cohort's."""
    return func.coalesce(CohortMembership.due_date, Cohort.due_date)


def learner_facts(at: Moment, scope: Scope) -> Select[Any]:
    """One row per learner in scope: identity, current cohort, latest certificate, status.

    Build reports on ``.subquery()`` of this; every column is named.
    """
    cycles = (
        select(Certificate.user_id, func.max(Certificate.cycle).label("cycle"))
        .group_by(Certificate.user_id)
        .subquery("latest_cycle")
    )
    latest = aliased(Certificate, name="latest_certificate")
    due = due_date_expression()
    status = status_expression(latest, due, activity_exists(), at)
    return (
        select(
            User.id.label("user_id"),
            User.username,
            User.display_name,
            User.employee_id,
            User.branch,
            Cohort.id.label("cohort_id"),
            Cohort.name.label("cohort_name"),
            due.label("due_date"),
            latest.code.label("certificate_code"),
            latest.expires_at.label("expires_at"),
            latest.revoked_at.label("revoked_at"),
            status.label("status"),
        )
        .select_from(User)
        .outerjoin(cycles, cycles.c.user_id == User.id)
        .outerjoin(latest, and_(latest.user_id == User.id, latest.cycle == cycles.c.cycle))
        .outerjoin(
            CohortMembership,
            and_(CohortMembership.user_id == User.id, CohortMembership.left_at.is_(None)),
        )
        .outerjoin(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(*learner_filter(scope))
    )


def local_datetime(moment_: datetime | None, timezone: str) -> datetime | None:
    """An aware UTC time as a naive local time (for spreadsheets, which know no zones)."""
    if moment_ is None:
        return None
    return moment_.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def local_date(moment_: datetime | None, timezone: str) -> date | None:
    value = local_datetime(moment_, timezone)
    return value.date() if value else None


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
