"""The practice exercises of a lesson as HTML: the form, and the feedback after an answer.

The view fills each practice slot of the rendered lesson with ``learn/_practice.html``
(Jinja escapes every piece of text; the question and explanation were sanitized when the
lesson was rendered). The same feedback partial answers a plain form post (after the
redirect) and a script's fetch (as JSON), so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.numbers import format_decimal
from flask import render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from courseware.content.catalogue import Lesson
from courseware.content.practice import Exercise, check_answer
from courseware.content.render import Rendered, RenderedPractice, fill_practice_slots
from courseware.learning.practice import PracticeRecord


def _figure(value: float, places: int) -> str:
    pattern = "#,##0." + "0" * places if places else "#,##0.########"
    return format_decimal(round(value, places) if places else value, pattern, str(get_locale()))


def expected_answer(exercise: Exercise) -> str:
    """The right answer as the learner sees it after answering."""
    if exercise.kind == "judgement":
        choice = exercise.choice(exercise.answer_key)
        return f"{choice.key}. {choice.text}" if choice else exercise.answer_key
    if exercise.expected is None:
        return ""
    text = _figure(exercise.expected, 2 if exercise.figure else 0)
    return f"{text} {exercise.unit}".strip() if exercise.unit != "%" else f"{text}%"


def loan_terms(exercise: Exercise | None) -> list[tuple[str, str]]:
    """The loan an exercise computes on, listed beside its question from the same numbers."""
    if exercise is None or exercise.loan is None:
        return []
    loan = exercise.loan
    kind = _("declining balance") if loan.rate_type == "declining" else _("flat rate")
    terms = [
        (_("Amount"), _figure(loan.amount, 0)),
        (_("Monthly rate"), f"{_figure(loan.monthly_rate * 100, 0)}% ({kind})"),
        (_("Term"), _("%(n)s months", n=loan.term)),
    ]
    if loan.fee_rate:
        terms.append((_("Upfront fee"), f"{_figure(loan.fee_rate * 100, 0)}%"))
    return terms


def feedback_for(
    practice: RenderedPractice, record: PracticeRecord | None
) -> dict[str, Any] | None:
    """What the feedback region shows for the learner's latest answer (None before one)."""
    exercise = practice.block.exercise
    if exercise is None or record is None:
        return None
    # Judged against the exercise as it reads now, so verdict and explanation agree.
    checked = check_answer(exercise, record.answer)
    given = record.answer
    if exercise.kind == "judgement":
        choice = exercise.choice(record.answer)
        given = f"{choice.key}. {choice.text}" if choice else record.answer
    return {
        "correct": checked.valid and checked.correct,
        "answer": given,
        "expected": expected_answer(exercise),
        "explain_html": practice.explain_html,
        "answered_at": record.answered_at,
        "answers": record.answers,
    }


def practice_action(lesson: Lesson, exercise_id: str) -> str:
    return url_for(
        "learn.practice",
        slug=lesson.module_slug,
        lesson_slug=lesson.slug,
        exercise_id=exercise_id,
    )


def render_feedback(
    practice: RenderedPractice, record: PracticeRecord | None, invalid: bool
) -> str:
    return render_template(
        "learner/learn/_practice_feedback.html",
        exercise=practice.block.exercise,
        feedback=feedback_for(practice, record),
        invalid=invalid,
    )


def lesson_html(
    rendered: Rendered,
    lesson: Lesson,
    records: Mapping[str, PracticeRecord],
    invalid: str = "",
) -> str:
    """The lesson's HTML with every practice slot filled for this learner."""

    def fill(practice: RenderedPractice) -> str:
        exercise = practice.block.exercise
        record = records.get(exercise.id) if exercise else None
        return practice_form(practice, lesson, record, bool(exercise and invalid == exercise.id))

    return fill_practice_slots(rendered, fill)


def practice_form(
    practice: RenderedPractice,
    lesson: Lesson,
    record: PracticeRecord | None,
    invalid: bool = False,
    **context: Any,
) -> str:
    """One exercise's form and, after an answer, its feedback; ``context`` adds template
    variables (the page cache's markers)."""
    exercise = practice.block.exercise
    return render_template(
        "learner/learn/_practice.html",
        practice=practice,
        exercise=exercise,
        record=record,
        feedback=feedback_for(practice, record),
        invalid=invalid,
        action=practice_action(lesson, exercise.id) if exercise else "",
        terms=loan_terms(exercise),
        **context,
    )


def preview_html(rendered: Rendered) -> str:
    """For the trainers' preview: each exercise with its computed answer, no form to send."""

    def fill(practice: RenderedPractice) -> str:
        exercise = practice.block.exercise
        return render_template(
            "learner/learn/_practice.html",
            practice=practice,
            exercise=exercise,
            record=None,
            feedback=None,
            invalid=False,
            action="",
            terms=loan_terms(exercise),
            expected=expected_answer(exercise) if exercise else "",
        )

    return fill_practice_slots(rendered, fill)


def find_practice(rendered: Rendered, exercise_id: str) -> RenderedPractice | None:
    return next(
        (
            p
            for p in rendered.practices
            if p.block.exercise is not None and p.block.exercise.id == exercise_id
        ),
        None,
    )
