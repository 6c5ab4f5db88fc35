"""A choice question's choices as the form's rows: a key, a text and a "right" box each.

The rows are written into a ``QuestionForm``'s choices and answer, which
``courseware.studio.questions.question_data`` then reads like any other form values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from courseware.core.errors import N_
from courseware.studio.questions import CHOICE_LINE, Problem, QuestionForm


@dataclass(frozen=True)
class ChoiceRow:
    """One choice as the form's rows show it: its key, its text, and whether it is right."""

    key: str
    text: str
    right: bool = False


CHOICE_KEY = re.compile(r"^[^\s:：,，、]{1,16}$")
ANSWER_KEYS = re.compile(r"[\s,，、]+")


def choice_rows(form: QuestionForm) -> list[ChoiceRow]:
    """The form's choices as rows, each marked when the answer names it."""
    right = (
        set(ANSWER_KEYS.split(form.answer.strip()))
        if form.type in ("single", "multiple")
        else set()
    )
    rows = []
    for line in form.choices.replace("\r\n", "\n").split("\n"):
        match = CHOICE_LINE.match(line)
        if match is not None:
            rows.append(ChoiceRow(match.group(1), match.group(2), match.group(1) in right))
    return rows


def apply_rows(form: QuestionForm, rows: list[ChoiceRow]) -> list[Problem]:
    """Write the rows into the form's choices and (for choice types) its answer; what in the
    rows cannot be a choice is a problem of "choices", a wrong number of right ones of "answer"."""
    problems: list[Problem] = []
    lines, right, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        key, text = row.key.strip(), " ".join(row.text.split())
        if not key and not text:
            continue
        if not CHOICE_KEY.match(key):
            problems.append(
                (
                    "choices",
                    N_("row %(n)s: give a short key without spaces or punctuation (a, b, c)"),
                    {"n": number},
                )
            )
            continue
        if key in seen:
            problems.append(
                (
                    "choices",
                    N_("row %(n)s: the key %(key)s is used twice"),
                    {"n": number, "key": key},
                )
            )
            continue
        seen.add(key)
        lines.append(f"{key}: {text}")
        if row.right:
            right.append(key)
    form.choices = "\n".join(lines)
    if form.type in ("single", "multiple"):
        form.answer = ", ".join(right)
        if form.type == "single" and len(right) != 1:
            problems.append(("answer", N_("mark exactly one choice as the right answer"), {}))
        elif form.type == "multiple" and not right:
            problems.append(("answer", N_("mark at least one choice as a right answer"), {}))
    return problems
