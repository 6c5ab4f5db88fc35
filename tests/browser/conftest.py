"""Browser tests: the site served by a real server thread, driven in Debian's Chromium.

One server and one browser per session; each test gets a fresh browser context at a
desktop size (1280 wide) and at a phone size (375 x 812). The server runs the real
course (content/, quizzes/, case_studies/) on a temporary SQLite database migrated
with courseware.ops.migrate, so the screenshots and the page weights are the real thing.

Every page a test opens is watched: a JavaScript error, a console error, a failed
request for a static file or a Content-Security-Policy violation fails the test.

``python -m pytest tests/browser --update-screenshots`` rewrites docs/screenshots/;
ordinary runs never write there.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.serving import make_server

from courseware import create_app
from courseware.content.store import import_sources, read_sources
from courseware.core import clock
from courseware.core.db import make_engine
from courseware.ops import migrate
from tests.browser.inflight import InFlight
from tests.browser.site import LiveSite, Watch, sign_in
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("COURSEWARE_CHROMIUM") or "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("COURSEWARE_REQUIRE_BROWSER", "").strip() not in ("", "0")
NO_CHROMIUM = (
    f"browser tests need Chromium: none at {CHROMIUM} "
    f"({'COURSEWARE_CHROMIUM' if os.environ.get('COURSEWARE_CHROMIUM') else 'the default path'}); "
    "install it with `apt-get install chromium` or set COURSEWARE_CHROMIUM to its path"
)
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 375, "height": 812},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
# The live site's requests in progress, for the report of a failed test.
SERVING: InFlight | None = None
# Policy for the browser server: the shipped rules, with the case work a journey can
# finish in one sitting (the shipped course still needs every lesson and quiz).
SETTINGS = """\
certification:
  validity_months: 12
  renewal_window_days: 60
  cases_required: 8
  case_average_min: 70
studio:
  review_required: [law]
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-screenshots",
        action="store_true",
        default=False,
        help="write the README's screenshots to docs/screenshots/ (browser tests)",
    )


def chromium_found() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


@pytest.fixture(scope="session", autouse=True)
def _chromium() -> None:
    """Every browser test skips for the same one reason where no Chromium is found.

    Session-scoped, so it runs before the browser is launched."""
    if not chromium_found():
        pytest.skip(NO_CHROMIUM)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """One summary line for the missing Chromium; with COURSEWARE_REQUIRE_BROWSER=1 (as
    .ci/run sets) a skipped browser test is a failure instead."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and SERVING is not None:
        waiting = SERVING.report()
        if waiting:  # a page that never came: where the server is with it
            report.sections.append(("live site: requests not yet answered", waiting))
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if REQUIRE_BROWSER:
        report.outcome = "failed"
        report.longrepr = f"COURSEWARE_REQUIRE_BROWSER=1, yet this browser test skipped: {reason}"
    elif reason.endswith(NO_CHROMIUM):
        # pytest reports a fixture's skip at each test's own line, which would print one
        # line per test; the same place for all folds them into one line with the reason.
        report.longrepr = (__file__, chromium_found.__code__.co_firstlineno, NO_CHROMIUM)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The application served on 127.0.0.1 and a free port, in a thread."""
    folder = tmp_path_factory.mktemp("browser-site")
    url = f"sqlite:///{folder / 'browser.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = folder / "settings.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser-test-secret",
            "INSTANCE_PATH": str(folder / "instance"),
            "CONTENT_DIR": str(ROOT / "content"),
            "QUIZ_DIR": str(ROOT / "quizzes"),
            "CASE_DIR": str(ROOT / "case_studies"),
            "SETTINGS_FILE": str(settings),
            "LOGIN_LIMIT": "1000 per minute",
        }
    )
    sources, errors = read_sources(
        {
            "content": ROOT / "content",
            "quizzes": ROOT / "quizzes",
            "case_studies": ROOT / "case_studies",
        }
    )
    assert not errors, errors
    with app.extensions["courseware.core.db"].sessions() as session:
        import_sources(session, sources)
        session.commit()
    global SERVING
    SERVING = InFlight(_buffered(app))
    server = make_server("127.0.0.1", 0, SERVING, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-site", daemon=True)
    thread.start()
    site = LiveSite(f"http://127.0.0.1:{server.server_port}", app, PASSWORD)
    try:
        yield site
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["courseware.core.db"].engine.dispose()


def _buffered(app: Callable) -> Callable:
    """Each response read to the end (and its file closed) before the first byte is sent.

    Werkzeug's development server can skip closing a response when the browser drops
    the connection (Chromium cancels a favicon or a page it leaves), and an open static
    file then warns, which fails the run; the served bytes are the same.
    """

    def wsgi(environ: dict, start_response: Callable) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.set_time(None)  # a journey may move the clock (a quiz's cooldown)


@pytest.fixture(scope="session")
def base_url(live: LiveSite) -> str:
    return live.url


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def context(new_context, size: str) -> BrowserContext:
    return new_context(**SIZES[size], locale="zh-TW", timezone_id="Asia/Taipei")


@pytest.fixture
def watch(context: BrowserContext) -> Iterator[Watch]:
    """JavaScript errors, console errors, failed requests and CSP violations: none allowed."""
    watcher = Watch(context)
    yield watcher
    watcher.assert_clean()


# How long a click, a fill or a page may take. Three CI runs on 2026-12-07 each had one
# request of the in-thread test server take 17-18 s (an admin page of 10,000 accounts, since
# paged; a studio draft save; a case-figures save: 0.03-0.3 s here), past the 15 s this was,
# and the test failed though the page came. The figures of speed are the bench's
# (docs/PERFORMANCE.md); these tests check what the pages do. A request still running when
# a test fails is listed with its stack in the report (tests/browser/inflight.py).
ACTION_TIMEOUT_MS = 45_000


@pytest.fixture
def page(context: BrowserContext, watch: Watch) -> Page:
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    return page


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core as the PyPI package axe-playwright-python bundles it (the test extra)."""
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def update_screenshots(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("--update-screenshots", default=False))


@pytest.fixture
def shoot(update_screenshots: bool, size: str):
    """shoot(page, name): write docs/screenshots/<name>-<size>.png when asked to."""

    def take(page: Page, name: str) -> None:
        if not update_screenshots:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("document.fonts.ready")
        target = SCREENSHOTS / f"{name}-{size}.png"
        page.screenshot(path=str(target), full_page=False, animations="disabled")

    return take


@pytest.fixture(scope="session")
def cookies_of(browser: Browser, live: LiveSite) -> Callable[[str], list]:
    """cookies_of(username): a signed-in session's cookies, signed in once per session.

    Only for accounts no test signs out (signing out ends a user's every session)."""
    cache: dict[str, list] = {}

    def get(username: str) -> list:
        if username not in cache:
            context = browser.new_context(base_url=live.url)
            sign_in(context.new_page(), username, live.password)
            cache[username] = context.cookies()
            context.close()
        return cache[username]

    return get


# The multi-visit cases and the village book the page checks show.
STAGED, STAGED_OPEN, BOOK = (
    "noodle-shop-diversion",
    "tea-stall-illness-restructure",
    ("riverside-village-book"),
)


@pytest.fixture(scope="session")
def world(live: LiveSite) -> dict[str, Any]:
    """Accounts with something on every page: progress, attempts, a decision, a certificate,
    an overdue cohort. Shared by the page checks, which only read."""
    trainee = live.user("trainee", name="張志明")
    live.finish_lessons(trainee)
    failed = live.attempt(trainee, "basics", submit=True)
    open_attempt = live.attempt(trainee, "risk", submit=False)
    # Two difficulty-1 cases decided: the difficulty-2 dossier the page checks open is unlocked.
    live.decide_cases(trainee, ["grocery-kiosk", "bar-owner"])
    # Two difficulty-2 cases open the difficulty-3 ones: a multi-visit case decided, another
    # waiting at its second visit, and the village book decided.
    live.decide_cases(trainee, ["market-trader-overindebted", "tailor-borderline", STAGED, BOOK])
    live.begin_stages(trainee, STAGED_OPEN)
    certified = live.user("trainee", name="陳淑芬")
    cert = live.certify(certified)
    due = (clock.utcnow() - timedelta(days=5)).date()
    cohort = live.cohort("北區春季梯次", "台北分行", due, [trainee])
    assert live.remind() >= 1  # the trainee's overdue notice
    cat = live.catalogue()
    lesson = max(
        ((m.slug, le.slug, len(le.body)) for m in cat.modules for le in m.lessons),
        key=lambda item: item[2],
    )
    return {
        "users": {
            "trainee": trainee.username,
            "certified": certified.username,
            "trainer": live.user("trainer", name="李講師").username,
            "hr": live.user("hr", "總行", name="吳人資").username,
            "manager": live.user("manager", "台北分行", name="周經理").username,
            "admin": live.user("admin", name="系統管理員").username,
        },
        "trainee_id": trainee.id,
        "failed": failed,
        "open": open_attempt,
        "decision": live.decision_id(trainee, "grocery-kiosk"),
        "staged_decision": live.decision_id(trainee, STAGED),
        "book_decision": live.decision_id(trainee, BOOK),
        "code": cert.code,
        "cohort": cohort,
        "longest_lesson": f"/modules/{lesson[0]}/{lesson[1]}",
    }
