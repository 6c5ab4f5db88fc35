"""The ``::: 練習`` block: a practice exercise at the end of a lesson.

A trainer writes a Markdown question, then a few ``key: value`` lines::

    ::: 練習 算出每月應繳金額
    阿美借 60,000 元，分 12 期本息平均攤還。她每月要繳多少元？

    id: installment-ami
    answer: installment
    amount: 60000
    rate: 1.2%
    type: declining
    term: 12
    fee: 1%
    unit: 元
    explain: 遞減餘額法的月付金 I = P × r ÷ (1 − (1 + r)^−n)。
    :::

Two kinds, told apart by their lines:

- a computation: ``answer:`` names a loan figure (installment, effective_annual_rate, ...)
  of the loan in ``amount/rate/type/term/fee``, computed here with
  ``courseware.lending.arithmetic`` exactly as the live loan blocks are, or is a plain number;
  ``tolerance:`` is how far off an answer may be (in the answer's unit);
- a judgement: choices ``a:``, ``b:``, ... and ``answer: b``.

Both need a stable ``id:`` (unique in the lesson: learners' answers are keyed by it) and an
``explain:`` line shown after an answer. Pure: no Flask, no database.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from courseware.content.loanblock import LoanSpec, parse_loan_spec
from courseware.core.errors import N_
from courseware.lending.arithmetic import loan_summary

BLOCK_WORDS = ("練習", "practice")
PRACTICE_RE = re.compile(
    r"^:::[ \t]*(?:練習|practice)(?:[ \t]+(?P<title>[^\n]*?))?[ \t]*\n"
    r"(?P<body>.*?)^:::[ \t]*$\n?",
    re.MULTILINE | re.DOTALL,
)
OPEN_RE = re.compile(r"^:::[ \t]*(?:練習|practice)(?:[ \t]|$)", re.MULTILINE)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FIELD_RE = re.compile(r"^[ \t]*(?P<key>[A-Za-z_]+)[ \t]*:[ \t]?(?P<value>.*)$")

LOAN_KEYS = ("amount", "rate", "type", "term", "fee")
CHOICE_KEYS = tuple("abcdefgh")
OTHER_KEYS = ("id", "answer", "explain", "tolerance", "unit", "over_cap")
KEYS = OTHER_KEYS + LOAN_KEYS + CHOICE_KEYS

# Loan figures an exercise may ask for: name -> (kind of figure, default tolerance).
# Money is typed in the loan's currency, rates as a percentage (14.2 means 14.2%).
MONEY_FIGURES = ("installment", "total_interest", "total_repaid", "fee", "net_disbursed")
RATE_FIGURES = ("effective_monthly_rate", "apr", "effective_annual_rate")
FIGURES = MONEY_FIGURES + RATE_FIGURES
MONEY_TOLERANCE = 1.0  # within one unit of money: rounding to whole 元 is right
RATE_TOLERANCE = 0.05  # percentage points: rounding to one decimal is right
# Taiwan Civil Code art. 205 (2021): interest above 16% a year cannot be claimed. The course
# prices every loan within it, fees included; an exercise about spotting an unlawful price
# says so with ``over_cap: yes``.
LEGAL_CAP = 0.16
YES = ("yes", "true", "是")
NO = ("no", "false", "否")


@dataclass(frozen=True)
class Choice:
    key: str
    text: str


@dataclass(frozen=True)
class Exercise:
    """One practice exercise, checked on the server."""

    id: str
    title: str
    prompt: str  # Markdown
    explain: str  # Markdown (one line)
    kind: str  # "computation" or "judgement"
    figure: str = ""  # a loan figure's name, "" for a plain number or a judgement
    loan: LoanSpec | None = None
    expected: float | None = None  # in the unit the learner types (percent for rates)
    tolerance: float = 0.0
    unit: str = ""
    choices: tuple[Choice, ...] = ()
    answer_key: str = ""
    over_cap: bool = False

    @property
    def is_rate(self) -> bool:
        return self.figure in RATE_FIGURES

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)


@dataclass(frozen=True)
class PracticeError:
    line: int  # 1-based, counted in the text given to find_practice_blocks
    field: str
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class PracticeBlock:
    line: int
    exercise: Exercise | None
    errors: tuple[PracticeError, ...]
    start: int = -1  # offset of a closed block in the text; -1 for one never closed


@dataclass(frozen=True)
class Checked:
    """The verdict on one answer; ``valid`` is False when it is not an answer at all."""

    valid: bool
    correct: bool = False
    answer: str = ""  # the answer as recorded (trimmed, or the choice key)


def _split(body: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    """The prompt lines and the trailing ``key: value`` lines (with their offsets)."""
    lines = body.split("\n")
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        text = lines[index]
        if not text.strip():
            start = index
            continue
        match = FIELD_RE.match(text)
        if match is None or match.group("key").lower() not in KEYS:
            break
        start = index
    fields = []
    for index in range(start, len(lines)):
        match = FIELD_RE.match(lines[index])
        if match is not None:
            fields.append((index, match.group("key").lower(), match.group("value").strip()))
    return lines[:start], fields


def _number(raw: str) -> float | None:
    text = unicodedata.normalize("NFKC", raw).strip().replace(",", "").replace(" ", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _flag(raw: str) -> bool | None:
    word = raw.strip().lower()
    return True if word in YES else False if word in NO else None


def parse_exercise(
    title: str, body: str, first_line: int = 1
) -> tuple[Exercise | None, list[PracticeError]]:
    """Parse the inside of one block; ``first_line`` is the line number of its first line."""
    prompt_lines, fields = _split(body)
    errors: list[PracticeError] = []
    values: dict[str, str] = {}
    where: dict[str, int] = {}
    for offset, key, value in fields:
        if key in values:
            errors.append(PracticeError(first_line + offset, key, N_("this key appears twice")))
            continue
        values[key] = value
        where[key] = first_line + offset

    def error(key: str, message: str, **params: Any) -> None:
        errors.append(PracticeError(where.get(key, first_line - 1), key, message, params))

    prompt = "\n".join(prompt_lines).strip()
    if not prompt:
        error("", N_("the exercise needs a question above its key: value lines"))
    ident = values.get("id", "")
    if not ident:
        error("id", N_("this field is required"))
    elif not ID_RE.match(ident):
        error("id", N_("use lowercase letters, digits and hyphens, such as installment-1"))
    explain = values.get("explain", "")
    if not explain:
        error("explain", N_("this field is required"))
    answer = values.get("answer", "")
    if not answer:
        error("answer", N_("this field is required"))
    over_cap = _flag(values.get("over_cap", "no"))
    if over_cap is None:
        error("over_cap", N_("must be yes or no"))
    choices = tuple(Choice(k, values[k]) for k in CHOICE_KEYS if k in values)
    common = {"id": ident, "title": title.strip(), "prompt": prompt, "explain": explain}
    if choices:
        exercise = _judgement(values, choices, error, common)
    else:
        exercise = _computation(values, where, first_line, errors, error, common)
    if errors or exercise is None:
        return None, errors
    return exercise, []


def _judgement(values: dict[str, str], choices, error, common) -> Exercise | None:
    for key in (*LOAN_KEYS, "tolerance", "unit", "over_cap"):
        if key in values:
            error(key, N_("not used in an exercise with choices"))
    if len(choices) < 2:
        error(choices[0].key, N_("an exercise with choices needs at least two (a:, b:, ...)"))
    for choice in choices:
        if not choice.text:
            error(choice.key, N_("must not be empty"))
    answer = values.get("answer", "").strip().lower()
    if answer and answer not in {c.key for c in choices}:
        error(
            "answer",
            N_("must be one of the choices: %(expected)s"),
            expected=", ".join(c.key for c in choices),
        )
    return Exercise(kind="judgement", choices=choices, answer_key=answer, **common)


def _computation(values, where, first_line, errors, error, common) -> Exercise | None:
    answer = values.get("answer", "").strip()
    tolerance = None
    if "tolerance" in values:
        tolerance = _number(values["tolerance"])
        if tolerance is None or tolerance < 0:
            error("tolerance", N_("must be a number, zero or more"))
    loan_given = [key for key in LOAN_KEYS if key in values]
    over_cap = _flag(values.get("over_cap", "no")) or False
    if answer in FIGURES:
        loan_text = "\n".join(f"{key}: {values[key]}" for key in loan_given)
        spec, loan_errors = parse_loan_spec(loan_text)
        for err in loan_errors:
            errors.append(
                PracticeError(where.get(err.field, first_line), err.field, err.message, err.params)
            )
        if "unit" in values and answer in RATE_FIGURES:
            error("unit", N_("a rate is answered in percent: leave unit out"))
        if spec is None:
            return None
        summary = loan_summary(
            spec.amount, spec.monthly_rate, spec.term, spec.rate_type, spec.fee_rate
        )
        rate = summary.effective_annual_rate
        if rate > LEGAL_CAP + 1e-9 and not over_cap:
            error(
                "rate",
                N_(
                    "the effective annual rate, fees included, is %(rate)s%%, above the legal "
                    "cap of %(cap)s%% (Civil Code art. 205); write over_cap: yes if the "
                    "exercise is about spotting an unlawful price"
                ),
                rate=round(rate * 100, 2),
                cap=round(LEGAL_CAP * 100, 2),
            )
        if over_cap and rate <= LEGAL_CAP + 1e-9:
            error(
                "over_cap",
                N_("the effective annual rate is %(rate)s%%, within the legal cap"),
                rate=round(rate * 100, 2),
            )
        value = getattr(summary, answer)
        is_rate = answer in RATE_FIGURES
        return Exercise(
            kind="computation",
            figure=answer,
            loan=spec,
            expected=value * 100 if is_rate else value,
            tolerance=(RATE_TOLERANCE if is_rate else MONEY_TOLERANCE)
            if tolerance is None
            else tolerance,
            unit="%" if is_rate else values.get("unit", ""),
            over_cap=over_cap,
            **common,
        )
    expected = _number(answer) if answer else None
    if answer and expected is None:
        error(
            "answer",
            N_(
                "must be a number, a loan figure (%(figures)s) or, with choices a:, b:, ..., "
                "the right choice"
            ),
            figures=", ".join(FIGURES),
        )
    for key in (*loan_given, "over_cap"):
        if key in values:
            error(key, N_("loan terms are used only when answer names a loan figure"))
    return Exercise(
        kind="computation",
        expected=expected,
        tolerance=tolerance or 0.0,
        unit=values.get("unit", ""),
        **common,
    )


def find_practice_blocks(markdown_text: str) -> list[PracticeBlock]:
    """Every practice block in a lesson, with located errors (ids unique in the lesson)."""
    found: list[PracticeBlock] = []
    seen: set[str] = set()
    matched_starts: set[int] = set()
    for match in PRACTICE_RE.finditer(markdown_text):
        matched_starts.add(match.start())
        line = markdown_text.count("\n", 0, match.start()) + 1
        exercise, errors = parse_exercise(match.group("title") or "", match.group("body"), line + 1)
        if exercise is not None and exercise.id in seen:
            errors = [
                PracticeError(
                    line,
                    "id",
                    N_("the id %(id)s is used twice in this lesson"),
                    {"id": exercise.id},
                )
            ]
            exercise = None
        if exercise is not None:
            seen.add(exercise.id)
        found.append(PracticeBlock(line, exercise, tuple(errors), match.start()))
    for match in OPEN_RE.finditer(markdown_text):
        if match.start() not in matched_starts:
            line = markdown_text.count("\n", 0, match.start()) + 1
            error = PracticeError(line, "", N_("the practice block is not closed with a ::: line"))
            found.append(PracticeBlock(line, None, (error,)))
    found.sort(key=lambda block: block.line)
    return found


def check_answer(exercise: Exercise, raw: str) -> Checked:
    """Right or wrong; an answer that is not a number (or not a choice) is not valid."""
    text = raw.strip()[:100]
    if exercise.kind == "judgement":
        key = text.lower()
        if exercise.choice(key) is None:
            return Checked(valid=False, answer=text)
        return Checked(valid=True, correct=key == exercise.answer_key, answer=key)
    bare = text
    for suffix in (exercise.unit, "%", "元"):
        bare = bare.removesuffix(suffix).rstrip() if suffix else bare
    number = _number(bare) if bare else None
    if number is None or exercise.expected is None:
        return Checked(valid=False, answer=text)
    correct = abs(number - exercise.expected) <= exercise.tolerance + 1e-9
    return Checked(valid=True, correct=correct, answer=text)


def without_practice_fields(markdown_text: str) -> str:
    """The text with each practice block reduced to its title and question (for search)."""

    def keep_prompt(match: re.Match[str]) -> str:
        prompt_lines, _fields = _split(match.group("body"))
        return "\n".join([match.group("title") or "", *prompt_lines]) + "\n"

    return PRACTICE_RE.sub(keep_prompt, markdown_text)
