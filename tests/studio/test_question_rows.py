"""A choice question's choices as rows: read from the bank, written back as choices and answer."""

from __future__ import annotations

import pytest

from courseware.studio import question_rows as qrows
from courseware.studio import questions as qedit
from courseware.studio.question_rows import ChoiceRow


def test_the_rows_of_a_question_mark_its_right_answers():
    form = qedit.QuestionForm(type="multiple", choices="a: 一\nb: 二: 三\nc: 四", answer="a, c")
    assert qrows.choice_rows(form) == [
        ChoiceRow("a", "一", True),
        ChoiceRow("b", "二: 三", False),
        ChoiceRow("c", "四", True),
    ]


def test_rows_written_back_read_as_the_same_question():
    form = qedit.QuestionForm(id="x-1", type="single", lesson="only", prompt="p", explanation="e")
    rows = [ChoiceRow("a", " 一  二 ", False), ChoiceRow("", "", False), ChoiceRow("b", "三", True)]
    assert qrows.apply_rows(form, rows) == []
    data, problems = qedit.question_data(form)
    assert not problems
    assert (data["choices"], data["answer"]) == ({"a": "一 二", "b": "三"}, "b")


@pytest.mark.parametrize(
    ("qtype", "rows", "field", "message"),
    [
        ("single", [ChoiceRow("a", "一"), ChoiceRow("b", "二")], "answer", "exactly one"),
        (
            "single",
            [ChoiceRow("a", "一", True), ChoiceRow("b", "二", True)],
            "answer",
            "exactly one",
        ),
        ("multiple", [ChoiceRow("a", "一"), ChoiceRow("b", "二")], "answer", "at least one"),
        ("single", [ChoiceRow("a", "一", True), ChoiceRow("a", "二")], "choices", "used twice"),
        ("single", [ChoiceRow("a b", "一", True)], "choices", "without spaces"),
        ("single", [ChoiceRow("", "一", True)], "choices", "without spaces"),
    ],
)
def test_what_rows_cannot_say_is_a_problem_of_its_field(qtype, rows, field, message):
    form = qedit.QuestionForm(type=qtype)
    problems = qrows.apply_rows(form, rows)
    assert any(f == field and message in m for f, m, _p in problems), problems
