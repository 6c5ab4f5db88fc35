"""A lesson's practice computation answered with the keyboard alone: wrong, then right,
with the feedback announced in place (no reload) and both answers recorded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from courseware.content.practice import find_practice_blocks
from courseware.core.models import PracticeAnswer
from tests.browser.checks import assert_focus_visible, focused
from tests.browser.site import LiveSite

pytestmark = pytest.mark.browser

EXERCISE = "wang-griddle-installment"
MAX_TABS = 600


def _lesson_of(live: LiveSite, exercise_id: str):
    for module in live.catalogue().modules:
        for lesson in module.lessons:
            for block in find_practice_blocks(lesson.body):
                if block.exercise is not None and block.exercise.id == exercise_id:
                    return module.slug, lesson, block.exercise
    raise AssertionError(f"no lesson has the exercise {exercise_id}")


def test_practice_computation_wrong_then_right_by_keyboard(
    page: Page, live: LiveSite, cookies_of, size: str
) -> None:
    module, lesson, exercise = _lesson_of(live, EXERCISE)
    user = live.user("trainee")
    page.context.add_cookies(cookies_of(user.username))
    url = f"/modules/{module}/{lesson.slug}"
    page.goto(url)
    field = f"practice-{EXERCISE}-answer"
    feedback = page.locator(f"#practice-{EXERCISE}-feedback")
    expect(feedback).to_have_attribute("aria-live", "polite")

    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        info = focused(page)
        assert_focus_visible(info)
        if page.evaluate("document.activeElement.id") == field:
            break
    else:
        raise AssertionError("Tab never reached the practice answer")
    label = page.evaluate(f"document.querySelector(`label[for='{field}']`).innerText")
    assert label.strip(), "the answer field has no label"

    page.keyboard.type("1000")
    page.keyboard.press("Enter")  # submits the form from its text field
    expect(feedback.locator(".practice-verdict")).to_have_class(re.compile("is-wrong"))
    assert page.evaluate("document.activeElement.id") == field  # focus stays to try again
    right = f"{exercise.expected:.0f}"
    expect(feedback).to_contain_text(f"{exercise.expected:,.2f}")  # the computed figure

    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(right)
    page.keyboard.press("Tab")  # on to the button, and Enter presses it
    info = focused(page)
    assert_focus_visible(info)
    assert info["tag"] == "button", info
    page.keyboard.press("Enter")
    expect(feedback.locator(".practice-verdict")).to_have_class(re.compile("is-right"))
    assert page.url.endswith(url)  # answered in place: no reload, no redirect

    with live.session() as db:
        rows = db.scalars(
            select(PracticeAnswer)
            .where(PracticeAnswer.user_id == user.id)
            .order_by(PracticeAnswer.id)
        ).all()
        assert [(r.exercise_id, r.answer, r.correct) for r in rows] == [
            (EXERCISE, "1000", False),
            (EXERCISE, right, True),
        ]

    page.reload()  # the learner's own last answer is there when they come back
    expect(page.locator(f"#{field}")).to_have_value(right)
    expect(feedback.locator(".practice-verdict")).to_have_class(re.compile("is-right"))
