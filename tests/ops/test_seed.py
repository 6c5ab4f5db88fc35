"""The synthetic data set (``courseware seed-load``): a small load, checked for shape.

The large loads belong to ``python -m courseware.ops.bench``; here 20 learners are enough to see
that every row looks like what the application itself writes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware import cli
from courseware.assessment.questions import question_type
from courseware.certification.policy import CertificationRules, Policy
from courseware.content.store import CatalogueCache, import_sources, read_sources
from courseware.core.db import make_engine, make_session_factory
from courseware.core.models import (
    AttemptQuestion,
    CaseDecision,
    CaseTicket,
    Certificate,
    CohortMembership,
    LessonProgress,
    QuizAttempt,
    Reminder,
    User,
)
from courseware.ops import migrate, seed
from courseware.ops.seed import COLUMNS, seed_load
from tests.conftest import DATA
from tests.test_cli import _env

# The fixture course has three cases: certification asks for two of them here.
POLICY = Policy(certification=CertificationRules(cases_required=2, case_average_min=60))


def _seed(db: Session, learners: int = 20, seed: int = 7):
    catalogue = CatalogueCache().get(db)
    db.commit()
    return catalogue, seed_load(db, catalogue, POLICY, learners, password_hash="x", seed=seed)


def _count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_seed_writes_rows_shaped_like_the_applications(app, db, course):
    catalogue, report = _seed(db)
    trainees = db.scalars(select(User).where(User.role == "trainee")).all()
    assert len(trainees) == report.learners == 20
    assert {"manager", "trainer", "hr", "admin"} <= set(db.scalars(select(User.role)))
    assert report.rows["users"] == _count(db, User)
    # one current cohort each, as the unique key demands
    current = db.scalars(
        select(CohortMembership.user_id).where(CohortMembership.current_key.is_not(None))
    ).all()
    assert sorted(current) == sorted(t.id for t in trainees)

    lessons = {(m.slug, lesson.slug): lesson for m in catalogue.modules for lesson in m.lessons}
    for row in db.scalars(select(LessonProgress)):
        assert (row.module_slug, row.lesson_slug) in lessons
        assert row.first_viewed_at <= row.last_viewed_at
        if row.completed_at is not None:
            assert (
                row.completed_revision_id == lessons[(row.module_slug, row.lesson_slug)].revision_id
            )

    # served questions keep the bank's definition; points are what the engine grades
    for question in db.scalars(select(AttemptQuestion)):
        bank = catalogue.quizzes[question.bank_module]
        assert question.definition == bank.question(question.question_id).model_dump(mode="json")
        assert question.served["prompt"] == question.definition["prompt"]
        if question.points is not None:
            graded = question_type(question.qtype).grade(question.definition, question.answer)
            assert question.points == round(graded, 6)
    # each question's definition is stored once, its shown forms a few times at most
    stored = db.execute(
        select(
            AttemptQuestion.question_id,
            func.count(AttemptQuestion.definition_id.distinct()),
            func.count(AttemptQuestion.served_id.distinct()),
        ).group_by(AttemptQuestion.question_id)
    ).all()
    assert stored and all(d == 1 and s <= seed.SHUFFLES for _q, d, s in stored)
    assert max(s for _q, _d, s in stored) > 1
    for attempt in db.scalars(select(QuizAttempt).where(QuizAttempt.status == "submitted")):
        points = db.scalars(
            select(AttemptQuestion.points).where(AttemptQuestion.attempt_id == attempt.id)
        ).all()
        assert attempt.score == round(sum(points), 6) and attempt.max_score == len(points)
        assert attempt.passed == (attempt.score >= attempt.pass_mark * attempt.max_score - 1e-9)

    # every decision was served by a spent ticket and carries the engine's record
    tickets = {t.token: t for t in db.scalars(select(CaseTicket))}
    for decision in db.scalars(select(CaseDecision)):
        ticket = tickets[decision.ticket_token]
        assert ticket.used_at == decision.decided_at and ticket.seed == decision.seed
        assert decision.record["case"]["slug"] == decision.case_slug
        assert decision.record["path"]["seed"] == decision.seed
        assert (decision.first_key is not None) == (decision.kind == "assessment")

    for certificate in db.scalars(select(Certificate)):
        assert certificate.expires_at > certificate.issued_at
        assert {"quizzes", "cases", "lessons", "rules"} <= set(certificate.evidence)


def test_seed_spreads_learners_over_stages(app, db, course):
    _seed(db, 60, seed=3)
    kinds = Counter(db.scalars(select(Certificate.kind)))
    assert kinds["earned"] > 0 and kinds["renewal"] > 0
    assert _count(db, QuizAttempt) > 60 and _count(db, CaseDecision) > 0
    never = db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "trainee", ~User.id.in_(select(LessonProgress.user_id)))
    )
    assert 0 < never < 60


def test_seeding_twice_keeps_names_unique_and_ids_moving(app, db, course):
    _seed(db, 5, seed=1)
    _seed(db, 5, seed=1)
    names = db.scalars(select(User.username)).all()
    assert len(names) == len(set(names))
    # the database hands out the next id after the seeded ones (PostgreSQL's sequence too)
    user = User(username="after-seed", display_name="x", password_hash="x")
    db.add(user)
    db.commit()
    assert user.id > max(db.scalars(select(User.id).where(User.username != "after-seed")))


def test_seed_load_command_refuses_a_database_with_learners(app, db):
    env = _env(app)
    first = CliRunner().invoke(cli.main, ["seed-load", "--learners", "3"], env=env)
    assert first.exit_code == 0, first.output
    assert "officer" in first.output and "password" in first.output
    again = CliRunner().invoke(cli.main, ["seed-load", "--learners", "3"], env=env)
    assert again.exit_code != 0 and "--force" in again.output
    forced = CliRunner().invoke(cli.main, ["seed-load", "--learners", "3", "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User).where(User.role == "trainee")) == 6


def test_a_row_the_database_refuses_fails_the_load(app, db, course):
    # The first learner's user name is taken: the chunk with it is refused, and the load says
    # so instead of leaving those learners out (PostgreSQL writes chunks on other threads).
    db.add(User(username="officer00003", display_name="x", password_hash="x"))
    db.commit()
    with pytest.raises((IntegrityError, psycopg.errors.UniqueViolation)):
        _seed(db, 5, seed=1)
    db.rollback()
    assert db.scalars(select(User.username).where(User.role == "trainee")).all() == ["officer00003"]


def test_a_row_pointing_at_nothing_fails_the_load(app, db, course, monkeypatch):
    # On PostgreSQL a superuser's writers leave the foreign keys' row triggers out and check
    # each batch's references at once: a reminder sent by no account is still refused, and
    # nothing of its chunk stays.
    def remind(loader, uid, number, state):
        loader.add(Reminder, uid, loader.now, 999_999, "overdue", "x@bank.example", "sent", "")

    monkeypatch.setattr(seed._Loader, "remind", remind)
    with pytest.raises((IntegrityError, psycopg.errors.ForeignKeyViolation)):
        _seed(db, 5, seed=1)
    db.rollback()
    assert _count(db, Reminder) == 0
    assert db.scalars(select(User.username).where(User.role == "trainee")).all() == []


def test_the_load_leaves_no_temporary_tables_behind(app, db, course):
    # The PostgreSQL writers keep the JSON rows share in temporary tables for the load.
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("only the PostgreSQL load makes temporary tables (SQLite inserts directly)")
    _seed(db, 20, seed=2)
    left = db.scalars(
        text("SELECT relname FROM pg_class WHERE relpersistence = 't' AND relname LIKE 'seed%'")
    ).all()
    assert left == []
    assert db.scalar(text("SHOW session_replication_role")) == "origin"
    assert _count(db, CaseDecision) > 0


# Columns holding the id of a stored text, read as the text (the ids depend on the order the
# database met the texts).
TEXTS = {"served_id": "served", "definition_id": "definition"}


def _loaded_rows(session: Session) -> dict[str, list[tuple]]:
    """Every seeded table's rows as the application reads them (ids the database hands out
    left aside), in a stable order."""
    found = {}
    for model, columns in COLUMNS.items():
        names = [c.name for c in model.__table__.c if c.name != "id" or "id" in columns]
        keys = [
            TEXTS.get(n) or model.__mapper__.get_property_by_column(model.__table__.c[n]).key
            for n in names
        ]
        rows = [tuple(getattr(row, key) for key in keys) for row in session.scalars(select(model))]
        found[model.__tablename__] = sorted(rows, key=repr)
    return found


@pytest.mark.parametrize("forks", [True, False], ids=["two-processes", "no-fork"])
def test_postgresql_copy_writes_the_rows_sqlite_inserts(
    app, db, course, tmp_path, monkeypatch, forks
):
    # PostgreSQL generates the chunks in two processes (one, where the system cannot fork:
    # Windows) and takes the rows by COPY, SQLite generates them one after the other and
    # inserts them: the same seed at the same moment gives the same rows, read back through
    # the application's types. Chunks of 7 learners spread the 40 over both processes.
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("compares PostgreSQL's COPY with SQLite's inserts")
    monkeypatch.setattr(seed, "CHUNK", 7)
    monkeypatch.setattr(seed, "_can_fork", lambda: forks)
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    catalogue = CatalogueCache().get(db)
    db.commit()
    seed_load(db, catalogue, POLICY, 40, password_hash="x", seed=9, now=now)
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(engine)
    try:
        with make_session_factory(engine)() as other:
            sources, _errors = read_sources(
                {name: DATA / name for name in ("content", "quizzes", "case_studies")}
            )
            import_sources(other, sources)
            other.commit()
            catalogue = CatalogueCache().get(other)
            other.commit()
            seed_load(other, catalogue, POLICY, 40, password_hash="x", seed=9, now=now)
            expected = _loaded_rows(other)
    finally:
        engine.dispose()
    assert expected["attempt_questions"] and expected["case_decisions"]
    assert _loaded_rows(db) == expected


def _indexes(db: Session) -> list[tuple[str, str]]:
    return sorted(
        db.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        ).all()
    )


def test_the_load_builds_again_the_indexes_it_dropped(app, db, course):
    # The PostgreSQL load drops the tables' non-unique indexes for the COPY and builds them
    # from the loaded rows; the same indexes are there after a load and after a failed one.
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("only the PostgreSQL load drops indexes (SQLite inserts with them)")
    before = _indexes(db)
    assert "ix_case_decisions_decided_at" in dict(before)
    db.rollback()
    _seed(db, 10, seed=4)
    assert _indexes(db) == before
    # the second learner of the next load is named after the id after this account's
    top = db.scalar(select(func.max(User.id)))
    db.add(User(username=f"officer{top + 3:05d}", display_name="x", password_hash="x"))
    db.commit()
    with pytest.raises((IntegrityError, psycopg.errors.UniqueViolation)):
        _seed(db, 5, seed=1)
    db.rollback()
    assert _indexes(db) == before
