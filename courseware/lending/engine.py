"""The monthly loop of DOMAIN.md section 3, vectorised over seeds (S) and borrowers (B).

The borrower's character is drawn once per simulated loan (the first number of
the willingness stream): willing (pays what cash allows, up to a consumption
squeeze of kappa x household expenses), strategic (pays while something is at
stake: the next loan while he is current, a guarantor, collateral or a long
relationship for good; otherwise stops once 30 days late), or a fraud (a ghost
borrower: never pays). Each month the household's cash flow arrives; a group
covers a member's shortfall from its spare cash; a guarantor is called once
arrears pass 30 days; days past due (DPD) count from the first missed payment;
at 90 DPD the loan is in default and collection goes on until write-off at 180
DPD, when collateral is seized and the unsecured rest partly recovered. The
lender's profit of one loan is fee + payments + recoveries - principal - cost
of funds - operating costs; the household's welfare is the change in its net
worth against having no loan.
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
    default_month: np.ndarray  # (S, B), month the loan reached 90 DPD, 0 when never
    write_off_month: np.ndarray  # (S, B), month written off (the loan's default), 0 when none
    close_month: np.ndarray  # (S, B), month fully repaid, 0 when not
    ead: np.ndarray  # (S, B), exposure at default
    recovery: np.ndarray  # (S, B)
    income: np.ndarray  # interest and fees received
    par30_balance: np.ndarray  # principal outstanding when first > 30 DPD, or restructured
    balance_months: np.ndarray  # sum of month-opening balances (for yield)
    par30_months: np.ndarray  # (S,) sum of month-end balances more than 30 DPD (or restructured)
    welfare: np.ndarray  # (S,) change in the households' net worth against no loan
    asset_loss: np.ndarray  # (S,) bool: collateral seized from a household
    trace: Trace | None = field(default=None)


def _repaid(plan: LoanPlan, paid: np.ndarray) -> np.ndarray:
    out = np.empty_like(paid)
    for b in range(paid.shape[1]):
        out[:, b] = np.interp(paid[:, b], plan.repaid_x[b], plan.repaid_y[b])
    return out


def _dpd(plan: LoanPlan, paid: np.ndarray, month: int, eps: np.ndarray) -> np.ndarray:
    """Days past due at the end of ``month``, counted from the first missed payment:
    installments fall due at the start of a month, so one unpaid at the end of the
    month it fell due is 30 days late, and 30 more for each month it stays unpaid."""
    cum = plan.cum_due
    oldest = (cum[None, :, :] <= paid[:, :, None] + eps[None, :, None]).sum(axis=2)
    current = plan.prior + month - 1  # index of the installment falling due this month
    late = (oldest <= current) & (oldest < cum.shape[1])
    return np.where(late, 30 * (current - oldest + 1), 0)


def run_plan(
    plan: LoanPlan, world: World, model: ModelParams, money_scale: float, trace: bool = False
) -> RunResult:
    d, people = world.draws, world.households
    seeds = d.sales_z.shape[0]
    shape = (seeds, plan.due.shape[0])
    months = plan.months
    fraud = np.broadcast_to(people.fraud[None, :], shape)
    invested_return = np.where(people.fraud, 0.0, plan.invested_return)  # the money left
    cash_flow = world.cash_flow[:, :, :months] + invested_return[None, :, None]
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
    default_dpd, write_off_dpd = model.default_dpd, model.write_off_dpd
    call_after = model.guarantor.call_after_dpd
    # Character, drawn once per loan: the first number of the willingness stream.
    character_u = d.willingness_u[:, :, 0]
    limit = np.broadcast_to(people.willingness[None, :], shape).copy()
    # A strategic borrower pays while he is current (the next loan is at stake); once 30 days
    # late with nothing else to lose (no guarantor, collateral or long relationship) he stops.
    keeps_paying = plan.stakes and model.strategic.stakes_keep_paying
    stopped = np.zeros(shape, dtype=bool)
    lost_heart = np.zeros(shape, dtype=bool)  # a group member after contagion

    cash = np.broadcast_to(people.savings[None, :], shape).astype(float)
    paid = np.zeros(shape)
    repaid = np.zeros(shape)
    household_paid = np.zeros(shape)  # own payments, cover given and the guarantor's
    active = np.broadcast_to(plan.in_loan[None, :], shape).copy()
    capacity = np.broadcast_to(plan.guarantor_capacity[None, :], shape).copy()
    default_month = np.zeros(shape, dtype=np.int32)
    write_off_month = np.zeros(shape, dtype=np.int32)
    close_month = np.zeros(shape, dtype=np.int32)
    missed = np.zeros(shape, dtype=bool)  # some installment was not paid on its due date
    sacrifices = np.zeros(shape, dtype=np.int32)
    open_months = np.zeros(shape)
    arrears_months = np.zeros(shape)
    balance_months = np.zeros(shape)
    par30 = np.zeros(shape)
    at_risk = np.zeros(shape)  # balance-months more than 30 days past due: the book's PAR30
    uncovered_streak = np.zeros(shape, dtype=np.int32)
    contagion = np.zeros(seeds, dtype=np.int32)
    rec = None
    if trace:
        rec = {k: np.zeros((*shape, months)) for k in Trace.__dataclass_fields__}
        rec["contagion_month"] = contagion

    if plan.write_off:
        active[:] = False
        default_month[:, plan.in_loan] = 1
        write_off_month[:, plan.in_loan] = 1
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
        willing = (character_u < limit) & ~fraud & ~lost_heart
        payer = willing | (~fraud & ~lost_heart & ~stopped)
        pay = np.where(payer & (owed > 0), np.minimum(owed, np.maximum(cash + squeeze, 0.0)), 0.0)
        own_cash = np.maximum(cash, 0.0)
        sacrificed = pay > own_cash + tol
        squeezed = np.where(sacrificed, pay - own_cash, 0.0)
        sacrifices += sacrificed
        # A household in deficit also cuts spending (up to the same squeeze) to shrink it.
        cash = np.where(
            cash >= 0, np.maximum(cash - pay, 0.0), np.minimum(cash + squeeze - pay, 0.0)
        )
        paid += pay
        household_paid += pay

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
            household_paid += given
            uncovered = short - received > eps[None, :]
            uncovered_streak = np.where(uncovered, uncovered_streak + 1, 0)
            left_alone = uncovered_streak >= model.group.contagion_after_uncovered_months
            hit = left_alone.any(axis=1)
            contagion[hit & (contagion == 0)] = m
            # The other members lose heart: those whose character draw lies above the
            # contagion willingness stop paying for the rest of the loan.
            others = hit[:, None] & ~left_alone
            lost_heart |= others & (character_u >= model.group.contagion_willingness)

        dpd = _dpd(plan, paid, m, eps)
        called = active & (capacity > 0)
        called &= (dpd > call_after) | ((m == 1) & plan.call_guarantor_now & (dpd > 0))
        agrees = called & (d.guarantor_u[:, :, i] < plan.guarantor_prob[None, :])
        g_pay = np.where(agrees, np.minimum(np.maximum(due_now - paid, 0.0), capacity), 0.0)
        paid += g_pay
        household_paid += g_pay  # the guarantor is repaid by the household in the end
        capacity -= g_pay
        if agrees.any():
            dpd = np.where(agrees, _dpd(plan, paid, m, eps), dpd)
        if not keeps_paying:
            stopped |= dpd >= model.strategic.stops_after_dpd

        first_par = is_open & (dpd > 30) & (par30 == 0)
        par30 = np.where(first_par, balance, par30)
        at_risk += np.where(is_open & ((dpd > 30) | plan.restructured), balance, 0.0)
        arrears_months += is_open & (dpd > 0)
        missed |= is_open & (paid < due_now - eps[None, :])
        default_month[active & (dpd >= default_dpd) & (default_month == 0)] = m
        written = active & (dpd >= write_off_dpd)
        write_off_month[written] = m
        active &= ~written
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
                ("unwilling", (owed > 0) & ~payer),
                ("sacrifice", sacrificed),
                ("squeezed", squeezed),
                ("cover_received", received if received is not None else 0.0),
                ("cover_given", given if given is not None else 0.0),
            ):
                rec[key][:, :, i] = value
            # Days past due while the loan is open; frozen at write-off; 0 once repaid.
            frozen = rec["dpd"][:, :, i - 1] if i else 0
            rec["dpd"][:, :, i] = np.where(is_open, dpd, np.where(write_off_month > 0, frozen, 0))

    # A loan still unpaid after the collection window is written off.
    leftover = active & (paid < total_due[None, :] - eps[None, :])
    write_off_month[leftover] = max(months, 1)
    default_month[leftover & (default_month == 0)] = max(months, 1)

    is_written = write_off_month > 0
    ead = np.where(is_written, np.maximum(plan.principal0[None, :] - repaid, 0.0), 0.0)
    secured = np.minimum(ead, plan.secured_recovery[None, :])
    recovery = np.where(is_written, secured + model.unsecured_recovery * (ead - secured), 0.0)
    operating = (
        plan.upfront_cost[None, :]
        + money_scale * costs.servicing_per_month * plan.servicing_share * open_months
        + money_scale * costs.collection_per_month_in_arrears * arrears_months
    )
    fee = np.where(plan.in_loan, plan.fee, 0.0)[None, :]
    loan_profit_b = fee + paid + recovery - plan.principal0[None, :] - cof_rate * balance_months
    loan_profit_b -= operating
    loan_profit_b = np.where(plan.in_loan[None, :], loan_profit_b, 0.0)

    welfare_b = _welfare(plan, world, model, money_scale, months, household_paid, sacrifices)
    seized = is_written & (plan.collateral_value[None, :] > 0)
    welfare_b -= np.where(seized, model.welfare.collateral_loss_share * plan.collateral_value, 0.0)
    # A written-off debt is still owed (interest included) less what the collateral paid:
    # a defaulter never ends richer than a payer.
    debt_left = np.maximum(total_due[None, :] - paid - secured, 0.0)
    welfare_b -= np.where(is_written, debt_left + model.welfare.default_cost * money_scale, 0.0)
    welfare_b = np.where(plan.in_loan[None, :] & ~fraud, welfare_b, 0.0)

    outcome_b = np.where(missed | (plan.prior > 0), LATE, ON_TIME)
    if plan.restructured:
        outcome_b = np.full(shape, RESTRUCTURED)
        par30 = np.broadcast_to(plan.principal0[None, :], shape).copy()
    outcome_b = np.where(is_written, DEFAULT, outcome_b)
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
        write_off_month=write_off_month,
        close_month=close_month,
        ead=ead,
        recovery=recovery,
        income=income,
        par30_balance=np.where(plan.in_loan[None, :], par30, 0.0).sum(axis=1),
        balance_months=balance_months.sum(axis=1),
        par30_months=np.where(plan.in_loan[None, :], at_risk, 0.0).sum(axis=1),
        welfare=welfare_b.sum(axis=1) if plan.moves_money else np.zeros(seeds),
        asset_loss=seized.any(axis=1),
    )
    if rec is not None:
        rec["contagion_month"] = contagion
        result.trace = Trace(**rec)
    return result


def _welfare(
    plan: LoanPlan,
    world: World,
    model: ModelParams,
    money_scale: float,
    months: int,
    household_paid: np.ndarray,
    sacrifices: np.ndarray,
) -> np.ndarray:
    """(S, B) the household's gain from the loan before a default's losses: what the money
    is worth to it (invested, spent at home; diverted money is worth nothing), what the
    invested part earned, insurance received, less all it paid and its sacrifice months."""
    w = model.welfare
    received = plan.principal0 - np.where(plan.in_loan, plan.fee, 0.0)
    worth = received * (plan.business_share + w.household_use_value * plan.household_share)
    # The invested money earns for the same months in every option (model.yaml
    # ``welfare.return_months``): a longer or shorter loan does not make it earn longer.
    earned = plan.invested_return * (w.return_months if months else 0)
    premiums = plan.premium * min(plan.term, months)
    gain = (worth + earned - premiums)[None, :] - household_paid
    if plan.insured and months:
        gain = gain + world.illness_cost[:, :, :months].sum(axis=2)
    return gain - w.sacrifice_month_cost * money_scale * sacrifices
