"""Learner progress through the lessons: views, time spent, completion.

Progress is keyed by module and lesson slugs, never by content row ids, so
editing or re-importing the course keeps every learner's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from courseware.assessment.services import QuizStanding, quiz_standings
from courseware.content.catalogue import Catalogue, Lesson, Module
from courseware.core.activity import note_activity
from courseware.core.clock import utcnow
from courseware.core.models import ContentDocument, ContentRevision, LessonProgress
from courseware.core.xapi import lesson_statement

# A single report of reading time is capped: a tab left open overnight is not study.
MAX_SECONDS_PER_REPORT = 30 * 60
# Viewing again the lesson viewed last, within this time, writes nothing (``recent_view``).
VIEW_REFRESH = timedelta(minutes=10)


@dataclass(frozen=True)
class LessonStatus:
    slug: str
    title: str
    minutes: int
    viewed: bool
    done: bool
    completed_at: datetime | None
    seconds_spent: int
    updated_since_done: bool


@dataclass(frozen=True)
class ModuleStatus:
    slug: str
    order: int
    title: str
    summary: str
    lessons_total: int
    lessons_done: int
    next_lesson: str | None
    quiz: QuizStanding | None = None
    has_quiz: bool = False  # a bank serves for this module now
    lessons_updated: int = 0  # done lessons changed materially since they were finished

    @property
    def percent(self) -> int:
        if not self.lessons_total:
            return 0
        return round(100 * self.lessons_done / self.lessons_total)

    @property
    def lessons_complete(self) -> bool:
        return self.lessons_total > 0 and self.lessons_done == self.lessons_total

    @property
    def complete(self) -> bool:
        """Every lesson marked done and the module's quiz passed."""
        return self.lessons_complete and self.quiz is not None and self.quiz.passed


@dataclass(frozen=True)
class Dashboard:
    modules: list[ModuleStatus]
    lessons_total: int
    lessons_done: int
    continue_module: str | None
    continue_lesson: str | None

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / self.lessons_total) if self.lessons_total else 0

    @property
    def modules_complete(self) -> int:
        return sum(1 for m in self.modules if m.complete)

    @property
    def lessons_updated(self) -> int:
        return sum(m.lessons_updated for m in self.modules)


def _get_or_create(session: Session, user_id: int, lesson: Lesson, now: datetime) -> LessonProgress:
    query = select(LessonProgress).where(
        LessonProgress.user_id == user_id,
        LessonProgress.module_slug == lesson.module_slug,
        LessonProgress.lesson_slug == lesson.slug,
    )
    row = session.scalar(query)
    if row is not None:
        return row
    row = LessonProgress(
        user_id=user_id,
        module_slug=lesson.module_slug,
        lesson_slug=lesson.slug,
        first_viewed_at=now,
        last_viewed_at=now,
        seconds_spent=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another request created it first: use theirs.
        return session.scalars(query).one()
    note_activity(session, user_id, now)
    return row


def lesson_row(session: Session, user_id: int, lesson: Lesson, now: datetime) -> LessonProgress:
    """The learner's row for the lesson, created (first viewed ``now``) when there is none."""
    return _get_or_create(session, user_id, lesson, now)


def recent_view(
    session: Session, user_id: int, lesson: Lesson, now: datetime | None = None
) -> LessonProgress | None:
    """The learner's row for this lesson when a view now needs no write, else None (then
    call ``record_view`` in a writing transaction). One query.

    No write is needed when this lesson is the one the learner viewed last (no other lesson
    since) and that view is less than ``VIEW_REFRESH`` old: reloading a page, or reading it
    on, changes nothing but a timestamp. So ``last_viewed_at`` is exact to ``VIEW_REFRESH``
    and the order of last views, which picks "continue where you left off", is exact.
    """
    now = now or utcnow()
    return session.scalar(
        _RECENT_VIEW,
        {
            "user_id": user_id,
            "module_slug": lesson.module_slug,
            "lesson_slug": lesson.slug,
            "since": now - VIEW_REFRESH,
            "now": now,
        },
    )


def recent_view_condition(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """``recent_view``'s rule on ``LessonProgress`` (bind parameters ``module_slug``,
    ``lesson_slug``, ``since`` = now - ``VIEW_REFRESH`` and ``now``) for the learner
    ``user_id``: also the lesson page's fast path's, joined to its user query."""
    later = aliased(LessonProgress)
    return and_(
        LessonProgress.user_id == user_id,
        LessonProgress.module_slug == bindparam("module_slug"),
        LessonProgress.lesson_slug == bindparam("lesson_slug"),
        LessonProgress.last_viewed_at >= bindparam("since"),
        LessonProgress.last_viewed_at <= bindparam("now"),
        ~exists().where(
            later.user_id == user_id,
            later.last_viewed_at > LessonProgress.last_viewed_at,
        ),
    )


# Built once: the lesson page runs it on every view, and building it costs more than running it.
_RECENT_VIEW = select(LessonProgress).where(recent_view_condition(bindparam("user_id")))


def record_view(
    session: Session, user_id: int, lesson: Lesson, now: datetime | None = None
) -> LessonProgress:
    now = now or utcnow()
    row = _get_or_create(session, user_id, lesson, now)
    row.last_viewed_at = now
    lesson_statement(
        session, user_id, "experienced", lesson.module_slug, lesson.slug, now, lesson.title
    )
    return row


def add_reading_time(
    session: Session, user_id: int, lesson: Lesson, seconds: int, now: datetime | None = None
) -> int:
    """Add reported reading time, capped per report and by the time since the lesson was
    first opened (nobody reads a page longer than it has been open); returns the new total."""
    now = now or utcnow()
    seconds = max(0, min(int(seconds), MAX_SECONDS_PER_REPORT))
    row = _get_or_create(session, user_id, lesson, now)
    row.seconds_spent = min((row.seconds_spent or 0) + seconds, _open_for(row, now))
    return row.seconds_spent


def _open_for(row: LessonProgress, now: datetime) -> int:
    """Seconds since the learner first opened the lesson: the most reading time can be."""
    return max(0, int((now - row.first_viewed_at).total_seconds())) if row.first_viewed_at else 0


def note_end_reached(
    session: Session, user_id: int, lesson: Lesson, now: datetime | None = None
) -> LessonProgress:
    """Record that the learner's page reached the end of the lesson (the first time counts)."""
    now = now or utcnow()
    row = _get_or_create(session, user_id, lesson, now)
    if row.reached_end_at is None:
        row.reached_end_at = now
    return row


@dataclass(frozen=True)
class ReadingRule:
    """When a lesson counts as read: time on it and, if asked, its end reached."""

    min_seconds: int = 60
    min_share: float = 0.25  # of the lesson's stated reading time
    requires_end: bool = True

    def seconds_for(self, lesson: Lesson) -> int:
        return max(self.min_seconds, round(self.min_share * lesson.minutes * 60))

    def minutes_for(self, lesson: Lesson) -> int:
        """``seconds_for`` in whole minutes, rounded up (what the page tells the reader)."""
        return -(-self.seconds_for(lesson) // 60)


@dataclass(frozen=True)
class ReadCheck:
    """The outcome of asking to mark a lesson done."""

    done: bool
    seconds: int  # the reading time credited so far
    required_seconds: int
    end_reached: bool

    @property
    def seconds_left(self) -> int:
        return max(0, self.required_seconds - self.seconds)


def complete_reading(
    session: Session,
    user_id: int,
    lesson: Lesson,
    rule: ReadingRule,
    *,
    reported_seconds: int = 0,
    end_reached: bool = False,
    reread: bool = False,
    now: datetime | None = None,
) -> ReadCheck:
    """Mark the lesson done if it was read: enough time on it and its end reached.

    Time is what the page reported (``reported_seconds`` arrives with the request, the
    rest came earlier as beacons), never more than the time since the lesson was first
    opened (a forged report cannot make up time), or, when that is less, the time since
    the lesson was last opened, measured here, so a browser without scripts is credited. The
    credited time is stored, so the transcript shows it. ``end_reached`` is the form's
    word that the end was reached (sent only by a page without scripts, whose form sits
    at the end); a page with scripts reports it as the reader gets there. Confirming
    that a changed lesson was read again (``reread``) asks for the time, not the end.
    """
    now = now or utcnow()
    row = _get_or_create(session, user_id, lesson, now)
    reported = max(0, min(int(reported_seconds), MAX_SECONDS_PER_REPORT))
    row.seconds_spent = min((row.seconds_spent or 0) + reported, _open_for(row, now))
    since_open = int((now - row.last_viewed_at).total_seconds()) if row.last_viewed_at else 0
    credited = max(row.seconds_spent, min(max(0, since_open), MAX_SECONDS_PER_REPORT))
    if end_reached and row.reached_end_at is None:
        row.reached_end_at = now
    check = ReadCheck(
        done=False,
        seconds=credited,
        required_seconds=rule.seconds_for(lesson),
        end_reached=row.reached_end_at is not None,
    )
    if reread:
        if check.seconds_left:
            return check
    elif row.completed_at is None and (
        check.seconds_left or (rule.requires_end and not check.end_reached)
    ):
        return check
    row.seconds_spent = credited
    mark_done(session, user_id, lesson, now)
    return ReadCheck(True, credited, check.required_seconds, check.end_reached)


def mark_done(
    session: Session, user_id: int, lesson: Lesson, now: datetime | None = None
) -> LessonProgress:
    """Mark a lesson done; marking it again keeps the first completion time."""
    now = now or utcnow()
    row = _get_or_create(session, user_id, lesson, now)
    if row.completed_at is None:
        row.completed_at = now
        lesson_statement(
            session, user_id, "completed", lesson.module_slug, lesson.slug, now, lesson.title
        )
    row.completed_revision_id = lesson.revision_id
    return row


def mark_not_done(session: Session, user_id: int, lesson: Lesson) -> None:
    row = session.scalar(
        select(LessonProgress).where(
            LessonProgress.user_id == user_id,
            LessonProgress.module_slug == lesson.module_slug,
            LessonProgress.lesson_slug == lesson.slug,
        )
    )
    if row is not None:
        row.completed_at = None
        row.completed_revision_id = None


def _rows_for(session: Session, user_id: int) -> dict[tuple[str, str], LessonProgress]:
    rows = session.scalars(select(LessonProgress).where(LessonProgress.user_id == user_id))
    return {(r.module_slug, r.lesson_slug): r for r in rows}


def lesson_statuses(
    session: Session,
    user_id: int,
    module: Module,
    material_updates: set[tuple[str, int | None]] | None = None,
) -> list[LessonStatus]:
    """Each lesson of a module with this learner's standing on it."""
    rows = _rows_for(session, user_id)
    statuses = []
    for lesson in module.lessons:
        row = rows.get((module.slug, lesson.slug))
        done = row is not None and row.completed_at is not None
        updated = bool(
            done
            and material_updates
            and (lesson.path, row.completed_revision_id if row else None) in material_updates
        )
        statuses.append(
            LessonStatus(
                slug=lesson.slug,
                title=lesson.title,
                minutes=lesson.minutes,
                viewed=row is not None,
                done=done,
                completed_at=row.completed_at if row else None,
                seconds_spent=row.seconds_spent if row else 0,
                updated_since_done=updated,
            )
        )
    return statuses


def material_updates(session: Session, catalogue: Catalogue) -> set[tuple[str, int | None]]:
    """The (lesson path, revision id) pairs a learner may have finished that a later
    material revision changed: the hook ``lesson_statuses`` takes.

    A revision is material when the trainer ticked "material change" on publishing it;
    any revision of that lesson older than it (and an unknown one) counts as outdated.
    One query, kept with the catalogue: a publish bumps the course version, and every
    worker then builds a new catalogue, so the set is never stale.
    """
    cached = catalogue.extras.get("material_updates")
    if cached is not None:
        return cached
    material = select(ContentRevision.document_id).where(
        ContentRevision.material.is_(True), ContentRevision.status == "published"
    )
    rows = session.execute(
        select(
            ContentDocument.path,
            ContentRevision.id,
            ContentRevision.material,
            ContentRevision.status,
        )
        .join(ContentDocument, ContentDocument.id == ContentRevision.document_id)
        .where(ContentRevision.document_id.in_(material))
    )
    newest: dict[str, int] = {}
    ids: dict[str, list[int]] = {}
    for path, revision_id, is_material, status in rows:
        ids.setdefault(path, []).append(revision_id)
        if is_material and status == "published":
            newest[path] = max(newest.get(path, 0), revision_id)
    updates: set[tuple[str, int | None]] = set()
    for path, material_id in newest.items():
        updates.add((path, None))
        updates.update((path, rid) for rid in ids[path] if rid < material_id)
    catalogue.extras["material_updates"] = updates
    return updates


def dashboard(session: Session, user_id: int, catalogue: Catalogue) -> Dashboard:
    """The learner's standing on every module (lessons and quiz), from two queries
    (three when the course version is new to this worker: the material updates)."""
    rows = _rows_for(session, user_id)
    quizzes = quiz_standings(session, user_id)
    updates = material_updates(session, catalogue)
    modules: list[ModuleStatus] = []
    total = done_total = 0
    for module in catalogue.modules:
        done = [
            lesson
            for lesson in module.lessons
            if (r := rows.get((module.slug, lesson.slug))) is not None and r.completed_at
        ]
        next_lesson = next((lesson.slug for lesson in module.lessons if lesson not in done), None)
        updated = sum(
            1
            for lesson in done
            if (lesson.path, rows[(module.slug, lesson.slug)].completed_revision_id) in updates
        )
        modules.append(
            ModuleStatus(
                slug=module.slug,
                order=module.order,
                title=module.title,
                summary=module.summary,
                lessons_total=len(module.lessons),
                lessons_done=len(done),
                next_lesson=next_lesson,
                quiz=quizzes.get(module.slug) or QuizStanding(module.slug, 0, False, False, None),
                has_quiz=module.slug in catalogue.quizzes,
                lessons_updated=updated,
            )
        )
        total += len(module.lessons)
        done_total += len(done)
    cont_module, cont_lesson = _continue_point(rows, catalogue)
    return Dashboard(modules, total, done_total, cont_module, cont_lesson)


def _continue_point(
    rows: dict[tuple[str, str], LessonProgress], catalogue: Catalogue
) -> tuple[str | None, str | None]:
    """The lesson to continue: the last one viewed if unfinished, else the next undone."""
    existing = {
        (m.slug, lesson.slug): (m, lesson) for m in catalogue.modules for lesson in m.lessons
    }
    viewed = [r for key, r in rows.items() if key in existing]
    if viewed:
        last = max(viewed, key=lambda r: r.last_viewed_at)
        if last.completed_at is None:
            return last.module_slug, last.lesson_slug
    for module in catalogue.modules:
        for lesson in module.lessons:
            row = rows.get((module.slug, lesson.slug))
            if row is None or row.completed_at is None:
                return module.slug, lesson.slug
    return None, None
