"""The trainer's journey: edit a lesson, preview it, publish it, see it as a learner;
change a question of a bank and publish that too."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser.checks import axe, describe_violations, small_tap_targets
from tests.browser.site import LiveSite, no_horizontal_scroll, open_menu, sign_in, sign_out

pytestmark = pytest.mark.browser

LESSON_PATH = "content/04-marketing/03-customer-retention.md"
LESSON_URL = "/modules/marketing/customer-retention"
BANK_PATH = "quizzes/marketing.yaml"
QUESTION = "marketing-02"


def _open_document(page: Page, path: str) -> None:
    page.goto("/author")
    page.locator('a[href="/author/content"]').first.click()
    row = page.locator("table.studio-docs tr", has=page.locator(f'code:text-is("{path}")'))
    row.locator("a").first.click()
    expect(page.locator("textarea#text")).to_be_visible()


def test_trainer_journey(page: Page, live: LiveSite, size: str, shoot, axe_source: str) -> None:
    trainer = live.user("trainer", name="王講師")
    sign_in(page, trainer.username, live.password)
    open_menu(page)
    expect(page.locator('.main-nav a[href="/author"]')).to_be_visible()

    # Edit a lesson: a new paragraph at the end of the text.
    _open_document(page, LESSON_PATH)
    added = f"瀏覽器測試新增的段落 {secrets.token_hex(3)}。"
    text = page.locator("textarea#text")
    text.fill(text.input_value().rstrip("\n") + f"\n\n{added}\n")

    # Preview shows it as learners will see it, before anything is saved.
    page.locator("button[name=action][value=preview]").click()
    expect(page.locator("#studio-preview")).to_contain_text(added)
    no_horizontal_scroll(page)
    violations = axe(page, axe_source)
    assert not violations, describe_violations(page.url, violations)
    shoot(page, "studio-editor")

    page.locator("button[name=action][value=publish]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    # A learner sees the published text on their next page.
    sign_out(page)
    learner = live.user("trainee")
    sign_in(page, learner.username, live.password)
    page.goto(LESSON_URL)
    expect(page.locator(".prose")).to_contain_text(added)
    sign_out(page)

    # Change a question: its prompt, through the question editor, published.
    sign_in(page, trainer.username, live.password)
    _open_document(page, BANK_PATH)
    page.locator('a[href*="/author/banks/"]').first.click()
    page.locator(f'a:has(code:text-is("{QUESTION}"))').click()
    prompt = page.locator("textarea#prompt, input#prompt").first
    marker = f"（瀏覽器測試 {secrets.token_hex(2)}）"
    prompt.fill(prompt.input_value().rstrip() + marker)
    page.locator("button[name=action][value=preview]").click()
    expect(page.locator(".studio-preview")).to_contain_text(marker)
    page.locator("button[name=action][value=publish]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.goto(page.url.split("/questions/")[0])
    expect(page.locator(f'tr:has(code:text-is("{QUESTION}"))')).to_contain_text(
        re.sub(r"\s", "", marker)[:6]
    )


def _no_axe_violations(page: Page, axe_source: str) -> None:
    violations = axe(page, axe_source)
    assert not violations, describe_violations(page.url, violations)
    small = small_tap_targets(page) if page.viewport_size["width"] < 500 else []
    assert not small, "tap targets under 44 px: " + "; ".join(small)


def test_markdown_toolbar_and_live_preview(
    page: Page, live: LiveSite, size: str, axe_source: str
) -> None:
    trainer = live.user("trainer")
    sign_in(page, trainer.username, live.password)
    _open_document(page, LESSON_PATH)
    toolbar = page.get_by_role("toolbar", name="格式")
    expect(toolbar).to_be_visible()
    text = page.locator("textarea#text")
    form, preview = page.locator("form.studio-form"), page.locator(".studio-preview")
    if size == "desktop":  # side by side at 1280 px, one under the other on a phone
        assert preview.bounding_box()["x"] > form.bounding_box()["x"] + 300
    else:
        assert preview.bounding_box()["y"] > form.bounding_box()["y"] + 300

    # Select a word the trainer typed, then Bold: it is wrapped, and the preview shows it
    # without pressing Preview.
    word = f"重點{secrets.token_hex(2)}"
    text.fill(text.input_value().rstrip("\n") + f"\n\n這是 {word} 的段落。\n")
    page.evaluate(
        """word => { const t = document.getElementById('text');
                     const at = t.value.lastIndexOf(word);
                     t.focus(); t.setSelectionRange(at, at + word.length); }""",
        word,
    )
    toolbar.get_by_role("button", name="粗體").click()
    assert f"這是 **{word}** 的段落。" in text.input_value()
    expect(page.locator("#studio-preview strong", has_text=word)).to_be_visible()

    # The toolbar is one tab stop that the arrow keys move through; Enter acts.
    heading = toolbar.get_by_role("button", name="標題")
    heading.focus()
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="粗體")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="斜體")).to_be_focused()
    page.keyboard.press("Enter")
    assert text.input_value().count("*") >= 6  # the italic marks beside the bold ones
    no_horizontal_scroll(page)
    _no_axe_violations(page, axe_source)


def test_question_form_adds_a_choice_and_shows_errors_at_the_field(
    page: Page, live: LiveSite, size: str, axe_source: str
) -> None:
    trainer = live.user("trainer")
    sign_in(page, trainer.username, live.password)
    _open_document(page, "quizzes/law.yaml")
    page.get_by_role("link", name="表單").click()
    page.locator('a:has(code:text-is("law-01"))').click()
    expect(page.locator("#choices")).to_be_visible()
    expect(page.locator("#tolerance")).to_be_hidden()  # a numeric field, not for single choice
    _no_axe_violations(page, axe_source)

    rows = page.locator("[data-choice-list] [data-choice-row]")
    count = rows.count()
    keys = [rows.nth(i).locator("input[name=choice_key]").input_value() for i in range(count)]
    page.get_by_role("button", name="新增選項").click()
    expect(rows).to_have_count(count + 1)
    added = f"瀏覽器新增的選項 {secrets.token_hex(2)}"
    expect(rows.last.locator("input[name=choice_text]")).to_be_focused()
    page.keyboard.type(added)
    key = rows.last.locator("input[name=choice_key]").input_value()
    assert key == next(k for k in "abcdefghijkl" if k not in keys)  # the next free letter
    no_horizontal_scroll(page)
    page.locator("button[name=action][value=draft]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.locator('a:has(code:text-is("law-01"))').click()
    expect(page.locator("[data-choice-list] input[name=choice_text]").last).to_have_value(added)

    # An empty explanation: refused, the problem shown beside the field, the input kept.
    page.locator("textarea#explanation").fill("")
    page.locator("button[name=action][value=draft]").click()
    explanation = page.locator("textarea#explanation")
    expect(explanation).to_have_attribute("aria-invalid", "true")
    expect(explanation).to_have_attribute("aria-describedby", "explanation-error")
    expect(page.locator("#explanation-error")).to_be_visible()
    expect(page.locator("[data-choice-list] input[name=choice_text]").last).to_have_value(added)
    _no_axe_violations(page, axe_source)


def test_case_figures_form_shows_an_error_at_the_field(
    page: Page, live: LiveSite, size: str, axe_source: str
) -> None:
    trainer = live.user("trainer")
    sign_in(page, trainer.username, live.password)
    _open_document(page, "case_studies/grocery-kiosk.yaml")
    page.get_by_role("link", name="表單").click()
    margin = page.get_by_label("毛利率（0.18 即 18%）")
    expect(margin).to_have_value("0.18")
    no_horizontal_scroll(page)
    _no_axe_violations(page, axe_source)
    margin.fill("-1")
    page.locator("button[name=action][value=draft]").click()
    margin = page.get_by_label("毛利率（0.18 即 18%）")
    expect(margin).to_have_value("-1")
    expect(margin).to_have_attribute("aria-invalid", "true")
    error = page.locator("#" + margin.get_attribute("aria-describedby"))
    expect(error).to_be_visible()
    no_horizontal_scroll(page)
    _no_axe_violations(page, axe_source)
