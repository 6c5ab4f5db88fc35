"""The learner's pages: dashboard, modules, lessons, progress."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.certification.policy import LearningRules, LoadedPolicy, Policy
from courseware.core import clock
from courseware.core.models import LessonProgress
from tests.conftest import post, read_lesson


def _percent(html: str, title: str) -> str:
    match = re.search(rf'aria-label="[^"]*{title}[^"]*"[^>]*>(\d+)%<', html)
    assert match, title
    return match.group(1)


def test_dashboard_lists_modules_in_order_with_progress(as_trainee: FlaskClient):
    html = as_trainee.get("/").get_data(as_text=True)
    assert html.index("測試模組一") < html.index("測試模組二")
    assert _percent(html, "測試模組一") == "0"
    assert "/modules/alpha/first" in html  # continue where you left off


def test_marking_done_moves_the_progress_bar(as_trainee: FlaskClient, db: Session):
    assert as_trainee.get("/modules/alpha/first").status_code == 200
    response = read_lesson(as_trainee, "alpha", "first")
    assert response.status_code == 302 and response.location == "/modules/alpha/second"
    html = as_trainee.get("/").get_data(as_text=True)
    assert _percent(html, "測試模組一") == "50"
    row = db.scalar(select(LessonProgress).where(LessonProgress.lesson_slug == "first"))
    assert row.completed_at is not None and row.module_slug == "alpha"
    module_page = as_trainee.get("/modules/alpha").get_data(as_text=True)
    assert module_page.count("✓") == 1


def test_marking_done_twice_keeps_one_record(as_trainee: FlaskClient, db: Session):
    for _ in range(2):
        read_lesson(as_trainee, "alpha", "first")
    rows = db.scalars(select(LessonProgress)).all()
    assert len(rows) == 1


def test_undo_done(as_trainee: FlaskClient):
    read_lesson(as_trainee, "alpha", "first")
    post(as_trainee, "/modules/alpha/first/done", {"undo": "1"}, token_from="/modules/alpha/first")
    assert _percent(as_trainee.get("/").get_data(as_text=True), "測試模組一") == "0"


def test_lesson_page_has_toc_neighbours_and_rendered_content(as_trainee: FlaskClient):
    html = as_trainee.get("/modules/alpha/first").get_data(as_text=True)
    assert 'class="toc"' in html and "什麼是微貸" in html
    assert 'rel="next" href="/modules/alpha/second"' in html
    assert 'class="callout callout-warning"' in html
    assert 'class="term" href="/glossary#repayment-capacity"' in html
    assert "113.33" in html


def test_reading_time_is_recorded_and_capped(as_trainee: FlaskClient, db: Session):
    as_trainee.get("/modules/alpha/first")
    clock.advance(timedelta(hours=1))
    post(
        as_trainee,
        "/modules/alpha/first/time",
        {"seconds": "95"},
        token_from="/modules/alpha/first",
    )
    response = post(
        as_trainee,
        "/modules/alpha/first/time",
        {"seconds": "999999"},
        token_from="/modules/alpha/first",
    )
    assert response.get_json() == {"seconds_spent": 95 + 1800}
    bad = post(
        as_trainee,
        "/modules/alpha/first/time",
        {"seconds": "lots"},
        token_from="/modules/alpha/first",
    )
    assert bad.status_code == 400
    row = db.scalar(select(LessonProgress))
    assert row.seconds_spent == 95 + 1800
    # Never more than the hour the lesson has been open.
    more = post(as_trainee, "/modules/alpha/first/time", {"seconds": "1800"})
    assert more.get_json() == {"seconds_spent": 3600}


def test_reading_time_needs_csrf(as_trainee: FlaskClient):
    assert as_trainee.post("/modules/alpha/first/time", data={"seconds": "5"}).status_code == 400


def test_unknown_module_or_lesson_is_404(as_trainee: FlaskClient):
    assert as_trainee.get("/modules/nope").status_code == 404
    assert as_trainee.get("/modules/alpha/nope").status_code == 404
    assert post(as_trainee, "/modules/alpha/nope/done").status_code == 404


def test_glossary_page_has_anchors(as_trainee: FlaskClient):
    html = as_trainee.get("/glossary").get_data(as_text=True)
    assert 'id="repayment-capacity"' in html and "還款能力" in html
    # The columns say term, English and definition (期數, a loan's term, was shown once).
    headings = '<th scope="col">術語</th><th scope="col">英文</th><th scope="col">說明</th>'
    assert headings in html


def test_language_switch_remembers_english(as_trainee: FlaskClient):
    assert "我的課程" in as_trainee.get("/").get_data(as_text=True)
    post(as_trainee, "/language", {"lang": "en", "next": "/"})
    assert "My course" in as_trainee.get("/").get_data(as_text=True)


def test_zh_tw_browser_gets_traditional_chinese(client, users, course):
    for tag in ("zh-TW", "zh-HK", "zh-MO", "zh-Hant", "en;q=0.5, zh-TW"):
        html = client.get("/login", headers={"Accept-Language": tag}).get_data(as_text=True)
        assert 'lang="zh-Hant"' in html, tag
    html = client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="en"' in html


def test_trainers_see_broken_files_with_their_located_message(client, db, users, course):
    from courseware.content.store import import_sources

    duplicate = "---\nslug: first\ntitle: 重複\norder: 9\nminutes: 5\n---\n內容\n"
    import_sources(db, {"content/01-alpha/09-copy.md": duplicate})
    db.commit()
    from tests.conftest import login

    login(client, "trainer")
    for home in ("/", "/course"):  # the studio (the trainer's landing page) and the course
        html = client.get(home, headers={"Accept-Language": "en"}, follow_redirects=True)
        html = html.get_data(as_text=True)
        assert "content/01-alpha/09-copy.md" in html
        assert "the slug first is already used by content/01-alpha/01-first.md" in html
    login(client2 := client.application.test_client(), "trainee")
    assert "09-copy.md" not in client2.get("/").get_data(as_text=True)
    login(admin := client.application.test_client(), "admin")
    assert "already used" in admin.get("/admin/", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


# A lesson counts as read after time on it and reaching its end (settings.yaml: learning).


def _done(db: Session) -> bool:
    db.rollback()
    row = db.scalar(select(LessonProgress).where(LessonProgress.lesson_slug == "first"))
    return row is not None and row.completed_at is not None


def _mark(client: FlaskClient, **form: str):
    return post(client, "/modules/alpha/first/done", form, token_from="/modules/alpha/first")


def test_a_lesson_marked_done_at_once_is_refused_with_the_time_it_asks(
    as_trainee: FlaskClient, db: Session
):
    page = as_trainee.get("/modules/alpha/first").get_data(as_text=True)
    # 10 minutes stated, a quarter of it asked (the default rule), rounded up to minutes.
    assert "在本課停留至少 3 分鐘並讀到文末，才算讀完" in page
    response = _mark(as_trainee, end="1")
    assert response.status_code == 302 and response.location.endswith("#lesson-end")
    assert not _done(db)
    again = as_trainee.get(response.location).get_data(as_text=True)
    assert "本課至少需要閱讀 3 分鐘，您目前只讀了 0 秒" in again
    assert _percent(as_trainee.get("/").get_data(as_text=True), "測試模組一") == "0"


def test_time_alone_is_not_enough_the_end_must_be_reached(as_trainee: FlaskClient, db: Session):
    as_trainee.get("/modules/alpha/first")
    clock.advance(timedelta(minutes=5))
    response = _mark(as_trainee)  # a page with scripts that never saw the end
    assert not _done(db)
    assert "請先把本課讀到文末" in as_trainee.get(response.location).get_data(as_text=True)
    # The page reports the end as the reader reaches it; then the same form is accepted.
    post(as_trainee, "/modules/alpha/first/time", {"seconds": "3", "end": "1"})
    assert _mark(as_trainee).location == "/modules/alpha/second"
    assert _done(db)


def test_reported_reading_time_counts_and_is_what_the_transcript_shows(
    as_trainee: FlaskClient, db: Session
):
    as_trainee.get("/modules/alpha/first")
    clock.advance(timedelta(seconds=120))
    post(as_trainee, "/modules/alpha/first/time", {"seconds": "100", "end": "1"})
    as_trainee.get("/modules/alpha/second")
    clock.advance(timedelta(seconds=20))
    as_trainee.get("/modules/alpha/first")  # back again: the time since this opening is 0
    _mark(as_trainee, seconds="20")  # 120 s of the 150 asked
    assert not _done(db)
    clock.advance(timedelta(seconds=260))
    _mark(as_trainee, seconds="200")
    assert _done(db)
    row = db.scalar(select(LessonProgress).where(LessonProgress.lesson_slug == "first"))
    assert row.seconds_spent == 320 and row.reached_end_at is not None
    transcript = as_trainee.get("/transcript").get_data(as_text=True)
    assert "閱讀 5 分鐘" in transcript


def test_time_since_the_lesson_was_opened_counts_for_a_page_without_scripts(
    as_trainee: FlaskClient, db: Session
):
    as_trainee.get("/modules/alpha/first")
    clock.advance(timedelta(seconds=149))
    _mark(as_trainee, end="1")
    assert not _done(db)
    clock.advance(timedelta(seconds=2))
    _mark(as_trainee, end="1")
    assert _done(db)
    row = db.scalar(select(LessonProgress).where(LessonProgress.lesson_slug == "first"))
    assert row.seconds_spent == 151  # credited, so the transcript does not say 0 minutes


def test_a_forged_report_cannot_make_up_time_the_page_was_not_open(
    as_trainee: FlaskClient, db: Session
):
    as_trainee.get("/modules/alpha/first")
    post(as_trainee, "/modules/alpha/first/time", {"seconds": "1800", "end": "1"})
    _mark(as_trainee, seconds="1800", end="1")
    assert not _done(db)
    row = db.scalar(select(LessonProgress).where(LessonProgress.lesson_slug == "first"))
    assert row.seconds_spent == 0  # opened a moment ago: nothing more can have been read


def test_the_reading_rule_comes_from_the_settings(app, as_trainee: FlaskClient, db: Session):
    app.extensions["courseware.certification.policy"] = LoadedPolicy(
        Policy(
            learning=LearningRules(read_min_seconds=0, read_min_share=0, read_requires_end=False)
        ),
        [],
    )
    as_trainee.get("/modules/alpha/first")
    _mark(as_trainee)
    assert _done(db)


def test_reading_beacon_never_undoes_a_flashed_message(as_trainee: FlaskClient):
    """A beacon answered after the mark-done redirect must not put back the old session.

    The page sends its reading time in the background while the trainee presses
    "mark done"; if the beacon's answer carried the session cookie it read before the
    form flashed its message, the browser would keep that older cookie and the
    message ("read on, to the end") would never be shown.
    """
    as_trainee.get("/modules/alpha/first")
    beacon = post(
        as_trainee,
        "/modules/alpha/first/time",
        {"seconds": "5", "end": "1"},
        token_from="/modules/alpha/first",
    )
    assert beacon.status_code == 200
    assert "Set-Cookie" not in beacon.headers
    assert "Cookie" not in beacon.headers.get("Vary", "")
    # A page still refreshes the session as before (the lesson's reload on its fast path
    # re-sends no unchanged cookie: test_lesson_fast).
    assert "Set-Cookie" in as_trainee.get("/modules/alpha").headers
