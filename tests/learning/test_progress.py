"""A learner's progress through the lessons, as the domain records it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.content.store import (
    add_revision,
    import_sources,
    published_sources,
    read_sources,
)
from courseware.core.clock import utcnow
from courseware.core.models import ContentDocument, User
from courseware.learning import progress
from tests.conftest import DATA


def _catalogue(db: Session) -> Catalogue:
    return build_catalogue(*published_sources(db))


def test_done_keeps_the_first_completion_and_undo_clears_it(
    db: Session, course: None, users: dict[str, User]
) -> None:
    learner = users["trainee"].id
    lesson = _catalogue(db).modules[0].lessons[0]
    first = utcnow() - timedelta(days=2)
    progress.mark_done(db, learner, lesson, first)
    row = progress.mark_done(db, learner, lesson, utcnow())
    assert row.completed_at == first
    progress.mark_not_done(db, learner, lesson)
    db.flush()
    statuses = progress.lesson_statuses(db, learner, _catalogue(db).modules[0])
    assert [s.done for s in statuses] == [False] * len(statuses)
    assert statuses[0].viewed  # undoing keeps the record that it was read


def test_reading_time_is_capped_per_report(db: Session, course: None, users: dict[str, User]):
    learner = users["trainee"].id
    lesson = _catalogue(db).modules[0].lessons[0]
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    progress.record_view(db, learner, lesson, opened)
    later = opened + timedelta(hours=2)
    cap = progress.MAX_SECONDS_PER_REPORT
    assert progress.add_reading_time(db, learner, lesson, 10**6, later) == cap
    assert progress.add_reading_time(db, learner, lesson, -50, later) == cap
    # Never more than the time since the lesson was first opened: two hours.
    totals = [progress.add_reading_time(db, learner, lesson, cap, later) for _ in range(4)]
    assert totals == [3600, 5400, 7200, 7200]


def test_the_dashboard_counts_lessons_and_points_to_the_next(
    db: Session, course: None, users: dict[str, User]
) -> None:
    learner = users["trainee"].id
    catalogue = _catalogue(db)
    first, second = catalogue.modules[0].lessons[:2]
    progress.mark_done(db, learner, first)
    db.flush()
    board = progress.dashboard(db, learner, catalogue)
    total = sum(len(m.lessons) for m in catalogue.modules)
    assert (board.lessons_done, board.lessons_total) == (1, total)
    assert board.percent == round(100 / total)
    assert (board.continue_module, board.continue_lesson) == (
        catalogue.modules[0].slug,
        second.slug,
    )
    other = users["trainer"].id
    assert progress.dashboard(db, other, catalogue).lessons_done == 0  # one learner's own


def test_progress_survives_a_re_import_and_a_revised_lesson_is_flagged(
    db: Session, course: None, users: dict[str, User]
) -> None:
    learner = users["trainee"].id
    lesson = _catalogue(db).modules[0].lessons[0]
    progress.mark_done(db, learner, lesson)
    db.commit()
    sources, errors = read_sources({"content": DATA / "content"})
    assert not errors
    import_sources(db, sources)  # the same files: nothing changes
    db.commit()
    module = _catalogue(db).modules[0]
    assert progress.lesson_statuses(db, learner, module)[0].done
    revised = dict(sources)
    revised[lesson.path] = sources[lesson.path] + "\n\nA paragraph added by the trainer.\n"
    import_sources(db, revised)  # a file import is not a material change
    db.commit()
    catalogue = _catalogue(db)
    status = progress.lesson_statuses(
        db, learner, catalogue.modules[0], progress.material_updates(db, catalogue)
    )[0]
    assert status.done and not status.updated_since_done
    document = db.scalar(select(ContentDocument).where(ContentDocument.path == lesson.path))
    add_revision(
        db, document, revised[lesson.path] + "\nA new rule.\n", origin="studio", material=True
    )
    db.commit()
    catalogue = _catalogue(db)
    status = progress.lesson_statuses(
        db, learner, catalogue.modules[0], progress.material_updates(db, catalogue)
    )[0]
    assert status.done and status.updated_since_done  # done, and asked to reread
