"""Both languages in the browser: the switch remembers the choice, Taiwan, Hong Kong and
Traditional Chinese browsers get zh-Hant, dates and numbers follow the language, and the
Chinese text has a font to render with."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.site import LiveSite, open_menu

pytestmark = pytest.mark.browser


def test_switch_to_english_and_back_is_remembered(
    page: Page, live: LiveSite, cookies_of, size: str
) -> None:
    user = live.user("trainee")
    page.context.add_cookies(cookies_of(user.username))
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    page.locator(".lang-form button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My course")  # back on the same page
    open_menu(page)
    page.locator(".main-nav a[href='/cases']").click()
    expect(page.locator("h1")).to_have_text("Loan cases")
    page.goto("/glossary")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator(".lang-form button[value=zh_Hant]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    page.goto("/cases")
    expect(page.locator("h1")).to_have_text("貸款案例")


@pytest.mark.parametrize(
    ("locale", "lang"),
    [("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh-Hant", "zh-Hant"), ("en-US", "en")],
)
def test_the_browser_language_picks_the_interface(
    browser: Browser, live: LiveSite, locale: str, lang: str
) -> None:
    context = browser.new_context(base_url=live.url, locale=locale)
    try:
        page = context.new_page()
        page.goto("/login")
        expect(page.locator("html")).to_have_attribute("lang", lang)
    finally:
        context.close()


def test_dates_follow_the_language(page: Page, live: LiveSite, size: str) -> None:
    holder = live.user("trainee", name="黃美玲")
    cert = live.certify(holder)
    issued = cert.issued_at
    page.goto(f"/verify/{cert.code}")
    zh = page.locator(".verification dl").inner_text()
    assert f"{issued.year}年" in zh and "月" in zh, zh
    page.locator(".lang-form button[value=en]").click()
    en = page.locator(".verification dl").inner_text()
    assert re.search(rf"[A-Z][a-z]{{2}} \d{{1,2}}, {issued.year}", en), en


def test_numbers_and_money_follow_the_language(
    page: Page, live: LiveSite, world, cookies_of, size: str
) -> None:
    page.context.add_cookies(cookies_of(world["users"]["trainee"]))
    page.goto(f"/cases/grocery-kiosk/decisions/{world['decision']}")
    text = page.locator(".case-result").inner_text()
    assert re.search(r"\d{1,3}(,\d{3})+ 元", text), text  # grouped digits, the currency
    assert not re.search(r"\d\.\d{3,}", text), f"a raw float on the page: {text}"


def test_chinese_has_a_font(page: Page, size: str) -> None:
    if shutil.which("fc-list") is None:
        pytest.fail("fontconfig (fc-list) is missing: apt-get install fonts-noto-cjk")
    fonts = subprocess.run(
        ["fc-list", ":lang=zh-tw", "family"], capture_output=True, text=True, check=True
    ).stdout
    assert "Noto Sans CJK TC" in fonts or "Noto Sans TC" in fonts, (
        "no Traditional Chinese font: apt-get install fonts-noto-cjk (.ci/run does)"
    )
    page.goto("/login")
    # The brand is drawn with real glyphs: each is as wide as it is tall (not a
    # narrow fallback box), and the stylesheet names the font.
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK TC" in family
    width = page.evaluate(
        """() => { const c = document.createElement('canvas').getContext('2d');
                   c.font = '20px ' + getComputedStyle(document.body).fontFamily;
                   return c.measureText('微貸授信').width; }"""
    )
    assert 70 <= width <= 90, f"four CJK glyphs at 20 px measure {width} px"
