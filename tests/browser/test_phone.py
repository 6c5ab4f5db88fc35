"""Phone first (issue 24), at 375 x 812 and at 1280 px: a compact header with the
navigation behind a menu button on the phone, the case page as steps with a sticky
progress bar and errors at their field, tables that keep every column at least four
CJK characters wide (scrolling inside their box on a phone), and an outcome chart whose
words stay readable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.checks import axe, describe_violations
from tests.browser.site import LiveSite, case_step

pytestmark = pytest.mark.browser

HEADER_MAX = 120  # CSS px at 375 x 812

# Each role's main pages: (who, path); {names} come from the `world` fixture.
MAIN_PAGES = [
    ("trainee", "/"),
    ("trainee", "/cases"),
    ("trainee", "/transcript"),
    ("trainer", "/author"),
    ("hr", "/hr"),
    ("hr", "/hr/learners"),
    ("manager", "/hr/learners"),
    ("admin", "/admin/"),
]

# The wide tables: (id, who, path).
TABLE_PAGES = [
    ("hr-learners", "hr", "/hr/learners"),
    ("hr-transcript", "hr", "/hr/learners/{trainee_id}"),
    ("transcript-mine", "trainee", "/transcript"),
    ("quiz-history", "trainee", "/quiz/basics"),
    ("amortisation-schedule", "trainee", "/modules/basics/amounts-terms-guarantees"),
    ("studio-statistics", "trainer", "/author/quizzes/basics"),
    ("case-outcome", "trainee", "/cases/grocery-kiosk/decisions/{decision}"),
    ("case-dossier", "trainee", "/cases/market-trader-overindebted"),
]


def _open(page: Page, world: dict[str, Any], cookies_of, who: str, path: str) -> None:
    page.context.add_cookies(cookies_of(world["users"][who]))
    response = page.goto(path.format(**world))
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("load")


def _until(page: Page, predicate: str, seconds: float = 5) -> None:
    """Wait until a function in the page returns true (page.wait_for_function would
    evaluate a string, which the site's CSP rightly refuses)."""
    for _ in range(int(seconds * 20)):
        if page.evaluate(predicate):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {predicate}")


def _axe_clean(page: Page, axe_source: str) -> None:
    violations = axe(page, axe_source)
    assert not violations, describe_violations(page.url, violations)


# -- the header ------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "path"), MAIN_PAGES, ids=[f"{w}{p}" for w, p in MAIN_PAGES])
def test_the_header_is_compact_and_the_menu_opens(
    page: Page, world, cookies_of, axe_source, size: str, who: str, path: str
) -> None:
    _open(page, world, cookies_of, who, path)
    header = page.locator(".site-header").bounding_box()
    toggle = page.locator(".nav-toggle")
    nav = page.locator(".main-nav")
    assert header is not None
    if size == "desktop":
        expect(toggle).to_be_hidden()
        expect(nav).to_be_visible()  # the full navigation, as before
        assert header["height"] <= 80, header
        return
    assert header["height"] <= HEADER_MAX, f"{path}: the header is {header['height']} px tall"
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")  # the keyboard opens it as a tap does
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(nav.locator("a").first).to_be_visible()
    _axe_clean(page, axe_source)
    nav.locator("a").first.focus()
    page.keyboard.press("Escape")  # closes, focus back on the button
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")


# -- the case page in steps --------------------------------------------------------------


def _fresh_case(page: Page, live: LiveSite, cookies_of, slug: str = "grocery-kiosk") -> None:
    user = live.user("trainee")
    page.context.add_cookies(cookies_of(user.username))
    page.goto(f"/cases/{slug}")


def _current_step(page: Page) -> str:
    return page.locator(".step-progress [aria-current=step]").get_attribute("data-step-link")


def test_the_case_page_goes_in_steps(
    page: Page, live: LiveSite, cookies_of, axe_source, size: str
) -> None:
    _fresh_case(page, live, cookies_of)
    progress = page.locator(".step-progress")
    expect(progress).to_be_visible()
    expect(progress.locator("li")).to_have_count(3)
    assert _current_step(page) == "step-dossier"
    expect(page.locator("#step-dossier")).to_be_visible()
    expect(page.locator("#step-findings")).to_be_hidden()
    expect(page.locator("#step-decision")).to_be_hidden()
    _axe_clean(page, axe_source)

    # Sticky: well down the dossier the progress bar is still at the top of the screen.
    page.locator("#calculator").scroll_into_view_if_needed()
    page.mouse.wheel(0, 400)
    _until(page, "() => window.scrollY > 300")
    box = progress.bounding_box()
    assert box is not None and -1 <= box["y"] <= 1, box

    page.locator("#step-dossier [data-step-go=step-findings]").click()
    expect(page.locator("#step-findings")).to_be_visible()
    expect(page.locator("#step-dossier")).to_be_hidden()
    assert _current_step(page) == "step-findings"
    expect(page.locator("#step-findings-title")).to_be_focused()
    expect(page.locator("#step-findings-title")).to_be_in_viewport()
    page.locator("#step-findings [data-step-go=step-decision]").click()
    expect(page.locator("#step-decision")).to_be_visible()
    assert _current_step(page) == "step-decision"
    submit = page.locator("form.decision-form button[type=submit]")
    expect(submit).to_be_visible()
    expect(page.locator("#step-decision-title")).to_be_in_viewport()
    _axe_clean(page, axe_source)
    # Back goes back, with the choices made so far kept.
    page.locator("#step-decision input[name=option]").first.check()
    page.locator("#step-decision [data-step-go=step-findings]").click()
    expect(page.locator("#step-findings")).to_be_visible()
    case_step(page, "step-decision")
    expect(page.locator("#step-decision input[name=option]").first).to_be_checked()


def test_a_refused_decision_shows_its_error_beside_the_field(
    page: Page, live: LiveSite, cookies_of, axe_source, size: str
) -> None:
    _fresh_case(page, live, cookies_of)
    case_step(page, "step-findings")
    flags = page.locator("#step-findings input[name=flags]")
    flags.nth(0).check()
    flags.nth(2).check()
    case_step(page, "step-decision")
    reasons = page.locator("#step-decision input[name=reasons]")
    reasons.nth(0).check()
    reasons.nth(1).check()
    kept = [reasons.nth(i).get_attribute("value") for i in (0, 1)]
    page.locator("form.decision-form button[type=submit]").click()  # no option chosen

    expect(page).to_have_url(re.compile(r"/cases/grocery-kiosk/decide$"))
    # The step with the error is the one shown, its error beside the options.
    assert _current_step(page) == "step-decision"
    expect(page.locator("#step-decision")).to_be_visible()
    expect(page.locator("#step-findings")).to_be_hidden()
    error = page.locator("#option-error")
    expect(error).to_be_visible()
    expect(error).to_be_in_viewport()
    fieldset = page.locator("fieldset.has-error")
    expect(fieldset).to_have_count(1)
    expect(fieldset.locator("#option-error")).to_have_count(1)
    first_option = fieldset.locator("input[name=option]").first
    expect(first_option).to_have_attribute("aria-describedby", "option-error")
    expect(first_option).to_be_focused()
    err_box, opt_box = error.bounding_box(), first_option.bounding_box()
    assert err_box and opt_box and 0 <= opt_box["y"] - err_box["y"] < 250, (err_box, opt_box)
    # What the trainee chose is kept: the flags in the step before, the reasons here.
    expect(flags.nth(0)).to_be_checked()
    expect(flags.nth(2)).to_be_checked()
    expect(flags.nth(1)).not_to_be_checked()
    for value in kept:
        expect(page.locator(f"input[name=reasons][value='{value}']")).to_be_checked()
    _axe_clean(page, axe_source)

    # A checklist error brings the findings step forward instead.
    page.evaluate(
        """() => { const box = document.querySelector('input[name=flags]');
                   box.value = 'no-such-flag'; box.checked = true; }"""
    )
    first_option.check()
    page.locator("form.decision-form button[type=submit]").click()
    assert _current_step(page) == "step-findings"
    expect(page.locator("#flags-error")).to_be_visible()
    expect(page.locator("#step-decision")).to_be_hidden()
    expect(page.locator("#step-findings input[name=flags]").first).to_be_focused()


# -- tables ------------------------------------------------------------------------------

NARROW_CELLS = """() => {
  const bad = [];
  for (const table of document.querySelectorAll('main table')) {
    if (table.getBoundingClientRect().width === 0) continue;
    for (const cell of table.querySelectorAll('th, td')) {
      const r = cell.getBoundingClientRect();
      if (r.width === 0 || getComputedStyle(cell).display === 'none') continue;
      const s = getComputedStyle(cell);
      const four = 4 * parseFloat(s.fontSize);
      const text = r.width - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
      if (text + 0.5 < four) {  // the room for text, inside the cell's padding
        bad.push(`${table.className || 'table'} "${cell.innerText.trim().slice(0, 20)}": ` +
                 `${Math.round(text)} px < ${Math.round(four)} px`);
      }
    }
  }
  return bad.slice(0, 10);
}"""

# A table wider than the screen's room must scroll inside its own named, focusable box.
UNSCROLLED = """() => {
  const bad = [];
  for (const table of document.querySelectorAll('main table')) {
    const r = table.getBoundingClientRect();
    if (r.width === 0) continue;
    const wrap = table.closest('.table-wrap');
    if (!wrap) {
      const own = getComputedStyle(table).overflowX;
      if (r.right > document.documentElement.clientWidth + 1 && own !== 'auto')
        bad.push(`${table.className || 'table'}: wider than the page, no scroll box`);
      continue;
    }
    const box = wrap.getBoundingClientRect();
    if (box.right > document.documentElement.clientWidth + 1)
      bad.push(`${table.className || 'table'}: its box is wider than the page`);
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      if (getComputedStyle(wrap).overflowX !== 'auto') bad.push('a wrap that does not scroll');
      if (wrap.getAttribute('tabindex') !== '0' || wrap.getAttribute('role') !== 'region' ||
          !(wrap.getAttribute('aria-label') || '').trim())
        bad.push(`${table.className || 'table'}: scrolls, yet no named focusable region`);
    }
  }
  return bad;
}"""

SCROLLING = """() => [...document.querySelectorAll('main .table-wrap')]
  .filter(w => w.scrollWidth > w.clientWidth + 1).length"""


@pytest.mark.parametrize(("name", "who", "path"), TABLE_PAGES, ids=[p[0] for p in TABLE_PAGES])
def test_table_columns_keep_four_characters(
    page: Page, world, cookies_of, axe_source, size: str, name: str, who: str, path: str
) -> None:
    _open(page, world, cookies_of, who, path)
    page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
    page.wait_for_timeout(100)
    assert page.locator("main table").count() > 0, f"{name}: no table"
    narrow = page.evaluate(NARROW_CELLS)
    assert not narrow, f"{name} ({size}): columns narrower than four characters: {narrow}"
    unscrolled = page.evaluate(UNSCROLLED)
    assert not unscrolled, f"{name} ({size}): {unscrolled}"
    widths = page.evaluate("({doc: document.documentElement.scrollWidth, view: innerWidth})")
    assert widths["doc"] <= widths["view"], f"{name} ({size}) scrolls sideways: {widths}"
    _axe_clean(page, axe_source)


@pytest.mark.parametrize("size", ["phone"])  # a phone's width only (not skipped on desktop)
def test_wide_tables_scroll_in_their_box_on_a_phone(
    page: Page, world, cookies_of, size: str
) -> None:
    """The schedule and the learners' table do not fit 375 px: they scroll, not crush."""
    _open(page, world, cookies_of, "trainee", "/modules/basics/amounts-terms-guarantees")
    page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
    expect(page.locator(".loan-schedule").first).to_be_visible()
    _until(page, "() => document.querySelectorAll('.table-wrap[role=region]').length > 0")
    wrap = page.locator(".table-wrap[role=region]").first
    wrap.focus()
    before = wrap.evaluate("w => w.scrollLeft")
    page.keyboard.press("ArrowRight")
    _until(page, f"() => document.activeElement.scrollLeft > {before}")


# -- the outcome chart -------------------------------------------------------------------

CHART_TEXT = """() => {
  const svg = document.querySelector('svg.chart');
  const scale = svg.getScreenCTM().a;
  return [...svg.querySelectorAll('text')].map(t =>
    ({text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale}));
}"""


def test_the_outcome_chart_is_readable(page: Page, world, cookies_of, size: str) -> None:
    _open(page, world, cookies_of, "trainee", "/cases/grocery-kiosk/decisions/{decision}")
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    small = [t for t in page.evaluate(CHART_TEXT) if t["px"] < 11]
    assert not small, f"chart words under 11 px ({size}): {small[:5]}"
    box = chart.bounding_box()
    view = page.viewport_size
    assert box and view
    if size == "phone":
        assert box["width"] >= view["width"] - 2, f"the chart is not full width: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"] + 0.5, box
