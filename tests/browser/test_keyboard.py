"""The quiz and the case decision with the keyboard alone (Tab, Space, arrows, Enter),
every focused control showing its focus; form errors that are announced."""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import Page, expect

from courseware.assessment.drawing import draw_questions
from tests.browser.answers import bank, squash
from tests.browser.checks import assert_focus_visible, focused
from tests.browser.site import LiveSite, case_step

pytestmark = pytest.mark.browser

MAX_TABS = 400


def _tab(page: Page) -> dict:
    page.keyboard.press("Tab")
    info = focused(page)
    assert_focus_visible(info)
    return info


def _tab_until(page: Page, matches, what: str) -> dict:
    for _ in range(MAX_TABS):
        info = _tab(page)
        if matches(info):
            return info
    raise AssertionError(f"Tab never reached {what}")


def _choose_radio(page: Page, info: dict, value: str) -> None:
    """Inside a radio group: Space picks the focused one, the arrows move and pick."""
    group, at = info["group"], info["group"].index(info["value"])
    target = group.index(value)
    if target == at:
        page.keyboard.press("Space")
    for _ in range(abs(target - at)):
        page.keyboard.press("ArrowDown" if target > at else "ArrowUp")
    now = focused(page)
    assert_focus_visible(now)
    assert now["value"] == value and now["checked"], now


def _label_values(page: Page, name: str) -> dict[str, str]:
    """The squashed label text of each input named ``name`` -> its value."""
    return page.evaluate(
        """name => Object.fromEntries([...document.querySelectorAll(`input[name="${name}"]`)]
             .map(i => [(i.closest('label').innerText || '').replace(/\\s+/g, ''), i.value]))""",
        name,
    )


def test_skip_link_is_the_first_stop_and_shows(page: Page, live: LiveSite, size: str) -> None:
    page.goto("/login")
    info = _tab(page)
    assert info["tag"] == "a" and info["text"], info
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_quiz_with_the_keyboard_alone(page: Page, live: LiveSite, cookies_of, size: str) -> None:
    module = "process"
    user = live.user("trainee")
    page.context.add_cookies(cookies_of(user.username))
    page.goto(f"/quiz/{module}")
    _tab_until(
        page,
        lambda i: (
            i["tag"] == "button"
            and "quiz-start"
            in page.evaluate("document.activeElement.closest('section')?.className || ''")
        ),
        "the start button",
    )
    page.keyboard.press("Enter")
    expect(page.locator("form.quiz-form")).to_be_visible()

    keys = bank(module)
    by_position = {}
    for q in page.locator("li.quiz-question").all():
        by_position[q.get_attribute("id")] = keys[
            squash(q.locator("legend .q-prompt").inner_text())
        ]
    done: set[str] = set()
    for _ in range(MAX_TABS):
        info = _tab(page)
        if info["data"].get("submit") is not None:
            break
        key = by_position.get(info["question"])
        if key is None:
            continue
        if info["type"] == "radio" and info["question"] not in done:
            done.add(info["question"])
            if key.kind == "true_false":
                value = "true" if key.truth else "false"
            else:
                labels = _label_values(page, info["name"])
                value = next(v for text, v in labels.items() if text in key.choose)
            _choose_radio(page, info, value)
        elif info["type"] == "checkbox":
            text = squash(info["text"])
            if text in key.choose:
                page.keyboard.press("Space")
        elif info["tag"] == "input" and info["type"] == "text":
            page.keyboard.type(key.number)
        elif info["tag"] == "select":
            label = page.evaluate(
                "document.querySelector(`label[for='${document.activeElement.id}']`).innerText"
            )
            page.keyboard.press(str(dict(key.ranks)[squash(label)]))
    else:
        raise AssertionError("Tab never reached the submit button")
    page.keyboard.press("Enter")
    expect(page.locator(".quiz-result")).to_have_class(re.compile("result-pass"))


def test_case_decision_with_the_keyboard_alone(
    page: Page, live: LiveSite, cookies_of, size: str
) -> None:
    slug = "market-trader-overindebted"
    case = live.catalogue().cases[slug]
    key = case.spec.key
    flags = {f if isinstance(f, str) else f.id for f in key.red_flags}
    reasons = set(list(key.key_reasons)[:3])
    user = live.user("trainee")
    live.decide_cases(user, ["grocery-kiosk", "bar-owner"])  # difficulty 2 unlocked
    page.context.add_cookies(cookies_of(user.username))
    page.goto(f"/cases/{slug}")
    picked = False
    for _ in range(MAX_TABS):
        info = _tab(page)
        if info["tag"] == "button" and info["data"].get("stepGo"):
            if info["text"].startswith("下一步"):
                page.keyboard.press("Enter")  # on to the next step of the case
            continue
        if (
            info["tag"] == "button"
            and info["type"] == "submit"
            and "decision-form" in page.evaluate("document.activeElement.form?.className || ''")
        ):
            break
        wanted = flags if info["name"] == "flags" else reasons if info["name"] == "reasons" else ()
        if info["value"] in wanted:
            page.keyboard.press("Space")
        elif info["name"] == "option" and not picked:
            _choose_radio(page, info, key.best_option)
            picked = True
    else:
        raise AssertionError("Tab never reached the decision's submit button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{slug}/decisions/\d+$"))
    expect(page.locator(".case-result .result-figure").first).to_contain_text(
        next(o.label for o in case.spec.options if o.id == key.best_option)
    )


def test_form_errors_are_announced(page: Page, live: LiveSite, cookies_of, size: str) -> None:
    # Sign-in refused: the message is an alert.
    page.goto("/login")
    page.locator("#username").fill("nobody-here")
    page.locator("#password").fill("wrong password")
    page.locator("#password").press("Enter")
    expect(page.locator("[role=alert]").first).to_be_visible()

    # A decision without an option: the error is an alert the fieldset points to.
    user = live.user("trainee")
    page.context.add_cookies(cookies_of(user.username))
    page.goto("/cases/grocery-kiosk")
    case_step(page, "step-decision")
    page.locator("form.decision-form button[type=submit]").click()
    error = page.locator(".case-fieldset.has-error .field-error")
    expect(error).to_have_attribute("role", "alert")
    described = page.locator(".case-fieldset.has-error").get_attribute("aria-describedby") or ""
    assert error.get_attribute("id") in described.split()

    # A number the quiz cannot read: the question's error is an alert its input points to.
    # The attempt is opened with a draw that holds a numeric question (3 of 18 in the bank).
    live.attempt(user, "basics", submit=False, rng=random.Random(_seed_with_a_numeric(live)))
    page.goto("/quiz/basics")
    page.locator(".quiz-start a.button").click()  # continue the open attempt
    numeric = page.locator("li.quiz-question input[inputmode=decimal]")
    expect(numeric.first).to_be_visible()
    numeric.first.fill("about a thousand")
    page.locator("[data-submit]").click()
    field = page.locator("li.quiz-question.has-error input[inputmode=decimal]").first
    expect(field).to_have_attribute("aria-invalid", "true")
    message = page.locator(f"#{field.get_attribute('aria-describedby')}")
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_be_visible()


def _seed_with_a_numeric(live: LiveSite) -> int:
    """A seed whose draw of the basics quiz serves at least one numeric question."""
    bank = live.catalogue().quizzes["basics"]
    return next(
        seed
        for seed in range(100)
        if any(
            drawn.question.type == "numeric"
            for drawn in draw_questions([bank], bank.draw, random.Random(seed))
        )
    )
