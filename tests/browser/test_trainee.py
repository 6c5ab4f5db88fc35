"""The trainee's journey, as a loan officer on a phone or a desktop would take it.

Sign in, read a lesson and mark it done, fail a quiz, read the review, come back after
the cooldown and pass, decide a loan case and read the outcome, see the loan book,
download the certificate, sign out. What came before (the other lessons, quizzes and
cases) is arranged through the services, so the journey ends with a certificate.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from courseware.certification.policy import Policy
from courseware.core import clock
from tests.browser.answers import answer_rightly
from tests.browser.site import LiveSite, no_horizontal_scroll, open_menu, sign_in, sign_out

pytestmark = pytest.mark.browser

MODULE, LESSON = "basics", "what-is-microloan"
CASE = "grocery-kiosk"
CASE_FLAGS = ["sector-downturn"]
CASE_REASONS = ["capacity-comfortable", "clean-track-record", "records-verified"]


@pytest.fixture
def trainee(live: LiveSite):
    user = live.user("trainee", name="林雅婷")
    live.finish_lessons(user, except_=(MODULE, LESSON))
    live.pass_quizzes(user, except_=MODULE)
    others = [slug for slug in live.catalogue().cases if slug != CASE]
    live.decide_cases(user, others[:7])
    return user


def test_trainee_journey(page: Page, live: LiveSite, trainee, size: str, shoot) -> None:
    page.goto("/login")
    shoot(page, "login")
    sign_in(page, trainee.username, live.password)

    # The dashboard points at the one lesson left.
    expect(page.locator("h1")).to_have_text("我的課程")
    shoot(page, "dashboard")
    page.get_by_role("link", name="從上次的進度繼續").click()
    expect(page).to_have_url(re.compile(f"/modules/{MODULE}/{LESSON}$"))

    # Read the lesson: it renders, with its table of contents, and fits the screen.
    expect(page.locator("article.lesson h1")).to_be_visible()
    expect(page.locator(".prose p").first).to_be_visible()
    contents = page.locator(".toc details ol")
    if size == "phone":
        # The contents would fill a phone's first screen: folded, the lesson starts on it.
        expect(contents).to_be_hidden()
        expect(page.locator(".prose h2").first).to_be_in_viewport()
        marker = "getComputedStyle(document.querySelector('.toc summary'), '::before').content"
        assert "▸" in page.evaluate(marker)  # it reads as a section to open
        page.locator(".toc summary").click()
        expect(contents).to_be_visible()
        assert "▾" in page.evaluate(marker)
        page.locator(".toc summary").click()
    else:
        expect(contents).to_be_visible()
    no_horizontal_scroll(page)
    shoot(page, "lesson")
    # Marked done at once, the lesson is not counted: it asks for time and its end.
    page.get_by_role("button", name=re.compile("標記為已完成")).click()
    expect(page.locator(".flash-warning")).to_contain_text("本課至少需要閱讀")
    expect(page.locator(".lesson-actions .badge-ok")).to_have_count(0)
    # Having read it (the clock moves on; the button sits after the lesson's end) it is.
    clock.set_time(clock.utcnow() + timedelta(minutes=10))
    page.locator("#lesson-end").scroll_into_view_if_needed()
    page.get_by_role("button", name=re.compile("標記為已完成")).click()
    page.goto(f"/modules/{MODULE}/{LESSON}")
    expect(page.locator(".lesson-actions .badge-ok")).to_contain_text("標記為完成")

    # A first attempt sent in blank fails; the review explains every question.
    page.goto(f"/quiz/{MODULE}")
    page.locator(".quiz-start button[type=submit]").click()
    expect(page.locator("form.quiz-form")).to_be_visible()
    shoot(page, "quiz-attempt")
    page.locator("[data-submit]").click()
    expect(page.locator(".quiz-result h2")).to_contain_text("尚未通過")
    expect(page.locator(".quiz-result")).to_have_class(re.compile("result-fail"))
    # The review says which answers were wrong and what to reread, not the key.
    expect(page.locator(".reread a").first).to_be_visible()
    expect(page.locator(".explanation")).to_have_count(0)
    expect(page.locator(".quiz-questions .is-right")).to_have_count(0)
    shoot(page, "quiz-review")
    # The wait: the review says when the next attempt opens ...
    expect(page.locator(".quiz-result .notice")).to_be_visible()

    # ... and after it, a retake answered rightly passes.
    wait = Policy().assessment.retake_wait_minutes
    clock.set_time(clock.utcnow() + timedelta(minutes=wait + 1))
    page.goto(f"/quiz/{MODULE}")
    page.locator(".quiz-start button[type=submit]").click()
    assert answer_rightly(page, MODULE) >= 5
    page.locator("[data-submit]").click()
    expect(page.locator(".quiz-result h2")).to_contain_text("通過")
    expect(page.locator(".quiz-result")).to_have_class(re.compile("result-pass"))

    # The last loan case: read the dossier, tick the flags, decide, give reasons.
    page.goto("/cases")
    page.get_by_role("link", name=live.catalogue().cases[CASE].title).click()
    expect(page.locator(".dossier")).to_be_visible()
    no_horizontal_scroll(page)
    shoot(page, "case-dossier")
    # The calculator answers as the trainee types (its script runs on the phone too).
    installment = page.locator("[data-out=installment]")
    before = installment.inner_text()
    page.locator(".calc-form input[name=term]").fill("6")
    expect(installment).not_to_have_text(before)
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", installment.inner_text().strip())
    form = page.locator("form.decision-form")
    page.locator("#step-dossier [data-step-go=step-findings]").click()  # step 2: the findings
    for flag in CASE_FLAGS:
        form.locator(f"input[name=flags][value={flag}]").check()
    form.locator("[data-step-go=step-decision]").click()  # step 3: the decision
    form.locator("input[name=option][value=approve-as-requested]").check()
    for reason in CASE_REASONS:
        form.locator(f"input[name=reasons][value={reason}]").check()
    # The reasons stop at three: the others wait, disabled.
    expect(form.locator("input[name=reasons]:not(:checked)").first).to_be_disabled()
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "case-decision")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/cases/{CASE}/decisions/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("證書")  # the certificate is issued
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] <= page.viewport_size["width"]
    assert box["height"] > 100, "the outcome chart is squashed"
    no_horizontal_scroll(page)
    # The verdict comes first: how well judged, whether it counts, what is still missing.
    expect(page.locator(".verdict h2")).to_be_in_viewport()
    expect(page.locator(".verdict")).to_contain_text("這個決定計入您的認證")
    shoot(page, "case-outcome")
    page.evaluate("document.getElementById('path-title').scrollIntoView()")
    shoot(page, "case-outcome-path")

    page.get_by_role("link", name="您的放款帳").click()
    expect(page.locator(".portfolio-table")).to_be_visible()
    expect(page.locator("main table").nth(1).locator("tbody tr")).to_have_count(8)
    shoot(page, "portfolio")

    # The certificate: the page, the PDF, the printable page.
    open_menu(page)
    page.locator(".main-nav").get_by_role("link", name="證書").click()
    code = page.locator(".certificate-card code").inner_text()
    assert re.fullmatch(r"MLA(-[0-9A-Z]{4}){4}", code), code
    shoot(page, "certificate")
    with page.expect_download() as download:
        page.get_by_role("link", name="下載 PDF").click()
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    sign_out(page)
    page.goto("/certificate")
    expect(page).to_have_url(re.compile("/login"))
