"""The shipped banks are large enough: any two of a learner's attempts at a module's quiz
share at most a third of their questions, over every attempt the quiz allows."""

from __future__ import annotations

import itertools
import random

import pytest

from courseware.assessment.bank import Bank
from courseware.assessment.drawing import draw_questions
from tests.assessment.test_bank_tells import BANKS, course_banks  # noqa: F401 - a fixture


@pytest.mark.parametrize("slug", BANKS)
def test_two_attempts_share_at_most_a_third_of_their_questions(
    course_banks: dict[str, Bank],  # noqa: F811 - the fixture
    slug: str,
):
    bank = course_banks[slug]
    attempts = bank.max_attempts or 5
    for learner in range(25):
        rng, history = random.Random(learner), []
        for _ in range(attempts):
            drawn = draw_questions([bank], bank.draw, rng, history, bank.max_attempts)
            history.insert(0, {d.question.id for d in drawn})
        for first, second in itertools.combinations(history, 2):
            assert len(first & second) <= bank.draw // 3, (slug, learner)
