"""The HR learner table: search, filters, sort and pages in SQL; its rows as cells.

Everything is read from the HR summary (``courseware.hr.summary``, one row a learner), so a
page is a count and a page of rows whatever the sort or filter.

The page shows ``learner_cells`` of each row and the exports write the same cells for
every row of the filtered table, in the same order (``iter_learners`` streams them).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from courseware.core.errors import N_
from courseware.core.models import (
    Cohort,
    CohortMembership,
    LearnerSummary,
    User,
)
from courseware.hr.compliance import (
    STATUS_LABELS,
    STATUSES,
    Moment,
    Scope,
    learner_filter,
    local_date,
    local_datetime,
    status_rank,
)
from courseware.hr.exports import Cell
from courseware.hr.keys import CourseKeys
from courseware.hr.summary import (
    ensure_current,
    stored_version,
    summary_facts,
    summary_filter,
    summary_status_is,
)

PER_PAGE_CHOICES = (25, 50, 100)
MAX_QUERY_LENGTH = 64


SORTS = ("name", "username", "employee_id", "branch", "cohort", "due", "status", "expires")
NULLABLE_SORTS = ("cohort", "due", "expires")  # the others' columns are never NULL


@dataclass(frozen=True)
class LearnerQuery:
    """The table's search, filters, sort and page, as carried by links and exports."""

    q: str = ""
    branch: str = ""
    cohort: int | None = None
    status: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LearnerQuery:
        """Read request arguments forgivingly: anything unknown falls back to the default."""

        def number(name: str, default: int) -> int:
            text = (args.get(name) or "").strip()
            return int(text) if text.isdigit() and len(text) < 9 else default

        status = args.get("status") or ""
        sort = args.get("sort") or "name"
        per_page = number("per_page", 50)
        return cls(
            q=(args.get("q") or "").strip()[:MAX_QUERY_LENGTH],
            branch=(args.get("branch") or "").strip()[:64],
            cohort=number("cohort", 0) or None,
            status=status if status in STATUSES else "",
            sort=sort if sort in SORTS else "name",
            descending=args.get("dir") == "desc",
            page=max(1, number("page", 1)),
            per_page=per_page if per_page in PER_PAGE_CHOICES else 50,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The non-default values as link arguments (page and per_page included)."""
        query = replace(self, **changes)
        found: dict[str, Any] = {
            "q": query.q,
            "branch": query.branch,
            "cohort": query.cohort or "",
            "status": query.status,
            "sort": query.sort if query.sort != "name" else "",
            "dir": "desc" if query.descending else "",
            "page": query.page if query.page != 1 else "",
            "per_page": query.per_page if query.per_page != 50 else "",
        }
        return {k: v for k, v in found.items() if v != ""}

    def filters(self) -> dict[str, Any]:
        """The arguments an export carries: everything but the page."""
        return {k: v for k, v in self.args().items() if k not in ("page", "per_page")}


@dataclass
class LearnerRow:
    user_id: int
    username: str
    display_name: str
    employee_id: str
    branch: str
    cohort_id: int | None
    cohort_name: str | None
    due_date: date | None
    certificate_code: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str
    lessons_done: int = 0
    quizzes_passed: int = 0
    cases_counted: int = 0
    last_reminder_at: datetime | None = None


@dataclass(frozen=True)
class LearnerPage:
    rows: list[LearnerRow]
    total: int
    query: LearnerQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


TRIGRAM = 3  # PostgreSQL's trigram indexes serve a search text of this length or more


def search_condition(q: str, columns: Sequence[Any]) -> ColumnElement[bool]:
    """``q`` anywhere in one of ``columns``, in any case: ``lower(column) LIKE '%q%'``, the
    expression PostgreSQL's trigram indexes are built on (migration 0021), so it is answered
    from them there; SQLite reads the summary table.

    A text too short for a trigram (one or two characters: a surname such as 王) is read
    from every row anyway; when it has no letter with a case (Chinese, digits) lowering each
    column would change nothing it can match, so the columns are compared as stored, about
    three times faster than lowering every name, user name and employee id first."""
    needle = q.lower()
    if len(q) < TRIGRAM and _caseless(q):
        return or_(*(column.contains(q, autoescape=True) for column in columns))
    return or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))


def _caseless(text: str) -> bool:
    """No character of ``text`` has another case, and none is a combining mark (lowering
    İ gives i and a combining dot, which a stored column would not contain)."""
    return text.lower() == text == text.upper() and not any(unicodedata.combining(c) for c in text)


def _filtered(at: Moment, scope: Scope, query: LearnerQuery) -> Any:
    rows = summary_facts(at, scope)
    if query.status:  # on the stored dates, not on the status CASE of every learner
        rows = rows.where(summary_status_is(query.status, at))
    facts = rows.subquery("facts")
    conditions: list[ColumnElement[bool]] = []
    if query.q:
        conditions.append(
            search_condition(query.q, (facts.c.display_name, facts.c.username, facts.c.employee_id))
        )
    if query.branch:
        conditions.append(facts.c.branch == query.branch)
    if query.cohort:
        conditions.append(facts.c.cohort_id == query.cohort)
    return facts, conditions


def _order(facts: Any, query: LearnerQuery) -> list[Any]:
    column = {
        "name": facts.c.display_name,
        "username": facts.c.username,
        "employee_id": facts.c.employee_id,
        "branch": facts.c.branch,
        "cohort": facts.c.cohort_name,
        "due": facts.c.due_date,
        "status": status_rank(facts.c.status),
        "expires": facts.c.expires_at,
    }[query.sort]
    ordered = column.desc() if query.descending else column.asc()
    if query.sort in NULLABLE_SORTS:
        ordered = ordered.nulls_last()
    # A column that is never empty is ordered without NULLS LAST, which would change nothing
    # but keep PostgreSQL from reading its index backwards for a descending page (it sorted
    # every learner instead: 80 ms at 100,000).
    return [ordered, facts.c.user_id.desc() if query.descending else facts.c.user_id]


def _row(mapping: Mapping[str, Any]) -> LearnerRow:
    names = LearnerRow.__dataclass_fields__
    return LearnerRow(**{k: v for k, v in mapping.items() if k in names})


def learner_page(
    session: Session, at: Moment, scope: Scope, query: LearnerQuery, keys: CourseKeys
) -> LearnerPage:
    """One page of the filtered, sorted table: a count and the page."""
    ensure_current(session, keys)
    count, page = _page_statements(at, scope, query)
    total = session.scalar(count) or 0
    pages = max(1, -(-total // query.per_page))
    query = replace(query, page=min(query.page, pages))
    found = session.execute(
        page.limit(query.per_page).offset((query.page - 1) * query.per_page)
    ).all()
    rows = [_row(r._mapping) for r in found]
    return LearnerPage(rows, total, query)


def _page_statements(at: Moment, scope: Scope, query: LearnerQuery) -> tuple[Any, Any]:
    """The count of the filtered table, and its rows in order (to be limited to a page)."""
    facts, conditions = _filtered(at, scope, query)
    count = select(func.count()).select_from(facts).where(*conditions)
    return count, select(facts).where(*conditions).order_by(*_order(facts, query))


def compile_statements(session: Session, at: Moment) -> None:
    """Run the table's statements once for the pages HR opens first (the whole organisation
    in name order; a search), dropping what they find, so that the session's engine has
    them compiled (gunicorn's master, before it forks: a worker's first table page then
    compiles none of them). Nothing is counted into a cache and nothing is written."""
    stored_version(session)  # ensure_current's check
    # Twice: SQLAlchemy's first use of these ORM columns in a process changes what their
    # statements' cache keys look like, and a worker's requests build the later kind.
    for query in (LearnerQuery(), LearnerQuery(q="compile")) * 2:
        count, page = _page_statements(at, Scope(), query)
        session.scalar(count)
        session.execute(page.limit(query.per_page).offset(0)).all()
    filter_choices(session, Scope())


def iter_learners(
    session: Session,
    at: Moment,
    scope: Scope,
    query: LearnerQuery,
    keys: CourseKeys,
    batch: int = 500,
    ids: Sequence[int] | None = None,
) -> Iterator[LearnerRow]:
    """Every row of the filtered table in the table's order, streamed from one query
    (with ``ids``, only those learners: never one outside the reader's scope)."""
    ensure_current(session, keys)
    facts, conditions = _filtered(at, scope, query)
    if ids is not None:
        conditions.append(facts.c.user_id.in_(list(ids)))
    statement = (
        select(facts)
        .where(*conditions)
        .order_by(*_order(facts, query))
        .execution_options(stream_results=True, yield_per=batch)
    )
    for found in session.execute(statement):
        yield _row(found._mapping)


def learner_branches(scope: Scope) -> Select[Any]:
    """The branches with learners in scope, in order, by walking the summary's
    (learner, branch) index one branch at a time (a recursive query: each step takes the
    next branch after the last one found). ``DISTINCT`` read every learner's row: 30-60 ms at
    100,000 learners against a few dozen index probes."""
    s = LearnerSummary

    def after(last: Any) -> Any:
        found = select(s.branch).where(*summary_filter(scope))
        if last is not None:
            found = found.where(s.branch > last)
        return found.order_by(s.branch).limit(1).scalar_subquery()

    walk = select(after(None).label("branch")).cte("branches", recursive=True)
    walk = walk.union_all(select(after(walk.c.branch)).where(walk.c.branch.is_not(None)))
    return select(walk.c.branch).where(walk.c.branch.is_not(None)).order_by(walk.c.branch)


def filter_choices(session: Session, scope: Scope) -> tuple[list[str], list[tuple[int, str]]]:
    """The branches that have learners, and the cohorts a reader may filter by: only
    those with a current member among the learners the reader sees (an empty cohort
    would only filter to an empty table)."""
    branches = session.scalars(learner_branches(scope)).all()
    # A cohort qualifies at its first such member: the database walks each cohort's
    # memberships by its index and stops there, rather than reading every membership.
    member = (
        select(CohortMembership.id)
        .join(User, User.id == CohortMembership.user_id)
        .where(
            CohortMembership.cohort_id == Cohort.id,
            CohortMembership.left_at.is_(None),
            *learner_filter(scope),
        )
        .exists()
    )
    cohorts = select(Cohort.id, Cohort.name).where(member).order_by(Cohort.name)
    return [b for b in branches if b], [(r.id, r.name) for r in session.execute(cohorts)]


# ---------------------------------------------------------------- the table's cells

LEARNER_COLUMNS = (
    ("name", N_("Name")),
    ("username", N_("User name")),
    ("employee_id", N_("Employee id")),
    ("branch", N_("Branch")),
    ("cohort", N_("Cohort")),
    ("due", N_("Due date")),
    ("status", N_("Status")),
    ("lessons", N_("Lessons done")),
    ("quizzes", N_("Quizzes passed")),
    ("cases", N_("Cases counted")),
    ("expires", N_("Certificate valid until")),
    ("reminded", N_("Last reminder")),
)


def learner_cells(row: LearnerRow, timezone: str, label: Callable[[str], str]) -> list[Cell]:
    """One table row as the page shows it and the exports write it (same values, same order)."""
    return [
        row.display_name,
        row.username,
        row.employee_id,
        row.branch,
        row.cohort_name or "",
        row.due_date,
        label(STATUS_LABELS[row.status]),
        row.lessons_done,
        row.quizzes_passed,
        row.cases_counted,
        local_date(row.expires_at, timezone),
        local_datetime(row.last_reminder_at, timezone),
    ]
