"""courseware export: the published state back to files, byte for byte, never outside the
target; import then export is lossless, and re-importing keeps progress and attempts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware import cli
from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import FOLDERS, import_sources, published_sources, read_sources
from courseware.core.models import AttemptQuestion, ContentDocument, LessonProgress, QuizAttempt
from courseware.learning import progress
from courseware.studio.export import UnsafePath, export_documents, target_path
from tests.assessment.helpers import all_right
from tests.conftest import DATA, make_user
from tests.studio.conftest import LESSON, save
from tests.test_cli import _env

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = {folder: ROOT / folder for folder in FOLDERS}


def _files(dirs: dict[str, Path]) -> dict[str, bytes]:
    return {
        f"{folder}/{file.relative_to(root).as_posix()}": file.read_bytes()
        for folder, root in dirs.items()
        for file in sorted(root.rglob("*"))
        if file.is_file()
    }


def _targets(root: Path) -> dict[str, Path]:
    return {folder: root / folder for folder in FOLDERS}


def test_the_shipped_course_comes_back_byte_for_byte(db: Session, tmp_path: Path):
    sources, errors = read_sources(REPOSITORY)
    assert not errors
    import_sources(db, sources)
    db.commit()
    report = export_documents(db, _targets(tmp_path))
    assert sorted(report.written) == sorted(sources) and not report.refused
    original, exported = _files(REPOSITORY), _files(_targets(tmp_path))
    assert set(exported) == set(sources)
    for path, data in exported.items():
        assert data == original[path], path
    # The glossary and the case catalogue files are course files like the others ...
    assert {"content/glossary.md", "case_studies/red_flags.yaml", "case_studies/model.yaml"} <= set(
        exported
    )
    # ... and nothing under the three folders is left behind (the guide to the case format
    # lives in docs/case-files.md, outside them).
    assert set(original) == set(exported)


def test_exporting_again_writes_nothing(db: Session, course: None, tmp_path: Path):
    first = export_documents(db, _targets(tmp_path))
    again = export_documents(db, _targets(tmp_path))
    assert first.written and not again.written
    assert sorted(again.unchanged) == sorted(first.written)


def _learner_with_progress(db: Session) -> int:
    user = make_user(db, "learner")
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    for lesson in catalogue.module("alpha").lessons:
        progress.mark_done(db, user.id, lesson)
    attempt = engine.start_attempt(db, user.id, catalogue.quizzes["alpha"])
    db.commit()
    questions = engine.questions_of(db, attempt.id)
    engine.submit_attempt(db, user.id, attempt.id, attempt.token, all_right(questions))
    db.commit()
    return user.id


def _snapshot(db: Session, user_id: int) -> tuple:
    done = db.scalars(
        select(LessonProgress.lesson_slug)
        .where(LessonProgress.user_id == user_id, LessonProgress.completed_at.is_not(None))
        .order_by(LessonProgress.lesson_slug)
    ).all()
    attempts = db.execute(
        select(QuizAttempt.id, QuizAttempt.score, QuizAttempt.passed).where(
            QuizAttempt.user_id == user_id
        )
    ).all()
    answers = db.scalar(select(func.count()).select_from(AttemptQuestion))
    return tuple(done), tuple(attempts), answers


def test_export_and_reimport_keep_progress_and_attempts(db: Session, trainers, tmp_path: Path):
    author, _other = trainers
    learner = _learner_with_progress(db)
    before = _snapshot(db, learner)
    text = published_sources(db)[0][LESSON]
    save(db, LESSON, text.replace("微貸很小", "微貸的金額小"), author, material=True)
    export_documents(db, _targets(tmp_path))
    exported, _errors = read_sources(_targets(tmp_path))
    assert "微貸的金額小" in exported[LESSON]
    # The files go back in, here and into a fresh copy of the course: nothing is lost.
    import_sources(db, exported)
    db.commit()
    assert _snapshot(db, learner) == before
    assert published_sources(db)[0] == exported
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    dashboard = progress.dashboard(db, learner, catalogue)
    alpha = next(m for m in dashboard.modules if m.slug == "alpha")
    assert alpha.lessons_done == alpha.lessons_total and alpha.quiz.passed


def test_export_over_the_import_folders_is_not_imported_again(db: Session, trainers, tmp_path):
    author, _other = trainers
    for folder in FOLDERS:
        shutil.copytree(DATA / folder, tmp_path / folder)
    text = published_sources(db)[0][LESSON]
    save(db, LESSON, text.replace("微貸很小", "微貸的金額小"), author)
    export_documents(db, _targets(tmp_path), mark_imported=True)
    db.commit()
    sources, _errors = read_sources(_targets(tmp_path))
    report = import_sources(db, sources)
    assert not report.changed


@pytest.mark.parametrize(
    "path",
    [
        "content/../outside.md",
        "content/01-a/../../outside.md",
        "/etc/passwd",
        "content//etc/passwd",
        "content/",
        "content/a\\..\\..\\x.md",
        "content/C:/x.md",
        "elsewhere/x.md",
    ],
)
def test_paths_that_could_leave_the_folder_are_refused(path: str, tmp_path: Path):
    with pytest.raises(UnsafePath):
        target_path(path, _targets(tmp_path / "out"))


def test_an_unsafe_document_is_skipped_and_nothing_is_written_outside(
    db: Session, course, tmp_path
):
    from courseware.content.store import add_revision

    document = ContentDocument(path="content/../escaped.md", kind="lesson")
    db.add(document)
    db.flush()
    add_revision(db, document, "x", origin="import")
    db.commit()
    report = export_documents(db, _targets(tmp_path / "out"))
    assert report.refused == ["content/../escaped.md"]
    assert not (tmp_path / "out" / "escaped.md").exists() and not (tmp_path / "escaped.md").exists()


def test_the_export_command(app, db: Session, course: None, tmp_path: Path):
    result = CliRunner().invoke(cli.main, ["export", str(tmp_path / "out")], env=_env(app))
    assert result.exit_code == 0, result.output
    files = _files(_targets(tmp_path / "out"))
    assert f"written {len(files)}, unchanged 0" in result.output
    assert files == {p: d for p, d in _files({f: DATA / f for f in FOLDERS}).items() if p in files}
    again = CliRunner().invoke(cli.main, ["export", str(tmp_path / "out")], env=_env(app))
    assert f"written 0, unchanged {len(files)}" in again.output
