"""Unlocking harder case templates, and the case list grouped by course module."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from courseware import casework, certification
from courseware.casework.unlock import OPEN_ALL, Requirement, access_from
from courseware.certification.policy import Policy
from courseware.core.models import CaseDecision
from courseware.lending.cases import Case, load_case_dir
from tests.conftest import DATA, make_user

GOOD, BAD, HARD = "grocery-kiosk", "bar-owner", "restructure-illness"
BASE = load_case_dir(DATA / "case_studies")[0][GOOD]


def template(slug: str, difficulty: int, module: str | None = None) -> Case:
    spec = BASE.spec.model_copy(update={"slug": slug, "difficulty": difficulty, "module": module})
    return dataclasses.replace(BASE, spec=spec)


# Five templates: two of difficulty 1, two of 2, one of 3.
SHELF = [template(s, d) for s, d in (("a1", 1), ("b1", 1), ("a2", 2), ("b2", 2), ("a3", 3))]


def test_the_shipped_setting_is_two():
    assert Policy().cases.unlock_after == 2


@pytest.mark.parametrize(
    ("decided", "unlock_after", "level"),
    [
        (set(), 2, 1),  # a new trainee starts with difficulty 1
        ({"a1"}, 2, 1),
        ({"a1", "b1"}, 2, 2),
        ({"a1", "b1", "a2"}, 2, 2),
        ({"a1", "b1", "a2", "b2"}, 2, 3),
        ({"a2", "b2"}, 2, 1),  # harder ones decided earlier do not skip difficulty 1
        ({"a1"}, 1, 2),
        ({"a1", "a2"}, 1, 3),
        ({"a1", "b1"}, 5, 2),  # fewer published than the setting: all of them are enough
        (set(), 0, 3),  # 0 turns locking off
    ],
)
def test_the_unlocked_difficulty(decided, unlock_after, level):
    assert access_from(frozenset(decided), SHELF, unlock_after).level == level


def test_a_difficulty_without_templates_is_skipped():
    shelf = [template("a1", 1), template("b1", 1), template("a3", 3)]
    assert access_from(frozenset({"a1"}), shelf, 2).level == 1
    assert access_from(frozenset({"a1", "b1"}), shelf, 2).level == 3


def test_what_opens_a_locked_template():
    access = access_from(frozenset({"a1"}), SHELF, 2)
    by_slug = {c.slug: c for c in SHELF}
    assert access.requirement(by_slug["b1"]) is None
    assert access.requirement(by_slug["a2"]) == Requirement(difficulty=1, needed=2, done=1)
    # Difficulty 3 is opened by the difficulty-2 cases (after difficulty 1, which opens those).
    assert access.requirement(by_slug["a3"]) == Requirement(difficulty=2, needed=2, done=0)
    gap = [template("a1", 1), template("a3", 3)]
    assert access_from(frozenset(), gap, 2).requirement(gap[1]) == Requirement(1, 1, 0)


def test_a_template_once_decided_stays_open_when_the_bar_rises():
    # Two difficulty-1 templates opened difficulty 2 and the learner decided a2; then a
    # third difficulty-1 template is published and the setting asks for three.
    shelf = [*SHELF, template("c1", 1)]
    access = access_from(frozenset({"a1", "b1", "a2"}), shelf, 3)
    assert access.level == 1
    assert access.is_open(shelf[2]) and not access.is_open(shelf[3])


@given(
    difficulties=st.lists(st.integers(1, 3), min_size=1, max_size=25),
    unlock_after=st.integers(0, 6),
)
def test_every_template_can_always_be_reached(difficulties, unlock_after):
    """Deciding whatever is open, again and again, opens every template: locking never
    puts cases_required (or any template) out of reach."""
    shelf = [template(f"t{i}", d) for i, d in enumerate(difficulties)]
    decided: frozenset[str] = frozenset()
    while True:
        access = access_from(decided, shelf, unlock_after)
        more = decided | {c.slug for c in shelf if access.is_open(c)}
        if more == decided:
            break
        decided = more
    assert decided == {c.slug for c in shelf}


def test_group_by_module_follows_the_course_and_ends_with_the_rest():
    modules = [
        SimpleNamespace(slug="alpha", title="模組一"),
        SimpleNamespace(slug="beta", title="模組二"),
    ]
    cases = [
        template("x", 1, "beta"),
        template("y", 1, None),
        template("z", 2, "alpha"),
        template("w", 2, "gone"),  # a module the course does not have
        template("v", 3, "beta"),
    ]
    groups = casework.group_by_module(cases, modules)
    assert [(g.module_slug, g.module_title, [c.slug for c in g.cases]) for g in groups] == [
        ("alpha", "模組一", ["z"]),
        ("beta", "模組二", ["x", "v"]),
        (None, None, ["y", "w"]),
    ]


# Against the database ------------------------------------------------------------------


def _decide(db: Session, user_id: int, case: Case, revisions) -> CaseDecision:
    ticket = casework.issue_ticket(db, user_id, case, revisions[case.slug])
    db.commit()
    decision = casework.submit_decision(
        db,
        user_id,
        ticket.token,
        case,
        case.spec.key.best_option,
        [],
        [],
        str(ticket.seed),
        str(ticket.case_revision_id),
    )
    db.commit()
    return decision


def _access(db: Session, user_id: int, cases) -> casework.CaseAccess:
    """The learner's access with unlock_after 2, read from their decisions and (the case
    list's way) from their case statuses: both the same."""
    access = casework.case_access(db, user_id, cases.values(), 2)
    statuses = casework.case_statuses(db, user_id)
    assert casework.case_access(db, user_id, cases.values(), 2, statuses) == access
    return access


@pytest.fixture
def published(db: Session, course: None):
    from courseware.content.catalogue import build_catalogue
    from courseware.content.store import published_sources

    catalogue = build_catalogue(*published_sources(db))
    assert not catalogue.errors
    return catalogue


def test_case_access_counts_the_learners_own_decisions_not_reset(db, published, users):
    cases, revisions = published.cases, published.extras["case_revisions"]
    learner, other = make_user(db, "learner"), make_user(db, "other")
    access = _access(db, learner.id, cases)
    assert access.level == 1 and not access.is_open(cases[HARD])

    for slug in (GOOD, BAD):
        _decide(db, other.id, cases[slug], revisions)  # another learner's do not count
    assert _access(db, learner.id, cases).level == 1

    first = _decide(db, learner.id, cases[GOOD], revisions)
    _decide(db, learner.id, cases[GOOD], revisions)  # practice on the same template
    assert _access(db, learner.id, cases).level == 1
    _decide(db, learner.id, cases[BAD], revisions)
    access = _access(db, learner.id, cases)
    assert access.level == 3 and access.is_open(cases[HARD])  # no difficulty 2 in the fixture

    # A reset counting decision leaves the practice one: GOOD still counts as decided.
    certification.reset_case_decision(db, first, users["hr"].id, "entered by mistake")
    db.commit()
    assert _access(db, learner.id, cases).level == 3

    assert casework.case_access(db, learner.id, cases.values(), 0) is OPEN_ALL


def test_a_reset_decision_does_not_unlock(db, published, users):
    cases, revisions = published.cases, published.extras["case_revisions"]
    learner = make_user(db, "learner")
    _decide(db, learner.id, cases[GOOD], revisions)
    only = _decide(db, learner.id, cases[BAD], revisions)
    assert _access(db, learner.id, cases).level == 3
    certification.reset_case_decision(db, only, users["hr"].id, "decided for someone else")
    db.commit()
    access = _access(db, learner.id, cases)
    assert access.level == 1
    assert access.requirement(cases[HARD]) == Requirement(difficulty=1, needed=2, done=1)


def test_case_requirement_of_one_template(app, db, published):
    cases = published.cases
    learner = make_user(db, "learner")
    seen: list[str] = []
    engine = app.extensions["courseware.core.db"].engine

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert casework.case_requirement(db, learner.id, cases[GOOD], cases.values(), 2) is None
        assert not seen  # difficulty 1 is open without asking the database
        assert casework.case_requirement(
            db, learner.id, cases[HARD], cases.values(), 2
        ) == Requirement(1, 2, 0)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert casework.case_requirement(db, learner.id, cases[HARD], cases.values(), 0) is None
