"""The import rule: new and changed files come in; an unchanged file never
overrides a revision published later in the browser; progress survives."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.catalogue import build_catalogue
from courseware.content.store import (
    CatalogueCache,
    add_revision,
    content_version,
    import_sources,
    published_sources,
    read_sources,
)
from courseware.core.models import ContentDocument, ContentRevision
from courseware.learning import progress
from tests.conftest import DATA, make_user

LESSON_PATH = "content/01-alpha/01-first.md"


def _files() -> dict[str, str]:
    sources, _errors = read_sources({"content": DATA / "content"})
    return sources


def test_first_import_adds_everything_and_second_changes_nothing(db: Session):
    files = _files()
    report = import_sources(db, files)
    db.commit()
    assert sorted(report.added) == sorted(files) and not report.updated
    version = content_version(db)
    again = import_sources(db, files)
    db.commit()
    assert not again.changed and sorted(again.unchanged) == sorted(files)
    assert content_version(db) == version


def test_changed_file_becomes_a_new_published_revision(db: Session):
    files = _files()
    import_sources(db, files)
    files[LESSON_PATH] = files[LESSON_PATH].replace("微貸是小額的貸款", "微貸是金額不大的貸款")
    report = import_sources(db, files)
    db.commit()
    assert report.updated == [LESSON_PATH]
    sources, _ = published_sources(db)
    assert "金額不大" in sources[LESSON_PATH]
    numbers = db.scalars(
        select(ContentRevision.number)
        .join(ContentDocument)
        .where(ContentDocument.path == LESSON_PATH)
        .order_by(ContentRevision.number)
    ).all()
    assert numbers == [1, 2]


def test_unchanged_file_never_overrides_a_browser_publish(db: Session):
    files = _files()
    import_sources(db, files)
    document = db.scalar(select(ContentDocument).where(ContentDocument.path == LESSON_PATH))
    edited = files[LESSON_PATH] + "\n瀏覽器中發布的修訂。\n"
    add_revision(db, document, edited, origin="editor")
    db.commit()
    import_sources(db, files)
    db.commit()
    sources, _ = published_sources(db)
    assert sources[LESSON_PATH] == edited


def test_text_is_kept_byte_for_byte(db: Session):
    text = "---\r\nslug: x\r\n---\r\n內容  \r\n\r\n"
    import_sources(db, {"content/09-x/module.md": text})
    db.commit()
    sources, _ = published_sources(db)
    assert sources["content/09-x/module.md"] == text


def test_progress_survives_reimport_and_edits(db: Session):
    user = make_user(db, "learner")
    files = _files()
    import_sources(db, files)
    db.commit()
    catalogue = build_catalogue(*published_sources(db))
    lesson = catalogue.module("alpha").lesson("first")
    progress.mark_done(db, user.id, lesson)
    db.commit()
    files[LESSON_PATH] = files[LESSON_PATH].replace("第一課", "第一課（修訂）")
    import_sources(db, files)
    db.commit()
    catalogue = build_catalogue(*published_sources(db))
    dashboard = progress.dashboard(db, user.id, catalogue)
    alpha = dashboard.modules[0]
    assert (alpha.lessons_done, alpha.lessons_total) == (1, 2)
    assert catalogue.module("alpha").lesson("first").title == "第一課（修訂）"


def test_catalogue_cache_rebuilds_only_when_the_version_moves(db: Session):
    import_sources(db, _files())
    db.commit()
    cache = CatalogueCache()
    first = cache.get(db)
    assert cache.get(db) is first
    document = db.scalar(select(ContentDocument).where(ContentDocument.path == LESSON_PATH))
    add_revision(db, document, _files()[LESSON_PATH].replace("第一課", "新標題"), origin="editor")
    db.commit()
    second = cache.get(db)
    assert second is not first
    assert second.module("alpha").lesson("first").title == "新標題"
