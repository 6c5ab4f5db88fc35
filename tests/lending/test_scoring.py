"""The rubric of DOMAIN.md section 4 (loan cases v2), and the portfolio summary.

Exact arithmetic is checked on the synthetic case (tests/lending/synthetic.py), whose
figures never change; the shipped templates are checked for the expert's score.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.lending.cases import Case
from courseware.lending.scoring import (
    DecisionInvalid,
    DecisionRecord,
    decision_record,
    gap_share,
    portfolio_summary,
    score_decision,
    verdict,
)
from courseware.lending.simulation import evaluate_options, procedure_value, simulate_path
from courseware.lending.stages import stage_case
from courseware.lending.variants import draw_variant
from tests.lending.synthetic import synthetic_case

SEEDS = 300
KEY = ["installment-over-80", "poor-references", "lifestyle-mismatch"]  # critical, major, minor


def _stats(case: Case) -> dict[str, object]:
    return {s.option_id: s for s in evaluate_options(case, SEEDS)}


@pytest.mark.parametrize("variant", [0, 1, 2])
def test_the_expert_answer_scores_100_on_every_variant(
    library: dict[str, Case], variant: int
) -> None:
    for template in library.values():
        # Every stage the expert reaches, as the site serves it (a book's loans, the later
        # visits of a multi-visit case after the expert's own earlier answers).
        choices: list[str] = []
        while (case := stage_case(template, variant, choices)) is not None:
            stats = evaluate_options(case, SEEDS)
            best = next(s.option_id for s in stats if s.is_best)
            score = score_decision(
                case, stats, best, set(case.key_flags), list(case.spec.key.key_reasons)
            )
            assert score.total == pytest.approx(100), (case.slug, variant, score)
            assert not score.cap_applied and not score.missed_flags and not score.false_flags
            choices.append(best)


def test_rejecting_a_creditworthy_applicant_costs_the_decision() -> None:
    # The installment is 42% of the surplus: a sound loan. Rejecting forgoes the lender's
    # profit and the household's gain, so it is the worst option, not a safe zero.
    case = synthetic_case(0.42)
    stats = list(_stats(case).values())
    reject = score_decision(case, stats, "reject", set(), [])
    assert reject.ev_best > 0 and reject.ev_chosen == 0
    assert reject.decision == 0 and reject.portfolio == 0
    assert next(s for s in stats if s.option_id == "reject").value == min(s.value for s in stats)


def test_decision_points_fall_with_the_share_of_the_spread() -> None:
    case = synthetic_case(0.8)
    stats = list(_stats(case).values())
    values = {s.option_id: s.value for s in stats}
    best = max(s.value for s in stats if s.client_protection_ok)
    for option in ("approve", "term18", "reject"):
        chosen = next(s for s in stats if s.option_id == option)
        x = (best - values[option]) / (best - min(values.values()))
        assert gap_share(stats, chosen) == pytest.approx(max(0.0, x))
        score = score_decision(case, stats, option, set(KEY[:1]), [])
        expected = 40 * min(1.0, max(0.0, 1 - max(0.0, x) / 0.25))
        portfolio = 15 * min(1.0, max(0.0, 1 - max(0.0, x) / 0.5))
        if not chosen.client_protection_ok:
            expected, portfolio = min(expected, 20), min(portfolio, 7.5)
        assert score.decision == pytest.approx(expected), option
        assert score.portfolio == pytest.approx(portfolio), option


def test_client_protection_caps_a_more_valuable_option() -> None:
    case = synthetic_case(0.8)
    stats = _stats(case)
    # With a guarantor the loan is worth more, but the installment stays at 80% of the
    # surplus and the household cuts spending too often: capped at 20.
    guarantor = stats["guarantor"]
    assert not guarantor.client_protection_ok
    best = next(s for s in stats.values() if s.is_best)
    assert best.client_protection_ok and guarantor.value > best.value
    score = score_decision(case, list(stats.values()), "guarantor", set(), [])
    assert score.cap_applied and score.decision == pytest.approx(20)
    assert score.portfolio == pytest.approx(7.5)  # and half the portfolio points at most


def test_each_flag_carries_fixed_points() -> None:
    case = synthetic_case(0.42, red_flags=KEY)
    stats = list(_stats(case).values())
    # Missed: critical 9, major 6, minor 3 (35 - 18 = 17), whatever else the case holds.
    assert score_decision(case, stats, "reject", set(), []).flags == pytest.approx(17)
    assert score_decision(case, stats, "reject", {KEY[2]}, []).flags == pytest.approx(20)
    assert score_decision(case, stats, "reject", set(KEY), []).flags == pytest.approx(35)
    # Each flag the dossier does not show costs 4.
    noisy = score_decision(
        case, stats, "reject", {*KEY, "single-buyer", "pressure-to-disburse"}, []
    )
    assert noisy.false_flags == ("pressure-to-disburse", "single-buyer")
    assert noisy.flags == pytest.approx(27)
    # Ticking the whole checklist loses more than it finds.
    everything = set(case.catalogue.ids)
    assert score_decision(case, stats, "reject", everything, []).flags == 0


def test_approving_while_missing_a_critical_flag_costs_10_more() -> None:
    case = synthetic_case(0.42, red_flags=KEY)
    stats = list(_stats(case).values())
    ticks = set(KEY[1:])  # the critical one missed
    refused = score_decision(case, stats, "reject", ticks, [])
    approved = score_decision(case, stats, "approve", ticks, [])
    assert not refused.critical_penalty and approved.critical_penalty
    assert refused.flags - approved.flags == pytest.approx(10)
    assert approved.missed_critical == ("installment-over-80",)


def test_reasons_count_only_for_the_decision_they_argue_for() -> None:
    case = synthetic_case(0.42)  # key reasons r1-r3 argue for lending; r4-r6 against
    stats = list(_stats(case).values())
    lend = score_decision(case, stats, "approve", set(), ["r1", "r2", "r3"])
    assert lend.reasons == pytest.approx(10) and lend.reasons_hit == ("r1", "r2", "r3")
    two = score_decision(case, stats, "approve", set(), ["r1", "r2"])
    assert two.reasons == pytest.approx(10 * 2 / 3)
    # A reason against lending given for a loan costs 2.
    mixed = score_decision(case, stats, "approve", set(), ["r1", "r2", "r4"])
    assert mixed.wrong_reasons == ("r4",)
    assert mixed.reasons == pytest.approx(10 * 2 / 3 - 2)
    # Declining with the expert's pro-lending reasons scores nothing for them and costs 5.
    declined = score_decision(case, stats, "reject", set(), ["r1", "r2", "r3"])
    assert declined.reasons == 0 and declined.reasons_hit == ()
    assert declined.consistency == ("declined_with_approval_reasons",)
    assert declined.consistency_points == pytest.approx(5)
    assert declined.total == pytest.approx(
        declined.decision + declined.flags + declined.portfolio - 5
    )


def test_approving_after_marking_a_critical_fraud_flag_costs_10() -> None:
    case = synthetic_case(0.42)
    stats = list(_stats(case).values())
    flags = {"installment-over-80", "shared-contact-same-agent"}
    approved = score_decision(case, stats, "approve", flags, [])
    assert approved.consistency == ("approved_after_fraud_flag",)
    refused = score_decision(case, stats, "reject", flags, [])
    assert refused.consistency == ()
    plain = score_decision(case, stats, "approve", {"installment-over-80"}, [])
    # The false flag costs 4 in its own part; the inconsistency 10 off the total.
    assert plain.total - approved.total == pytest.approx(4 + 10)


def test_procedural_options_are_never_a_free_zero() -> None:
    defer = {"id": "defer", "label": "補件後再議", "kind": "defer"}
    refer = {
        "id": "refer",
        "label": "婉拒並轉介",
        "kind": "reject_refer",
        "procedure": {"lender": 0.0, "client": 0.2, "note": "轉介債務協商。"},
    }
    case = synthetic_case(1.6, extra_options=[defer, refer])
    stats = _stats(case)
    cost = case.model.procedural_cost * case.spec.params.money_scale
    assert procedure_value(case, "reject") == (0.0, 0.0)
    assert stats["defer"].value == pytest.approx(-cost)  # nothing follows: only the cost
    assert stats["defer"].value < stats["reject"].value
    lender, client = procedure_value(case, "refer")
    assert (lender, client) == pytest.approx((-cost, 0.2 * case.loan_size))
    assert stats["refer"].value == pytest.approx(-cost + 0.2 * case.loan_size)


@pytest.mark.parametrize(
    ("option", "flags", "reasons"),
    [
        ("no-such-option", set(), []),
        ("approve", {"not-a-flag"}, []),
        ("approve", set(), ["not-a-reason"]),
        ("approve", set(), ["r1", "r1"]),
        ("approve", set(), ["r1", "r2", "r3", "r4"]),
    ],
)
def test_invalid_decisions_raise(option: str, flags: set[str], reasons: list[str]) -> None:
    case = synthetic_case(0.42)
    stats = evaluate_options(case, SEEDS)
    with pytest.raises(DecisionInvalid):
        score_decision(case, stats, option, flags, reasons)
    assert issubclass(DecisionInvalid, ValueError)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_scores_stay_in_range_and_ignore_order(
    library: dict[str, Case], data: st.DataObject
) -> None:
    template = data.draw(st.sampled_from(sorted(library.values(), key=lambda c: c.slug)))
    case = draw_variant(template, data.draw(st.integers(min_value=0, max_value=3)))
    stats = evaluate_options(case, SEEDS)
    option = data.draw(st.sampled_from([o.id for o in case.options]))
    flags = data.draw(st.lists(st.sampled_from(case.catalogue.ids), unique=True, max_size=10))
    reasons = data.draw(st.lists(st.sampled_from(case.reason_ids), unique=True, max_size=3))
    score = score_decision(case, stats, option, set(flags), reasons)
    assert 0 <= score.total <= 100
    assert 0 <= score.decision <= 40 and 0 <= score.flags <= 35
    assert 0 <= score.reasons <= 10 and 0 <= score.portfolio <= 15
    shuffled = score_decision(
        case, list(reversed(stats)), option, set(reversed(flags)), list(reversed(reasons))
    )
    assert shuffled == score


def _record(**values: object) -> DecisionRecord:
    base = dict(
        case_slug="x",
        option_id="o",
        moves_money=True,
        principal=1000.0,
        outcome="on_time",
        profit=100.0,
        income=200.0,
        par30_balance=0.0,
        balance_months=6000.0,
        ev_chosen=100.0,
        ev_best=100.0,
    )
    base.update(values)
    return DecisionRecord(**base)  # type: ignore[arg-type]


def test_portfolio_summary_by_hand() -> None:
    records = [
        _record(),
        _record(
            outcome="default",
            profit=-650.0,
            income=50.0,
            par30_balance=600.0,
            balance_months=3000.0,
            ev_chosen=-50.0,
        ),
        _record(outcome="restructured", profit=20.0, income=100.0, par30_balance=1000.0),
        _record(
            moves_money=False,
            principal=0.0,
            outcome="on_time",
            profit=0.0,
            income=0.0,
            balance_months=0.0,
            ev_chosen=0.0,
        ),
        _record(
            moves_money=False,
            principal=0.0,
            outcome="default",
            profit=0.0,
            income=0.0,
            balance_months=0.0,
            ev_chosen=0.0,
            ev_best=0.0,
        ),
    ]
    s = portfolio_summary(records)
    assert (s.decisions, s.approved, s.rejected) == (5, 3, 2)
    assert s.disbursed == 3000
    assert s.realised_profit == pytest.approx(-530)
    assert s.par30 == pytest.approx(1600 / 3000)
    assert s.default_rate == pytest.approx(1 / 3)
    assert s.portfolio_yield == pytest.approx(12 * 350 / 15000)
    assert (s.good_approvals, s.bad_approvals) == (2, 1)
    assert (s.wrong_rejections, s.right_rejections) == (1, 1)
    assert s.ev_chosen == pytest.approx(150) and s.ev_best == pytest.approx(400)
    assert s.ev_share == pytest.approx(150 / 400)


def test_empty_portfolio() -> None:
    s = portfolio_summary([])
    assert s.decisions == 0 and s.par30 == 0 and s.default_rate == 0 and s.ev_share == 1


def test_decision_records_from_real_runs(library: dict[str, Case]) -> None:
    records = []
    for template in library.values():
        case = draw_variant(template, 5)
        stats = evaluate_options(case, SEEDS)
        for option in case.options:
            path = simulate_path(case, option.id, 7)
            record = decision_record(case, stats, path)
            assert record.moves_money == path.moves_money
            if not record.moves_money:
                assert record.profit == 0 and record.principal == 0
            records.append(record)
    summary = portfolio_summary(records)
    assert 0 <= summary.par30 <= 1
    assert 0 <= summary.default_rate <= 1
    assert summary.ev_best >= summary.ev_chosen


@pytest.mark.parametrize(
    ("total", "out_of", "expected"),
    [
        (100, 100, "good"),
        (70, 100, "good"),  # at the certification average: good
        (69.9, 100, "partial"),
        (50, 100, "partial"),  # half: partly right
        (49.9, 100, "poor"),
        (0, 100, "poor"),
        (35, 50, "good"),  # a share of the rubric's points, not of 100
        (30, 0, "poor"),  # a rubric of no points counts out of 100
    ],
)
def test_verdict_bands(total, out_of, expected):
    assert verdict(total, out_of, 70) == expected
