"""The rubric of DOMAIN.md section 4, and the portfolio summary."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.lending.cases import Case
from courseware.lending.scoring import (
    DecisionInvalid,
    DecisionRecord,
    decision_record,
    portfolio_summary,
    score_decision,
)
from courseware.lending.simulation import evaluate_options, simulate_path

SEEDS = 300


def _key_flags(case: Case) -> set[str]:
    return set(case.key_flags)


def test_the_expert_answer_scores_100(library: dict[str, Case]) -> None:
    for case in library.values():
        stats = evaluate_options(case, SEEDS)
        score = score_decision(
            case,
            stats,
            case.spec.key.best_option,
            _key_flags(case),
            list(case.spec.key.key_reasons),
        )
        assert score.total == pytest.approx(100), case.slug
        assert not score.cap_applied and not score.missed_flags and not score.false_flags


def test_client_protection_caps_the_decision(library: dict[str, Case]) -> None:
    case = library["tailor-borderline"]
    stats = evaluate_options(case, SEEDS)
    # Adding a guarantor makes more money, but the installment stays at 85% of the surplus.
    score = score_decision(case, stats, "approve-with-guarantor", _key_flags(case), [])
    assert score.cap_applied
    assert score.decision == pytest.approx(20)
    assert score.ev_chosen > score.ev_best


def test_approving_while_missing_a_critical_flag_costs_10(library: dict[str, Case]) -> None:
    case = library["market-trader-overindebted"]
    stats = evaluate_options(case, SEEDS)
    flags = _key_flags(case) - {"loan-to-repay-loan"}
    refused = score_decision(case, stats, "reject", flags, [])
    approved = score_decision(case, stats, "approve-smaller-longer", flags, [])
    assert not refused.critical_penalty and approved.critical_penalty
    assert refused.flags - approved.flags == pytest.approx(10)
    assert approved.missed_critical == ("loan-to-repay-loan",)


def test_false_ticks_cost_half_their_weight(library: dict[str, Case]) -> None:
    case = library["grocery-kiosk"]  # key: one minor flag (weight 1)
    stats = evaluate_options(case, SEEDS)
    best = case.spec.key.best_option
    clean = score_decision(case, stats, best, {"sector-downturn"}, [])
    assert clean.flags == pytest.approx(35)
    noisy = score_decision(case, stats, best, {"sector-downturn", "poor-references"}, [])
    assert noisy.false_flags == ("poor-references",)
    assert noisy.flags == 0  # 35 x (1 - 0.5 x 2) / 1
    assert score_decision(case, stats, best, {"three-plus-lenders"}, []).flags == 0


def test_reasons_are_proportional(library: dict[str, Case]) -> None:
    case = library["maize-farmer"]
    stats = evaluate_options(case, SEEDS)
    key = list(case.spec.key.key_reasons)
    wrong = next(r for r in case.reason_ids if r not in key)
    for hits in range(4):
        picks = key[:hits] + ([wrong] if hits < 3 else [])
        score = score_decision(case, stats, "reject", set(), picks)
        assert score.reasons == pytest.approx(10 * hits / 3)


def test_decision_quality_falls_with_the_ev_gap(library: dict[str, Case]) -> None:
    case = library["grocery-kiosk"]
    stats = {s.option_id: s for s in evaluate_options(case, SEEDS)}
    score = score_decision(case, list(stats.values()), "approve-six-months", set(), [])
    gap = (
        stats["approve-as-requested"].expected_profit - stats["approve-six-months"].expected_profit
    )
    assert score.decision == pytest.approx(40 * (1 - gap / (0.3 * case.loan_size)))
    assert score.portfolio == pytest.approx(
        15
        * stats["approve-six-months"].expected_profit
        / stats["approve-as-requested"].expected_profit
    )


def test_a_loss_making_choice_gets_no_portfolio_points(library: dict[str, Case]) -> None:
    case = library["poultry-fraud"]
    stats = evaluate_options(case, SEEDS)
    score = score_decision(case, stats, "approve-as-requested", set(), [])
    assert score.portfolio == 0 and score.decision == 0
    assert score.flags == 0  # missed every critical flag: never below 0
    assert score_decision(case, stats, "reject", set(), []).portfolio == 15


@pytest.mark.parametrize(
    ("option", "flags", "reasons"),
    [
        ("no-such-option", set(), []),
        ("approve-as-requested", {"not-a-flag"}, []),
        ("approve-as-requested", set(), ["not-a-reason"]),
        ("approve-as-requested", set(), ["capacity-comfortable"] * 2),
        (
            "approve-as-requested",
            set(),
            ["capacity-comfortable", "clean-track-record", "records-verified", "need-collateral"],
        ),
    ],
)
def test_invalid_decisions_raise(
    library: dict[str, Case], option: str, flags: set[str], reasons: list[str]
) -> None:
    case = library["grocery-kiosk"]
    stats = evaluate_options(case, SEEDS)
    with pytest.raises(DecisionInvalid):
        score_decision(case, stats, option, flags, reasons)
    assert issubclass(DecisionInvalid, ValueError)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_scores_stay_in_range_and_ignore_order(
    library: dict[str, Case], data: st.DataObject
) -> None:
    case = data.draw(st.sampled_from(sorted(library.values(), key=lambda c: c.slug)))
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
    for case in library.values():
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
