"""When a quiz review shows the key: once the quiz is passed, not before, and not on the
strength of a pass that was reset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from courseware.assessment.attempts import key_shown
from courseware.core.models import QuizAttempt

RESET = datetime(2026, 3, 1, tzinfo=UTC)


def attempt(passed: bool | None, reset_at: datetime | None = None) -> QuizAttempt:
    return QuizAttempt(passed=passed, reset_at=reset_at)


@pytest.mark.parametrize(
    ("this", "others", "shown"),
    [
        (attempt(True), [], True),  # this attempt passed
        (attempt(False), [], False),  # failed, nothing passed yet: what to reread only
        (attempt(None), [], False),  # not graded (expired unanswered)
        (attempt(False), [attempt(False), attempt(True)], True),  # passed another time
        (attempt(False), [attempt(True, RESET)], False),  # that pass was reset
        (attempt(False), [attempt(True, RESET), attempt(True)], True),
    ],
)
def test_the_key_shows_once_the_quiz_is_passed(this, others, shown):
    assert key_shown(this, [this, *others]) is shown
