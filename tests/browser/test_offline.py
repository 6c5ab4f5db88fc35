"""The course saved for offline on a phone: saved with its size shown first, read without a
connection (lessons, practice answers), the outbox sent once when the connection returns, a
replay recording nothing, a certifying quiz explaining why it stays online, sign-out clearing
the device."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from courseware.core.models import LessonProgress, OfflineAction, PracticeAnswer
from tests.browser.site import LiveSite, sign_in, sign_out
from tests.browser.test_practice import EXERCISE, _lesson_of
from tests.browser.test_weight import Meter

pytestmark = pytest.mark.browser

FIRST_DOWNLOAD = 2 * 1024 * 1024  # bytes on the wire: the whole course on a cheap phone
FROM_CACHE_MS = 300


def _waiting(page: Page) -> list[dict]:
    return page.evaluate("window.coursewareOffline.waiting()")


def _wait_until(check, what: str, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.parametrize("size", ["phone"])
def test_offline_course_on_a_phone(page: Page, live: LiveSite, size: str, record_property) -> None:
    user = live.user("trainee")
    sign_in(page, user.username, live.password)
    module, lesson, exercise = _lesson_of(live, EXERCISE)
    practice_url = f"/modules/{module}/{lesson.slug}"
    first = live.catalogue().modules[0]
    reading_url = f"/modules/{first.slug}/{first.lessons[0].slug}"
    quiz_url = f"/quiz/{first.slug}"

    # The size first, then the download with its progress bar.
    page.goto("/offline")
    size_text = page.locator("[data-offline-size]")
    expect(size_text).to_have_text(re.compile(r"\d[\d.,]* (kB|MB)"))
    meter = Meter(page)
    meter.start(empty_cache=True)
    page.locator("[data-offline-start]").click()
    expect(page.locator("[data-offline-save][data-saved='1']")).to_be_attached(timeout=90_000)
    expect(page.locator("[data-offline-progress]")).to_be_visible()
    downloaded = meter.total()
    print(f"first download of the whole course: {downloaded} bytes on the wire")
    record_property("offline_first_download_bytes", downloaded)
    assert downloaded < FIRST_DOWNLOAD, meter.report()

    page.context.set_offline(True)
    # A saved lesson opens from the device, fast.
    page.goto(reading_url)
    expect(page.locator("article.lesson")).to_be_visible()
    took = page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n.responseEnd - n.startTime; })()"
    )
    print(f"lesson from the cache: {took:.0f} ms")
    assert took < FROM_CACHE_MS
    # Reading to the end queues the read; "mark as done" offline queues the time so far.
    page.locator("[data-lesson-end]").scroll_into_view_if_needed()
    _wait_until(lambda: len(_waiting(page)) >= 1, "the end of the lesson queued")
    page.locator("form[data-done-form] button[type=submit]").click()
    expect(page.locator("[data-done-note]")).not_to_be_empty()
    _wait_until(lambda: len(_waiting(page)) >= 2, "the reading time queued")

    # A practice answer offline waits on the device.
    page.goto(practice_url)
    answer = page.locator(f"#practice-{EXERCISE}-answer")
    answer.fill(f"{exercise.expected:.2f}")
    answer.press("Enter")
    expect(page.locator(f"#practice-{EXERCISE}-feedback")).not_to_be_empty()
    _wait_until(
        lambda: any(a["type"] == "practice_answer" for a in _waiting(page)), "the answer queued"
    )
    outbox = page.locator("[data-outbox]")
    queued = _waiting(page)
    expect(outbox).to_have_attribute("data-waiting", str(len(queued)))
    expect(outbox).to_be_visible()

    # A certifying quiz offline: the explanation, nothing else.
    page.goto(quiz_url)
    expect(page.locator("[data-online-only]")).to_be_visible()
    assert page.locator("form[action*='/quiz/']").count() == 0

    # Back online: everything sent, each action recorded once.
    page.context.set_offline(False)
    page.goto(practice_url)
    _wait_until(lambda: not _waiting(page), "the outbox sent")
    expect(outbox).to_have_attribute("data-waiting", "0")
    with live.session() as db:
        kinds = db.scalars(select(OfflineAction.kind).where(OfflineAction.user_id == user.id))
        assert sorted(kinds) == sorted(a["type"] for a in queued)
        assert (
            db.scalar(
                select(func.count())
                .select_from(PracticeAnswer)
                .where(PracticeAnswer.user_id == user.id, PracticeAnswer.exercise_id == EXERCISE)
            )
            == 1
        )
        read = db.scalar(
            select(LessonProgress).where(
                LessonProgress.user_id == user.id,
                LessonProgress.lesson_slug == first.lessons[0].slug,
            )
        )
        assert read is not None and read.reached_end_at is not None

    # The same actions sent again record nothing new.
    replay = page.evaluate(
        """(actions) => fetch('/offline/sync', {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json',
                       'X-CSRFToken': document.querySelector('input[name=csrf_token]').value},
             body: JSON.stringify({actions: actions.map(a => { delete a.seq; return a; })})
           }).then(r => r.json())""",
        queued,
    )
    assert replay["recorded"] == 0 and replay["duplicates"] == len(queued)
    with live.session() as db:
        count = db.scalar(
            select(func.count()).select_from(OfflineAction).where(OfflineAction.user_id == user.id)
        )
        assert count == len(queued)

    # Signing out leaves nothing of the learner on the device.
    sign_out(page)
    stores = page.evaluate(
        """async () => ({caches: await caches.keys(),
            databases: (await indexedDB.databases()).map(d => d.name),
            workers: (await navigator.serviceWorker.getRegistrations()).length})"""
    )
    assert stores == {"caches": [], "databases": [], "workers": 0}, stores
