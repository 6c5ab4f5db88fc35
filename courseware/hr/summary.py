"""The HR summary: one row per account (``learner_summary``) and one per learner and module
(``learner_module_summary``), so HR's pages read a narrow table instead of every lesson,
quiz, case and certificate row.

Kept on write: ``courseware.core.learner_marks`` notes the accounts a transaction changed and,
before it commits, ``refresh`` recounts their rows from the raw tables in the same
transaction. Lesson counts depend on the published course (which lessons and quizzes count);
the keys they were counted with are kept beside the summary (the ``learner-summary``
snapshot); when the published course's keys differ (a publish, an import), ``ensure_current``
rebuilds the whole summary once, and ``courseware hr rebuild-summary`` does it on demand.

Dates are stored, never states: expiring, expired and overdue are derived when read
(``summary_facts``, with ``compliance.status_expression``), so a certificate that expired
overnight is "expired" in the morning without any write.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from courseware.core.clock import utcnow
from courseware.core.db import WRITE_OPTION, conflict_insert
from courseware.core.learner_marks import MARKED, Marks, register_refresher
from courseware.core.models import (
    CaseDecision,
    Certificate,
    Cohort,
    CohortMembership,
    HrSnapshot,
    LearnerModuleSummary,
    LearnerSummary,
    LessonProgress,
    QuizAttempt,
    Reminder,
    User,
)
from courseware.hr.compliance import (
    LEARNER_ROLE,
    Moment,
    Scope,
    due_date_expression,
    status_expression,
)
from courseware.hr.keys import CourseKeys, case_counts, lesson_done, quiz_passed
from courseware.hr.snapshots import digest

log = logging.getLogger(__name__)

SNAPSHOT = "learner-summary"
CHUNK = 2000  # ids per IN list (SQLite allows 32,766 variables a statement)


@dataclass(frozen=True)
class SummaryKeys:
    """What the summary's lesson and quiz counts were counted over."""

    lessons: tuple[tuple[str, str], ...]
    lessons_per_module: dict[str, int]
    quiz_modules: tuple[str, ...]

    @classmethod
    def of(cls, keys: CourseKeys) -> SummaryKeys:
        return cls(keys.lessons, dict(keys.lessons_per_module), keys.quiz_modules)

    @property
    def version(self) -> str:
        return digest(self.body())

    def body(self) -> dict[str, Any]:
        return {
            "lessons": [list(pair) for pair in self.lessons],
            "lessons_per_module": sorted([k, v] for k, v in self.lessons_per_module.items()),
            "quiz_modules": sorted(self.quiz_modules),
        }

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SummaryKeys:
        return cls(
            tuple((m, lesson) for m, lesson in body["lessons"]),
            {k: int(v) for k, v in body["lessons_per_module"]},
            tuple(body["quiz_modules"]),
        )

    def course(self) -> CourseKeys:
        """As ``CourseKeys`` for the shared count expressions (titles and cases unused)."""
        return CourseKeys(self.lessons, self.lessons_per_module, self.quiz_modules, {}, 0)


NO_KEYS = SummaryKeys((), {}, ())

# ---------------------------------------------------------------- counting from raw tables


# Which accounts a count covers: every account (None), these ids, or the ids given when the
# statement runs (the expanding parameter ``IDS``, so a recount's statements are built once).
Ids = Sequence[int] | BindParameter[Any] | None
IDS = bindparam("summary_ids", expanding=True)


def _only(column: Any, ids: Ids) -> list[ColumnElement[bool]]:
    if ids is None:
        return []
    return [column.in_(ids if isinstance(ids, BindParameter) else list(ids))]


def _account_columns(latest: Any) -> list[Any]:
    """The summary row's account, cohort and latest-certificate columns (``latest``: the
    certificate table aliased to the account's newest cycle), as both counts write them."""
    return [
        User.id.label("user_id"),
        and_(User.role == LEARNER_ROLE, User.active.is_(True)).label("learner"),
        User.username,
        User.display_name,
        User.employee_id,
        User.branch,
        Cohort.id.label("cohort_id"),
        Cohort.name.label("cohort_name"),
        due_date_expression().label("due_date"),
        latest.cycle.label("cert_cycle"),
        latest.code.label("certificate_code"),
        latest.expires_at.label("expires_at"),
        latest.revoked_at.label("revoked_at"),
        User.first_active_at,
    ]


def raw_rows(keys: SummaryKeys, ids: Ids = None) -> Select[Any]:
    """Each account's summary row counted from the raw tables (``ids``: only those)."""
    course = keys.course()
    cycles = (
        select(Certificate.user_id, func.max(Certificate.cycle).label("cycle"))
        .where(*_only(Certificate.user_id, ids))
        .group_by(Certificate.user_id)
        .subquery("latest_cycle")
    )
    latest = aliased(Certificate, name="latest_certificate")
    parts = {
        "lessons_done": select(LessonProgress.user_id, func.count().label("n"))
        .where(lesson_done(course), *_only(LessonProgress.user_id, ids))
        .group_by(LessonProgress.user_id),
        "quizzes_passed": select(
            QuizAttempt.user_id, func.count(func.distinct(QuizAttempt.module_slug)).label("n")
        )
        .where(quiz_passed(course), *_only(QuizAttempt.user_id, ids))
        .group_by(QuizAttempt.user_id),
        "cases_counted": select(CaseDecision.user_id, func.count().label("n"))
        .where(case_counts(), *_only(CaseDecision.user_id, ids))
        .group_by(CaseDecision.user_id),
        "last_reminder_at": select(Reminder.user_id, func.max(Reminder.sent_at).label("n"))
        .where(Reminder.status == "sent", *_only(Reminder.user_id, ids))
        .group_by(Reminder.user_id),
    }
    last = union_all(
        select(LessonProgress.user_id, LessonProgress.completed_at.label("at")).where(
            LessonProgress.completed_at.is_not(None), *_only(LessonProgress.user_id, ids)
        ),
        select(QuizAttempt.user_id, QuizAttempt.submitted_at).where(
            QuizAttempt.submitted_at.is_not(None), *_only(QuizAttempt.user_id, ids)
        ),
        select(CaseDecision.user_id, CaseDecision.decided_at).where(
            *_only(CaseDecision.user_id, ids)
        ),
    ).subquery("acts")
    parts["last_active_at"] = select(last.c.user_id, func.max(last.c.at).label("n")).group_by(
        last.c.user_id
    )
    statement = (
        select(
            *_account_columns(latest),
        )
        .select_from(User)
        .outerjoin(cycles, cycles.c.user_id == User.id)
        .outerjoin(latest, and_(latest.user_id == User.id, latest.cycle == cycles.c.cycle))
        .outerjoin(
            CohortMembership,
            and_(CohortMembership.user_id == User.id, CohortMembership.left_at.is_(None)),
        )
        .outerjoin(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(*_only(User.id, ids))
    )
    for name, part in parts.items():
        found = part.subquery(f"{name}_part")
        statement = statement.outerjoin(found, found.c.user_id == User.id)
        value = (
            found.c.n
            if name in ("last_reminder_at", "last_active_at")
            else func.coalesce(found.c.n, 0)
        )
        statement = statement.add_columns(value.label(name))
    return statement


def account_rows(keys: SummaryKeys, ids: Sequence[int] | BindParameter[Any]) -> Select[Any]:
    """``raw_rows`` of a few accounts (a recount on write), the same columns and values, its
    counts written as subqueries of each account's row rather than joins of grouped
    subqueries: PostgreSQL plans it in half the time (about 0.4 ms against 0.8 ms, which
    every quiz submission paid). The whole summary is counted with ``raw_rows`` (grouped
    scans suit every account); the summary tests hold what this writes to ``raw_rows``."""
    course = keys.course()
    mine = User.id

    def value(statement: Select[Any]) -> Any:
        return statement.correlate(User).scalar_subquery()

    latest = aliased(Certificate, name="latest_certificate")
    newest = value(select(func.max(Certificate.cycle)).where(Certificate.user_id == mine))
    acts = union_all(
        select(LessonProgress.completed_at.label("at"))
        .where(LessonProgress.user_id == mine, LessonProgress.completed_at.is_not(None))
        .correlate(User),
        select(QuizAttempt.submitted_at)
        .where(QuizAttempt.user_id == mine, QuizAttempt.submitted_at.is_not(None))
        .correlate(User),
        select(CaseDecision.decided_at).where(CaseDecision.user_id == mine).correlate(User),
    ).subquery("acts")
    return (
        select(
            *_account_columns(latest),
            value(
                select(func.count())
                .select_from(LessonProgress)
                .where(LessonProgress.user_id == mine, lesson_done(course))
            ).label("lessons_done"),
            value(
                select(func.count(func.distinct(QuizAttempt.module_slug))).where(
                    QuizAttempt.user_id == mine, quiz_passed(course)
                )
            ).label("quizzes_passed"),
            value(
                select(func.count())
                .select_from(CaseDecision)
                .where(CaseDecision.user_id == mine, case_counts())
            ).label("cases_counted"),
            value(
                select(func.max(Reminder.sent_at)).where(
                    Reminder.user_id == mine, Reminder.status == "sent"
                )
            ).label("last_reminder_at"),
            value(select(func.max(acts.c.at))).label("last_active_at"),
        )
        .select_from(User)
        .outerjoin(latest, and_(latest.user_id == User.id, latest.cycle == newest))
        .outerjoin(
            CohortMembership,
            and_(CohortMembership.user_id == User.id, CohortMembership.left_at.is_(None)),
        )
        .outerjoin(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(*_only(User.id, ids))
    )


def raw_module_rows(keys: SummaryKeys, ids: Ids = None) -> Select[Any]:
    """Each learner's (module, opened, lessons done, quiz passed), from the raw tables."""
    course = keys.course()
    activity = union_all(
        select(
            LessonProgress.user_id,
            LessonProgress.module_slug,
            literal(1).label("opened"),
            case((lesson_done(course), 1), else_=0).label("done"),
            literal(0).label("passed"),
        ).where(*_only(LessonProgress.user_id, ids)),
        select(
            QuizAttempt.user_id, QuizAttempt.module_slug, literal(0), literal(0), literal(1)
        ).where(passed_any_quiz(), *_only(QuizAttempt.user_id, ids)),
    ).subquery("activity")
    return select(
        activity.c.user_id,
        activity.c.module_slug,
        (func.max(activity.c.opened) > 0).label("opened"),
        func.sum(activity.c.done).label("lessons_done"),
        (func.max(activity.c.passed) > 0).label("quiz_passed"),
    ).group_by(activity.c.user_id, activity.c.module_slug)


def passed_any_quiz() -> ColumnElement[bool]:
    """``keys.quiz_passed`` without the course's quiz modules: module rows are kept for every
    module (a lesson view cannot tell whether its module is in the course), and the funnel
    reads only the course's."""
    return and_(
        QuizAttempt.kind == "module",
        QuizAttempt.status == "submitted",
        QuizAttempt.passed.is_(True),
        QuizAttempt.reset_at.is_(None),
    )


def module_complete(keys: SummaryKeys, row: Any = LearnerModuleSummary) -> ColumnElement[bool]:
    """A module's lessons all done and its quiz passed (a module without a bank: lessons)."""
    needed = case(keys.lessons_per_module, value=row.module_slug, else_=0)
    without_quiz = [m for m in keys.lessons_per_module if m not in keys.quiz_modules]
    return and_(
        needed > 0,
        row.lessons_done >= needed,
        or_(row.quiz_passed.is_(True), row.module_slug.in_(without_quiz)),
    )


def _write(session: Session, keys: SummaryKeys, ids: Sequence[int] | None) -> None:
    """Bring the summary rows of ``ids`` (None: every account) to a recount."""
    dialect = session.get_bind().dialect.name
    if ids is None:
        statements, params = _statements(keys, None, dialect), {}
    else:
        statements, params = _recount_statements(keys, dialect), {IDS.key: list(ids)}
    # On the session's connection (its transaction), as Core statements: the ORM's events
    # (learner marks) and its bulk-insert reading of a parameter dictionary stay out of it.
    connection = session.connection()
    for statement in statements:
        connection.execute(statement, params)


def _statements(keys: SummaryKeys, ids: Ids, dialect: str) -> list[Any]:
    """The recount of ``ids``: their module rows deleted and counted afresh, then their
    account rows counted (modules done from the module rows just written) and upserted.

    The account row is updated in place, not deleted and inserted: on PostgreSQL a new row
    adds an entry to each of the table's twelve indexes (three of them trigram GIN), while
    an update that leaves the indexed columns as they were (names, branch, cohort, dates:
    what a quiz, lesson or case changes is none of them) is a HOT update, which touches no
    index. Module rows are few and narrow and may disappear (a reset quiz): deleted and
    inserted."""
    rows = raw_rows(keys) if ids is None else account_rows(keys, ids)
    modules = raw_module_rows(keys, ids)
    if keys.lessons_per_module:
        done: ColumnElement[int] = (
            select(func.count())
            .where(LearnerModuleSummary.user_id == User.id, module_complete(keys))
            .scalar_subquery()
        )
    else:  # no module counts as done
        done = literal(0)
    # SQLite reads "... JOIN x ON a = b ON CONFLICT" ambiguously without a WHERE clause.
    counted = rows.add_columns(done.label("modules_done")).where(true())
    upsert = conflict_insert(dialect, LearnerSummary)
    upsert = upsert.from_select([c.key for c in counted.selected_columns], counted)
    account = upsert.on_conflict_do_update(
        index_elements=[LearnerSummary.user_id],
        set_={c.key: upsert.excluded[c.key] for c in counted.selected_columns[1:]},
    )
    return [
        delete(LearnerModuleSummary).where(*_only(LearnerModuleSummary.user_id, ids)),
        insert(LearnerModuleSummary).from_select(
            [c.key for c in modules.selected_columns], modules
        ),
        account,
    ]


_built: dict[tuple[str, str], list[Any]] = {}


def _recount_statements(keys: SummaryKeys, dialect: str) -> list[Any]:
    """A few learners' recount (every quiz submitted, case decided, lesson done): its
    statements built once per course keys, database and worker, the learners bound when
    they run (building them took longer than running them)."""
    key = (keys.version, dialect)
    found = _built.get(key)
    if found is None:
        found = _statements(keys, IDS, dialect)
        with _lock:
            if len(_built) >= 8:  # a few course versions at most; the oldest goes
                _built.pop(next(iter(_built)))
            _built[key] = found
    return found


def stored_keys(session: Session) -> SummaryKeys | None:
    """The keys the summary was last rebuilt with; None before the first rebuild."""
    body = session.scalar(select(HrSnapshot.body).where(HrSnapshot.name == SNAPSHOT))
    return SummaryKeys.from_body(body) if body else None


def refresh(session: Session, marks: Marks) -> None:
    """Recount the summary rows of the accounts ``marks`` names and of its cohorts' members
    (the hook ``courseware.core.learner_marks`` calls before a commit); a first lesson view
    or first activity alone is one small write. Before the first rebuild no course keys are
    known: lessons and quizzes count none until the first HR page (or the command) rebuilds
    the whole summary with the published course's keys; the rest is kept."""
    if marks.every_user:
        _write(session, stored_keys(session) or NO_KEYS, None)
        return
    ids = set(marks.users)
    _light(session, marks, ids)
    if not ids and not marks.cohorts and not marks.new_users:
        return
    keys = stored_keys(session) or NO_KEYS
    cohort_ids = marks.cohorts
    if marks.new_users:
        summarised = select(LearnerSummary.user_id)
        ids.update(session.scalars(select(User.id).where(User.id.not_in(summarised))))
    if cohort_ids:
        ids.update(
            session.scalars(
                select(LearnerSummary.user_id).where(LearnerSummary.cohort_id.in_(cohort_ids))
            )
        )
        ids.update(
            session.scalars(
                select(CohortMembership.user_id).where(
                    CohortMembership.cohort_id.in_(cohort_ids), CohortMembership.left_at.is_(None)
                )
            )
        )
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        if _postgres(session):
            # Two transactions recounting one learner would both delete and insert its
            # module rows (the second insert failing), and the second's upsert could write
            # counts from a snapshot taken before the first committed: the account's row
            # lock puts them one after the other, and the second's statements then see the
            # first's rows (SQLite writes one at a time).
            session.execute(
                select(User.id).where(User.id.in_(chunk)).order_by(User.id).with_for_update(),
                execution_options={MARKED: True},
            )
        _write(session, keys, chunk)


def _light(session: Session, marks: Marks, recounted: set[int]) -> None:
    """A first lesson view marks its module opened, a first activity sets the date: one
    statement each, for learners not recounted anyway."""
    for user_id, at in marks.active.items():
        if user_id not in recounted:
            session.execute(
                update(LearnerSummary)
                .where(LearnerSummary.user_id == user_id)
                .values(first_active_at=at)
                .execution_options(synchronize_session=False, **{MARKED: True})
            )
    for user_id, module_slug in sorted(marks.opened):
        if user_id in recounted:
            continue
        upsert = conflict_insert(session.get_bind().dialect.name, LearnerModuleSummary)
        session.execute(
            upsert.values(
                user_id=user_id,
                module_slug=module_slug,
                opened=True,
                lessons_done=0,
                quiz_passed=False,
            ).on_conflict_do_update(
                index_elements=["user_id", "module_slug"], set_={"opened": True}
            ),
            execution_options={MARKED: True},
        )


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def rebuild(session: Session, keys: SummaryKeys, now: datetime | None = None) -> int:
    """Recount every account's summary with ``keys`` and record them (the caller commits).
    Returns the number of accounts."""
    _write(session, keys, None)
    session.execute(delete(HrSnapshot).where(HrSnapshot.name == SNAPSHOT))
    session.execute(
        insert(HrSnapshot).values(
            name=SNAPSHOT, version=keys.version, counted_at=now or utcnow(), body=keys.body()
        )
    )
    return int(session.scalar(select(func.count()).select_from(LearnerSummary)) or 0)


_checked: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def ensure_current(session: Session, keys: CourseKeys) -> bool:
    """Make sure the summary was counted over ``keys`` (the published course): checked once
    per worker and course; a summary of other keys is rebuilt on a connection of its own and
    committed, and the reader's transaction starts afresh to see it. True if it rebuilt."""
    wanted = SummaryKeys.of(keys)
    engine = session.get_bind()
    seen = _checked.setdefault(engine, set())  # type: ignore[arg-type]
    if wanted.version in seen:
        return False
    found = stored_version(session)
    rebuilt = False
    if found != wanted.version and session.connection().get_execution_options().get(WRITE_OPTION):
        # A writing request holds the write lock (SQLite): rebuild in its transaction.
        rebuild(session, wanted)
        rebuilt = True
    elif found != wanted.version:
        with (
            _lock,
            engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
            Session(bind=connection) as writer,
        ):
            writer.begin()
            again = stored_version(writer)
            if again != wanted.version:
                count = rebuild(writer, wanted)
                log.info("HR summary rebuilt for %d accounts", count)
                rebuilt = True
            writer.commit()
        session.commit()  # a new snapshot of the database for the rest of the request
    seen.add(wanted.version)
    return rebuilt


def stored_version(session: Session) -> str | None:
    """The version of the course keys the summary was last counted over."""
    return session.scalar(_STORED_VERSION)


_STORED_VERSION = select(HrSnapshot.version).where(HrSnapshot.name == SNAPSHOT)


def forget_checks() -> None:
    """Check the summary's keys again on the next HR page (tests, after a rebuild)."""
    _checked.clear()


# ---------------------------------------------------------------- reading


class _Standing:
    """The summary's latest-certificate columns under the names ``status_expression`` uses."""

    cycle = LearnerSummary.cert_cycle
    revoked_at = LearnerSummary.revoked_at
    expires_at = LearnerSummary.expires_at


def summary_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [LearnerSummary.learner.is_(True)]
    if scope.nobody:
        conditions.append(literal(False))
    elif scope.branch is not None:
        conditions.append(LearnerSummary.branch == scope.branch)
    return conditions


def summary_status(at: Moment) -> ColumnElement[str]:
    return status_expression(
        _Standing, LearnerSummary.due_date, LearnerSummary.first_active_at.is_not(None), at
    )


def summary_status_is(status: str, at: Moment) -> ColumnElement[bool]:
    """``summary_status(at) == status`` written as plain conditions on the stored columns
    (each status's branch of the CASE with the earlier branches ruled out), so a filter by
    status is not a CASE evaluated for every learner and can use the dates' indexes. Tests
    check it against the CASE for every combination."""
    s = LearnerSummary
    certificate, none = s.cert_cycle.is_not(None), s.cert_cycle.is_(None)
    valid = and_(certificate, s.revoked_at.is_(None))
    not_late = or_(s.due_date.is_(None), s.due_date >= at.today)
    end = at.window_end()
    return {
        "revoked": and_(certificate, s.revoked_at.is_not(None)),
        "expired": and_(valid, s.expires_at <= at.now),
        "overdue": and_(none, s.due_date < at.today),
        "expiring": and_(valid, s.expires_at > at.now, s.expires_at < end),
        "certified": and_(
            valid, or_(s.expires_at.is_(None), and_(s.expires_at > at.now, s.expires_at >= end))
        ),
        "in_progress": and_(none, not_late, s.first_active_at.is_not(None)),
        "not_started": and_(none, not_late, s.first_active_at.is_(None)),
    }[status]


def summary_facts(at: Moment, scope: Scope) -> Select[Any]:
    """One row per learner in scope, as ``compliance.learner_facts`` and the table's counts,
    from the summary alone; the status from the stored dates as of ``at``."""
    s = LearnerSummary
    return select(
        s.user_id,
        s.username,
        s.display_name,
        s.employee_id,
        s.branch,
        s.cohort_id,
        s.cohort_name,
        s.due_date,
        s.certificate_code,
        s.expires_at,
        s.revoked_at,
        summary_status(at).label("status"),
        s.lessons_done,
        s.quizzes_passed,
        s.cases_counted,
        s.last_reminder_at,
        s.modules_done,
        s.last_active_at,
    ).where(*summary_filter(scope))


register_refresher(refresh)
