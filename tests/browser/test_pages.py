"""Every main page, at a desktop and at a phone size, in Chromium.

- axe-core finds no serious or critical violation (WCAG 2.2 A/AA and best practice);
- no English word in the zh-Hant page as rendered (the allowlist of the test-client check);
- every badge carries words, not only a colour;
- on a phone: no sideways scrolling, tap targets of at least 44 px, tables that stack
  or scroll inside their own box.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.checks import (
    axe,
    describe_violations,
    small_tap_targets,
    unreadable_tables,
)
from tests.web.common.test_no_english import english_words, visible_text

pytestmark = pytest.mark.browser

# The user names and employee ids this test site makes up (tests/browser/site.py): data
# shown as entered, not words of the interface.
MADE_UP = re.compile(r"(?:E-)?(?:trainee|trainer|hr|manager|admin|certified)-[0-9a-f]{6}")

# (id, who, path); {names} come from the `world` fixture.
PAGES = [
    ("login", None, "/login"),
    ("verify-form", None, "/verify"),
    ("verify-result", None, "/verify/{code}"),
    ("dashboard", "trainee", "/"),
    ("module", "trainee", "/modules/basics"),
    ("lesson", "trainee", "{longest_lesson}"),
    ("lesson-loan-block", "trainee", "/modules/basics/amounts-terms-guarantees"),
    ("quiz-overview", "trainee", "/quiz/basics"),
    ("quiz-attempt", "trainee", "/quiz/risk/attempts/{open}"),
    ("quiz-review", "trainee", "/quiz/basics/attempts/{failed}/review"),
    ("cases", "trainee", "/cases"),
    ("case-dossier", "trainee", "/cases/market-trader-overindebted"),
    ("case-outcome", "trainee", "/cases/grocery-kiosk/decisions/{decision}"),
    ("case-next-visit", "trainee", "/cases/tea-stall-illness-restructure"),
    ("case-stages-outcome", "trainee", "/cases/noodle-shop-diversion/decisions/{staged_decision}"),
    ("village-book", "trainee", "/cases/riverside-village-book/decisions/{book_decision}"),
    ("portfolio", "trainee", "/cases/portfolio"),
    ("certificate-open", "trainee", "/certificate"),
    ("certificate-mine", "certified", "/certificate"),
    ("certificate-print", "certified", "/certificate/{code}"),
    ("transcript-mine", "trainee", "/transcript"),
    ("glossary", "trainee", "/glossary"),
    ("search", "trainee", "/search?q=現金流量"),
    ("account", "trainee", "/account"),
    ("notices", "trainee", "/notices"),
    ("hr-dashboard", "hr", "/hr"),
    ("hr-learners", "hr", "/hr/learners"),
    ("hr-transcript", "hr", "/hr/learners/{trainee_id}"),
    ("hr-cohorts", "hr", "/hr/cohorts"),
    ("hr-cohort", "hr", "/hr/cohorts/{cohort}"),
    ("hr-audit", "hr", "/hr/audit"),
    ("manager-learners", "manager", "/hr/learners"),
    ("people-certification", "hr", "/people/{trainee_id}/certification"),
    ("author", "trainer", "/author"),
    ("author-quiz", "trainer", "/author/quizzes/basics"),
    ("author-cases", "trainer", "/author/cases"),
    ("studio-documents", "trainer", "/author/content"),
    ("admin-users", "admin", "/admin/"),
    ("admin-new-user", "admin", "/admin/users/new"),
    ("admin-import", "admin", "/admin/import"),
]

BADGES_WITHOUT_WORDS = """() => [...document.querySelectorAll('.badge')]
  .filter(b => b.offsetParent !== null)
  .filter(b => (b.innerText || '').replace(/[\\s✓✗!★]/g, '').length < 1)
  .map(b => b.outerHTML.slice(0, 120))"""


def _open(page: Page, world: dict[str, Any], cookies_of, who: str | None, path: str) -> None:
    if who is not None:
        page.context.add_cookies(cookies_of(world["users"][who]))
    response = page.goto(path.format(**world))
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )
    page.wait_for_load_state("load")


@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_page(
    page: Page, world, cookies_of, axe_source, size: str, name: str, who, path: str
) -> None:
    _open(page, world, cookies_of, who, path)
    problems = []
    violations = axe(page, axe_source)
    if violations:
        problems.append(describe_violations(page.url, violations))
    if bad := page.evaluate(BADGES_WITHOUT_WORDS):
        problems.append(f"badges that are only a colour: {bad}")
    # The page as Chromium rendered it (scripts run), read in zh-Hant: no English words
    # beyond the short allowlist of tests/web/common/test_no_english.py.
    words = {w for w in english_words(visible_text(page.content())) if not MADE_UP.fullmatch(w)}
    if words := sorted(words):
        problems.append(f"English words in the zh-Hant page: {words}")
    if size == "phone":
        widths = page.evaluate(
            "({doc: document.documentElement.scrollWidth, view: window.innerWidth})"
        )
        if widths["doc"] > widths["view"]:
            problems.append(f"the page scrolls sideways on a phone: {widths}")
        if small := small_tap_targets(page):
            problems.append("tap targets under 44 px: " + "; ".join(small))
        if tables := unreadable_tables(page):
            problems.append("tables wider than the phone: " + "; ".join(tables))
    assert not problems, f"{name} ({size}):\n" + "\n".join(problems)
