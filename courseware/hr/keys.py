"""What counts as done in the published course (the course keys), and the SQL conditions that
count lessons done, quizzes passed and cases counted with them: shared by HR's reports
(``courseware.hr.reports``) and the summary kept on write (``courseware.hr.summary``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_

from courseware.certification.policy import Policy
from courseware.content.catalogue import Catalogue
from courseware.core.models import CaseDecision, LessonProgress, QuizAttempt


@dataclass(frozen=True)
class CourseKeys:
    """What counts as done in the course as published now, for counting in SQL."""

    lessons: tuple[tuple[str, str], ...]
    lessons_per_module: dict[str, int]
    quiz_modules: tuple[str, ...]
    module_titles: dict[str, str]
    cases_required: int

    @property
    def lessons_total(self) -> int:
        return len(self.lessons)


def course_keys(catalogue: Catalogue, policy: Policy) -> CourseKeys:
    return CourseKeys(
        lessons=tuple((m.slug, lesson.slug) for m in catalogue.modules for lesson in m.lessons),
        lessons_per_module={m.slug: len(m.lessons) for m in catalogue.modules},
        quiz_modules=tuple(m.slug for m in catalogue.modules if m.slug in catalogue.quizzes),
        module_titles={m.slug: m.title for m in catalogue.modules},
        cases_required=policy.certification.cases_required,
    )


def lesson_done(keys: CourseKeys) -> ColumnElement[bool]:
    # "module/lesson" IN (...) rather than (module, lesson) IN (...): databases expand a row
    # IN list into one comparison a pair, but look a plain IN list up in a hash (PostgreSQL
    # took a third of the time on 220,000 rows). Slugs hold no "/", so the key is exact.
    return and_(
        LessonProgress.completed_at.is_not(None),
        (LessonProgress.module_slug + "/" + LessonProgress.lesson_slug).in_(
            [f"{module}/{lesson}" for module, lesson in keys.lessons]
        ),
    )


def quiz_passed(keys: CourseKeys) -> ColumnElement[bool]:
    return and_(
        QuizAttempt.kind == "module",
        QuizAttempt.status == "submitted",
        QuizAttempt.passed.is_(True),
        QuizAttempt.reset_at.is_(None),
        QuizAttempt.module_slug.in_(keys.quiz_modules),
    )


def case_counts() -> ColumnElement[bool]:
    return and_(CaseDecision.first_key.is_not(None), CaseDecision.reset_at.is_(None))
