"""Drawing: spread over the lessons, never a retired question, from one bank or several."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.assessment.bank import Bank
from courseware.assessment.drawing import draw_questions, share_cap
from courseware.assessment.questions import TrueFalseQuestion


def _bank(module: str, per_lesson: dict[str, int], retired: int = 0) -> Bank:
    questions = []
    for lesson, count in per_lesson.items():
        for n in range(count + retired):
            questions.append(
                TrueFalseQuestion(
                    id=f"{module}-{lesson}-{n}",
                    type="true_false",
                    prompt="題目",
                    explanation="說明",
                    lesson=lesson,
                    answer=True,
                    retired=n >= count,
                )
            )
    return Bank(
        module=module,
        title="測驗",
        pass_mark=0.8,
        draw=3,
        max_attempts=None,
        cooldown_minutes=0,
        time_limit_minutes=None,
        path=f"quizzes/{module}.yaml",
        revision_id=1,
        lessons=tuple(per_lesson),
        questions=tuple(questions),
    )


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 3), st.integers(0, 2**32))
def test_draws_spread_evenly_over_lessons(count_per_lesson, seed):
    bank = _bank("m", {"a": 5, "b": 5, "c": 3}, retired=2)
    drawn = draw_questions([bank], count_per_lesson * 3, random.Random(seed))
    lessons = Counter(d.question.lesson for d in drawn)
    assert len(drawn) == count_per_lesson * 3
    assert lessons == {"a": count_per_lesson, "b": count_per_lesson, "c": count_per_lesson}
    assert not any(d.question.retired for d in drawn)
    assert len({d.question.id for d in drawn}) == len(drawn)


def test_a_draw_not_divisible_by_the_lessons_differs_by_at_most_one():
    bank = _bank("m", {"a": 4, "b": 4, "c": 4})
    for seed in range(30):
        lessons = Counter(d.question.lesson for d in draw_questions([bank], 7, random.Random(seed)))
        assert sorted(lessons.values()) == [2, 2, 3]


def test_several_banks_can_be_drawn_from_together():
    banks = [_bank("m1", {"a": 3, "b": 3}), _bank("m2", {"c": 3})]
    drawn = draw_questions(banks, 6, random.Random(1))
    assert Counter(d.bank.module for d in drawn) == {"m1": 4, "m2": 2}


def test_a_draw_asks_for_no_more_than_there_is():
    assert len(draw_questions([_bank("m", {"a": 2})], 10, random.Random(0))) == 2


# Retakes: a new attempt shares few questions with the learner's earlier ones.


def _ids(drawn) -> set[str]:
    return {d.question.id for d in drawn}


def _attempts(bank: Bank, count: int, attempts: int, seed: int) -> list[set[str]]:
    rng, history = random.Random(seed), []
    for _ in range(attempts):
        history.insert(0, _ids(draw_questions([bank], count, rng, history, attempts)))
    return history[::-1]


def test_the_share_cap_is_the_least_that_lets_the_fresh_questions_last():
    # 30 questions, 10 a draw, 5 attempts: 10 + 8 + 6 + 4 + 2 fresh ones, 2 shared a pair.
    assert share_cap(30, 10, 5) == 2
    assert share_cap(50, 10, 5) == 0 and share_cap(40, 10, 5) == 1
    assert share_cap(10, 10, 2) == 10  # nothing new to draw: the whole bank again


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32))
def test_any_two_attempts_share_at_most_a_third_when_the_bank_allows(seed):
    bank = _bank("m", {"a": 10, "b": 10, "c": 10})
    history = _attempts(bank, 9, 5, seed)
    for first, second in itertools.combinations(history, 2):
        assert len(first & second) <= 3
    for drawn in history:  # still spread evenly over the lessons
        assert Counter(q.split("-")[1] for q in drawn) == {"a": 3, "b": 3, "c": 3}


def test_without_a_limit_on_attempts_a_retake_takes_fresh_questions_first():
    bank = _bank("m", {"a": 6, "b": 6, "c": 6})
    for seed in range(20):
        rng = random.Random(seed)
        first = _ids(draw_questions([bank], 9, rng))
        second = _ids(draw_questions([bank], 9, rng, [first]))
        assert not first & second


def test_when_every_question_was_served_the_least_served_come_first():
    bank = _bank("m", {"a": 4})
    often = {"m-a-0", "m-a-1"}
    for seed in range(20):
        earlier = [{"m-a-3"}, {"m-a-2"}, often, often]
        assert _ids(draw_questions([bank], 2, random.Random(seed), earlier)) == {"m-a-2", "m-a-3"}
