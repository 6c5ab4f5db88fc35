"""The monthly loop of DOMAIN.md section 3, vectorised over seeds (S) and borrowers (B).

Each month: the household's cash flow arrives; a willing borrower pays what is
owed up to her cash plus a consumption squeeze (kappa x household expenses);
a group covers a member's shortfall from its spare cash; a guarantor is called
once arrears pass 30 days; days past due (DPD) are counted from the oldest
unpaid installment; at 90 DPD the loan defaults and collateral and unsecured
recovery are realised. The lender's profit of one loan is
fee + payments + recoveries - principal - cost of funds - operating costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from courseware.lending.params import ModelParams
from courseware.lending.plans import LoanPlan
from courseware.lending.world import World

OUTCOMES = ("on_time", "late", "restructured", "default")
ON_TIME, LATE, RESTRUCTURED, DEFAULT = range(4)


@dataclass
class Trace:
    """Month-by-month records, (S, B, M) unless noted; filled only when asked for."""

    cash: np.ndarray
    owed: np.ndarray
    own_paid: np.ndarray
    cover_received: np.ndarray
    cover_given: np.ndarray
    guarantor_paid: np.ndarray
    guarantor_refused: np.ndarray
    unwilling: np.ndarray
    sacrifice: np.ndarray
    squeezed: np.ndarray
    dpd: np.ndarray
    contagion_month: np.ndarray  # (S,), 0 when none


@dataclass
class RunResult:
    """Per seed (S,) unless noted (S, B)."""

    outcome: np.ndarray  # worst borrower's outcome code
    loan_profit: np.ndarray  # the loan's profit whether or not the lender made it
    profit: np.ndarray  # the lender's profit: 0 for a rejection
    sacrifice_months: np.ndarray  # worst borrower
    member_outcome: np.ndarray  # (S, B)
    member_sacrifice: np.ndarray  # (S, B)
    paid: np.ndarray  # (S, B)
    default_month: np.ndarray  # (S, B), 0 when none
    close_month: np.ndarray  # (S, B), month fully repaid, 0 when not
    ead: np.ndarray  # (S, B), exposure at default
    recovery: np.ndarray  # (S, B)
    income: np.ndarray  # interest and fees received
    par30_balance: np.ndarray  # principal outstanding when first > 30 DPD, or restructured
    balance_months: np.ndarray  # sum of month-opening balances (for yield)
    trace: Trace | None = field(default=None)


def _repaid(plan: LoanPlan, paid: np.ndarray) -> np.ndarray:
    out = np.empty_like(paid)
    for b in range(paid.shape[1]):
        out[:, b] = np.interp(paid[:, b], plan.repaid_x[b], plan.repaid_y[b])
    return out


def _dpd(plan: LoanPlan, paid: np.ndarray, month: int, eps: np.ndarray) -> np.ndarray:
    """Days past due at the end of ``month``: 30 x months since the oldest unpaid
    installment fell due (an installment missed this month is 0 days late today)."""
    cum = plan.cum_due
    oldest = (cum[None, :, :] <= paid[:, :, None] + eps[None, :, None]).sum(axis=2)
    current = plan.prior + month - 1  # index of the installment falling due this month
    late = (oldest < current) & (oldest < cum.shape[1])
    return np.where(late, 30 * (current - oldest), 0)


def run_plan(
    plan: LoanPlan, world: World, model: ModelParams, money_scale: float, trace: bool = False
) -> RunResult:
    d, people = world.draws, world.households
    seeds = d.sales_z.shape[0]
    shape = (seeds, plan.due.shape[0])
    months = plan.months
    cash_flow = world.cash_flow[:, :, :months] + plan.invested_return[None, :, None]
    if not plan.insured:
        cash_flow = cash_flow - world.illness_cost[:, :, :months]
    premium_months = np.arange(1, months + 1) <= plan.term
    cash_flow = cash_flow - plan.premium[None, :, None] * premium_months[None, None, :]

    carried = model.shortfall_carried
    squeeze = model.consumption_squeeze * people.household_expenses[None, :]
    total_due = plan.cum_due[:, -1]
    eps = np.maximum(total_due * 1e-9, 1e-6)
    tol = 1e-6 * max(1.0, float(total_due.max()))
    cof_rate = model.cost_of_funds_annual / 12
    costs = model.costs
    default_dpd = model.default_dpd
    call_after = model.guarantor.call_after_dpd

    cash = np.broadcast_to(people.savings[None, :], shape).astype(float)
    paid = np.zeros(shape)
    repaid = np.zeros(shape)
    active = np.broadcast_to(plan.in_loan[None, :], shape).copy()
    willingness = np.broadcast_to(people.willingness[None, :], shape).copy()
    capacity = np.broadcast_to(plan.guarantor_capacity[None, :], shape).copy()
    default_month = np.zeros(shape, dtype=np.int32)
    close_month = np.zeros(shape, dtype=np.int32)
    missed = np.zeros(shape, dtype=bool)  # some installment was not paid on its due date
    sacrifices = np.zeros(shape, dtype=np.int32)
    open_months = np.zeros(shape)
    arrears_months = np.zeros(shape)
    balance_months = np.zeros(shape)
    par30 = np.zeros(shape)
    uncovered_streak = np.zeros(shape, dtype=np.int32)
    contagion = np.zeros(seeds, dtype=np.int32)
    rec = None
    if trace:
        rec = {k: np.zeros((*shape, months)) for k in Trace.__dataclass_fields__}
        rec["contagion_month"] = contagion

    if plan.write_off:
        active[:] = False
        default_month[:, plan.in_loan] = 1
        arrears_months[:, plan.in_loan] = 1
        months = 0

    for m in range(1, months + 1):
        i = m - 1
        last = plan.cum_due.shape[1] - 1
        due_now = plan.cum_due[:, min(plan.prior + i, last)][None, :]
        previous_due = (
            plan.cum_due[:, min(plan.prior + i - 1, last)][None, :] if plan.prior + i else 0.0
        )
        is_open = active.copy()
        balance = plan.principal0[None, :] - repaid
        balance_months += np.where(is_open, balance, 0.0)
        open_months += is_open

        cash = cash + cash_flow[:, :, i]
        cash = np.where(cash < 0, carried * cash, cash)
        owed = np.where(active, np.maximum(due_now - paid, 0.0), 0.0)
        willing = d.willingness_u[:, :, i] < willingness
        pay = np.where(willing & (owed > 0), np.minimum(owed, np.maximum(cash + squeeze, 0.0)), 0.0)
        own_cash = np.maximum(cash, 0.0)
        sacrificed = pay > own_cash + tol
        squeezed = np.where(sacrificed, pay - own_cash, 0.0)
        sacrifices += sacrificed
        # A household in deficit also cuts spending (up to the same squeeze) to shrink it.
        cash = np.where(
            cash >= 0, np.maximum(cash - pay, 0.0), np.minimum(cash + squeeze - pay, 0.0)
        )
        paid += pay

        received = given = None
        if plan.group:
            short = np.where(active, np.maximum(due_now - paid, 0.0), 0.0)
            # Spare surplus: what a member who has paid in full earned this month beyond her
            # own installment, as far as she still holds it in cash.
            month_spare = np.maximum(cash_flow[:, :, i] - (due_now - previous_due), 0.0)
            spare = np.where(
                active & (short <= eps[None, :]),
                np.minimum(np.maximum(cash, 0.0), month_spare),
                0.0,
            )
            total_short, total_spare = short.sum(axis=1), spare.sum(axis=1)
            cover = np.minimum(total_short, total_spare)
            received = (
                short
                * np.divide(cover, total_short, where=total_short > 0, out=np.zeros(seeds))[:, None]
            )
            given = (
                spare
                * np.divide(cover, total_spare, where=total_spare > 0, out=np.zeros(seeds))[:, None]
            )
            paid += received
            cash -= given
            uncovered = short - received > eps[None, :]
            uncovered_streak = np.where(uncovered, uncovered_streak + 1, 0)
            left_alone = uncovered_streak >= model.group.contagion_after_uncovered_months
            hit = left_alone.any(axis=1)
            contagion[hit & (contagion == 0)] = m
            # The other members lose heart: their willingness drops for the rest of the loan.
            others = hit[:, None] & ~left_alone
            limit = model.group.contagion_willingness
            willingness = np.where(others, np.minimum(willingness, limit), willingness)

        dpd = _dpd(plan, paid, m, eps)
        defaulted = active & (dpd >= default_dpd)
        called = active & ~defaulted & (capacity > 0)
        called &= (dpd > call_after) | ((m == 1) & plan.call_guarantor_now & (dpd > 0))
        agrees = called & (d.guarantor_u[:, :, i] < plan.guarantor_prob[None, :])
        g_pay = np.where(agrees, np.minimum(np.maximum(due_now - paid, 0.0), capacity), 0.0)
        paid += g_pay
        capacity -= g_pay
        if agrees.any():
            dpd = np.where(agrees, _dpd(plan, paid, m, eps), dpd)

        first_par = is_open & (dpd > 30) & (par30 == 0)
        par30 = np.where(first_par, balance, par30)
        arrears_months += is_open & (dpd > 0)
        missed |= is_open & (paid < due_now - eps[None, :])
        default_month[defaulted] = m
        active &= ~defaulted
        done = active & (paid >= total_due[None, :] - eps[None, :])
        close_month[done] = m
        active &= ~done
        repaid = _repaid(plan, paid)

        if rec is not None:
            for key, value in (
                ("cash", cash),
                ("owed", owed),
                ("own_paid", pay),
                ("guarantor_paid", g_pay),
                ("guarantor_refused", called & ~agrees),
                ("unwilling", (owed > 0) & ~willing),
                ("sacrifice", sacrificed),
                ("squeezed", squeezed),
                ("cover_received", received if received is not None else 0.0),
                ("cover_given", given if given is not None else 0.0),
            ):
                rec[key][:, :, i] = value
            # Days past due while the loan is open; frozen at default; 0 once repaid.
            frozen = rec["dpd"][:, :, i - 1] if i else 0
            rec["dpd"][:, :, i] = np.where(is_open, dpd, np.where(default_month > 0, frozen, 0))

    # A loan still open after the collection window is in default.
    leftover = active & (paid < total_due[None, :] - eps[None, :])
    default_month[leftover] = max(months, 1)

    is_default = default_month > 0
    ead = np.where(is_default, np.maximum(plan.principal0[None, :] - repaid, 0.0), 0.0)
    secured = np.minimum(ead, plan.secured_recovery[None, :])
    recovery = np.where(is_default, secured + model.unsecured_recovery * (ead - secured), 0.0)
    operating = (
        plan.upfront_cost[None, :]
        + money_scale * costs.servicing_per_month * plan.servicing_share * open_months
        + money_scale * costs.collection_per_month_in_arrears * arrears_months
    )
    fee = np.where(plan.in_loan, plan.fee, 0.0)[None, :]
    loan_profit_b = fee + paid + recovery - plan.principal0[None, :] - cof_rate * balance_months
    loan_profit_b -= operating
    loan_profit_b = np.where(plan.in_loan[None, :], loan_profit_b, 0.0)

    outcome_b = np.where(missed | (plan.prior > 0), LATE, ON_TIME)
    if plan.restructured:
        outcome_b = np.full(shape, RESTRUCTURED)
        par30 = np.broadcast_to(plan.principal0[None, :], shape).copy()
    outcome_b = np.where(is_default, DEFAULT, outcome_b)
    outcome_b = np.where(plan.in_loan[None, :], outcome_b, ON_TIME)
    member_sacrifice = np.where(plan.in_loan[None, :], sacrifices, 0)
    loan_profit = loan_profit_b.sum(axis=1)
    income = (fee + paid - np.minimum(repaid, paid)).sum(axis=1)  # interest and fees
    result = RunResult(
        outcome=outcome_b.max(axis=1),
        loan_profit=loan_profit,
        profit=loan_profit if plan.moves_money else np.zeros(seeds),
        sacrifice_months=member_sacrifice.max(axis=1),
        member_outcome=outcome_b,
        member_sacrifice=member_sacrifice,
        paid=paid,
        default_month=default_month,
        close_month=close_month,
        ead=ead,
        recovery=recovery,
        income=income,
        par30_balance=np.where(plan.in_loan[None, :], par30, 0.0).sum(axis=1),
        balance_months=balance_months.sum(axis=1),
    )
    if rec is not None:
        rec["contagion_month"] = contagion
        result.trace = Trace(**rec)
    return result
