"""The trainer's journey: edit a lesson, preview it, publish it, see it as a learner;
change a question of a bank and publish that too."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser.checks import axe, describe_violations
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
