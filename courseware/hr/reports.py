"""HR reports: figures, completion by branch and cohort, the module funnel.

Everything is computed in the database from a few aggregate queries, so the number
of queries for a page does not grow with the number of learners. The status of each
learner comes from ``courseware.hr.compliance`` (defined once); the learner table is in
``courseware.hr.learner_table``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session

from courseware.core.models import (
    LearnerModuleSummary,
    LearnerSummary,
    LessonProgress,
    QuizAttempt,
    User,
)
from courseware.hr.compliance import (
    CERTIFIED,
    STATUSES,
    Moment,
    Scope,
    learner_filter,
)
from courseware.hr.keys import (
    CourseKeys,
    case_counts,
    course_keys,
    lesson_done,
    quiz_passed,
)
from courseware.hr.snapshots import digest, read_snapshot, write_snapshot
from courseware.hr.summary import (
    SummaryKeys,
    ensure_current,
    module_complete,
    summary_facts,
    summary_filter,
)

__all__ = ["CourseKeys", "case_counts", "course_keys", "lesson_done", "quiz_passed"]

T = TypeVar("T")


COURSE_KEYS_SNAPSHOT = "course-keys"


def shared_course_keys(
    session: Session,
    version: int,
    cases_required: int,
    build: Callable[[], tuple[CourseKeys, int]],
    now: datetime,
) -> CourseKeys:
    """The course keys of content ``version`` as any worker found them (``hr_snapshots``),
    else ``build()`` (the whole catalogue parsed: seconds) and shared under the version
    it was built from. Keys depend only on the published content, which the version names."""
    found = read_snapshot(session, COURSE_KEYS_SNAPSHOT, str(version))
    if found is not None:
        body = found.body
        return CourseKeys(
            lessons=tuple((m, lesson) for m, lesson in body["lessons"]),
            lessons_per_module=dict(body["lessons_per_module"]),
            quiz_modules=tuple(body["quiz_modules"]),
            module_titles=dict(body["module_titles"]),
            cases_required=cases_required,
        )
    keys, built_from = build()
    body = {
        "lessons": [list(pair) for pair in keys.lessons],
        "lessons_per_module": [list(i) for i in keys.lessons_per_module.items()],
        "quiz_modules": list(keys.quiz_modules),
        "module_titles": [list(i) for i in keys.module_titles.items()],
    }
    write_snapshot(session, COURSE_KEYS_SNAPSHOT, str(built_from), now, body)
    return keys


# ---------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    enrolled: int
    certified: int
    overdue: int

    @property
    def percent(self) -> int:
        return round(100 * self.certified / self.enrolled) if self.enrolled else 0


@dataclass(frozen=True)
class FunnelStep:
    module_slug: str
    title: str
    started: int
    lessons_done: int
    quiz_passed: int
    complete: int


@dataclass
class Dashboard:
    enrolled: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    expiring_within: dict[int, int] = field(default_factory=dict)
    branches: list[Bar] = field(default_factory=list)
    cohorts: list[Bar] = field(default_factory=list)
    funnel: list[FunnelStep] = field(default_factory=list)
    funnel_at: datetime | None = None  # when the funnel was counted (it may be cached)
    funnel_enrolled: int = 0  # the learners in scope when the funnel was counted
    at: datetime | None = None  # when the figures and bars were counted (live)

    @property
    def certified(self) -> int:
        return sum(self.by_status.get(s, 0) for s in CERTIFIED)

    @property
    def in_progress(self) -> int:
        return self.by_status.get("in_progress", 0)

    @property
    def overdue(self) -> int:
        return self.by_status.get("overdue", 0)

    @property
    def widest(self) -> int:
        """The largest group, so bars share one scale."""
        return max([b.enrolled for b in self.branches + self.cohorts] + [self.enrolled, 1])

    @property
    def cohort_count(self) -> int:
        """Cohorts with learners (the bar of learners in no cohort is not one)."""
        return sum(1 for b in self.cohorts if b.key)

    def worst_cohorts(self, count: int) -> list[Bar]:
        """The first ``count`` cohorts, worst first (the dashboard's summary)."""
        return self.cohorts[:count]


def worst_first(bars: list[Bar]) -> list[Bar]:
    """Lowest share certified first, then most overdue, then largest; learners in no
    cohort (key "") last. Only groups with learners are bars at all."""
    return sorted(
        (b for b in bars if b.enrolled),
        key=lambda b: (b.key == "", b.certified / b.enrolled, -b.overdue, -b.enrolled, b.label),
    )


@dataclass(frozen=True)
class FunnelCounts:
    """The funnel and the number of learners it was counted over, counted together, so a
    step reads "n of N" with both numbers from the same moment."""

    steps: list[FunnelStep]
    enrolled: int


class FunnelCache:
    """The module funnel per reader scope and course, kept in the worker for ``max_age``
    (and shared between workers by ``shared_funnel``).

    The funnel reads every lesson-progress and quiz row (about 300,000 for 10,000
    learners, seconds for 100,000); it shows a trend, so a minute's delay is harmless, and
    the page says when it was counted. The compliance figures and bars above it are always
    live.
    """

    def __init__(self, max_age: timedelta = timedelta(seconds=60), size: int = 128):
        self.max_age = max_age
        self.size = size
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[datetime, Any]] = {}
        self._recounting: set[tuple[object, ...]] = set()

    @staticmethod
    def key(scope: Scope, keys: CourseKeys) -> tuple[object, ...]:
        return (scope.branch, scope.nobody, keys.lessons, keys.quiz_modules,
                tuple(keys.module_titles.items()))  # fmt: skip

    def get(
        self, key: tuple[object, ...], now: datetime, compute: Callable[[], T]
    ) -> tuple[T, datetime]:
        return self.get_stamped(key, now, lambda: (compute(), now))

    def get_stamped(
        self, key: tuple[object, ...], now: datetime, compute: Callable[[], tuple[T, datetime]]
    ) -> tuple[T, datetime]:
        """Like ``get``, for a ``compute`` that says when its value was counted (a shared
        snapshot may be older than now): the entry ages from that time."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and self.fresh(entry[0], now):
            return entry[1], entry[0]
        value, counted_at = compute()
        self.put(key, value, counted_at)
        return value, counted_at

    def fresh(self, counted_at: datetime, now: datetime) -> bool:
        return timedelta(0) <= now - counted_at < self.max_age

    def put(self, key: tuple[object, ...], value: Any, counted_at: datetime) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = (counted_at, value)

    def claim(self, key: tuple[object, ...]) -> bool:
        """Whether this worker may recount ``key`` now (one recount at a time per key)."""
        with self._lock:
            if key in self._recounting:
                return False
            self._recounting.add(key)
            return True

    def release(self, key: tuple[object, ...]) -> None:
        with self._lock:
            self._recounting.discard(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


Recount = Callable[[Session, datetime], object]


def dashboard(
    session: Session,
    at: Moment,
    scope: Scope,
    keys: CourseKeys,
    funnel_cache: FunnelCache | None = None,
    later: Callable[[Recount], None] | None = None,
) -> Dashboard:
    """Figures and bars (``completion``), then the funnel (cached when given a cache;
    ``shared_funnel`` says when ``later`` is used)."""
    ensure_current(session, keys)
    result = completion(session, at, scope)
    if funnel_cache is None:
        counts, result.funnel_at = funnel_counts(session, scope, keys), at.now
    else:
        counts, result.funnel_at = funnel_cache.get_stamped(
            FunnelCache.key(scope, keys),
            at.now,
            lambda: shared_funnel(session, at.now, scope, keys, funnel_cache, later),
        )
    result.funnel, result.funnel_enrolled = counts.steps, counts.enrolled
    return result


def _funnel_snapshot(scope: Scope, keys: CourseKeys) -> tuple[str, str]:
    """The snapshot's name (the reader scope) and version (the course counted over)."""
    return "funnel:" + digest([scope.branch, scope.nobody]), digest(FunnelCache.key(Scope(), keys))


def shared_funnel(
    session: Session,
    now: datetime,
    scope: Scope,
    keys: CourseKeys,
    cache: FunnelCache,
    later: Callable[[Recount], None] | None = None,
) -> tuple[FunnelCounts, datetime]:
    """The funnel as shared in ``hr_snapshots``, with the time it was counted.

    Within the cache's age any worker's count is used as it is. An older one is shown (with
    its time) when ``later`` is given, which is handed the recount to run after the
    response (one at a time per worker); without ``later``, or with no snapshot of this
    course yet, the funnel is counted here and shared. A cache of no age shares nothing.
    """
    if cache.max_age <= timedelta(0):
        return funnel_counts(session, scope, keys), now
    name, version = _funnel_snapshot(scope, keys)
    found = read_snapshot(session, name, version)
    if found is not None:
        steps = [FunnelStep(*step) for step in found.body["steps"]]
        shared = FunnelCounts(steps, int(found.body["enrolled"]))
        if cache.fresh(found.counted_at, now):
            return shared, found.counted_at
        key = FunnelCache.key(scope, keys)
        if later is not None and found.counted_at <= now:
            if cache.claim(key):  # else this worker is recounting it already

                def recount(fresh_session: Session, when: datetime) -> None:
                    try:
                        cache.put(key, recount_funnel(fresh_session, when, scope, keys), when)
                    finally:
                        cache.release(key)

                later(recount)
            return shared, found.counted_at
    return recount_funnel(session, now, scope, keys), now


def recount_funnel(session: Session, now: datetime, scope: Scope, keys: CourseKeys) -> FunnelCounts:
    """Count the funnel and share it as counted at ``now``."""
    counts = funnel_counts(session, scope, keys)
    body = {"enrolled": counts.enrolled, "steps": [list(astuple(s)) for s in counts.steps]}
    name, version = _funnel_snapshot(scope, keys)
    write_snapshot(session, name, version, now, body)
    return counts


def completion(session: Session, at: Moment, scope: Scope) -> Dashboard:
    """Figures and the bars by branch and cohort, live, in one query.

    The learners are grouped by branch, cohort and status, so the status CASE is
    evaluated once per learner (PostgreSQL would otherwise inline it into every
    aggregate that mentions it); the groups are few and are summed up here.
    """
    if session.get_bind().dialect.name == "postgresql":
        # The planner guesses a group per learner (the status is an expression of the time)
        # and, under the default 4 MB, sorts every learner on disk: 120-180 ms at 100,000.
        # The groups are a few hundred: with room to hash them, 42-58 ms (this transaction
        # only; docs/PERFORMANCE.md).
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    facts = summary_facts(at, scope).subquery("facts")
    within = [
        func.sum(case((facts.c.expires_at < at.window_end(d), 1), else_=0)).label(f"within_{d}")
        for d in at.windows
    ]
    rows = session.execute(
        select(
            facts.c.branch,
            facts.c.cohort_id,
            facts.c.cohort_name,
            facts.c.status,
            func.count().label("learners"),
            *within,
        ).group_by(facts.c.branch, facts.c.cohort_id, facts.c.cohort_name, facts.c.status)
    ).all()
    result = Dashboard(
        by_status=dict.fromkeys(STATUSES, 0), expiring_within=dict.fromkeys(at.windows, 0)
    )
    branches: dict[str, list[int]] = {}
    cohorts: dict[str, tuple[str, list[int]]] = {}
    for row in rows:
        counts = row._mapping
        learners = counts["learners"]
        result.enrolled += learners
        result.by_status[row.status] += learners
        if row.status in CERTIFIED:
            for d in at.windows:
                result.expiring_within[d] += counts[f"within_{d}"] or 0
        cohort_key = str(row.cohort_id) if row.cohort_id is not None else ""
        for tally in (
            branches.setdefault(row.branch, [0, 0, 0]),
            cohorts.setdefault(cohort_key, (row.cohort_name or "", [0, 0, 0]))[1],
        ):
            tally[0] += learners
            tally[1] += learners if row.status in CERTIFIED else 0
            tally[2] += learners if row.status == "overdue" else 0
    result.branches = [
        Bar(name, name, *tally) for name, tally in sorted(branches.items(), key=lambda i: i[0])
    ]
    result.cohorts = worst_first([Bar(k, name, *tally) for k, (name, tally) in cohorts.items()])
    result.at = at.now
    return result


def funnel_counts(session: Session, scope: Scope, keys: CourseKeys) -> FunnelCounts:
    """The funnel with its denominator, both counted now, from the summary."""
    enrolled = session.scalar(
        select(func.count()).select_from(LearnerSummary).where(*summary_filter(scope))
    )
    return FunnelCounts(funnel(session, scope, keys), int(enrolled or 0))


def funnel(session: Session, scope: Scope, keys: CourseKeys) -> list[FunnelStep]:
    """Per module: learners who opened a lesson, finished its lessons, passed its quiz, both;
    one grouped read of ``learner_module_summary`` (counted with these keys: the caller made
    sure of it with ``summary.ensure_current``)."""
    if not keys.lessons_per_module:
        return []
    m = LearnerModuleSummary
    summary_keys = SummaryKeys.of(keys)
    needed = case(keys.lessons_per_module, value=m.module_slug, else_=0)
    lessons_done = and_(needed > 0, m.lessons_done >= needed)
    without_quiz = [slug for slug in keys.lessons_per_module if slug not in keys.quiz_modules]
    quiz_done = or_(m.quiz_passed.is_(True), m.module_slug.in_(without_quiz))
    in_scope = select(LearnerSummary.user_id).where(*summary_filter(scope))
    rows = session.execute(
        select(
            m.module_slug,
            func.sum(case((m.opened.is_(True), 1), else_=0)),
            func.sum(case((lessons_done, 1), else_=0)),
            func.sum(case((quiz_done, 1), else_=0)),
            func.sum(case((module_complete(summary_keys, m), 1), else_=0)),
        )
        .where(m.user_id.in_(in_scope), m.module_slug.in_(list(keys.lessons_per_module)))
        .group_by(m.module_slug)
    ).all()
    return _steps(keys, {r[0]: r for r in rows})


def _steps(keys: CourseKeys, found: dict[str, Any]) -> list[FunnelStep]:
    steps = []
    for slug, title in keys.module_titles.items():
        row = found.get(slug)
        steps.append(
            FunnelStep(slug, title, *((int(v or 0) for v in row[1:]) if row else (0, 0, 0, 0)))
        )
    return steps


def funnel_from_raw(session: Session, scope: Scope, keys: CourseKeys) -> list[FunnelStep]:
    """``funnel`` counted from the lesson-progress and quiz rows themselves (the summary's
    check: tests compare the two)."""
    if not keys.lessons_per_module:
        return []
    in_scope = select(User.id).where(*learner_filter(scope))
    modules = list(keys.lessons_per_module)
    # One pass over both tables, grouped by learner and module: no join (SQLite joins only by
    # nested loops, and joining the two sides back to their pairs read each side twice).
    activity = union_all(
        select(
            LessonProgress.user_id,
            LessonProgress.module_slug,
            literal(1).label("opened"),
            case((lesson_done(keys), 1), else_=0).label("done"),
            literal(0).label("passed"),
        ).where(LessonProgress.user_id.in_(in_scope), LessonProgress.module_slug.in_(modules)),
        select(
            QuizAttempt.user_id, QuizAttempt.module_slug, literal(0), literal(0), literal(1)
        ).where(quiz_passed(keys), QuizAttempt.user_id.in_(in_scope)),
    ).subquery("activity")
    learner = (
        select(
            activity.c.module_slug,
            func.sum(activity.c.opened).label("opened"),
            func.sum(activity.c.done).label("done"),
            func.max(activity.c.passed).label("passed"),
        )
        .group_by(activity.c.user_id, activity.c.module_slug)
        .subquery("learner")
    )
    needed = case(keys.lessons_per_module, value=learner.c.module_slug, else_=0)
    lessons_done = and_(needed > 0, learner.c.done >= needed)
    # A module without a question bank is complete once its lessons are: there is no quiz
    # to pass (counting it as never passed showed "0 done" beside certified learners).
    without_quiz = [m for m in modules if m not in keys.quiz_modules]
    quiz_done = or_(learner.c.passed > 0, learner.c.module_slug.in_(without_quiz))
    rows = session.execute(
        select(
            learner.c.module_slug,
            func.sum(case((learner.c.opened > 0, 1), else_=0)),
            func.sum(case((lessons_done, 1), else_=0)),
            func.sum(case((quiz_done, 1), else_=0)),
            func.sum(case((and_(lessons_done, quiz_done), 1), else_=0)),
        ).group_by(learner.c.module_slug)
    ).all()
    return _steps(keys, {r[0]: r for r in rows})
