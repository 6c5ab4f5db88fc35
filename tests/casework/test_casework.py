"""Case decisions as a service: tickets, one decision per token, what counts, resets, reports."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from courseware import casework, certification
from courseware.casework import decisions as decisions_module
from courseware.casework.dossier import calculate, option_views, surplus_estimate
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from courseware.core.models import AuditEvent, CaseDecision, CaseTicket
from courseware.lending.cases import Case
from courseware.lending.scoring import score_decision
from courseware.lending.simulation import evaluate_options, simulate_path
from tests.concurrency import in_threads
from tests.conftest import make_user

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
GOOD = "grocery-kiosk"
BAD = "bar-owner"


@pytest.fixture
def published(db: Session, course: None):
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    assert not catalogue.errors, [str(e) for e in catalogue.errors]
    return catalogue


@pytest.fixture
def cases(published) -> dict[str, Case]:
    return dict(published.cases)


@pytest.fixture
def revisions(published) -> dict[str, int]:
    return dict(published.extras["case_revisions"])


@pytest.fixture
def learner(db: Session):
    clock.set_time(START)
    yield make_user(db, "learner")
    clock.set_time(None)


def _issue(db, user, case, revisions, kind="assessment"):
    ticket = casework.issue_ticket(db, user.id, case, revisions[case.slug], kind)
    db.commit()
    return ticket


def _decide(db, user, ticket, case, option=None, flags=(), reasons=(), **overrides):
    args = {
        "option_id": option or case.spec.key.best_option,
        "flags": list(flags),
        "reasons": list(reasons),
        "posted_seed": str(ticket.seed),
        "posted_revision": str(ticket.case_revision_id),
    }
    args.update(overrides)
    decision = casework.submit_decision(db, user.id, ticket.token, case, **args)
    db.commit()
    return decision


def _count(db, model=CaseDecision) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


# Tickets -------------------------------------------------------------------------------


def test_reopening_a_case_serves_the_same_ticket_and_seed(db, cases, revisions, learner):
    case = cases[GOOD]
    first = _issue(db, learner, case, revisions)
    again = _issue(db, learner, case, revisions)
    assert (again.id, again.seed, again.token) == (first.id, first.seed, first.token)
    assert first.kind == "assessment" and first.case_revision_id == revisions[GOOD]
    other = _issue(db, make_user(db, "other"), case, revisions)
    assert other.token != first.token
    assert _count(db, CaseTicket) == 2


def test_a_changed_case_gets_a_new_ticket(db, cases, revisions, learner):
    case = cases[GOOD]
    old = _issue(db, learner, case, revisions)
    edited = dataclasses.replace(case, content_hash="0" * 64)
    new = _issue(db, learner, edited, revisions)
    assert new.id != old.id
    db.refresh(old)
    assert old.open_key is None and old.used_at is None


def test_unknown_ticket_kind_is_an_error(db, cases, revisions, learner):
    with pytest.raises(ValueError):
        casework.issue_ticket(db, learner.id, cases[GOOD], revisions[GOOD], "exam")


# Deciding -----------------------------------------------------------------------------------


def test_a_decision_is_scored_simulated_and_stored(db, cases, revisions, learner):
    case = cases[GOOD]
    ticket = _issue(db, learner, case, revisions)
    # Graded on the variant the ticket's seed draws from the template: its expert answer.
    variant = casework.variant_of(case, ticket.seed)
    stats = evaluate_options(variant, casework.SEEDS)
    best = next(s.option_id for s in stats if s.is_best)
    reasons = list(variant.spec.key.key_reasons)
    flags = sorted(variant.key_flags)
    decision = _decide(db, learner, ticket, case, option=best, flags=flags, reasons=reasons)
    assert decision.kind == "assessment" and decision.first_key == f"{learner.id}:{GOOD}"
    assert decision.seed == ticket.seed and decision.case_revision_id == revisions[GOOD]
    assert decision.content_hash == case.content_hash and decision.case_model == 2
    assert decision.option_id == best and decision.reasons == reasons
    assert decision.flags == flags
    expected = score_decision(variant, stats, best, set(flags), reasons)
    assert decision.score_flags == pytest.approx(35)  # every flag of the variant found
    assert decision.score_reasons == pytest.approx(expected.reasons)
    assert decision.score_decision == pytest.approx(40)  # the best option
    parts = decision.score_decision + decision.score_flags + decision.score_reasons
    assert decision.score_total == pytest.approx(parts + decision.score_portfolio)
    record = decision.record
    assert record["variant"]["seed"] == ticket.seed
    assert record["variant"]["toggles"] == list(variant.toggles)
    assert {o["id"] for o in record["options"]} == {o.id for o in variant.options}
    path = simulate_path(variant, best, ticket.seed)
    assert record["path"]["cash"] == pytest.approx(list(path.cash))
    assert record["path"]["dpd"] == list(path.dpd)
    assert decision.lender_profit == pytest.approx(path.lender_profit)
    db.refresh(ticket)
    assert ticket.used_at == START and ticket.open_key is None


def test_a_retake_draws_a_new_variant(db, cases, revisions, learner):
    case = cases[GOOD]
    first = _issue(db, learner, case, revisions)
    _decide(db, learner, first, case)
    again = _issue(db, learner, case, revisions)  # practice: a new ticket, a new seed
    assert again.token != first.token and again.seed != first.seed
    a = casework.variant_of(case, first.seed)
    b = casework.variant_of(case, again.seed)
    assert a.content_hash != b.content_hash


def test_the_same_seed_gives_the_same_path(db, cases, revisions, learner):
    case = cases[GOOD]
    ticket = _issue(db, learner, case, revisions)
    first = _decide(db, learner, ticket, case)
    twin = CaseTicket(
        token="twin-token",
        user_id=learner.id,
        case_slug=GOOD,
        case_revision_id=ticket.case_revision_id,
        content_hash=ticket.content_hash,
        seed=ticket.seed,
        kind="practice",
        issued_at=START,
    )
    db.add(twin)
    db.commit()
    second = _decide(db, learner, twin, case)
    assert second.record["path"] == first.record["path"]
    assert second.kind == "practice"


def test_a_rejection_moves_no_money_and_shows_the_counterfactual(db, cases, revisions, learner):
    case = cases[BAD]
    ticket = _issue(db, learner, case, revisions)
    decision = _decide(db, learner, ticket, case, option="reject")
    assert decision.lender_profit == 0
    record = decision.record
    assert record["loan"]["principal"] == 0 and record["loan"]["profit"] == 0
    assert record["path"]["counterfactual"] is True
    assert record["path"]["events"][0]["kind"] == "counterfactual"
    reject = next(o for o in record["options"] if o["id"] == "reject")
    assert reject["expected_profit"] == 0 and reject["default_rate"] == 0
    # The requested loan's fate in this variant, simulated all the same.
    stats = evaluate_options(casework.variant_of(case, ticket.seed), casework.SEEDS)
    as_requested = next(s for s in stats if s.option_id == "reject")
    assert reject["counterfactual_default_rate"] == pytest.approx(
        as_requested.counterfactual_default_rate
    )


def test_first_decision_counts_and_the_next_is_practice(db, cases, revisions, learner):
    case = cases[GOOD]
    first = _decide(db, learner, _issue(db, learner, case, revisions), case)
    ticket = _issue(db, learner, case, revisions)
    assert ticket.kind == "practice"
    second = _decide(db, learner, ticket, case, option="reject-competition")
    assert (first.kind, second.kind) == ("assessment", "practice")
    assert second.first_key is None
    scores = casework.first_decision_scores(db, [learner.id])
    assert [s.decision_id for s in scores[learner.id]] == [first.id]


def test_a_lost_race_for_the_first_decision_falls_back_to_practice(
    db, cases, revisions, learner, monkeypatch
):
    case = cases[GOOD]
    _decide(db, learner, _issue(db, learner, case, revisions), case)
    late = CaseTicket(
        token="late-token",
        user_id=learner.id,
        case_slug=GOOD,
        case_revision_id=revisions[GOOD],
        content_hash=case.content_hash,
        seed=7,
        kind="assessment",
        issued_at=START,
    )
    db.add(late)
    db.commit()
    # As if the other request had not committed when this one looked.
    monkeypatch.setattr(decisions_module, "counting_decision", lambda *a: None)
    decision = _decide(db, learner, late, case)
    assert decision.kind == "practice" and decision.first_key is None
    assert _count(db) == 2


def test_a_double_submit_records_one_decision(db, cases, revisions, learner):
    case = cases[GOOD]
    ticket = _issue(db, learner, case, revisions)
    first = _decide(db, learner, ticket, case)
    with pytest.raises(casework.DecisionRefused) as refused:
        _decide(db, learner, ticket, case)
    assert refused.value.decision_id == first.id
    assert "already decided" in refused.value.message
    assert _count(db) == 1


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"posted_seed": "12345"}, "seed"),
        ({"posted_seed": "abc"}, "seed"),
        ({"posted_revision": "999999"}, "another version"),
        ({"posted_revision": "x"}, "another version"),
        ({"option_id": "approve-a-million"}, "Choose one of the decisions"),
        ({"option_id": ""}, "Choose one of the decisions"),
        ({"flags": ["no-such-flag"]}, "no red flag"),
        ({"reasons": ["capacity-comfortable"] * 2}, "once"),
        ({"reasons": ["made-up"]}, "no reason"),
        (
            {
                "reasons": [
                    "capacity-comfortable",
                    "clean-track-record",
                    "records-verified",
                    "need-collateral",
                ]
            },
            "at most",
        ),
    ],
)
def test_tampered_or_invalid_forms_are_refused_and_nothing_is_stored(
    db, cases, revisions, learner, overrides, text
):
    case = cases[GOOD]
    ticket = _issue(db, learner, case, revisions)
    if overrides.get("posted_seed") == "12345" and ticket.seed == 12345:
        overrides = {"posted_seed": "12346"}
    with pytest.raises(casework.DecisionRefused) as refused:
        _decide(db, learner, ticket, case, **overrides)
    db.rollback()
    assert text in refused.value.message
    assert _count(db) == 0
    db.refresh(ticket)
    assert ticket.used_at is None  # the learner can still decide with this form
    assert _decide(db, learner, ticket, case).kind == "assessment"


def test_a_ticket_of_another_learner_or_case_is_refused(db, cases, revisions, learner):
    ticket = _issue(db, learner, cases[GOOD], revisions)
    intruder = make_user(db, "intruder")
    with pytest.raises(casework.DecisionRefused) as refused:
        _decide(db, intruder, ticket, cases[GOOD])
    assert "not valid" in refused.value.message
    db.rollback()
    with pytest.raises(casework.DecisionRefused):
        _decide(db, learner, ticket, cases[BAD], option="reject")
    db.rollback()
    with pytest.raises(casework.DecisionRefused):
        casework.submit_decision(
            db, learner.id, "no-such-token", cases[GOOD], "approve-as-requested", [], [], "1", ""
        )
    assert _count(db) == 0


def test_a_case_changed_since_the_ticket_is_refused(db, cases, revisions, learner):
    ticket = _issue(db, learner, cases[GOOD], revisions)
    edited = dataclasses.replace(cases[GOOD], content_hash="f" * 64)
    with pytest.raises(casework.DecisionRefused) as refused:
        _decide(db, learner, ticket, edited)
    assert "changed after you opened it" in refused.value.message
    assert _count(db) == 0


def test_twenty_concurrent_submits_of_one_token_record_one_decision(
    app, db, cases, revisions, learner
):
    case = cases[GOOD]
    ticket = _issue(db, learner, case, revisions)
    evaluate_options(case)  # warm the cache, as a running site would be
    sessions = app.extensions["courseware.core.db"].sessions

    def submit():
        with sessions() as session:
            try:
                decision = casework.submit_decision(
                    session,
                    learner.id,
                    ticket.token,
                    case,
                    "approve-as-requested",
                    [],
                    [],
                    str(ticket.seed),
                    str(ticket.case_revision_id),
                )
            except casework.DecisionRefused as refused:
                session.rollback()
                return ("refused", refused.decision_id)
            session.commit()
            return ("recorded", decision.id)

    results = in_threads(20, submit)
    recorded = [r for r in results if r[0] == "recorded"]
    assert len(recorded) == 1
    assert _count(db) == 1
    refused_ids = {r[1] for r in results if r[0] == "refused"}
    assert refused_ids == {recorded[0][1]}


def test_ten_concurrent_openings_serve_one_ticket(app, db, cases, revisions, learner):
    sessions = app.extensions["courseware.core.db"].sessions

    def open_case():
        with sessions() as session:
            ticket = casework.issue_ticket(session, learner.id, cases[GOOD], revisions[GOOD])
            session.commit()
            return ticket.token

    assert len(set(in_threads(10, open_case))) == 1
    assert _count(db, CaseTicket) == 1


# Certification queries and resets ---------------------------------------------------------


def test_first_decision_scores_for_many_learners_in_one_query(app, db, cases, revisions, learner):
    other = make_user(db, "other")
    idle = make_user(db, "idle")
    good = _decide(db, learner, _issue(db, learner, cases[GOOD], revisions), cases[GOOD])
    clock.advance(timedelta(hours=1))
    bad = _decide(
        db, learner, _issue(db, learner, cases[BAD], revisions), cases[BAD], option="reject"
    )
    _decide(db, learner, _issue(db, learner, cases[GOOD], revisions), cases[GOOD])  # practice
    theirs = _decide(db, other, _issue(db, other, cases[BAD], revisions), cases[BAD])
    statements = []
    engine = app.extensions["courseware.core.db"].engine

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    db.rollback()
    event.listen(engine, "before_cursor_execute", count)
    try:
        scores = casework.first_decision_scores(db, [learner.id, other.id, idle.id])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert [s.decision_id for s in scores[learner.id]] == [good.id, bad.id]
    assert scores[learner.id][0] == casework.CaseScore(
        GOOD, good.score_total, revisions[GOOD], good.decided_at, good.id
    )
    assert [s.case_slug for s in scores[other.id]] == [BAD]
    assert scores[other.id][0].decision_id == theirs.id
    assert scores[idle.id] == []
    assert casework.first_decision_scores(db, []) == {}


def test_decisions_of_kind_since_a_time(db, cases, revisions, learner):
    _decide(db, learner, _issue(db, learner, cases[GOOD], revisions), cases[GOOD])
    clock.advance(timedelta(days=30))
    ticket = _issue(db, learner, cases[GOOD], revisions, kind="renewal")
    renewal = _decide(db, learner, ticket, cases[GOOD])
    assert renewal.kind == "renewal" and renewal.first_key is None
    found = casework.decisions_of_kind(db, learner.id, "renewal", START + timedelta(days=1))
    assert [s.decision_id for s in found] == [renewal.id]
    assert casework.decisions_of_kind(db, learner.id, "renewal", START + timedelta(days=31)) == []
    assert len(casework.decisions_of_kind(db, learner.id, "assessment", None)) == 1
    with pytest.raises(ValueError):
        casework.decisions_of_kind(db, learner.id, "exam", None)


def test_a_reset_decision_stops_counting_and_the_next_one_counts(db, cases, revisions, learner):
    trainer = make_user(db, "coach", role="trainer")
    first = _decide(db, learner, _issue(db, learner, cases[GOOD], revisions), cases[GOOD])
    with pytest.raises(certification.CertificationError):
        certification.reset_case_decision(db, first, trainer.id, "  ")
    certification.reset_case_decision(db, first, trainer.id, "Coached before deciding")
    db.commit()
    assert first.reset_at == START and first.first_key is None
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "case.reset"))
    assert audit.actor_id == trainer.id and audit.target_id == str(first.id)
    assert audit.reason == "Coached before deciding"
    assert casework.first_decision_scores(db, [learner.id])[learner.id] == []
    assert casework.decisions_of_kind(db, learner.id, "assessment") == []
    with pytest.raises(certification.CertificationError):
        certification.reset_case_decision(db, first, trainer.id, "again")
    again = _decide(db, learner, _issue(db, learner, cases[GOOD], revisions), cases[GOOD])
    assert again.kind == "assessment" and again.first_key == f"{learner.id}:{GOOD}"


def test_get_decision_checks_the_owner(db, cases, revisions, learner):
    decision = _decide(db, learner, _issue(db, learner, cases[GOOD], revisions), cases[GOOD])
    assert casework.get_decision(db, learner.id, decision.id) is decision
    with pytest.raises(casework.DecisionNotFound):
        casework.get_decision(db, make_user(db, "nosy").id, decision.id)


# Reports ------------------------------------------------------------------------------------


def test_portfolio_sets_the_learner_beside_the_expert(db, cases, revisions, learner):
    good = _issue(db, learner, cases[GOOD], revisions)
    _decide(db, learner, good, cases[GOOD], "reject-competition")
    bad = _issue(db, learner, cases[BAD], revisions)
    _decide(db, learner, bad, cases[BAD], "approve-as-requested")
    book = casework.portfolio(db, learner.id)
    assert book.mine.decisions == book.expert.decisions == 2
    assert book.mine.approved == 1 and book.mine.rejected == 1
    # The expert's choice on each served variant: whether it lends decides the expert's book.
    lends = 0
    for slug, ticket in ((GOOD, good), (BAD, bad)):
        stats = evaluate_options(casework.variant_of(cases[slug], ticket.seed), casework.SEEDS)
        lends += next(s for s in stats if s.is_best).moves_money
    assert book.expert.approved == lends and book.expert.rejected == 2 - lends
    # The served variants are random: on some, rejecting GOOD or lending on BAD is the best.
    mine = {GOOD: "reject-competition", BAD: "approve-as-requested"}
    best = {
        slug: next(
            s.option_id
            for s in evaluate_options(casework.variant_of(cases[slug], t.seed), casework.SEEDS)
            if s.is_best
        )
        for slug, t in ((GOOD, good), (BAD, bad))
    }
    if best == mine:
        assert book.mine.ev_chosen == book.expert.ev_chosen
    else:
        assert book.mine.ev_chosen < book.expert.ev_chosen
    assert book.mine.wrong_rejections + book.mine.right_rejections == 1
    assert casework.portfolio(db, learner.id, "counting").mine.decisions == 2


def test_case_statistics_and_calibration(db, cases, revisions, learner):
    other = make_user(db, "other")
    first = _issue(db, learner, cases[GOOD], revisions)
    _decide(db, learner, first, cases[GOOD], "approve-as-requested")
    second = _issue(db, other, cases[GOOD], revisions)
    _decide(db, other, second, cases[GOOD], "reject-competition")
    stats = casework.case_statistics(db, cases[GOOD])
    assert stats.first_decisions == 2 and stats.learners == 2
    chosen = {o.option_id: o.first for o in stats.options}
    assert chosen["approve-as-requested"] == 1 and chosen["reject-competition"] == 1
    # Nobody ticked a flag: each learner missed every flag of the variant they were served.
    served: Counter[str] = Counter()
    for ticket in (first, second):
        served.update(list(casework.variant_of(cases[GOOD], ticket.seed).key_flags))
    assert {(m.flag_id, m.count) for m in stats.missed_flags} <= set(served.items())
    assert stats.missed_flags and stats.missed_flags[0].count == max(served.values())
    tallies = casework.case_tallies(db)
    assert tallies[GOOD].first_decisions == 2 and tallies[GOOD].average_score is not None
    rows = casework.calibration(cases[GOOD])
    assert [r.option_id for r in rows] == [o.id for o in cases[GOOD].options]
    assert sum(r.stats.is_best for r in rows) == 1


def test_dossier_surplus_and_calculator(cases):
    grocery = cases[GOOD]
    spec = grocery.spec
    estimate = surplus_estimate(grocery)
    s, d = spec.dossier.business.sales, spec.dossier.business.sales_days
    sales = s.good_day * d.good + s.normal_day * d.normal + s.slow_day * d.slow
    assert estimate.monthly_sales == sales
    fixed = sum(i.amount for i in spec.dossier.business.fixed_costs)
    income = sum(i.amount for i in spec.dossier.household_budget.income)
    expenses = sum(i.amount for i in spec.dossier.household_budget.expenses)
    debts = sum(line.installment for line in spec.dossier.credit_bureau.lenders)
    expected = sales * spec.dossier.business.margin - fixed + income - expenses - debts
    assert estimate.surplus == pytest.approx(expected)
    calc = calculate(grocery)
    # 24,000 over 12 months at 1.05% a month, declining balance.
    assert calc.installment == pytest.approx(2139.11, abs=0.01) and not calc.errors
    assert calc.ratio == pytest.approx(calc.installment / round(expected))
    out = calculate(grocery, {"amount": "100000", "term": "48", "rate": "50", "surplus": "x"})
    assert set(out.errors) == {"amount", "term", "rate", "surplus"} and out.installment is None
    negative = calculate(grocery, {"surplus": "-500"})
    assert negative.ratio == float("inf")
    # The existing loan is not counted as another lender's installment.
    restructure = surplus_estimate(cases["restructure-illness"])
    assert restructure.other_debt_service == 0
    bar = cases[BAD].spec.dossier.credit_bureau.lenders
    assert surplus_estimate(cases[BAD]).other_debt_service == sum(b.installment for b in bar)
    views = option_views(grocery, evaluate_options(grocery))
    assert [v.id for v in views] == [o.id for o in grocery.options]
    reject = next(v for v in views if v.id == "reject-competition")
    assert reject.terms is None and reject.effective_annual_rate is None
    assert views[0].installment == pytest.approx(2139.11, abs=0.01)
    assert views[0].effective_annual_rate == pytest.approx(0.1449, abs=0.005)
