"""Plain data for the quiz pages: the attempt form (no key in it) and the review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from courseware.core.models import AttemptQuestion

from .answers import FIELD_RE, Form
from .questions import AnswerError, question_type


@dataclass(frozen=True)
class PageQuestion:
    """One question as the attempt form shows it: served text and the saved answer only."""

    position: int
    qtype: str
    template: str
    prompt: str
    state: dict[str, Any]
    error: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewQuestion:
    position: int
    qtype: str
    template: str
    prompt: str
    answered: bool
    points: float
    max_points: float
    correct: bool
    state: dict[str, Any]
    explanation: str
    module_slug: str
    lesson_slug: str


def _typed_text(form: Form | None, position: int) -> str | None:
    """What the trainee typed into a numeric box, to show it back beside its error."""
    if form is None:
        return None
    for name, values in form.items():
        match = FIELD_RE.match(name)
        if match and int(match.group(1)) == position and match.group(2) is None and values:
            return str(values[0])[:40]
    return None


def attempt_page(
    questions: Sequence[AttemptQuestion],
    errors: Mapping[int, AnswerError] | None = None,
    form: Form | None = None,
) -> list[PageQuestion]:
    """The form's questions; with ``errors``, each unreadable answer carries its message."""
    errors = errors or {}
    page = []
    for question in questions:
        qtype = question_type(question.qtype)
        state = qtype.present(question.served, question.answer)
        error = errors.get(question.position)
        if error is not None and question.qtype == "numeric":
            typed = _typed_text(form, question.position)
            if typed is not None:
                state = {**state, "value": typed}
        page.append(
            PageQuestion(
                position=question.position,
                qtype=question.qtype,
                template=qtype.template,
                prompt=question.served["prompt"],
                state=state,
                error=error.message if error else None,
                error_params=error.params if error else {},
            )
        )
    return page


def review_page(
    questions: Sequence[AttemptQuestion], show_key: bool = True
) -> list[ReviewQuestion]:
    """Every question with the answer given, whether it was right and the lesson it tests;
    with ``show_key``, also the right answer and the explanation (after a pass only: after
    a failed attempt the learner rereads the lesson, not the key)."""
    review = []
    for question in questions:
        qtype = question_type(question.qtype)
        shown = qtype.review if show_key else qtype.given
        review.append(
            ReviewQuestion(
                position=question.position,
                qtype=question.qtype,
                template=qtype.template,
                prompt=question.served["prompt"],
                answered=question.answer is not None,
                points=question.points or 0.0,
                max_points=question.max_points,
                correct=bool(question.correct),
                state=shown(question.served, question.definition, question.answer),
                explanation=question.definition["explanation"] if show_key else "",
                module_slug=question.bank_module,
                lesson_slug=question.definition["lesson"],
            )
        )
    return review
