"""Question types: each parses its definition, serves itself, reads an answer and grades it.

Grading rules (every question is worth one point; an attempt's score is the sum):

- single choice and true/false: all or nothing.
- multiple choice: points = max(0, (right picks - wrong picks) / number of right choices).
  Every right choice and nothing else earns 1; each wrong pick cancels one right pick; the
  points never go below 0.
- numeric: 1 when |answer - key| <= tolerance (absolute, in the answer's unit), else 0.
- ordering: the correct sequence has n - 1 links (step 1 before step 2, step 2 before step 3,
  ...). points = the share of those links the trainee's order keeps, the earlier step placed
  anywhere before the later one. The right order earns 1, the reversed order 0; swapping two
  steps costs one or two links.
- An unanswered question earns 0.

A grade depends only on the answer in the bank's own keys, never on the order the choices or
steps were shown in: the page sends shown positions, which ``read`` maps back to the bank's
keys through the stored served order before anything is saved or graded.

Adding a type: a subclass of ``QuestionType`` registered in ``TYPES``, its template
(templates/learner/quiz/types/<name>.html with ``input(q)``, ``review(q)`` and ``given(q)``
macros; ``given`` shows the answer without the key, after a failed attempt), its label in
the studio's ``TYPE_LABELS`` (courseware/web/studio/forms.py) and its fields in
``question_data`` (courseware/studio/questions.py); see docs/architecture.md.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from courseware.content.schemas import Slug
from courseware.core.errors import N_

Problem = tuple[str, str, dict[str, Any]]  # (field, message id, params)


def _number_as_text(value: Any) -> Any:
    # A choice written as `a: 4500` is meant as text; YAML reads it as a number.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ChoiceKey = Annotated[
    str,
    BeforeValidator(_number_as_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=16),
]
ShortText = Annotated[
    str,
    BeforeValidator(_number_as_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
]


class QuestionBase(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: Slug
    type: str
    prompt: Text
    explanation: Text
    lesson: Slug
    retired: bool = Field(default=False, strict=True)


class SingleQuestion(QuestionBase):
    type: Literal["single"]
    choices: dict[ChoiceKey, ShortText] = Field(min_length=2, max_length=10)
    answer: ChoiceKey


class MultipleQuestion(QuestionBase):
    type: Literal["multiple"]
    choices: dict[ChoiceKey, ShortText] = Field(min_length=2, max_length=10)
    answer: list[ChoiceKey] = Field(min_length=1, max_length=10)


class TrueFalseQuestion(QuestionBase):
    type: Literal["true_false"]
    answer: bool = Field(strict=True)


class NumericQuestion(QuestionBase):
    type: Literal["numeric"]
    answer: float = Field(strict=True, allow_inf_nan=False)
    tolerance: float = Field(default=0.0, ge=0, strict=True, allow_inf_nan=False)
    unit: Annotated[str, StringConstraints(max_length=20)] = ""


class OrderingQuestion(QuestionBase):
    type: Literal["ordering"]
    items: list[ShortText] = Field(min_length=2, max_length=10)


class AnswerError(ValueError):
    """An answer that cannot be read; ``message`` is an English message id."""

    def __init__(self, message: str, params: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})


Fields = Mapping[str, list[str]]  # "" -> the question's main input, "<n>" -> sub-inputs


def _one(fields: Fields) -> str | None:
    values = [v for v in fields.get("", []) if v != ""]
    if len(values) > 1:
        raise AnswerError(N_("Choose only one answer."))
    return values[0] if values else None


def _position(value: str, count: int) -> int:
    if not value.isdigit() or int(value) >= count:
        raise AnswerError(N_("That is not one of the choices."))
    return int(value)


class QuestionType:
    name: ClassVar[str]
    model: ClassVar[type[QuestionBase]]
    # Whether the form has inputs q-<n>-<part> (one per step); others have q-<n> only.
    takes_parts: ClassVar[bool] = False

    @property
    def template(self) -> str:
        return f"learner/quiz/types/{self.name}.html"

    def check(self, question: Any) -> list[Problem]:
        """Problems a schema cannot see (an answer that is not a choice, ...)."""
        return []

    def serve(self, question: Any, rng: random.Random) -> dict[str, Any]:
        """What the trainee is shown: never the key."""
        return {"prompt": question.prompt}

    def read(self, served: Mapping[str, Any], fields: Fields) -> Any:
        """The answer in the bank's keys, None when blank; AnswerError when unreadable."""
        raise NotImplementedError

    def grade(self, key: Mapping[str, Any], answer: Any) -> float:
        """Points between 0 and 1 for ``answer`` against the stored definition ``key``."""
        raise NotImplementedError

    def present(self, served: Mapping[str, Any], answer: Any) -> dict[str, Any]:
        """The input's state for the page."""
        return {}

    def review(
        self, served: Mapping[str, Any], key: Mapping[str, Any], answer: Any
    ) -> dict[str, Any]:
        """The answer beside the right one, for the review page."""
        return {}

    def given(
        self, served: Mapping[str, Any], key: Mapping[str, Any], answer: Any
    ) -> dict[str, Any]:
        """The answer alone, for the review of an attempt that failed: ``review`` without
        anything that gives the key away (``right``, ``tolerance``), so a retake is not a
        copy of the last review."""
        return _without_key(self.review(served, key, answer))


_KEY_FIELDS = frozenset({"right", "tolerance"})


def _without_key(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_key(v) for k, v in value.items() if k not in _KEY_FIELDS}
    if isinstance(value, list):
        return [_without_key(v) for v in value]
    return value


class _Choices(QuestionType):
    def check(self, question: Any) -> list[Problem]:
        keys = question.answer if isinstance(question.answer, list) else [question.answer]
        problems: list[Problem] = []
        for key in keys:
            if key not in question.choices:
                problems.append(("answer", N_("%(key)s is not one of the choices"), {"key": key}))
        if len(set(keys)) != len(keys):
            problems.append(("answer", N_("a choice is listed twice"), {}))
        return problems

    def serve(self, question: Any, rng: random.Random) -> dict[str, Any]:
        choices = [[key, text] for key, text in question.choices.items()]
        rng.shuffle(choices)
        return {"prompt": question.prompt, "choices": choices}

    def _picks(self, served: Mapping[str, Any], values: list[str]) -> list[str]:
        choices = served["choices"]
        return [choices[_position(v, len(choices))][0] for v in values]

    def present(self, served: Mapping[str, Any], answer: Any) -> dict[str, Any]:
        picked = set(answer if isinstance(answer, list) else [answer])
        return {
            "options": [
                {"value": str(i), "text": text, "checked": key in picked}
                for i, (key, text) in enumerate(served["choices"])
            ]
        }

    def review(
        self, served: Mapping[str, Any], key: Mapping[str, Any], answer: Any
    ) -> dict[str, Any]:
        # In the bank's order and keys: the explanation refers to choices by those keys.
        right = set(key["answer"] if isinstance(key["answer"], list) else [key["answer"]])
        picked = set(answer if isinstance(answer, list) else [answer])
        return {
            "options": [
                {"key": k, "text": text, "picked": k in picked, "right": k in right}
                for k, text in key["choices"].items()
            ]
        }


class SingleType(_Choices):
    name = "single"
    model = SingleQuestion

    def read(self, served: Mapping[str, Any], fields: Fields) -> Any:
        value = _one(fields)
        return None if value is None else self._picks(served, [value])[0]

    def grade(self, key: Mapping[str, Any], answer: Any) -> float:
        return 1.0 if isinstance(answer, str) and answer == key["answer"] else 0.0


class MultipleType(_Choices):
    name = "multiple"
    model = MultipleQuestion

    def read(self, served: Mapping[str, Any], fields: Fields) -> Any:
        values = [v for v in fields.get("", []) if v != ""]
        picks = self._picks(served, values)
        if len(set(picks)) != len(picks):
            raise AnswerError(N_("A choice was sent twice."))
        return sorted(picks) or None

    def grade(self, key: Mapping[str, Any], answer: Any) -> float:
        if not isinstance(answer, list):
            return 0.0
        right = set(key["answer"])
        picks = {a for a in answer if isinstance(a, str)}
        hits = len(picks & right)
        misses = len(picks - right)
        return max(0.0, (hits - misses) / len(right))


class TrueFalseType(QuestionType):
    name = "true_false"
    model = TrueFalseQuestion

    def read(self, served: Mapping[str, Any], fields: Fields) -> Any:
        value = _one(fields)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise AnswerError(N_("That is not one of the choices."))
        return value == "true"

    def grade(self, key: Mapping[str, Any], answer: Any) -> float:
        return 1.0 if isinstance(answer, bool) and answer is key["answer"] else 0.0

    def present(self, served: Mapping[str, Any], answer: Any) -> dict[str, Any]:
        return {"answer": answer}

    def review(
        self, served: Mapping[str, Any], key: Mapping[str, Any], answer: Any
    ) -> dict[str, Any]:
        return {"answer": answer, "right": key["answer"]}


def parse_number(text: str, unit: str = "") -> float:
    """A number as people type it: full-width digits, thousands commas, the unit after it."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if unit:
        cleaned = cleaned.removesuffix(unicodedata.normalize("NFKC", unit)).strip()
    cleaned = cleaned.replace(",", "").replace(" ", "").replace("_", "")
    if not cleaned or len(cleaned) > 32:
        raise AnswerError(N_("Enter a number, for example 4499 or 12.5."))
    try:
        value = float(cleaned)
    except ValueError:
        raise AnswerError(N_("Enter a number, for example 4499 or 12.5.")) from None
    if not math.isfinite(value):
        raise AnswerError(N_("Enter a number, for example 4499 or 12.5."))
    return value


class NumericType(QuestionType):
    name = "numeric"
    model = NumericQuestion

    def serve(self, question: Any, rng: random.Random) -> dict[str, Any]:
        return {"prompt": question.prompt, "unit": question.unit}

    def read(self, served: Mapping[str, Any], fields: Fields) -> Any:
        value = _one(fields)
        if value is None or not value.strip():
            return None
        return parse_number(value, served.get("unit", ""))

    def grade(self, key: Mapping[str, Any], answer: Any) -> float:
        if not isinstance(answer, int | float) or isinstance(answer, bool):
            return 0.0
        if not math.isfinite(answer):
            return 0.0
        slack = 1e-9 * max(1.0, abs(key["answer"]))  # binary fractions, not leniency
        return 1.0 if abs(answer - key["answer"]) <= key["tolerance"] + slack else 0.0

    def present(self, served: Mapping[str, Any], answer: Any) -> dict[str, Any]:
        return {
            "value": format_number(answer) if answer is not None else "",
            "unit": served["unit"],
        }

    def review(
        self, served: Mapping[str, Any], key: Mapping[str, Any], answer: Any
    ) -> dict[str, Any]:
        return {
            "answer": format_number(answer) if answer is not None else None,
            "right": format_number(key["answer"]),
            "tolerance": format_number(key["tolerance"]),
            "unit": served["unit"],
        }


def format_number(value: float) -> str:
    return f"{value:.10g}" if not float(value).is_integer() else str(int(value))


class OrderingType(QuestionType):
    name = "ordering"
    model = OrderingQuestion
    takes_parts = True

    def check(self, question: Any) -> list[Problem]:
        if len(set(question.items)) != len(question.items):
            return [("items", N_("an item is listed twice"), {})]
        return []

    def serve(self, question: Any, rng: random.Random) -> dict[str, Any]:
        items = [[index, text] for index, text in enumerate(question.items)]
        # Never show the steps already in the right order: that would give the answer away.
        while [index for index, _text in items] == list(range(len(items))):
            rng.shuffle(items)
        return {"prompt": question.prompt, "items": items}

    def read(self, served: Mapping[str, Any], fields: Fields) -> Any:
        items = served["items"]
        count = len(items)
        unknown = [k for k in fields if k != "" and not (k.isdigit() and int(k) < count)]
        if unknown or any(v for v in fields.get("", [])):
            raise AnswerError(N_("That is not one of the steps."))
        ranks: dict[int, int] = {}
        for shown in range(count):
            values = [v for v in fields.get(str(shown), []) if v != ""]
            if len(values) > 1:
                raise AnswerError(N_("Give each step one position."))
            if values:
                value = values[0]
                if not value.isdigit() or not 1 <= int(value) <= count:
                    raise AnswerError(N_("Positions run from 1 to %(count)s."), {"count": count})
                ranks[shown] = int(value)
        if not ranks:
            return None
        if len(ranks) < count:
            raise AnswerError(N_("Give every step a position."))
        if len(set(ranks.values())) != count:
            raise AnswerError(N_("Each position can be used only once."))
        return [items[shown][0] for shown in sorted(ranks, key=ranks.__getitem__)]

    def grade(self, key: Mapping[str, Any], answer: Any) -> float:
        count = len(key["items"])
        if not isinstance(answer, list) or any(
            not isinstance(item, int) or isinstance(item, bool) for item in answer
        ):
            return 0.0
        if sorted(answer) != list(range(count)):
            return 0.0
        place = {item: position for position, item in enumerate(answer)}
        kept = sum(1 for step in range(count - 1) if place[step] < place[step + 1])
        return kept / (count - 1)

    def present(self, served: Mapping[str, Any], answer: Any) -> dict[str, Any]:
        rank = {item: i + 1 for i, item in enumerate(answer)} if isinstance(answer, list) else {}
        return {
            "count": len(served["items"]),
            "items": [
                {"value": str(i), "text": text, "rank": rank.get(index)}
                for i, (index, text) in enumerate(served["items"])
            ],
        }

    def review(
        self, served: Mapping[str, Any], key: Mapping[str, Any], answer: Any
    ) -> dict[str, Any]:
        texts = key["items"]
        yours = [texts[i] for i in answer] if isinstance(answer, list) else []
        return {
            "yours": [
                {"text": text, "right": i < len(texts) and texts[i] == text}
                for i, text in enumerate(yours)
            ],
            "right": list(texts),
        }


TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (SingleType(), MultipleType(), TrueFalseType(), NumericType(), OrderingType())
}


def question_type(name: str) -> QuestionType:
    return TYPES[name]
