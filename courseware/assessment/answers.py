"""Reading a whole attempt form against what was served: all answers or none.

Field names are ``q-<position>`` (and ``q-<position>-<n>`` for a step of an ordering
question); the values are shown positions, never the bank's keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from courseware.core.models import AttemptQuestion

from .questions import AnswerError, question_type

FIELD_RE = re.compile(r"^q-(\d{1,3})(?:-(\d{1,3}))?$")
Form = Mapping[str, Sequence[str]]


class AnswersInvalid(Exception):
    """Some answers cannot be read; nothing was saved. ``errors`` maps position to message."""

    def __init__(self, errors: dict[int, AnswerError], unknown: list[str]):
        super().__init__(f"{len(errors)} unreadable answers, {len(unknown)} unknown fields")
        self.errors = errors
        self.unknown = unknown


def read_answers(questions: Sequence[AttemptQuestion], form: Form) -> dict[int, Any]:
    """Every served question's answer from a form, in the bank's keys (AnswersInvalid)."""
    fields: dict[int, dict[str, list[str]]] = {q.position: {} for q in questions}
    unknown: list[str] = []
    for name, values in form.items():
        match = FIELD_RE.match(name)
        if match is None:
            if name.startswith("q-"):
                unknown.append(name)
            continue
        position = int(match.group(1))
        if position not in fields:
            unknown.append(name)
            continue
        fields[position].setdefault(match.group(2) or "", []).extend(str(v) for v in values)
    takes_parts = {q.position for q in questions if question_type(q.qtype).takes_parts}
    for position, parts in fields.items():
        if position not in takes_parts:  # q-<n>-<part> for a question of one input
            unknown.extend(f"q-{position}-{part}" for part in parts if part)
    answers: dict[int, Any] = {}
    errors: dict[int, AnswerError] = {}
    for question in questions:
        try:
            answers[question.position] = question_type(question.qtype).read(
                question.served, fields[question.position]
            )
        except AnswerError as exc:
            errors[question.position] = exc
    if errors or unknown:
        raise AnswersInvalid(errors, unknown)
    return answers
