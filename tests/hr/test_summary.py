"""The HR summary kept on write: after any sequence of events it equals a recount from the raw
tables, the HR figures read from it equal the figures counted from the raw tables, and a
content re-import that changes what counts rebuilds it."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.orm import Session

from courseware import cli
from courseware.certification.issuing import (
    CertificationError,
    issue_by_hand,
    reset_case_decision,
    reset_quiz_attempt,
    revoke,
)
from courseware.certification.policy import Policy
from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.content.store import import_sources, published_sources, read_sources
from courseware.core.learner_marks import Marks
from courseware.core.models import (
    CaseDecision,
    Certificate,
    Cohort,
    LearnerModuleSummary,
    LearnerSummary,
    QuizAttempt,
    Reminder,
    User,
)
from courseware.hr import cohorts, summary
from courseware.hr.compliance import Scope, learner_facts, moment
from courseware.hr.learner_table import LearnerQuery, iter_learners
from courseware.hr.reports import (
    completion,
    course_keys,
    funnel,
    funnel_from_raw,
)
from courseware.learning.progress import mark_done, mark_not_done, record_view
from tests.conftest import DATA
from tests.hr.test_reports import add_learner, decision_row
from tests.test_cli import _env

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def catalogue(db: Session, course: None) -> Catalogue:
    return build_catalogue(*published_sources(db))


def summary_rows(db: Session) -> dict[int, dict[str, Any]]:
    columns = [c for c in LearnerSummary.__table__.columns if c.name != "modules_done"]
    return {r.user_id: _plain(r._asdict()) for r in db.execute(select(*columns)).all()}


def recounted_rows(db: Session) -> dict[int, dict[str, Any]]:
    keys = summary.stored_keys(db)
    assert keys is not None
    found = summary.raw_rows(keys).subquery()
    return {r.user_id: _plain(r._asdict()) for r in db.execute(select(found)).all()}


def module_rows(db: Session, raw: bool) -> set[tuple[Any, ...]]:
    if raw:
        keys = summary.stored_keys(db)
        assert keys is not None
        found = summary.raw_module_rows(keys).subquery()
        statement = select(found)
    else:
        statement = select(*LearnerModuleSummary.__table__.columns)
    return {(r[0], r[1], bool(r[2]), int(r[3]), bool(r[4])) for r in db.execute(statement)}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    row["learner"] = bool(row["learner"])
    return row


def modules_done_by_hand(db: Session, catalogue: Catalogue) -> dict[int, int]:
    """Modules complete per learner, from the raw funnel's rule, one learner at a time."""
    keys = course_keys(catalogue, Policy())
    done: dict[int, int] = {}
    for user_id in db.scalars(select(User.id)):
        count = 0
        for module in catalogue.modules:
            row = db.execute(
                select(LearnerModuleSummary.lessons_done, LearnerModuleSummary.quiz_passed).where(
                    LearnerModuleSummary.user_id == user_id,
                    LearnerModuleSummary.module_slug == module.slug,
                )
            ).first()
            needed = keys.lessons_per_module[module.slug]
            if row and needed and row[0] >= needed:
                count += bool(row[1]) or module.slug not in keys.quiz_modules
        done[user_id] = count
    return done


def account_rows(db: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The per-account recount (what a write runs) of ``ids``."""
    keys = summary.stored_keys(db)
    assert keys is not None
    found = summary.account_rows(keys, ids).subquery()
    return {r.user_id: _plain(r._asdict()) for r in db.execute(select(found)).all()}


def assert_summary_is_a_recount(db: Session, catalogue: Catalogue, at_day: int = 0) -> None:
    db.expire_all()
    recounted = recounted_rows(db)
    assert summary_rows(db) == recounted
    # The recount on write counts each account as the whole recount does.
    assert account_rows(db, list(recounted)) == recounted
    assert module_rows(db, raw=False) == module_rows(db, raw=True)
    stored = dict(db.execute(select(LearnerSummary.user_id, LearnerSummary.modules_done)).all())
    assert stored == modules_done_by_hand(db, catalogue)
    # What HR reads from the summary equals what the raw tables say, at any date.
    keys = course_keys(catalogue, Policy())
    at = moment(NOW + at_day * DAY, "Asia/Taipei", Policy())
    for scope in (Scope(), Scope(branch="台北分行")):
        assert funnel(db, scope, keys) == funnel_from_raw(db, scope, keys)
        raw = learner_facts(at, scope).subquery()
        raw_status = dict(db.execute(select(raw.c.user_id, raw.c.status)).all())
        read = {r.user_id: r.status for r in iter_learners(db, at, scope, LearnerQuery(), keys)}
        assert read == raw_status
        counted = completion(db, at, scope)
        assert sum(counted.by_status.values()) == len(raw_status)
        for status, number in counted.by_status.items():
            assert number == sum(1 for s in raw_status.values() if s == status), status


def _quiz(db: Session, user_id: int, module: str, passed: bool, n: int) -> QuizAttempt:
    attempt = QuizAttempt(
        user_id=user_id,
        kind="module",
        module_slug=module,
        token=f"t{n}",
        status="open",
        pass_mark=0.6,
        started_at=NOW,
    )
    db.add(attempt)
    db.flush()
    # Submitting is an update of the open attempt, as the quiz service does it.
    db.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id)
        .values(status="submitted", submitted_at=NOW, passed=passed, score=1.0, max_score=1.0)
    )
    return attempt


def test_the_summary_is_a_recount_after_any_sequence_of_events(db, catalogue):
    keys = course_keys(catalogue, Policy())
    admin = add_learner(db, "admin", role="admin")
    users = [add_learner(db, f"u{i}", branch=("台北分行", "台中分行")[i % 2]) for i in range(6)]
    db.commit()
    summary.forget_checks()
    assert summary.ensure_current(db, keys)  # the first HR read builds it
    assert_summary_is_a_recount(db, catalogue)
    spring = cohorts.create_cohort(db, "spring", "", date(2026, 2, 20), admin)
    autumn = cohorts.create_cohort(db, "autumn", "", date(2026, 9, 1), admin)
    db.commit()
    lessons = [lesson for module in catalogue.modules for lesson in module.lessons]
    modules = [m.slug for m in catalogue.modules]
    rng = random.Random(26)
    tokens = iter(range(10_000))

    def event(user: User) -> str:
        kind = rng.choice(
            ["view", "done", "undone", "quiz", "reset_quiz", "case", "reset_case",
             "issue", "revoke", "assign", "leave", "cohort_due", "rename", "disable",
             "remind"]
        )  # fmt: skip
        if kind == "view":
            record_view(db, user.id, rng.choice(lessons), NOW)
        elif kind == "done":
            mark_done(db, user.id, rng.choice(lessons), NOW)
        elif kind == "undone":
            mark_not_done(db, user.id, rng.choice(lessons))
        elif kind == "quiz":
            _quiz(db, user.id, rng.choice(modules), rng.random() < 0.7, next(tokens))
        elif kind == "reset_quiz":
            found = db.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user.id)).first()
            if found is not None and found.reset_at is None:
                reset_quiz_attempt(db, found, admin, "A retake was agreed", NOW)
        elif kind == "case":
            n = next(tokens)
            db.execute(insert(CaseDecision), [decision_row(user.id, n, first_key=f"{n}")])
        elif kind == "reset_case":
            found = db.scalars(select(CaseDecision).where(CaseDecision.user_id == user.id)).first()
            if found is not None and found.reset_at is None:
                reset_case_decision(db, found, admin, "Decided on a broken case", NOW)
        elif kind == "issue":
            with contextlib.suppress(CertificationError):  # already holds a valid one
                issue_by_hand(db, user, admin, "Certified elsewhere", catalogue, Policy(), NOW)
        elif kind == "revoke":
            found = db.scalars(
                select(Certificate).where(
                    Certificate.user_id == user.id, Certificate.revoked_at.is_(None)
                )
            ).first()
            if found is not None:
                revoke(db, found, admin, "Issued by mistake", NOW)
        elif kind == "assign":
            cohorts.assign(db, rng.choice([spring, autumn]), [user], admin, NOW)
        elif kind == "leave":
            cohorts.remove(db, user, admin, NOW)
        elif kind == "cohort_due":
            cohort = rng.choice([spring, autumn])
            cohorts.update_cohort(
                db,
                cohort,
                admin,
                name=cohort.name,
                branch=cohort.branch,
                due_date=cohort.due_date + rng.choice([-30, 30]) * DAY,
                reason="The plan moved",
            )
        elif kind == "rename":
            user.display_name = f"改名 {next(tokens)}"
            user.branch = rng.choice(["台北分行", "台中分行"])
        elif kind == "disable":
            user.active = not user.active
        elif kind == "remind":
            db.add(
                Reminder(user_id=user.id, sent_at=NOW, kind="due", address="a@b.c", status="sent")
            )
        return kind

    seen = set()
    for step in range(120):
        user = db.get(User, rng.choice(users))
        assert user is not None
        seen.add(event(user))
        db.commit()
        if step % 20 == 19:
            assert_summary_is_a_recount(db, catalogue)
    assert len(seen) == 15  # every kind of event happened
    # Dates pass with no write: expiring, expired and overdue come from the stored dates.
    for days in (40, 400):
        assert_summary_is_a_recount(db, catalogue, at_day=days)


def test_a_first_view_and_a_first_activity_are_small_writes(db, catalogue):
    keys = course_keys(catalogue, Policy())
    learner = add_learner(db, "reader")
    db.commit()
    summary.forget_checks()
    summary.ensure_current(db, keys)
    lesson = catalogue.modules[0].lessons[0]
    from courseware.core.activity import note_activity

    record_view(db, learner, lesson, NOW)
    note_activity(db, learner, NOW)
    db.commit()
    row = db.get(LearnerSummary, learner)
    assert row is not None and row.first_active_at == NOW
    opened = db.get(LearnerModuleSummary, (learner, lesson.module_slug))
    assert opened is not None and opened.opened and opened.lessons_done == 0
    assert_summary_is_a_recount(db, catalogue)


def _row_writes(db: Session) -> tuple[int, ...]:
    """PostgreSQL's counts of learner_summary rows inserted, deleted, updated and HOT-updated
    by this connection and not yet reported (they include this transaction's so far)."""
    found = db.execute(
        text(
            "SELECT n_tup_ins, n_tup_del, n_tup_upd, n_tup_hot_upd"
            " FROM pg_stat_xact_user_tables WHERE relname = 'learner_summary'"
        )
    ).one_or_none()
    return tuple(found) if found else (0, 0, 0, 0)


def test_a_recount_updates_the_account_row_in_place(db, catalogue):
    """A passed quiz's recount rewrites the account's row in place: no delete, no new row;
    on PostgreSQL a HOT update (no index entry written: no indexed column changed)."""
    keys = course_keys(catalogue, Policy())
    learner = add_learner(db, "inplace")
    db.commit()
    summary.forget_checks()
    summary.ensure_current(db, keys)
    _quiz(db, learner, keys.quiz_modules[0], True, 1)
    db.flush()
    postgres = db.get_bind().dialect.name == "postgresql"
    before = _row_writes(db) if postgres else None
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        summary.refresh(db, Marks(users={learner}))  # what the commit runs
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert not [s for s in seen if s.startswith("DELETE FROM learner_summary")]
    written = [s for s in seen if s.startswith("INSERT INTO learner_summary ")]
    assert len(written) == 1 and "ON CONFLICT (user_id) DO UPDATE" in written[0]
    if before is not None:
        after = _row_writes(db)
        assert tuple(a - b for a, b in zip(after, before, strict=True)) == (0, 0, 1, 1)
    db.commit()
    assert db.get(LearnerSummary, learner).quizzes_passed == 1  # type: ignore[union-attr]
    assert_summary_is_a_recount(db, catalogue)


def test_a_rolled_back_change_leaves_the_summary_alone(db, catalogue):
    keys = course_keys(catalogue, Policy())
    learner = add_learner(db, "undo")
    db.commit()
    summary.forget_checks()
    summary.ensure_current(db, keys)
    user = db.get(User, learner)
    assert user is not None
    user.display_name = "never saved"
    db.flush()
    db.rollback()
    user.branch = "台中分行"
    db.commit()
    row = db.get(LearnerSummary, learner)
    assert row is not None and row.branch == "台中分行" and row.display_name != "never saved"


def test_a_re_import_that_changes_the_course_rebuilds_the_summary(db, catalogue, tmp_path):
    keys = course_keys(catalogue, Policy())
    learner = add_learner(db, "keen")
    db.commit()
    summary.forget_checks()
    summary.ensure_current(db, keys)
    module = catalogue.modules[1]
    for lesson in module.lessons:
        mark_done(db, learner, lesson, NOW)
    if module.slug in keys.quiz_modules:
        _quiz(db, learner, module.slug, True, 1)
    db.commit()
    assert db.get(LearnerSummary, learner).modules_done == 1  # type: ignore[union-attr]
    # The course gains a lesson in that module: the learner's module is no longer complete.
    sources, errors = read_sources(
        {
            "content": DATA / "content",
            "quizzes": DATA / "quizzes",
            "case_studies": DATA / "case_studies",
        }
    )
    assert not errors
    folder = next(p.rsplit("/", 1)[0] for p in sources if f"-{module.slug}/" in p)
    first = next(p for p in sorted(sources) if p.startswith(folder + "/0"))
    sources[f"{folder}/09-added.md"] = sources[first].replace(
        module.lessons[0].slug, "added-lesson"
    )
    import_sources(db, sources)
    db.commit()
    changed = build_catalogue(*published_sources(db))
    new_keys = course_keys(changed, Policy())
    assert new_keys.lessons_per_module[module.slug] == len(module.lessons) + 1
    assert summary.ensure_current(db, new_keys)  # other keys: rebuilt
    assert not summary.ensure_current(db, new_keys)  # once
    assert db.get(LearnerSummary, learner).modules_done == 0  # type: ignore[union-attr]
    assert_summary_is_a_recount(db, changed)


def test_the_rebuild_command_recounts_every_account(app, db, course):
    add_learner(db, "one")
    db.commit()
    db.execute(update(LearnerSummary).values(display_name="stale"))
    db.commit()
    result = CliRunner().invoke(cli.main, ["hr", "rebuild-summary"], env=_env(app))
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.scalar(select(func.count()).where(LearnerSummary.display_name == "stale")) == 0
    assert "1" in result.output
    catalogue = build_catalogue(*published_sources(db))
    assert summary.stored_keys(db) == summary.SummaryKeys.of(course_keys(catalogue, Policy()))
    assert_summary_is_a_recount(db, catalogue)


def test_a_cohort_renamed_renames_it_on_every_member(db, catalogue):
    keys = course_keys(catalogue, Policy())
    admin = add_learner(db, "boss", role="admin")
    a, b = add_learner(db, "a"), add_learner(db, "b")
    db.commit()
    summary.forget_checks()
    summary.ensure_current(db, keys)
    cohort = cohorts.create_cohort(db, "old name", "", date(2026, 5, 1), admin)
    cohorts.assign(db, cohort, [db.get(User, a), db.get(User, b)], admin, NOW)  # type: ignore[list-item]
    db.commit()
    found = db.get(Cohort, cohort.id)
    assert found is not None
    cohorts.update_cohort(
        db, found, admin, name="new name", branch="", due_date=date(2026, 6, 1), reason="x"
    )
    db.commit()
    names = set(db.scalars(select(LearnerSummary.cohort_name).where(LearnerSummary.learner)))
    assert names == {"new name"}
    dues = set(db.scalars(select(LearnerSummary.due_date).where(LearnerSummary.learner)))
    assert dues == {date(2026, 6, 1)}
