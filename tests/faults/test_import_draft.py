"""A course re-import while a trainer's unpublished studio draft exists for the same file:
the import never publishes over the draft nor hides it; the file's text is kept beside the
draft, and the studio shows the difference for the trainer to resolve."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware import cli
from courseware.core.models import AuditEvent, ContentDocument, ContentRevision
from tests.conftest import DATA, login
from tests.studio.helpers import doc_id, editor_form, editor_text, hidden, sign_in

LESSON = "content/01-alpha/01-first.md"
DRAFT_LINE = "講師在草稿中新增的一段。"
FILE_LINE = "課程檔案中新增的一段。"


def _import(app, course: Path):
    env = {
        "COURSEWARE_DATABASE_URL": app.config["DATABASE_URL"],
        "COURSEWARE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "COURSEWARE_SECRET_KEY": "import-draft",
        "COURSEWARE_CONTENT_DIR": str(course / "content"),
        "COURSEWARE_QUIZ_DIR": str(course / "quizzes"),
        "COURSEWARE_CASE_DIR": str(course / "case_studies"),
    }
    result = CliRunner().invoke(cli.main, ["import"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _published_text(db: Session) -> str:
    db.rollback()
    return db.scalar(
        select(ContentRevision.body)
        .join(ContentDocument, ContentDocument.published_revision_id == ContentRevision.id)
        .where(ContentDocument.path == LESSON)
    )


@pytest.fixture
def course_files(tmp_path: Path) -> Path:
    folder = tmp_path / "course"
    shutil.copytree(DATA, folder)
    return folder


@pytest.mark.parametrize("choice", ["keep", "take"])
def test_a_reimport_keeps_the_draft_and_the_studio_shows_the_conflict(
    app, db, client, users, course_files, choice
):
    assert "added" in _import(app, course_files)
    published_before = _published_text(db)
    trainer = sign_in(client, "trainer")
    document = doc_id(db, LESSON)
    form = editor_form(trainer, document)
    form.update(text=form["text"] + f"\n{DRAFT_LINE}\n", action="draft")
    assert trainer.post(f"/author/content/{document}", data=form).status_code == 302

    lesson = course_files / "content" / "01-alpha" / "01-first.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + f"\n{FILE_LINE}\n", encoding="utf-8")
    output = _import(app, course_files)
    assert LESSON in output and "a studio draft waits" in output
    assert "updated 0" in output

    # Learners still see what was published; the import published nothing over the draft.
    assert _published_text(db) == published_before
    reader = app.test_client()
    assert login(reader, "trainee").status_code == 302
    assert FILE_LINE not in reader.get("/modules/alpha/first").get_data(as_text=True)
    # The editor opens on the trainer's draft, with the file's version beside it.
    page = trainer.get(f"/author/content/{document}").get_data(as_text=True)
    assert DRAFT_LINE in editor_text(page) and FILE_LINE not in editor_text(page)
    assert "was imported beside your draft and not published" in page
    assert f"+{FILE_LINE}" in page.replace("&#43;", "+") or FILE_LINE in page
    listing = trainer.get("/author/content").get_data(as_text=True)
    assert "Course file changed: choose in the editor" in listing
    # Importing the same files again changes nothing.
    assert "updated 0" in _import(app, course_files)
    db.rollback()
    held = db.scalars(select(ContentRevision).where(ContentRevision.status == "held")).all()
    assert len(held) == 1

    resolve = {
        "held-csrf_token": hidden(page, "held-csrf_token"),
        "held-base": hidden(page, "held-base"),
        "choice": choice,
    }
    response = trainer.post(f"/author/content/{document}/file-version/{held[0].id}", data=resolve)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    page = trainer.get(f"/author/content/{document}").get_data(as_text=True)
    assert "was imported beside your draft" not in page
    text = editor_text(page)
    if choice == "keep":
        assert DRAFT_LINE in text and FILE_LINE not in text
    else:
        assert FILE_LINE in text and DRAFT_LINE not in text
    assert _published_text(db) == published_before  # still a draft: the trainer publishes
    assert (
        db.scalar(
            select(func.count()).where(
                AuditEvent.action
                == ("content.import_taken" if choice == "take" else "content.import_set_aside")
            )
        )
        == 1
    )
    # A second click on the same choice changes nothing.
    again = trainer.post(f"/author/content/{document}/file-version/{held[0].id}", data=resolve)
    assert again.status_code in (302, 409)
    assert "Course file changed" not in trainer.get("/author/content").get_data(as_text=True)


def test_without_a_draft_a_changed_file_is_published_as_before(app, db, course_files):
    _import(app, course_files)
    lesson = course_files / "content" / "01-alpha" / "01-first.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + f"\n{FILE_LINE}\n", encoding="utf-8")
    output = _import(app, course_files)
    assert "updated 1" in output and "a studio draft waits" not in output
    assert FILE_LINE in _published_text(db)
