"""HR at scale in a browser: a seeded site (``seed_load``), each role's landing page, the
HR dashboard's height at 1280 px, and a bulk reminder to a filtered list, its count
confirmed and audited.

The site holds the 10,000 learners the issue names (``seed_load`` takes about half a minute
for them). The dashboard's length does not grow with learners or cohorts: it shows every
branch and the five worst cohorts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from courseware import create_app
from courseware.accounts import users as accounts
from courseware.certification.policy import Policy
from courseware.content.store import CatalogueCache, import_sources, read_sources
from courseware.core.db import make_engine
from courseware.core.models import AuditEvent, Reminder
from courseware.ops import migrate
from courseware.ops.seed import seed_load
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import ACTION_TIMEOUT_MS, ROOT, SETTINGS, _buffered
from tests.browser.inflight import InFlight
from tests.browser.site import LiveSite, Watch, sign_in
from tests.conftest import Inbox, mail_server

pytestmark = pytest.mark.browser

LEARNERS = 10_000
PASSWORD = "seeded-password-1"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveSite, dict, Inbox]]:
    """A site of its own with LEARNERS seeded learners and a test mail server."""
    folder = tmp_path_factory.mktemp("hr-scale")
    url = f"sqlite:///{folder / 'scale.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    (folder / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    mail = ExitStack()
    smtp_url, inbox = mail.enter_context(mail_server())
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "hr-scale-secret",
            "INSTANCE_PATH": str(folder / "instance"),
            "CONTENT_DIR": str(ROOT / "content"),
            "QUIZ_DIR": str(ROOT / "quizzes"),
            "CASE_DIR": str(ROOT / "case_studies"),
            "SETTINGS_FILE": str(folder / "settings.yaml"),
            "LOGIN_LIMIT": "1000 per minute",
            "SMTP_URL": smtp_url,
        }
    )
    sources, errors = read_sources(
        {name: ROOT / name for name in ("content", "quizzes", "case_studies")}
    )
    assert not errors, errors
    with app.extensions["courseware.core.db"].sessions() as session:
        import_sources(session, sources)
        session.commit()
        catalogue = CatalogueCache().get(session)
        session.commit()
        report = seed_load(
            session,
            catalogue,
            Policy(),
            LEARNERS,
            password_hash=accounts.hash_password(PASSWORD),
        )
    # Wrapped like the shared site's server, so a failed test's report lists the requests
    # this server had not answered (tests/browser/inflight.py), with their stacks.
    serving, shared = InFlight(_buffered(app)), browser_conftest.SERVING
    browser_conftest.SERVING = serving
    server = make_server("127.0.0.1", 0, serving, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="hr-scale", daemon=True)
    thread.start()
    try:
        yield (
            LiveSite(f"http://127.0.0.1:{server.server_port}", app, PASSWORD),
            dict(report.accounts),
            inbox,
        )
    finally:
        browser_conftest.SERVING = shared
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        mail.close()
        app.extensions["courseware.core.db"].engine.dispose()


@pytest.fixture
def desk(browser: Browser, seeded) -> Iterator[Page]:
    """A desktop browser (1280 px) on the seeded site; no JS, console or CSP errors."""
    site = seeded[0]
    context = browser.new_context(
        base_url=site.url,
        viewport={"width": 1280, "height": 900},
        locale="zh-TW",
        timezone_id="Asia/Taipei",
    )
    watch = Watch(context)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    yield page
    watch.assert_clean()
    context.close()


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("manager", "/hr"),
        ("hr", "/hr"),
        ("trainer", "/author"),
        ("admin", "/admin/"),
        ("trainee (certified)", "/"),
    ],
)
def test_each_role_lands_on_its_home_page(desk: Page, seeded, role: str, home: str) -> None:
    site, accounts_shown, _inbox = seeded
    sign_in(desk, accounts_shown[role], site.password)
    assert desk.url == site.url + home
    if home == "/":
        expect(desk.locator("#overall-title")).to_be_attached()
    else:
        expect(desk.locator(".main-nav a[href='/course']")).to_be_visible()  # learner view
    desk.goto("/")
    assert desk.url == site.url + home


def test_hr_dashboard_is_short_at_1280(desk: Page, seeded) -> None:
    site, accounts_shown, _inbox = seeded
    sign_in(desk, accounts_shown["hr"], site.password)
    expect(desk.locator(".hr-figures")).to_be_visible()
    height = desk.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, height
    expect(desk.locator("#cohort-title ~ ul .hr-bar")).to_have_count(5)
    expect(desk.locator(".as-of").first).to_be_visible()
    desk.locator("a[href='/hr/completion/cohorts']").click()
    expect(desk.locator(".hr-bar")).to_have_count(25)


def test_bulk_remind_of_a_filtered_list(desk: Page, seeded) -> None:
    site, accounts_shown, inbox = seeded
    sign_in(desk, accounts_shown["hr"], site.password)
    desk.goto("/hr/learners")
    desk.locator("#status").select_option("overdue")
    desk.get_by_role("button", name="顯示").click()
    matched = int(re.search(r"(\d+)", desk.locator(".actions [role=status]").inner_text())[1])
    assert matched > 0
    desk.locator("input[name=selection][value=all]").check()
    desk.locator("#bulk-action").select_option("remind")
    desk.locator("#bulk-form button[type=submit]").click()
    count = desk.locator(".bulk-count")
    expect(count).to_contain_text(str(matched))
    with site.session() as db:
        before = db.scalar(select(func.count()).select_from(Reminder))
    desk.locator(".hr-bulk-confirm button[type=submit]").click()
    expect(desk.locator(".flash, [role=alert], .messages").first).to_contain_text("提醒")
    with site.session() as db:
        after = db.scalar(select(func.count()).select_from(Reminder))
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "learners.bulk")).one()
    assert event.after["learners"] == matched and event.after["filter"] == {"status": "overdue"}
    assert after > before and len(inbox.messages) == after - before
