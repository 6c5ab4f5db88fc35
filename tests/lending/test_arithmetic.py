"""Loan arithmetic against figures worked out independently (DOMAIN.md section 2)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courseware.lending.arithmetic import (
    amortisation_schedule,
    balloon_schedule,
    effective_monthly_rate,
    harvest_schedule,
    installment_declining,
    installment_flat,
    loan_summary,
    principal_parts,
    restructure_schedule,
    weighted_schedule,
)


def test_flat_rate_worked_example() -> None:
    s = loan_summary(1000, 0.03, 12, "flat")
    assert s.installment == pytest.approx(113.33, abs=0.005)
    assert s.effective_monthly_rate == pytest.approx(0.0508, abs=0.0001)
    assert s.apr == pytest.approx(0.61, abs=0.005)
    assert s.effective_annual_rate == pytest.approx(0.81, abs=0.005)
    assert s.total_interest == pytest.approx(360)
    assert s.total_repaid == pytest.approx(1360)


def test_upfront_fee_raises_the_apr() -> None:
    s = loan_summary(1000, 0.03, 12, "flat", fee_rate=0.02)
    assert s.fee == pytest.approx(20)
    assert s.net_disbursed == pytest.approx(980)
    assert s.apr == pytest.approx(0.65, abs=0.005)


def test_declining_worked_example() -> None:
    s = loan_summary(1000, 0.03, 12, "declining")
    assert s.installment == pytest.approx(100.46, abs=0.005)
    assert s.total_interest == pytest.approx(205.5, abs=0.05)
    # With no fee the effective rate of a declining loan is its own rate.
    assert s.effective_monthly_rate == pytest.approx(0.03, abs=1e-9)
    assert s.apr == pytest.approx(0.36, abs=1e-8)


def test_zero_rate_is_principal_over_term() -> None:
    assert installment_declining(1200, 0.0, 12) == pytest.approx(100)
    assert installment_flat(1200, 0.0, 12) == pytest.approx(100)
    s = loan_summary(1200, 0.0, 12)
    assert s.effective_monthly_rate == pytest.approx(0, abs=1e-10)


@pytest.mark.parametrize("rate_type", ["declining", "flat"])
def test_schedule_ends_at_zero(rate_type: str) -> None:
    rows = amortisation_schedule(1000, 0.03, 12, rate_type)
    assert [r.month for r in rows] == list(range(1, 13))
    assert rows[-1].balance == 0.0
    assert all(r.payment == pytest.approx(r.interest + r.principal) for r in rows)


def test_flat_schedule_charges_interest_on_the_original_amount() -> None:
    rows = amortisation_schedule(1000, 0.03, 12, "flat")
    assert all(r.interest == pytest.approx(30) for r in rows)
    assert all(r.principal == pytest.approx(1000 / 12) for r in rows)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ((0, 0.03, 12, "declining"), "amount"),
        ((-5, 0.03, 12, "declining"), "amount"),
        ((1000, 0.03, 0, "declining"), "term"),
        ((1000, 0.03, 361, "declining"), "term"),
        ((1000, -0.01, 12, "declining"), "rate"),
        ((1000, 1.5, 12, "declining"), "rate"),
        ((1000, 0.03, 12, "balloon"), "rate type"),
        ((float("nan"), 0.03, 12, "declining"), "amount"),
    ],
)
def test_nonsense_input_is_refused(args: tuple, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        loan_summary(*args)


def test_fee_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="fee"):
        loan_summary(1000, 0.03, 12, fee_rate=1.2)


def test_effective_rate_of_a_single_payment() -> None:
    # 1000 now, 1200 in six months: (1.2)^(1/6) - 1.
    assert effective_monthly_rate(1000, [0, 0, 0, 0, 0, 1200]) == pytest.approx(
        1.2 ** (1 / 6) - 1, abs=1e-10
    )


def test_effective_rate_can_be_negative() -> None:
    assert effective_monthly_rate(1000, [450, 450]) < 0


@pytest.mark.parametrize("payments", [[], [-1, 2], [0, 0]])
def test_effective_rate_refuses_bad_payments(payments: list[float]) -> None:
    with pytest.raises(ValueError):
        effective_monthly_rate(1000, payments)


def test_harvest_schedule_pays_only_in_harvest_months() -> None:
    due = harvest_schedule(1000, 0.03, 12, [5, 6, 11, 12])
    assert [m for m, d in enumerate(due, start=1) if d > 0] == [5, 6, 11, 12]
    assert len(set(round(d, 6) for d in due if d > 0)) == 1
    # Worth the principal at the loan rate: the effective rate is the loan rate.
    assert effective_monthly_rate(1000, due) == pytest.approx(0.03, abs=1e-9)


def test_harvest_schedule_needs_a_harvest_inside_the_term() -> None:
    with pytest.raises(ValueError, match="harvest"):
        harvest_schedule(1000, 0.03, 4, [7])


def test_balloon_schedule() -> None:
    due = balloon_schedule(1000, 0.02, 6)
    assert due[:5] == [pytest.approx(20)] * 5
    assert due[5] == pytest.approx(1020)


def test_restructure_capitalises_grace_interest() -> None:
    due = restructure_schedule(600, 0.03, 1, 6)
    assert due[0] == 0
    assert due[1:] == [pytest.approx(installment_declining(618, 0.03, 6))] * 6
    assert effective_monthly_rate(600, due) == pytest.approx(0.03, abs=1e-9)
    paying = restructure_schedule(600, 0.03, 2, 6, grace_interest="pay")
    assert paying[:2] == [pytest.approx(18)] * 2
    assert effective_monthly_rate(600, paying) == pytest.approx(0.03, abs=1e-9)


@given(
    principal=st.floats(min_value=10, max_value=1e7),
    rate=st.floats(min_value=0, max_value=0.2),
    term=st.integers(min_value=1, max_value=120),
    rate_type=st.sampled_from(["declining", "flat"]),
)
def test_schedule_principal_sums_to_the_amount(
    principal: float, rate: float, term: int, rate_type: str
) -> None:
    rows = amortisation_schedule(principal, rate, term, rate_type)
    assert math.isclose(sum(r.principal for r in rows), principal, rel_tol=1e-9)
    assert rows[-1].balance == 0.0
    assert all(r.balance >= -1e-6 * principal for r in rows)


@given(
    principal=st.floats(min_value=100, max_value=1e6),
    rate=st.floats(min_value=0.001, max_value=0.1),
    term=st.integers(min_value=1, max_value=60),
    fee=st.floats(min_value=0, max_value=0.1),
)
def test_fee_never_lowers_the_effective_rate(
    principal: float, rate: float, term: int, fee: float
) -> None:
    base = loan_summary(principal, rate, term)
    with_fee = loan_summary(principal, rate, term, fee_rate=fee)
    assert base.effective_monthly_rate == pytest.approx(rate, abs=1e-8)
    assert with_fee.effective_monthly_rate >= base.effective_monthly_rate - 1e-9


@given(
    weights=st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=36).filter(
        lambda w: sum(w) > 0.01
    ),
    rate=st.floats(min_value=0, max_value=0.1),
)
def test_weighted_schedule_repays_principal_at_the_loan_rate(
    weights: list[float], rate: float
) -> None:
    due = weighted_schedule(1000, rate, weights)
    parts = principal_parts(1000, rate, due)
    assert math.isclose(sum(parts), 1000, rel_tol=1e-9)
