"""Learner progress through the lessons: views, time spent, completion.

Progress is keyed by module and lesson slugs, never by content row ids, so
editing or re-importing the course keeps every learner's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.assessment.services import QuizStanding, quiz_standings
from courseware.clock import utcnow
from courseware.content.catalogue import Catalogue, Lesson, Module
from courseware.models import LessonProgress

# A single report of reading time is capped: a tab left open overnight is not study.
MAX_SECONDS_PER_REPORT = 30 * 60


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
        row = session.scalars(query).one()
    return row


def record_view(
    session: Session, user_id: int, lesson: Lesson, now: datetime | None = None
) -> LessonProgress:
    now = now or utcnow()
    row = _get_or_create(session, user_id, lesson, now)
    row.last_viewed_at = now
    return row


def add_reading_time(
    session: Session, user_id: int, lesson: Lesson, seconds: int, now: datetime | None = None
) -> int:
    """Add reported reading time, capped per report; returns the new total."""
    now = now or utcnow()
    seconds = max(0, min(int(seconds), MAX_SECONDS_PER_REPORT))
    row = _get_or_create(session, user_id, lesson, now)
    row.seconds_spent = (row.seconds_spent or 0) + seconds
    return row.seconds_spent


def mark_done(
    session: Session, user_id: int, lesson: Lesson, now: datetime | None = None
) -> LessonProgress:
    """Mark a lesson done; marking it again keeps the first completion time."""
    now = now or utcnow()
    row = _get_or_create(session, user_id, lesson, now)
    if row.completed_at is None:
        row.completed_at = now
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


def dashboard(session: Session, user_id: int, catalogue: Catalogue) -> Dashboard:
    """The learner's standing on every module (lessons and quiz), from two queries."""
    rows = _rows_for(session, user_id)
    quizzes = quiz_standings(session, user_id)
    modules: list[ModuleStatus] = []
    total = done_total = 0
    for module in catalogue.modules:
        done = [
            lesson
            for lesson in module.lessons
            if (r := rows.get((module.slug, lesson.slug))) is not None and r.completed_at
        ]
        next_lesson = next((lesson.slug for lesson in module.lessons if lesson not in done), None)
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
