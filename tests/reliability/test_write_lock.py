"""A request that changes nothing does not hold SQLite's write lock while it works.

Every POST starts its transaction as a writer (``database._begin_writes``: BEGIN IMMEDIATE on
SQLite), and keeps the lock until it ends. The studio's previews are POSTs that only read, and
the full preview builds the whole course to check the text (seconds on a loaded machine): a
learner's write meanwhile waited out its busy timeout and answered 503 (CI, two workers: a
studio preview 503 in the trainer's browser journey). Here the preview is held in the middle
of its work while a learner starts a quiz, with a short busy timeout: the learner's write
must not wait for the preview.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event

from courseware.web.studio import editor
from tests.conftest import csrf_token
from tests.studio.helpers import doc_id, editor_form, sign_in

LESSON = "content/01-alpha/01-first.md"
BUSY_TIMEOUT_MS = 300
HOLD_SECONDS = 30  # the preview waits at most this long for the learner's write


@pytest.fixture
def short_busy_timeout(app: Flask) -> Iterator[None]:
    """SQLite gives up on a lock after BUSY_TIMEOUT_MS (instead of 5 s): a request that waits
    on another's write lock answers 503 quickly."""
    engine = app.extensions["courseware.core.db"].engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def shorter(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    event.listen(engine, "connect", shorter)
    engine.dispose()  # the pooled connections were made with the default
    yield
    event.remove(engine, "connect", shorter)


def _held(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[threading.Event, threading.Event]:
    """Make ``editor.<name>`` (a step of the preview) wait, once entered, until released."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(editor, name)

    def waiting(*args, **kwargs):
        entered.set()
        release.wait(HOLD_SECONDS)
        return original(*args, **kwargs)

    monkeypatch.setattr(editor, name, waiting)
    return entered, release


# The live preview (the editor's script) and the editor form's Preview button (the full check).
PREVIEWS = {
    "live": ("preview_errors", "/author/content/{id}/preview"),
    "form": ("check_texts", "/author/content/{id}"),
}


@pytest.mark.parametrize("kind", list(PREVIEWS))
def test_a_learner_writes_while_a_studio_preview_is_at_work(
    app: Flask, db, users, course, short_busy_timeout, monkeypatch, kind: str
):
    step, path = PREVIEWS[kind]
    trainer = sign_in(app.test_client(), "trainer")
    learner = sign_in(app.test_client(), "trainee")
    lesson = doc_id(db, LESSON)
    db.rollback()
    form = editor_form(trainer, lesson)
    form["text"] += "\n\n預覽中的新段落\n"
    data = {"text": form["text"], "csrf_token": form["csrf_token"]}
    if kind == "form":
        data = {**form, "action": "preview"}
    token = csrf_token(learner, "/quiz/alpha")
    entered, release = _held(monkeypatch, step)
    answers: list[int] = []
    previewing = threading.Thread(
        target=lambda: answers.append(trainer.post(path.format(id=lesson), data=data).status_code)
    )
    previewing.start()
    try:
        assert entered.wait(HOLD_SECONDS), "the preview did not reach its check"
        started = learner.post("/quiz/alpha/start", data={"csrf_token": token})
    finally:
        release.set()
        previewing.join(HOLD_SECONDS)
    assert started.status_code == 302, started.status_code  # 503 while the preview held the lock
    assert answers == [200]
