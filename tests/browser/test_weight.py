"""Page weight on a poor connection, measured in the browser (bytes on the wire, headers
included, from the DevTools protocol's Network events).

Every lesson page weighs under 150 KB on a first visit (empty cache) and under 30 KB when
visited again: static files are fingerprinted and cached for a year, HTML is gzipped.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.site import LiveSite

pytestmark = pytest.mark.browser

FIRST_LOAD = 150 * 1024
AGAIN = 30 * 1024


class Meter:
    """Bytes received per request, as Chromium's network stack counted them."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event: dict) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict) -> None:
        url = self.urls.get(event["requestId"], "?")
        self.sizes[url] = self.sizes.get(url, 0) + int(event["encodedDataLength"])

    def start(self, *, empty_cache: bool) -> None:
        if empty_cache:
            self.cdp.send("Network.clearBrowserCache")
        self.sizes = {}

    def total(self) -> int:
        return sum(self.sizes.values())

    def report(self) -> str:
        return ", ".join(f"{url.split('/', 3)[-1]}: {size} B" for url, size in self.sizes.items())


def _visit(page: Page, path: str, *, settle: bool = False) -> None:
    page.goto(path, wait_until="load")
    if settle:  # the favicon and anything else that comes after the load event
        page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("size", ["phone"])  # the weight is the same; phones are the point
def test_lesson_pages_are_light(
    page: Page, live: LiveSite, world, cookies_of, size: str, record_property
) -> None:
    page.context.add_cookies(cookies_of(world["users"]["trainee"]))
    meter = Meter(page)
    lessons = [f"/modules/{m.slug}/{le.slug}" for m in live.catalogue().modules for le in m.lessons]
    first: dict[str, int] = {}
    for path in lessons:
        meter.start(empty_cache=True)
        _visit(page, path)
        first[path] = meter.total()
        assert first[path] < FIRST_LOAD, f"{path} first load {first[path]} B: {meter.report()}"
    heaviest = max(first, key=first.get)

    meter.start(empty_cache=True)
    _visit(page, heaviest, settle=True)
    first[heaviest] = meter.total()
    assert first[heaviest] < FIRST_LOAD, f"{heaviest}: {first[heaviest]} B: {meter.report()}"
    meter.start(empty_cache=False)
    _visit(page, heaviest, settle=True)
    again = meter.total()
    assert again < AGAIN, f"{heaviest} visited again: {again} B: {meter.report()}"
    static = [url for url, got in meter.sizes.items() if "/static/" in url and got > 0]
    assert not static, f"static files fetched again instead of from the cache: {static}"
    record_property("first_load_max", f"{heaviest} {first[heaviest]} B")
    record_property("again", f"{again} B")
    print(f"\n[{size}] heaviest lesson {heaviest}: first {first[heaviest]} B, again {again} B")


@pytest.mark.parametrize("size", ["desktop"])
def test_static_files_are_cached_for_a_year_and_compressed(
    page: Page, world, cookies_of, size: str
) -> None:
    page.context.add_cookies(cookies_of(world["users"]["trainee"]))
    seen = {}
    page.on("response", lambda r: seen.setdefault(r.url, r))
    page.goto(world["longest_lesson"])
    page.wait_for_load_state("networkidle")
    html = seen[page.url]
    assert html.headers.get("content-encoding") == "gzip"
    static = {url: r for url, r in seen.items() if "/static/" in url}
    assert any(url.endswith(".css") or "css" in url for url in static)
    for url, response in static.items():
        assert "?v=" in url, f"{url} is not fingerprinted"
        assert "immutable" in response.headers.get("cache-control", ""), url
        if int(response.headers.get("content-length") or 10**6) > 500:  # small ones: no gain
            assert response.headers.get("content-encoding") == "gzip", url


@pytest.mark.parametrize("size", ["phone"])
def test_static_files_stay_cached_when_the_session_cookie_changes(
    context, page: Page, live: LiveSite, world, cookies_of, size: str
) -> None:
    """The session cookie is re-signed as the user goes on; cached files must not care."""
    context.add_cookies(cookies_of(world["users"]["trainee"]))
    meter = Meter(page)
    meter.start(empty_cache=True)
    _visit(page, world["longest_lesson"], settle=True)
    # Any change of the Cookie header will do (the site re-signs its own every 30 s).
    context.add_cookies([{"name": "consent", "value": "later", "url": live.url}])
    later = context.new_page()
    page.close()
    meter = Meter(later)
    meter.start(empty_cache=False)
    _visit(later, "/glossary", settle=True)
    fetched = {url: got for url, got in meter.sizes.items() if "/static/" in url and got > 0}
    assert not fetched, f"cached static files asked for again: {fetched}"
