"""Question banks: one YAML file per module in quizzes/, validated with located errors.

The format is in DESIGN.md. Loading rules:

- A file that is not valid YAML, whose settings are wrong, whose ``module`` is not a module
  of the course, or which is a second bank for the same module is reported and left out.
- A broken question (unknown type, a missing or wrong field, an answer that is not a choice,
  a lesson that is not in the module, an id already used in any bank) is reported as
  ``questions[i] (id).field`` and left out; the bank keeps serving without it as long as
  enough usable (valid, not retired) questions remain for ``draw``. If too few remain, the
  bank is reported at ``draw`` and left out, so no trainee gets a short quiz.
- Question ids are unique across all banks: statistics and attempts refer to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from courseware.content.catalogue import Catalogue, register_loader
from courseware.content.schemas import Slug, Title
from courseware.core.errors import (
    N_,
    ContentError,
    safe_load_yaml,
    validate_model,
)

from .questions import TYPES, QuestionBase, question_type


class BankSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    module: Slug
    title: Title
    pass_mark: float = Field(gt=0, le=1)
    draw: int = Field(ge=1, le=100)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    cooldown_minutes: int = Field(default=0, ge=0, le=60 * 24 * 30)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=600)
    questions: list[Any] = Field(min_length=1)


@dataclass(frozen=True)
class Bank:
    module: str
    title: str
    pass_mark: float
    draw: int
    max_attempts: int | None
    cooldown_minutes: int
    time_limit_minutes: int | None
    path: str
    revision_id: int | None
    lessons: tuple[str, ...]  # the module's lesson slugs in course order
    questions: tuple[QuestionBase, ...] = field(default_factory=tuple)

    @property
    def active(self) -> list[QuestionBase]:
        return [q for q in self.questions if not q.retired]

    def question(self, question_id: str) -> QuestionBase | None:
        return next((q for q in self.questions if q.id == question_id), None)


def _where(index: int, raw: Any) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return (
        f"questions[{index}] ({ident})"
        if isinstance(ident, str) and ident
        else (f"questions[{index}]")
    )


def parse_question(
    path: str, index: int, raw: Any, lessons: set[str]
) -> tuple[QuestionBase | None, list[ContentError]]:
    """One question, or the located reasons it cannot be served."""
    where = _where(index, raw)
    if not isinstance(raw, dict):
        return None, [ContentError(path, where, N_("must be a mapping of keys to values"))]
    kind = raw.get("type")
    if kind not in TYPES:
        return None, [
            ContentError(
                path,
                f"{where}.type",
                N_("must be one of: %(expected)s"),
                {"expected": ", ".join(TYPES)},
            )
        ]
    qtype = question_type(kind)
    question, errors = validate_model(qtype.model, path, raw, prefix=where)
    if question is None:
        return None, errors
    errors = [
        ContentError(path, f"{where}.{name}", message, params)
        for name, message, params in qtype.check(question)
    ]
    if question.lesson not in lessons:
        errors.append(
            ContentError(
                path,
                f"{where}.lesson",
                N_("%(lesson)s is not a lesson of this module"),
                {"lesson": question.lesson},
            )
        )
    return (None if errors else question), errors


def parse_bank(
    path: str,
    text: str,
    catalogue: Catalogue,
    revision_id: int | None = None,
    taken_ids: dict[str, str] | None = None,
) -> tuple[Bank | None, list[ContentError]]:
    """Parse one bank against the course; ``taken_ids`` maps ids used elsewhere to their file."""
    taken_ids = taken_ids if taken_ids is not None else {}
    data, errors = safe_load_yaml(path, text)
    if errors:
        return None, errors
    settings, errors = validate_model(BankSettings, path, data)
    if settings is None:
        return None, errors
    module = catalogue.module(settings.module)
    if module is None:
        return None, [
            ContentError(
                path,
                "module",
                N_("%(module)s is not a module of the course"),
                {"module": settings.module},
            )
        ]
    lessons = tuple(lesson.slug for lesson in module.lessons)
    questions: list[QuestionBase] = []
    for index, raw in enumerate(settings.questions):
        question, found = parse_question(path, index, raw, set(lessons))
        if question is not None and question.id in taken_ids:
            found = [
                ContentError(
                    path,
                    f"{_where(index, raw)}.id",
                    N_("the id %(id)s is already used in %(other)s"),
                    {"id": question.id, "other": taken_ids[question.id]},
                )
            ]
            question = None
        errors.extend(found)
        if question is not None:
            taken_ids[question.id] = path
            questions.append(question)
    usable = sum(1 for q in questions if not q.retired)
    if usable < settings.draw:
        errors.append(
            ContentError(
                path,
                "draw",
                N_("only %(usable)s usable questions, fewer than draw (%(draw)s): not served"),
                {"usable": usable, "draw": settings.draw},
            )
        )
        return None, errors
    bank = Bank(
        module=settings.module,
        title=settings.title,
        pass_mark=settings.pass_mark,
        draw=settings.draw,
        max_attempts=settings.max_attempts,
        cooldown_minutes=settings.cooldown_minutes,
        time_limit_minutes=settings.time_limit_minutes,
        path=path,
        revision_id=revision_id,
        lessons=lessons,
        questions=tuple(questions),
    )
    return bank, errors


@register_loader("quizzes")
def load_banks(
    files: Mapping[str, str], catalogue: Catalogue, revisions: Mapping[str, int]
) -> None:
    """Put every bank that can serve in ``catalogue.quizzes`` by module slug."""
    taken_ids: dict[str, str] = {}
    for path in sorted(files):
        bank, errors = parse_bank(path, files[path], catalogue, revisions.get(path), taken_ids)
        catalogue.errors.extend(errors)
        if bank is None:
            continue
        if bank.module in catalogue.quizzes:
            other = catalogue.quizzes[bank.module].path
            catalogue.errors.append(
                ContentError(
                    path,
                    "module",
                    N_("the module %(module)s already has a bank: %(other)s"),
                    {"module": bank.module, "other": other},
                )
            )
            for question in bank.questions:  # its ids were never really taken
                if taken_ids.get(question.id) == path:
                    del taken_ids[question.id]
            continue
        catalogue.quizzes[bank.module] = bank
