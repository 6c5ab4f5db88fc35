"""Item statistics against a hand-computed example, and a fixed number of queries."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.assessment.bank import Bank, parse_bank
from courseware.assessment.statistics import quiz_overview, quiz_statistics
from courseware.content.catalogue import build_catalogue
from courseware.content.store import read_sources
from tests.assessment.helpers import form_for
from tests.conftest import DATA, make_user

BANK = """\
module: beta
title: 統計測驗
pass_mark: 0.8
draw: 5
questions:
  - {id: q1, type: single, lesson: only, prompt: 一, explanation: 一,
     choices: {a: 甲, b: 乙, c: 丙}, answer: b}
  - {id: q2, type: true_false, lesson: only, prompt: 二, explanation: 二, answer: true}
  - {id: q3, type: multiple, lesson: only, prompt: 三, explanation: 三,
     choices: {a: 甲, b: 乙, c: 丙, d: 丁}, answer: [a, c]}
  - {id: q4, type: numeric, lesson: only, prompt: 四, explanation: 四, answer: 2}
  - {id: q5, type: true_false, lesson: only, prompt: 五, explanation: 五, answer: true}
"""

# Six learners' answers and, by hand, their points per question:
#          q1     q2     q3          q4    q5      total  share
# u1       b 1    T 1    ac  1       9 0   T 1     4      80%  (passes: 0.8)
# u2       b 1    T 1    a   .5      9 0   T 1     3.5    70%
# u3       b 1    F 0    ab  0       2 1   T 1     3      60%
# u4       a 0    T 1    acd .5      9 0   T 1     2.5    50%
# u5       c 0    T 1    -   0       2 1   T 1     3      60%
# u6       a 0    F 0    c   .5      2 1   T 1     2.5    50%
ANSWERS = [
    {"q1": "b", "q2": True, "q3": ["a", "c"], "q4": 9, "q5": True},
    {"q1": "b", "q2": True, "q3": ["a"], "q4": 9, "q5": True},
    {"q1": "b", "q2": False, "q3": ["a", "b"], "q4": 2, "q5": True},
    {"q1": "a", "q2": True, "q3": ["a", "c", "d"], "q4": 9, "q5": True},
    {"q1": "c", "q2": True, "q4": 2, "q5": True},
    {"q1": "a", "q2": False, "q3": ["c"], "q4": 2, "q5": True},
]
# Ranked by total (ties by attempt, earlier first): u1 4, u2 3.5, u3 3, u5 3, u4 2.5, u6 2.5.
# n = 6, group = round(0.27 * 6) = 2: upper = u1, u2; lower = u4, u6.
EXPECTED = {
    #      answered facility        p_upper        p_lower       discrimination
    "q1": (6, 3 / 6, 1.0 - 0.0),
    "q2": (6, 4 / 6, 1.0 - 0.5),
    "q3": (5, 2.5 / 6, 0.75 - 0.5),
    "q4": (6, 3 / 6, 0.0 - 0.5),
    "q5": (6, 6 / 6, 1.0 - 1.0),
}


@pytest.fixture
def stats_bank() -> Bank:
    sources, _ = read_sources({"content": DATA / "content"})
    bank, errors = parse_bank("quizzes/stats.yaml", BANK, build_catalogue(sources))
    assert bank is not None and not errors
    return bank


def _take(db: Session, user_id: int, bank: Bank, answers: dict) -> None:
    attempt = engine.start_attempt(db, user_id, bank)
    questions = engine.questions_of(db, attempt.id)
    db.commit()
    engine.submit_attempt(db, user_id, attempt.id, attempt.token, form_for(questions, answers))
    db.commit()


def test_item_statistics_match_the_hand_computed_example(db: Session, stats_bank: Bank):
    for number, answers in enumerate(ANSWERS, start=1):
        _take(db, make_user(db, f"u{number}").id, stats_bank, answers)
    stats = quiz_statistics(db, stats_bank)
    assert (stats.attempts, stats.learners, stats.passed) == (6, 6, 1)
    assert stats.pass_rate == pytest.approx(1 / 6)
    bins = {low: count for low, _high, count in stats.distribution if count}
    assert bins == {50: 2, 60: 2, 70: 1, 80: 1}
    items = {item.question_id: item for item in stats.items}
    for qid, (answered, facility, discrimination) in EXPECTED.items():
        item = items[qid]
        assert item.served == 6 and item.answered == answered, qid
        assert item.facility == pytest.approx(facility), qid
        assert item.discrimination == pytest.approx(discrimination), qid
    # Six attempts are too few to judge an item by the default minimum (30 served) ...
    assert all(item.too_few and item.flags == [] for item in stats.items)
    # ... and enough when the institution sets the minimum at six.
    judged = {i.question_id: i for i in quiz_statistics(db, stats_bank, min_responses=6).items}
    assert judged["q4"].flags == ["negative discrimination"]
    assert judged["q5"].flags == ["too easy"]
    assert judged["q1"].flags == judged["q2"].flags == judged["q3"].flags == []
    strict = {i.question_id: i for i in quiz_statistics(db, stats_bank, min_responses=7).items}
    assert strict["q4"].too_few and strict["q4"].flags == []
    counts = {(c.key, c.count, c.right) for c in items["q1"].choices}
    assert counts == {("a", 2, False), ("b", 3, True), ("c", 1, False)}
    q3 = {c.key: c.count for c in items["q3"].choices}
    assert q3 == {"a": 4, "b": 1, "c": 3, "d": 1}
    assert {c.key: c.count for c in items["q2"].choices} == {"true": 4, "false": 2}
    assert [(c.key, c.count, c.right) for c in items["q4"].choices] == [
        ("2", 3, True),
        ("9", 3, False),
    ]
    assert quiz_overview(db) == {"beta": (6, 1)}


def test_a_question_nobody_was_served_has_no_figures(db: Session, stats_bank: Bank):
    stats = quiz_statistics(db, stats_bank)
    assert stats.attempts == 0 and stats.pass_rate is None
    assert all(i.served == 0 and i.facility is None and not i.flags for i in stats.items)


def test_statistics_take_the_same_few_queries_for_any_number_of_attempts(
    app, db: Session, stats_bank: Bank
):
    engine_ = app.extensions["courseware.core.db"].engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(engine_, "before_cursor_execute", count)
        try:
            with app.extensions["courseware.core.db"].sessions() as session:
                quiz_statistics(session, stats_bank)
        finally:
            event.remove(engine_, "before_cursor_execute", count)
        return len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    for number, answers in enumerate(ANSWERS[:2], start=1):
        _take(db, make_user(db, f"a{number}").id, stats_bank, answers)
    few = queries()
    for number, answers in enumerate(ANSWERS * 3, start=1):
        _take(db, make_user(db, f"b{number}").id, stats_bank, answers)
    assert queries() == few == 4
