"""A requirement's key in words: the one sentence the audit trail and the transcript use."""

from __future__ import annotations

import pytest

from courseware.certification import CASES, lesson_key, quiz_key, requirement_name

TITLES = {"basics": "微貸基礎知識"}


def label(message: str, **params: object) -> str:
    return message % params if params else message


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (quiz_key("basics"), "Quiz of 微貸基礎知識"),
        (lesson_key("basics"), "Lessons of 微貸基礎知識"),
        (quiz_key("gone"), "Quiz of gone"),  # a module no longer in the course: its slug
        (CASES, "Loan cases"),
        ("mystery", "mystery"),
    ],
)
def test_requirement_names(key, expected):
    assert requirement_name(key, TITLES, label) == expected
