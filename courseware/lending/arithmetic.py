"""Loan arithmetic: installments, schedules, effective rates.

Pure Python, no NumPy: the lesson pages and the case pages both call it, and
every figure here can be checked by hand against DOMAIN.md section 2.

Rates are monthly fractions (0.03 is 3% a month); amounts are in any currency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

RATE_TYPES = ("declining", "flat")
MAX_TERM = 360


def _check_loan(principal: float, monthly_rate: float, term: int) -> None:
    if not isinstance(principal, int | float) or not math.isfinite(principal) or principal <= 0:
        raise ValueError(f"loan amount must be a positive number, got {principal!r}")
    if not isinstance(term, int) or isinstance(term, bool) or not 1 <= term <= MAX_TERM:
        raise ValueError(
            f"term must be a whole number of months from 1 to {MAX_TERM}, got {term!r}"
        )
    if (
        not isinstance(monthly_rate, int | float)
        or not math.isfinite(monthly_rate)
        or not 0 <= monthly_rate <= 1
    ):
        raise ValueError(
            f"monthly rate must be a fraction from 0 to 1 (0.03 is 3%), got {monthly_rate!r}"
        )


def installment_declining(principal: float, monthly_rate: float, term: int) -> float:
    """Equal installment on a declining balance: I = P*r / (1 - (1+r)^-n)."""
    _check_loan(principal, monthly_rate, term)
    if monthly_rate == 0:
        return principal / term
    # 1 - (1+r)^-n, written so that a tiny rate keeps its precision.
    annuity = -math.expm1(-term * math.log1p(monthly_rate))
    return principal * monthly_rate / annuity


def installment_flat(principal: float, monthly_rate: float, term: int) -> float:
    """Equal installment on a flat rate: interest on the original amount all term."""
    _check_loan(principal, monthly_rate, term)
    return principal / term + principal * monthly_rate


@dataclass(frozen=True)
class ScheduleRow:
    month: int
    payment: float
    interest: float
    principal: float
    balance: float


def amortisation_schedule(
    principal: float, monthly_rate: float, term: int, rate_type: str
) -> list[ScheduleRow]:
    """Month-by-month schedule; the last row absorbs rounding so the balance ends at 0."""
    if rate_type not in RATE_TYPES:
        raise ValueError(f"rate type must be one of {', '.join(RATE_TYPES)}, got {rate_type!r}")
    _check_loan(principal, monthly_rate, term)
    rows: list[ScheduleRow] = []
    balance = float(principal)
    if rate_type == "declining":
        payment = installment_declining(principal, monthly_rate, term)
        for month in range(1, term + 1):
            interest = balance * monthly_rate
            part = balance if month == term else payment - interest
            balance = 0.0 if month == term else balance - part
            rows.append(ScheduleRow(month, interest + part, interest, part, balance))
    else:
        interest = principal * monthly_rate
        part = principal / term
        for month in range(1, term + 1):
            this_part = balance if month == term else part
            balance = 0.0 if month == term else balance - part
            rows.append(ScheduleRow(month, interest + this_part, interest, this_part, balance))
    return rows


def _npv(rate: float, net_disbursed: float, payments: Sequence[float]) -> float:
    discount = 1.0 / (1.0 + rate)
    factor = 1.0
    total = 0.0
    for payment in payments:
        factor *= discount
        total += payment * factor
    return total - net_disbursed


def effective_monthly_rate(net_disbursed: float, payments: Sequence[float]) -> float:
    """The monthly rate i with net_disbursed = sum_k payments[k-1] / (1+i)^k.

    Payments fall at the end of months 1, 2, ...; zero months are allowed (a
    harvest schedule). Solved by bisection on a bracket that is widened until
    it holds the root, so it always converges for non-negative payments.
    """
    if not math.isfinite(net_disbursed) or net_disbursed <= 0:
        raise ValueError(f"net amount disbursed must be positive, got {net_disbursed!r}")
    values = [float(p) for p in payments]
    if not values:
        raise ValueError("payments must not be empty")
    if any(not math.isfinite(p) or p < 0 for p in values):
        raise ValueError("payments must be finite and not negative")
    if sum(values) <= 0:
        raise ValueError("payments must add up to more than zero")
    # NPV falls as the rate rises: positive at the low end, negative at the high end.
    low, high = -0.5, 1.0
    while _npv(low, net_disbursed, values) < 0 and low > -0.999999:
        low = -1 + (low + 1) / 10
    while _npv(high, net_disbursed, values) > 0:
        high *= 2
        if high > 1e6:
            raise ValueError("no effective rate found: payments are far larger than the loan")
    for _ in range(200):
        mid = (low + high) / 2
        if _npv(mid, net_disbursed, values) > 0:
            low = mid
        else:
            high = mid
        if high - low < 1e-13:
            break
    return (low + high) / 2


@dataclass(frozen=True)
class LoanSummary:
    amount: float
    monthly_rate: float
    term: int
    rate_type: str
    fee: float
    net_disbursed: float
    installment: float
    total_interest: float
    total_repaid: float
    effective_monthly_rate: float
    apr: float
    effective_annual_rate: float
    schedule: tuple[ScheduleRow, ...]


def loan_summary(
    amount: float,
    monthly_rate: float,
    term: int,
    rate_type: str = "declining",
    fee_rate: float = 0.0,
) -> LoanSummary:
    """Installment, totals and effective rates of one loan with an upfront fee."""
    if (
        not isinstance(fee_rate, int | float)
        or not math.isfinite(fee_rate)
        or not 0 <= fee_rate < 1
    ):
        raise ValueError(
            f"fee rate must be a fraction from 0 up to 1 (0.02 is 2%), got {fee_rate!r}"
        )
    schedule = amortisation_schedule(amount, monthly_rate, term, rate_type)
    fee = amount * fee_rate
    net = amount - fee
    payments = [row.payment for row in schedule]
    i = effective_monthly_rate(net, payments)
    return LoanSummary(
        amount=float(amount),
        monthly_rate=float(monthly_rate),
        term=term,
        rate_type=rate_type,
        fee=fee,
        net_disbursed=net,
        installment=schedule[0].payment,
        total_interest=sum(row.interest for row in schedule),
        total_repaid=sum(payments),
        effective_monthly_rate=i,
        apr=12 * i,
        effective_annual_rate=(1 + i) ** 12 - 1,
        schedule=tuple(schedule),
    )


def weighted_schedule(
    principal: float, monthly_rate: float, weights: Sequence[float]
) -> list[float]:
    """Amounts due per month proportional to ``weights``, worth ``principal`` at the loan rate.

    Payment_k = c * w_k with c chosen so sum_k c*w_k / (1+r)^k = principal, i.e.
    interest runs on the declining balance. Months with weight 0 pay nothing.
    """
    _check_loan(principal, monthly_rate, max(1, len(weights)))
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("weights must be non-negative and add up to more than zero")
    present = sum(w / (1 + monthly_rate) ** k for k, w in enumerate(weights, start=1))
    scale = principal / present
    return [scale * w for w in weights]


def harvest_schedule(
    principal: float,
    monthly_rate: float,
    term: int,
    harvest_months: Sequence[int],
    off_season_weight: float = 0.0,
) -> list[float]:
    """Payments aligned to harvests: loan months in ``harvest_months`` (1-based) carry
    the weight 1, other months ``off_season_weight`` (0 means nothing due)."""
    _check_loan(principal, monthly_rate, term)
    months = {m for m in harvest_months if 1 <= m <= term}
    if not months:
        raise ValueError("a harvest schedule needs at least one harvest month inside the term")
    if not 0 <= off_season_weight <= 1:
        raise ValueError("off-season weight must be from 0 to 1")
    weights = [1.0 if m in months else off_season_weight for m in range(1, term + 1)]
    return weighted_schedule(principal, monthly_rate, weights)


def balloon_schedule(principal: float, monthly_rate: float, term: int) -> list[float]:
    """Interest only each month; the principal falls due with the last payment."""
    _check_loan(principal, monthly_rate, term)
    interest = principal * monthly_rate
    return [interest] * (term - 1) + [interest + principal]


def restructure_schedule(
    balance: float,
    monthly_rate: float,
    grace_months: int,
    new_term: int,
    grace_interest: str = "capitalise",
) -> list[float]:
    """Re-amortise an outstanding balance: ``grace_months`` first, then ``new_term``
    equal installments. During grace the interest is either added to the balance
    (``capitalise``, nothing due) or paid (``pay``, interest only)."""
    _check_loan(balance, monthly_rate, new_term)
    if not isinstance(grace_months, int) or not 0 <= grace_months <= 12:
        raise ValueError(f"grace months must be a whole number from 0 to 12, got {grace_months!r}")
    if grace_interest not in ("capitalise", "pay"):
        raise ValueError("grace interest must be 'capitalise' or 'pay'")
    if grace_interest == "capitalise":
        due = [0.0] * grace_months
        grown = balance * (1 + monthly_rate) ** grace_months
    else:
        due = [balance * monthly_rate] * grace_months
        grown = balance
    return due + [installment_declining(grown, monthly_rate, new_term)] * new_term


def principal_parts(principal: float, monthly_rate: float, due: Sequence[float]) -> list[float]:
    """Split a schedule of amounts due into principal repaid per month (interest first,
    on the declining balance); a negative part means interest was capitalised."""
    balance = float(principal)
    parts: list[float] = []
    for k, payment in enumerate(due, start=1):
        interest = balance * monthly_rate
        part = balance if k == len(due) else payment - interest
        balance -= part
        parts.append(part)
    return parts
