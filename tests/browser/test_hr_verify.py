"""HR on an office desktop (or a phone): filter the learner table, open a transcript,
download the CSV and XLSX and check their rows. Anyone: verify a certificate by its code."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from courseware.core import clock
from tests.browser.checks import unreadable_tables
from tests.browser.site import LiveSite, no_horizontal_scroll, open_menu, sign_in, sign_out

pytestmark = pytest.mark.browser


@pytest.fixture
def branch_office(live: LiveSite, size: str):
    """A branch of its own: two overdue trainees, one certified, one with no due date."""
    branch = {"desktop": "花蓮分行", "phone": "台東分行"}[size]
    late = [live.user("trainee", branch, name=name) for name in ("林志豪", "陳美玲")]
    done = live.user("trainee", branch, name="王小明")
    fresh = live.user("trainee", branch, name="黃建國")
    live.finish_lessons(late[0])
    live.certify(done)
    due = (clock.utcnow() - timedelta(days=3)).date()
    live.cohort(f"{branch} 春季梯次", branch, due, late)
    return {"branch": branch, "late": late, "done": done, "fresh": fresh}


def _download(page: Page, name: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    download = info.value
    with open(download.path(), "rb") as handle:
        return download.suggested_filename, handle.read()


def test_hr_journey(page: Page, live: LiveSite, branch_office, size: str, shoot) -> None:
    hr = live.user("hr", "總行", name="吳淑貞")
    sign_in(page, hr.username, live.password)
    open_menu(page)
    page.locator(".main-nav").get_by_role("link", name="人資").click()
    expect(page.locator(".hr-figures")).to_be_visible()
    no_horizontal_scroll(page)
    shoot(page, "hr-dashboard")

    # Filter: this branch, then only the overdue.
    page.goto("/hr/learners")
    page.locator("#branch").select_option(branch_office["branch"])
    page.get_by_role("button", name="顯示").click()
    rows = page.locator("table.hr-learners tbody tr")
    expect(rows).to_have_count(4)
    page.locator("#status").select_option("overdue")
    page.get_by_role("button", name="顯示").click()
    expect(rows).to_have_count(2)
    for row in range(2):
        # Overdue is said in words, not only in red.
        expect(rows.nth(row).locator(".badge")).to_have_text(re.compile("逾期"))
    assert unreadable_tables(page) == []
    no_horizontal_scroll(page)

    # Sort: by the column headings on a desktop; on a phone, where the rows stack and the
    # headings are hidden, by the form's sort fields. The filters stay.
    names = rows.locator("td:first-child a")
    ascending = names.all_inner_texts()
    if size == "phone":
        page.locator("#dir").select_option("desc")
        page.get_by_role("button", name="顯示").click()
    else:
        expect(page.locator("#sort")).to_be_hidden()
        page.locator("table.hr-learners thead").get_by_role("link", name="姓名").click()
    expect(names).to_have_text(list(reversed(ascending)))
    expect(page.locator("#status")).to_have_value("overdue")
    if size == "phone":  # the filters fill the first screen: show the stacked rows
        page.evaluate("document.querySelector('.actions .meta[role=status]').scrollIntoView()")
    shoot(page, "hr-learners")

    # The exports hold exactly the filtered rows.
    name, data = _download(page, "匯出 CSV")
    assert name.endswith(".csv")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert len(body) == 2
    names = {u.display_name for u in branch_office["late"]}
    assert {line[header.index(_name_column(header))] for line in body} == names
    name, data = _download(page, "匯出 XLSX")
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == header and len(values) == 3
    assert {str(v[header.index(_name_column(header))]) for v in values[1:]} == names

    # A transcript, from the table.
    late = branch_office["late"][0]
    page.get_by_role("link", name=late.display_name).click()
    expect(page.locator("h1")).to_contain_text(late.display_name)
    expect(page.locator(".transcript-facts")).to_contain_text(late.username)
    assert unreadable_tables(page) == []
    no_horizontal_scroll(page)
    shoot(page, "transcript")
    name, data = _download(page, "匯出 CSV")
    transcript = data.decode("utf-8-sig")
    assert late.username in transcript or late.display_name in transcript
    assert len(list(csv.reader(io.StringIO(transcript)))) > 20  # 26 lessons done

    sign_out(page)


def _name_column(header: list[str]) -> str:
    for title in ("姓名", "Name"):
        if title in header:
            return title
    raise AssertionError(f"no name column in {header}")


def test_anyone_verifies_a_certificate(page: Page, live: LiveSite, size: str, shoot) -> None:
    holder = live.user("trainee", name="陳怡君")
    cert = live.certify(holder)
    page.goto("/verify")
    expect(page.locator("h1")).to_be_visible()
    page.locator("#code").fill(cert.code.lower())  # typed as people type it
    page.locator("#code").press("Enter")
    expect(page).to_have_url(re.compile(f"/verify/{cert.code}$", re.IGNORECASE))
    result = page.locator(".verification")
    expect(result).to_have_attribute("role", "status")
    expect(result.locator(".badge")).to_have_text(re.compile("有效"))
    expect(result).to_contain_text("陳怡君")
    no_horizontal_scroll(page)
    shoot(page, "verify")

    page.locator("#code").fill("MLA-0000-0000-0000-0000")
    page.get_by_role("button", name="驗證").click()
    expect(page.locator(".verification .badge")).to_have_text(re.compile("查無"))
