"""Question types: reading answers, the stated grading rules, and their properties."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.assessment.questions import (
    TYPES,
    AnswerError,
    MultipleQuestion,
    OrderingQuestion,
    question_type,
)

BASE = {"prompt": "題目", "explanation": "說明", "lesson": "only"}


def _multiple(keys: list[str], right: list[str]) -> MultipleQuestion:
    return MultipleQuestion(
        id="m", type="multiple", choices={k: f"選項{k}" for k in keys}, answer=right, **BASE
    )


@pytest.mark.parametrize(
    ("right", "picks", "points"),
    [
        (["a", "c"], ["a", "c"], 1.0),
        (["a", "c"], ["a"], 0.5),
        (["a", "c"], ["a", "b"], 0.0),  # one right, one wrong: (1 - 1) / 2
        (["a", "c"], ["a", "c", "d"], 0.5),
        (["a", "c"], ["b", "d"], 0.0),  # never below zero
        (["a", "b", "c"], ["a", "b", "d"], 1 / 3),
        (["a", "b", "c"], ["a", "b", "c", "d"], 2 / 3),
        (["a", "c"], None, 0.0),
    ],
)
def test_multiple_choice_partial_credit(right, picks, points):
    key = _multiple(["a", "b", "c", "d"], right).model_dump()
    assert TYPES["multiple"].grade(key, picks) == pytest.approx(points)


@pytest.mark.parametrize(
    ("order", "points"),
    [
        ([0, 1, 2, 3, 4], 1.0),
        ([4, 3, 2, 1, 0], 0.0),
        ([1, 0, 2, 3, 4], 0.75),  # one swap of neighbours breaks one link
        ([1, 2, 3, 4, 0], 0.75),  # the first step moved to the end
        ([0, 3, 2, 1, 4], 0.5),  # swapping steps two apart breaks two links
        ([0, 1, 2, 3], 0.0),  # not a full order of the five steps
        (None, 0.0),
    ],
)
def test_ordering_credits_the_links_kept(order, points):
    key = OrderingQuestion(id="o", type="ordering", items=list("甲乙丙丁戊"), **BASE).model_dump()
    assert TYPES["ordering"].grade(key, order) == pytest.approx(points)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("4499", 4499.0),
        ("4,499", 4499.0),
        (" 4 499 元", 4499.0),
        ("４４９９", 4499.0),
        ("-12.5", -12.5),
        ("1e3", 1000.0),
    ],
)
def test_numeric_answers_read_as_people_type_them(typed, value):
    assert TYPES["numeric"].read({"unit": "元"}, {"": [typed]}) == value


@pytest.mark.parametrize("typed", ["abc", "nan", "inf", "-infinity", "1/2", "4499元元", "9" * 40])
def test_numeric_refuses_what_is_not_a_number(typed):
    with pytest.raises(AnswerError, match="Enter a number"):
        TYPES["numeric"].read({"unit": "元"}, {"": [typed]})


def test_numeric_tolerance_is_absolute_and_inclusive():
    key = {"answer": 113.33, "tolerance": 0.01}
    grade = TYPES["numeric"].grade
    assert grade(key, 113.34) == 1.0 and grade(key, 113.32) == 1.0
    assert grade(key, 113.35) == 0.0 and grade(key, "113.33") == 0.0


@pytest.mark.parametrize(
    ("kind", "served", "fields", "message"),
    [
        ("single", {"choices": [["a", "甲"], ["b", "乙"]]}, {"": ["2"]}, "not one of the choices"),
        ("single", {"choices": [["a", "甲"], ["b", "乙"]]}, {"": ["0", "1"]}, "only one"),
        ("single", {"choices": [["a", "甲"], ["b", "乙"]]}, {"": ["b"]}, "not one of the choices"),
        ("multiple", {"choices": [["a", "甲"], ["b", "乙"]]}, {"": ["0", "0"]}, "twice"),
        ("multiple", {"choices": [["a", "甲"], ["b", "乙"]]}, {"": ["-1"]}, "not one of"),
        ("true_false", {}, {"": ["maybe"]}, "not one of the choices"),
        ("ordering", {"items": [[1, "乙"], [0, "甲"]]}, {"0": ["1"]}, "every step"),
        ("ordering", {"items": [[1, "乙"], [0, "甲"]]}, {"0": ["1"], "1": ["1"]}, "only once"),
        ("ordering", {"items": [[1, "乙"], [0, "甲"]]}, {"0": ["1"], "1": ["3"]}, "from 1 to"),
        ("ordering", {"items": [[1, "乙"], [0, "甲"]]}, {"0": ["1"], "5": ["2"]}, "not one of"),
    ],
)
def test_unreadable_answers_are_refused(kind, served, fields, message):
    with pytest.raises(AnswerError) as raised:
        question_type(kind).read(served, fields)
    assert message in raised.value.message


def test_ordering_is_never_served_in_the_right_order():
    question = OrderingQuestion(id="o", type="ordering", items=["甲", "乙"], **BASE)
    for seed in range(50):
        served = TYPES["ordering"].serve(question, random.Random(seed))
        assert [index for index, _text in served["items"]] == [1, 0]


# --- properties -------------------------------------------------------------------------

keys_strategy = st.lists(
    st.text(string.ascii_lowercase, min_size=1, max_size=3), min_size=2, max_size=8, unique=True
)


@st.composite
def multiple_cases(draw):
    keys = draw(keys_strategy)
    right = draw(st.lists(st.sampled_from(keys), min_size=1, unique=True))
    picks = draw(st.lists(st.sampled_from(keys), unique=True))
    seeds = draw(st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)))
    return keys, right, picks, seeds


def _served_read_grade(kind, question, answer_keys, seed):
    """Serve with ``seed``, send the answer as the page would, read it back and grade."""
    qtype = TYPES[kind]
    served = qtype.serve(question, random.Random(seed))
    shown = [key for key, _text in served["choices"]]
    values = [str(shown.index(k)) for k in answer_keys]
    answer = qtype.read(served, {"": values})
    return qtype.grade(question.model_dump(), answer)


@settings(max_examples=300, deadline=None)
@given(multiple_cases())
def test_multiple_grade_is_bounded_and_independent_of_the_shown_order(case):
    keys, right, picks, (seed_a, seed_b) = case
    question = _multiple(keys, right)
    first = _served_read_grade("multiple", question, picks, seed_a)
    second = _served_read_grade("multiple", question, picks, seed_b)
    assert 0.0 <= first <= 1.0
    assert first == second
    assert (first == 1.0) == (set(picks) == set(right))


@settings(max_examples=200, deadline=None)
@given(keys_strategy, st.data())
def test_single_grade_is_bounded_and_independent_of_the_shown_order(keys, data):
    from courseware.assessment.questions import SingleQuestion

    right = data.draw(st.sampled_from(keys))
    pick = data.draw(st.sampled_from(keys))
    question = SingleQuestion(
        id="s", type="single", choices={k: k.upper() for k in keys}, answer=right, **BASE
    )
    grades = {
        _served_read_grade("single", question, [pick], data.draw(st.integers(0, 2**32)))
        for _ in range(3)
    }
    assert grades == {1.0 if pick == right else 0.0}


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 8), st.data())
def test_ordering_grade_is_bounded_and_independent_of_the_shown_order(count, data):
    question = OrderingQuestion(
        id="o", type="ordering", items=[f"步驟{i}" for i in range(count)], **BASE
    )
    qtype = TYPES["ordering"]
    order = data.draw(st.permutations(list(range(count))))
    grades = set()
    for _ in range(3):
        served = qtype.serve(question, random.Random(data.draw(st.integers(0, 2**32))))
        fields = {
            str(shown): [str(order.index(index) + 1)]
            for shown, (index, _text) in enumerate(served["items"])
        }
        answer = qtype.read(served, fields)
        assert answer == list(order)
        grades.add(qtype.grade(question.model_dump(), answer))
    [grade] = grades
    assert 0.0 <= grade <= 1.0
    assert (grade == 1.0) == (list(order) == list(range(count)))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(TYPES)),
    st.one_of(
        st.none(),
        st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=3),
        st.lists(st.one_of(st.integers(-3, 10), st.text(max_size=2)), max_size=6),
    ),
)
def test_any_stored_answer_grades_between_zero_and_one(kind, answer):
    keys = {
        "single": {"answer": "a", "choices": {"a": "甲", "b": "乙"}},
        "multiple": {"answer": ["a", "b"], "choices": {"a": "甲", "b": "乙", "c": "丙"}},
        "true_false": {"answer": True},
        "numeric": {"answer": 2.5, "tolerance": 0.1},
        "ordering": {"items": ["甲", "乙", "丙"]},
    }
    assert 0.0 <= TYPES[kind].grade(keys[kind], answer) <= 1.0
