"""The studio editor through the browser's eyes: edit, preview, publish, a learner sees it;
history, diff and revert; two trainers on one lesson; refusals that keep the typed text."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.models import ContentRevision
from tests.conftest import login, make_user, post
from tests.studio.helpers import doc_id, editor_form, editor_text, hidden, sign_in

LESSON = "content/01-alpha/01-first.md"
LESSON_URL = "/modules/alpha/first"


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainer")


def test_edit_preview_publish_and_a_learner_sees_it(app, trainer: FlaskClient, db: Session):
    lesson = doc_id(db, LESSON)
    form = editor_form(trainer, lesson)
    assert form["text"].startswith("---\nslug: first\n")
    form["text"] = form["text"].replace("## 重點回顧", "## 本課重點\n\n**新的一段**")

    preview = trainer.post(f"/author/content/{lesson}", data={**form, "action": "preview"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>新的一段</strong>" in page
    assert "**新的一段**" in editor_text(page)  # the typed text stays in the editor

    live = trainer.post(
        f"/author/content/{lesson}/preview",
        data={"text": form["text"], "csrf_token": form["csrf_token"]},
        headers={"Accept": "application/json"},
    )
    assert live.status_code == 200 and "<strong>新的一段</strong>" in live.get_json()["html"]

    draft = trainer.post(f"/author/content/{lesson}", data={**form, "action": "draft"})
    assert draft.status_code == 302
    learner = app.test_client()
    sign_in(learner, "trainee")
    assert "新的一段" not in learner.get(LESSON_URL).get_data(as_text=True)

    again = editor_form(trainer, lesson)
    assert "**新的一段**" in again["text"]
    published = trainer.post(
        f"/author/content/{lesson}", data={**again, "action": "publish", "note": "重寫結尾"}
    )
    assert published.status_code == 302
    assert "Published (revision 3)" in trainer.get(published.location).get_data(as_text=True)
    assert "<strong>新的一段</strong>" in learner.get(LESSON_URL).get_data(as_text=True)


def test_history_diff_and_revert(app, trainer: FlaskClient, db: Session):
    lesson = doc_id(db, LESSON)
    form = editor_form(trainer, lesson)
    original = form["text"]
    form["text"] = original.replace("微貸很小", "微貸金額小")
    trainer.post(f"/author/content/{lesson}", data={**form, "action": "publish", "note": "用詞"})
    history = trainer.get(f"/author/content/{lesson}/history").get_data(as_text=True)
    assert "用詞" in history and "#2" in history and "#1" in history
    db.rollback()  # see what the requests committed
    first, second = db.scalars(
        select(ContentRevision.id)
        .where(ContentRevision.document_id == lesson)
        .order_by(ContentRevision.number)
    ).all()
    diff = trainer.get(f"/author/content/{lesson}/diff?a={first}&b={second}").get_data(as_text=True)
    assert '<span class="diff-del">-- 微貸很小</span>' in diff
    assert '<span class="diff-add">+- 微貸金額小</span>' in diff
    reverted = trainer.post(
        f"/author/content/{lesson}/revert/{first}",
        data={"base": str(second), "csrf_token": hidden(history, "csrf_token")},
    )
    assert reverted.status_code == 302
    learner = app.test_client()
    sign_in(learner, "trainee")
    page = learner.get(LESSON_URL).get_data(as_text=True)
    assert "微貸很小" in page and "微貸金額小" not in page
    assert editor_form(trainer, lesson)["text"] == original
    history = trainer.get(f"/author/content/{lesson}/history").get_data(as_text=True)
    assert "Reverted to revision 1" in history


def test_the_second_trainer_is_refused_with_a_diff_and_keeps_the_text(app, trainer, db: Session):
    make_user(db, "second", role="trainer")
    other = sign_in(app.test_client(), "second")
    lesson = doc_id(db, LESSON)
    mine, theirs = editor_form(trainer, lesson), editor_form(other, lesson)
    mine["text"] = mine["text"].replace("微貸很小", "微貸金額小")
    assert (
        trainer.post(f"/author/content/{lesson}", data={**mine, "action": "draft"}).status_code
        == 302
    )
    theirs["text"] = theirs["text"].replace("## 重點回顧", "## 本課重點")
    refused = other.post(f"/author/content/{lesson}", data={**theirs, "action": "publish"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "saved revision 2 while you were editing" in page
    assert '<span class="diff-del">-- 微貸金額小</span>' in page  # what the other trainer saved
    assert '<span class="diff-add">+## 本課重點</span>' in page  # what this trainer typed
    assert editor_text(page) == theirs["text"]
    assert hidden(page, "base") != theirs["base"]  # a deliberate second save may go ahead
    learner = sign_in(app.test_client(), "trainee")
    assert "本課重點" not in learner.get(LESSON_URL).get_data(as_text=True)


def test_a_broken_text_is_refused_with_located_errors_and_kept(trainer: FlaskClient, db: Session):
    lesson = doc_id(db, LESSON)
    form = editor_form(trainer, lesson)
    form["text"] = form["text"].replace("minutes: 10", "minutes: 很久")
    refused = trainer.post(f"/author/content/{lesson}", data={**form, "action": "publish"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert (
        "<code>content/01-alpha/01-first.md</code> · <strong>minutes</strong>: must be a whole number"
        in page
    )
    assert "minutes: 很久" in editor_text(page)
    db.rollback()
    assert (
        db.scalar(
            select(ContentRevision.number)
            .where(ContentRevision.document_id == lesson)
            .order_by(ContentRevision.number.desc())
            .limit(1)
        )
        == 1
    )


def test_errors_are_shown_in_the_trainers_language(client: FlaskClient, users, course, db):
    login(client, "trainer")  # zh_Hant by default
    lesson = doc_id(db, LESSON)
    form = editor_form(client, lesson)
    form["text"] = form["text"].replace("minutes: 10", "minutes: 很久")
    page = client.post(f"/author/content/{lesson}", data={**form, "action": "draft"}).get_data(
        as_text=True
    )
    assert "must be a whole number" not in page and "<strong>minutes</strong>" in page


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">點我</a>',
    "[點我](javascript:alert(1))",
    "[點我](JaVaScRiPt:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">資料</a>',
    "[資料](data:text/html,<script>alert(1)</script>)",
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<p style="background:url(javascript:alert(1))">樣式</p>',
    '<div style="width: expression(alert(1))">CSS</div>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name="x"></form>',
    '<a href="https://ok.example" onclick="alert(1)" onmouseover="alert(1)">連結</a>',
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<!--<script>alert(1)</script>-->",
    '<a href="&#106;avascript:alert(1)">實體</a>',
    "```\n</code></pre><script>alert(1)</script>\n```",
    "::: 注意 <img src=x onerror=alert(1)>\n文字\n:::",
]
FORBIDDEN = (
    "<script",
    "onerror",
    "onload",
    "onclick",
    "onmouseover",
    "ontoggle",
    "javascript:",
    "data:text",
    "<iframe",
    "<svg",
    "<math",
    "style=",
    "<style",
    "expression(",
    "<object",
    "<embed",
    "<form",
    "<input",
    "<base",
    "<meta",
    "<link",
)


def _unsafe(page: str) -> dict[str, int]:
    lowered = page.lower()
    return {marker: lowered.count(marker) for marker in FORBIDDEN if marker in lowered}


def _article(page: str) -> str:
    return page.split('<div class="prose">', 1)[1].split("</article>", 1)[0]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_from_a_trainer_is_sanitized(app, trainer, db: Session, payload):
    """Nothing the payload brings survives: the page has exactly the markup it had before
    (the lesson's own loan calculator has inputs; the payload adds none)."""
    lesson = doc_id(db, LESSON)
    learner = sign_in(app.test_client(), "trainee")
    before = _unsafe(_article(learner.get(LESSON_URL).get_data(as_text=True)))
    form = editor_form(trainer, lesson)
    clean = trainer.post(
        f"/author/content/{lesson}/preview",
        data={"text": form["text"], "csrf_token": form["csrf_token"]},
    ).get_json()["html"]
    form["text"] = form["text"] + "\n" + payload + "\n"
    live = trainer.post(
        f"/author/content/{lesson}/preview",
        data={"text": form["text"], "csrf_token": form["csrf_token"]},
    ).get_json()["html"]
    assert _unsafe(live) == _unsafe(clean)
    assert (
        trainer.post(f"/author/content/{lesson}", data={**form, "action": "publish"}).status_code
        == 302
    )
    page = learner.get(LESSON_URL).get_data(as_text=True)
    assert "Published" not in page and _unsafe(_article(page)) == before
    editor = trainer.get(f"/author/content/{lesson}").get_data(as_text=True)
    assert payload in editor_text(editor)  # kept as the trainer wrote it, escaped as text
    assert not [line for line in payload.splitlines() if "<" in line and line in editor]
    assert _unsafe(_article(editor)) == before  # the editor's own preview pane


def test_preview_needs_the_csrf_token(trainer: FlaskClient, db: Session):
    lesson = doc_id(db, LESSON)
    assert trainer.post(f"/author/content/{lesson}/preview", data={"text": "x"}).status_code == 400


def test_unknown_documents_and_revisions_are_404(trainer: FlaskClient, db: Session):
    assert trainer.get("/author/content/999999").status_code == 404
    lesson = doc_id(db, LESSON)
    assert trainer.get(f"/author/content/{lesson}/diff?a=1&b=999999").status_code == 404
    other = doc_id(db, "content/01-alpha/module.md")
    revision = db.scalar(select(ContentRevision.id).where(ContentRevision.document_id == other))
    assert (
        trainer.get(f"/author/content/{lesson}/diff?a={revision}&b={revision}").status_code == 404
    )


def test_the_documents_page_lists_everything_with_its_state(trainer: FlaskClient, db: Session):
    lesson = doc_id(db, LESSON)
    form = editor_form(trainer, lesson)
    trainer.post(
        f"/author/content/{lesson}", data={**form, "text": form["text"] + "\n", "action": "draft"}
    )
    page = trainer.get("/author/content").get_data(as_text=True)
    for path in (
        LESSON,
        "content/glossary.md",
        "quizzes/alpha.yaml",
        "case_studies/grocery-kiosk.yaml",
    ):
        assert f'<code class="meta">{path}</code>' in page
    assert "Draft</span>" in page
    index = trainer.get("/author").get_data(as_text=True)
    assert 'href="/author/content"' in index and 'href="/author/reviews"' in index
    assert 'href="/author/reports"' in index
    post(trainer, "/language", {"lang": "en", "next": "/"})
