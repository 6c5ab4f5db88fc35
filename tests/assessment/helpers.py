"""Building quiz answers the way the page sends them, from answers in the bank's keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from courseware.core.models import AttemptQuestion


def fields_for(question: AttemptQuestion, answer: Any) -> dict[str, list[str]]:
    """The form fields that say ``answer`` (bank keys) for this served question."""
    name = f"q-{question.position}"
    served = question.served
    if answer is None:
        return {}
    if question.qtype in ("single", "multiple"):
        keys = [key for key, _text in served["choices"]]
        picks = answer if isinstance(answer, list) else [answer]
        return {name: [str(keys.index(pick)) for pick in picks]}
    if question.qtype == "true_false":
        return {name: ["true" if answer else "false"]}
    if question.qtype == "numeric":
        return {name: [str(answer)]}
    if question.qtype == "ordering":
        return {
            f"{name}-{shown}": [str(answer.index(index) + 1)]
            for shown, (index, _text) in enumerate(served["items"])
        }
    raise AssertionError(question.qtype)


def right_answer(question: AttemptQuestion) -> Any:
    definition = question.definition
    if question.qtype == "ordering":
        return list(range(len(definition["items"])))
    return definition["answer"]


def wrong_answer(question: AttemptQuestion) -> Any:
    definition = question.definition
    if question.qtype == "single":
        return next(k for k in definition["choices"] if k != definition["answer"])
    if question.qtype == "multiple":
        return [k for k in definition["choices"] if k not in definition["answer"]]
    if question.qtype == "true_false":
        return not definition["answer"]
    if question.qtype == "numeric":
        return definition["answer"] + definition["tolerance"] + 100
    return list(reversed(range(len(definition["items"]))))


def form_for(
    questions: Iterable[AttemptQuestion], answers: Mapping[str, Any] | None = None, **extra: str
) -> dict[str, list[str]]:
    """A whole attempt form; ``answers`` maps question id to an answer in bank keys."""
    form: dict[str, list[str]] = {key: [value] for key, value in extra.items()}
    for question in questions:
        if answers is not None and question.question_id in answers:
            form.update(fields_for(question, answers[question.question_id]))
    return form


def all_right(questions: Iterable[AttemptQuestion], **extra: str) -> dict[str, list[str]]:
    questions = list(questions)
    return form_for(questions, {q.question_id: right_answer(q) for q in questions}, **extra)


def all_wrong(questions: Iterable[AttemptQuestion], **extra: str) -> dict[str, list[str]]:
    questions = list(questions)
    return form_for(questions, {q.question_id: wrong_answer(q) for q in questions}, **extra)
