"""A trainee through a multi-visit case, with a break between its stages, and through
the village book: each stage's score, and the shock's effect on the book, on the
outcome pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.site import LiveSite, case_step, no_horizontal_scroll, sign_in, sign_out

pytestmark = pytest.mark.browser

VISITS = "noodle-shop-diversion"
BOOK = "riverside-village-book"
LENDING = ("approve", "approve_modified")


def _submit_first_choice(page: Page, option: str | None = None) -> None:
    case_step(page, "step-decision")
    form = page.locator("form.decision-form")
    if option is None:
        form.locator("input[name=option]").first.check()
    else:
        form.locator(f"input[name=option][value={option}]").check()
    form.locator("button[type=submit]").click()


def _unlocked_trainee(live: LiveSite, name: str):
    """A trainee who has decided two cases of difficulty 1 and two of difficulty 2, which
    opens the difficulty-3 templates (settings.yaml: cases.unlock_after)."""
    user = live.user("trainee", name=name)
    cases = live.catalogue().cases.values()
    easier = [
        c.slug
        for level in (1, 2)
        for c in [c for c in cases if c.spec.difficulty == level and not c.spec.stages][:2]
    ]
    live.decide_cases(user, easier)
    return user


def test_a_multi_visit_case_with_a_break(page: Page, live: LiveSite, size: str, shoot) -> None:
    trainee = _unlocked_trainee(live, "王怡君")
    template = live.catalogue().cases[VISITS]
    lend = next(o.id for o in template.options if o.kind in LENDING)
    page.goto("/login")
    sign_in(page, trainee.username, live.password)
    page.goto(f"/cases/{VISITS}")
    expect(page.locator("#stages-title")).to_contain_text("第 1 階段")
    no_horizontal_scroll(page)
    _submit_first_choice(page, lend)
    expect(page).to_have_url(re.compile(rf"/cases/{VISITS}$"))
    expect(page.locator(".flash-success")).to_contain_text("本階段已記錄")

    # A break: the trainee signs out; later the case opens at the next visit.
    sign_out(page)
    sign_in(page, trainee.username, live.password)
    page.goto(f"/cases/{VISITS}")
    expect(page.locator("#stages-title")).to_contain_text("第 2 階段")
    expect(page.locator(".stage-list")).to_contain_text("已決定")
    shoot(page, "case-stage-visit")
    for _ in range(len(template.spec.stages or [])):
        _submit_first_choice(page)
        if "/decisions/" in page.url:
            break
    expect(page).to_have_url(re.compile(rf"/cases/{VISITS}/decisions/\d+$"))
    results = page.locator("section.case-stages table tbody tr")
    assert results.count() >= 2  # the first decision and at least one visit
    for row in range(results.count()):
        expect(results.nth(row).locator("td.num")).to_have_text(re.compile(r"^\d+\.\d$"))
    no_horizontal_scroll(page)
    shoot(page, "case-stages-outcome")


def test_the_village_book(page: Page, live: LiveSite, size: str, shoot) -> None:
    trainee = _unlocked_trainee(live, "陳建宏")
    book = live.catalogue().cases[BOOK]
    loans = book.spec.book.loans
    page.goto("/login")
    sign_in(page, trainee.username, live.password)
    page.goto(f"/cases/{BOOK}")
    expect(page.locator(".case-stages details")).to_contain_text(book.spec.book.village[:10])
    shoot(page, "village-book")
    for loan in loans:  # lend to every household, the exposed ones as fully as the others
        lend = next(o.id for o in loan.options if o.kind in LENDING)
        _submit_first_choice(page, lend)
    expect(page).to_have_url(re.compile(rf"/cases/{BOOK}/decisions/\d+$"))
    section = page.locator("section.case-stages")
    expect(section.locator("table").first.locator("tbody tr")).to_have_count(len(loans))
    shock = section.locator("table").nth(1)
    expect(shock).to_contain_text("有衝擊時")
    expect(shock).to_contain_text("沒有衝擊時")
    with_shock = shock.locator("tbody tr").nth(0).locator("td").nth(0).inner_text()
    without = shock.locator("tbody tr").nth(1).locator("td").nth(0).inner_text()
    assert float(with_shock.rstrip("%")) > float(without.rstrip("%"))
    no_horizontal_scroll(page)
    shoot(page, "village-book-outcome")
