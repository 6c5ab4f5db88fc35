"""Strategies that ignore the material must fail every shipped quiz bank.

Choices are shuffled when served, so a key's letter tells a trainee nothing, but a choice's
text can: a right answer that is always the longest, most hedged or most numeric choice can be
picked without reading a lesson. These tests play such cheap strategies against the real
course banks (the repository's ``content/`` and ``quizzes/``), graded with the real grading
(``question_type(...).grade`` on the definition a quiz stores), and require each strategy's
expected score on the questions it plays to stay at or below ``THRESHOLD``, well under every
bank's pass mark.

Ties are broken at random by a trainee who cannot tell the choices apart, so a strategy's
score on a question is its average over every way of breaking the ties.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import combinations
from typing import Any

import pytest

from courseware.assessment.bank import Bank
from courseware.assessment.questions import (
    MultipleQuestion,
    QuestionBase,
    SingleQuestion,
    question_type,
)
from courseware.content.catalogue import build_catalogue
from courseware.content.store import read_sources
from courseware.core.config import REPO_ROOT

# The six modules' banks. A bank added to the course must be added here (checked below).
BANKS = ["basics", "case-studies", "law", "marketing", "process", "risk"]
# At most half the points, far below any pass mark (0.7-0.8 in the shipped banks).
THRESHOLD = 0.5

Measure = Callable[[str], int]


def _length(text: str) -> int:
    """Characters a trainee sees, spaces and line breaks aside."""
    return len(re.sub(r"\s", "", text))


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _single_expected(question: SingleQuestion, measure: Measure, largest: bool) -> float:
    """Expected points for picking a choice with the largest (or smallest) ``measure``."""
    choices = question.choices
    values = {key: measure(text) for key, text in choices.items()}
    best = max(values.values()) if largest else min(values.values())
    picks = [key for key, value in values.items() if value == best]
    key = question.model_dump(mode="json")
    grade = question_type("single").grade
    return sum(grade(key, pick) for pick in picks) / len(picks)


def _ties_broken(ranked: list[tuple[int, str]], count: int) -> Iterator[list[str]]:
    """Every way of taking the ``count`` largest, ties at the cut taken in all combinations."""
    cut = ranked[count - 1][0]
    above = [key for value, key in ranked if value > cut]
    level = [key for value, key in ranked if value == cut]
    for chosen in combinations(level, count - len(above)):
        yield above + list(chosen)


def _multiple_expected(question: MultipleQuestion, strategy: str) -> float:
    choices = question.choices
    key = question.model_dump(mode="json")
    grade = question_type("multiple").grade
    if strategy == "every choice":
        return grade(key, sorted(choices))
    ranked = sorted(((_length(text), k) for k, text in choices.items()), reverse=True)
    half = (len(choices) + 1) // 2
    picks = list(_ties_broken(ranked, half))
    return sum(grade(key, sorted(pick)) for pick in picks) / len(picks)


SINGLE_STRATEGIES: dict[str, Callable[[Any], float]] = {
    "longest choice": lambda q: _single_expected(q, _length, largest=True),
    "shortest choice": lambda q: _single_expected(q, _length, largest=False),
    "most digits": lambda q: _single_expected(q, _digits, largest=True),
}
MULTIPLE_STRATEGIES: dict[str, Callable[[Any], float]] = {
    "every choice": lambda q: _multiple_expected(q, "every choice"),
    "longest half": lambda q: _multiple_expected(q, "longest half"),
}


@pytest.fixture(scope="module")
def course_banks() -> dict[str, Bank]:
    sources, errors = read_sources(
        {
            "content": REPO_ROOT / "content",
            "quizzes": REPO_ROOT / "quizzes",
            "case_studies": REPO_ROOT / "case_studies",
        }
    )
    assert not errors
    catalogue = build_catalogue(sources)
    assert not catalogue.errors, [str(e) for e in catalogue.errors]
    return dict(catalogue.quizzes)


def _of_type(bank: Bank, qtype: str) -> list[QuestionBase]:
    return [q for q in bank.active if q.type == qtype]


def _scores(
    questions: list[QuestionBase], strategies: dict[str, Callable[[Any], float]]
) -> dict[str, float]:
    return {
        name: sum(play(q) for q in questions) / len(questions) for name, play in strategies.items()
    }


def _banks_to_check() -> list[str]:
    return list(BANKS)


def test_every_bank_of_the_course_is_checked(course_banks: dict[str, Bank]):
    assert sorted(course_banks) == BANKS
    for bank in course_banks.values():
        assert bank.pass_mark > THRESHOLD, bank.module
        # Each strategy below has questions to play in every bank.
        assert _of_type(bank, "single") and _of_type(bank, "multiple"), bank.module


@pytest.mark.parametrize("slug", _banks_to_check())
def test_cheap_strategies_fail_the_single_choice_questions(
    course_banks: dict[str, Bank], slug: str
):
    scores = _scores(_of_type(course_banks[slug], "single"), SINGLE_STRATEGIES)
    assert all(score <= THRESHOLD for score in scores.values()), scores


@pytest.mark.parametrize("slug", _banks_to_check())
def test_cheap_strategies_fail_the_multiple_answer_questions(
    course_banks: dict[str, Bank], slug: str
):
    scores = _scores(_of_type(course_banks[slug], "multiple"), MULTIPLE_STRATEGIES)
    assert all(score <= THRESHOLD for score in scores.values()), scores


def test_the_strategies_do_find_a_tell():
    """Honesty check: a bank whose key is always the longest choice fails the test."""
    told = [
        SingleQuestion.model_validate(
            {
                "id": f"told-{i}",
                "type": "single",
                "prompt": "問題",
                "explanation": "解析",
                "lesson": "alpha",
                "choices": {"a": "短", "b": "比較長的正確答案，寫得很仔細", "c": "中等長度"},
                "answer": "b",
            }
        )
        for i in range(3)
    ]
    assert _scores(told, SINGLE_STRATEGIES)["longest choice"] == 1.0
    every = MultipleQuestion.model_validate(
        {
            "id": "told-m",
            "type": "multiple",
            "prompt": "問題",
            "explanation": "解析",
            "lesson": "alpha",
            "choices": {"a": "甲甲", "b": "乙乙", "c": "丙丙", "d": "丁"},
            "answer": ["a", "b", "c"],
        }
    )
    # Ticking everything: (3 hits - 1 miss) / 3; the longest two: both right, 2 / 3 either way.
    assert _multiple_expected(every, "every choice") == pytest.approx(2 / 3)
    assert _multiple_expected(every, "longest half") == pytest.approx(2 / 3)
