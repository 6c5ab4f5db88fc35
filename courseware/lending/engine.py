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
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from courseware.lending.params import ModelParams
from courseware.lending.plans import LoanPlan
from courseware.lending.world import Draws, Households, World

OUTCOMES = ("on_time", "late", "restructured", "default")
ON_TIME, LATE, RESTRUCTURED, DEFAULT = range(4)

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Ints = NDArray[np.int32]


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


def _any_borrower(flags: Bools) -> Bools:
    """(S, B) -> (S,): whether any borrower of the run has the flag."""
    found = flags.any(axis=1)
    assert isinstance(found, np.ndarray)  # axis=1 of a 2-D array: always an array
    return found


@dataclass(frozen=True)
class _Inputs:
    """What stays fixed during one run: the plan, the model and what follows from them."""

    plan: LoanPlan
    model: ModelParams
    draws: Draws
    shape: tuple[int, int]  # (S, B)
    fraud: Bools  # (S, B)
    character_u: Floats  # (S, B): the borrower's character, drawn once per loan
    limit: Floats  # (S, B): his chance of being willing
    cash_flow: Floats  # (S, B, M): after uninsured illness costs and insurance premiums
    squeeze: Floats  # (1, B): how far the household can cut its spending in a month
    total_due: Floats  # (B,)
    eps: Floats  # (B,): what counts as paid in full
    tol: float  # a payment beyond the household's cash by more than this is a sacrifice
    keeps_paying: bool  # a strategic borrower has something at stake and keeps paying


def _inputs(plan: LoanPlan, world: World, model: ModelParams) -> _Inputs:
    """The run's fixed inputs; the cash flow is cut to the plan's months."""
    d, people = world.draws, world.households
    seeds = d.sales_z.shape[0]
    shape = (seeds, plan.due.shape[0])
    months = plan.months
    invested_return = np.where(people.fraud, 0.0, plan.invested_return)  # the money left
    cash_flow = world.cash_flow[:, :, :months] + invested_return[None, :, None]
    if not plan.insured:
        cash_flow = cash_flow - world.illness_cost[:, :, :months]
    premium_months = np.arange(1, months + 1) <= plan.term
    cash_flow = cash_flow - plan.premium[None, :, None] * premium_months[None, None, :]
    total_due = plan.cum_due[:, -1]
    return _Inputs(
        plan=plan,
        model=model,
        draws=d,
        shape=shape,
        fraud=np.broadcast_to(people.fraud[None, :], shape),
        # Character, drawn once per loan: the first number of the willingness stream.
        character_u=d.willingness_u[:, :, 0],
        limit=np.broadcast_to(people.willingness[None, :], shape).copy(),
        cash_flow=cash_flow,
        squeeze=model.consumption_squeeze * people.household_expenses[None, :],
        total_due=total_due,
        eps=np.maximum(total_due * 1e-9, 1e-6),
        tol=1e-6 * max(1.0, float(total_due.max())),
        # A strategic borrower pays while he is current (the next loan is at stake); once 30
        # days late with nothing else to lose (no guarantor, collateral or long relationship)
        # he stops.
        keeps_paying=plan.stakes and model.strategic.stakes_keep_paying,
    )


@dataclass
class _RunState:
    """The households' cash and the loans' accounts as the months go by, (S, B) unless noted."""

    cash: Floats
    paid: Floats
    repaid: Floats
    household_paid: Floats  # own payments, cover given and the guarantor's
    active: Bools
    capacity: Floats  # what the guarantor can still pay
    stopped: Bools  # a strategic borrower who stopped paying
    lost_heart: Bools  # a group member after contagion
    missed: Bools  # some installment was not paid on its due date
    default_month: Ints
    write_off_month: Ints
    close_month: Ints
    sacrifices: Ints
    open_months: Floats
    arrears_months: Floats
    balance_months: Floats
    par30: Floats
    at_risk: Floats  # balance-months more than 30 days past due: the book's PAR30
    uncovered_streak: Ints
    contagion: Ints  # (S,): month of the group's contagion, 0 when none


def _start(inputs: _Inputs, people: Households) -> _RunState:
    """The state at month 0; a loan written off at once is in default from the start."""
    plan, shape = inputs.plan, inputs.shape
    state = _RunState(
        cash=np.broadcast_to(people.savings[None, :], shape).astype(float),
        paid=np.zeros(shape),
        repaid=np.zeros(shape),
        household_paid=np.zeros(shape),
        active=np.broadcast_to(plan.in_loan[None, :], shape).copy(),
        capacity=np.broadcast_to(plan.guarantor_capacity[None, :], shape).copy(),
        stopped=np.zeros(shape, dtype=bool),
        lost_heart=np.zeros(shape, dtype=bool),
        missed=np.zeros(shape, dtype=bool),
        default_month=np.zeros(shape, dtype=np.int32),
        write_off_month=np.zeros(shape, dtype=np.int32),
        close_month=np.zeros(shape, dtype=np.int32),
        sacrifices=np.zeros(shape, dtype=np.int32),
        open_months=np.zeros(shape),
        arrears_months=np.zeros(shape),
        balance_months=np.zeros(shape),
        par30=np.zeros(shape),
        at_risk=np.zeros(shape),
        uncovered_streak=np.zeros(shape, dtype=np.int32),
        contagion=np.zeros(shape[0], dtype=np.int32),
    )
    if plan.write_off:
        state.active[:] = False
        state.default_month[:, plan.in_loan] = 1
        state.write_off_month[:, plan.in_loan] = 1
        state.arrears_months[:, plan.in_loan] = 1
    return state


class _OwnPayment(NamedTuple):
    """The borrower's own payment of one month, (S, B)."""

    owed: Floats
    pay: Floats
    payer: Bools
    sacrificed: Bools
    squeezed: Floats


class _GuarantorCall(NamedTuple):
    """The guarantor's part of one month, (S, B)."""

    called: Bools
    agrees: Bools
    paid: Floats


def _due_by(plan: LoanPlan, m: int) -> tuple[Floats, Floats | float]:
    """(1, B) cumulative amounts due by month ``m`` and by the month before."""
    i = m - 1
    last = plan.cum_due.shape[1] - 1
    due_now = plan.cum_due[:, min(plan.prior + i, last)][None, :]
    previous_due = (
        plan.cum_due[:, min(plan.prior + i - 1, last)][None, :] if plan.prior + i else 0.0
    )
    return due_now, previous_due


def _open_month(plan: LoanPlan, state: _RunState) -> tuple[Bools, Floats]:
    """(loans open, their balance) at the month's start; adds to the balance-months."""
    is_open = state.active.copy()
    balance = plan.principal0[None, :] - state.repaid
    state.balance_months += np.where(is_open, balance, 0.0)
    state.open_months += is_open
    return is_open, balance


def _cash_in(inputs: _Inputs, state: _RunState, m: int) -> None:
    """The month's cash flow arrives; part of a deficit is carried into the household's cash."""
    state.cash = state.cash + inputs.cash_flow[:, :, m - 1]
    state.cash = np.where(state.cash < 0, inputs.model.shortfall_carried * state.cash, state.cash)


def _pay_own(inputs: _Inputs, state: _RunState, due_now: Floats) -> _OwnPayment:
    """A willing borrower (or a strategic one who has not stopped) pays what is due from his
    cash, squeezing the household's consumption if he must; a fraud never pays."""
    fraud, lost_heart, squeeze = inputs.fraud, state.lost_heart, inputs.squeeze
    cash = state.cash
    owed = np.where(state.active, np.maximum(due_now - state.paid, 0.0), 0.0)
    willing = (inputs.character_u < inputs.limit) & ~fraud & ~lost_heart
    payer = willing | (~fraud & ~lost_heart & ~state.stopped)
    pay = np.where(payer & (owed > 0), np.minimum(owed, np.maximum(cash + squeeze, 0.0)), 0.0)
    own_cash = np.maximum(cash, 0.0)
    sacrificed = pay > own_cash + inputs.tol
    squeezed = np.where(sacrificed, pay - own_cash, 0.0)
    state.sacrifices += sacrificed
    # A household in deficit also cuts spending (up to the same squeeze) to shrink it.
    state.cash = np.where(
        cash >= 0, np.maximum(cash - pay, 0.0), np.minimum(cash + squeeze - pay, 0.0)
    )
    state.paid += pay
    state.household_paid += pay
    return _OwnPayment(owed, pay, payer, sacrificed, squeezed)


def _group_cover(
    inputs: _Inputs, state: _RunState, due_now: Floats, previous_due: Floats | float, m: int
) -> tuple[Floats, Floats]:
    """(cover received, cover given): the group covers its members' shortfalls from the
    spare cash of those who paid in full, shared out pro rata."""
    seeds = inputs.shape[0]
    eps = inputs.eps
    short = np.where(state.active, np.maximum(due_now - state.paid, 0.0), 0.0)
    # Spare surplus: what a member who has paid in full earned this month beyond her
    # own installment, as far as she still holds it in cash.
    month_spare = np.maximum(inputs.cash_flow[:, :, m - 1] - (due_now - previous_due), 0.0)
    spare = np.where(
        state.active & (short <= eps[None, :]),
        np.minimum(np.maximum(state.cash, 0.0), month_spare),
        0.0,
    )
    total_short, total_spare = short.sum(axis=1), spare.sum(axis=1)
    cover = np.minimum(total_short, total_spare)
    received = (
        short * np.divide(cover, total_short, where=total_short > 0, out=np.zeros(seeds))[:, None]
    )
    given = (
        spare * np.divide(cover, total_spare, where=total_spare > 0, out=np.zeros(seeds))[:, None]
    )
    state.paid += received
    state.cash -= given
    state.household_paid += given
    _contagion(inputs, state, short - received > eps[None, :], m)
    return received, given


def _contagion(inputs: _Inputs, state: _RunState, uncovered: Bools, m: int) -> None:
    """A member left uncovered for long enough makes the others lose heart."""
    group = inputs.model.group
    state.uncovered_streak = np.where(uncovered, state.uncovered_streak + 1, 0)
    left_alone = state.uncovered_streak >= group.contagion_after_uncovered_months
    hit = _any_borrower(left_alone)
    state.contagion[hit & (state.contagion == 0)] = m
    # The other members lose heart: those whose character draw lies above the
    # contagion willingness stop paying for the rest of the loan.
    others = hit[:, None] & ~left_alone
    state.lost_heart |= others & (inputs.character_u >= group.contagion_willingness)


def _call_guarantor(
    inputs: _Inputs, state: _RunState, due_now: Floats, m: int
) -> tuple[NDArray[np.int_], _GuarantorCall]:
    """(days past due at the month's end, the guarantor's part): the guarantor is called
    once arrears pass ``call_after_dpd`` (at once for the call-the-guarantor option) and
    pays what is overdue, as far as he agrees and his capacity allows."""
    plan, eps = inputs.plan, inputs.eps
    dpd = _dpd(plan, state.paid, m, eps)
    called = state.active & (state.capacity > 0)
    called &= (dpd > inputs.model.guarantor.call_after_dpd) | (
        (m == 1) & plan.call_guarantor_now & (dpd > 0)
    )
    agrees = called & (inputs.draws.guarantor_u[:, :, m - 1] < plan.guarantor_prob[None, :])
    g_pay = np.where(agrees, np.minimum(np.maximum(due_now - state.paid, 0.0), state.capacity), 0.0)
    state.paid += g_pay
    state.household_paid += g_pay  # the guarantor is repaid by the household in the end
    state.capacity -= g_pay
    if agrees.any():
        dpd = np.where(agrees, _dpd(plan, state.paid, m, eps), dpd)
    return dpd, _GuarantorCall(called, agrees, g_pay)


def _collect(
    inputs: _Inputs,
    state: _RunState,
    opened: tuple[Bools, Floats],
    dpd: NDArray[np.int_],
    due_now: Floats,
    m: int,
) -> None:
    """The month's end: a strategic borrower 30 days late stops, arrears and PAR30 are
    counted, a loan reaches default at ``default_dpd``, is written off at ``write_off_dpd``
    and closes once paid in full."""
    plan, model, eps = inputs.plan, inputs.model, inputs.eps
    is_open, balance = opened
    if not inputs.keeps_paying:
        state.stopped |= dpd >= model.strategic.stops_after_dpd
    first_par = is_open & (dpd > 30) & (state.par30 == 0)
    state.par30 = np.where(first_par, balance, state.par30)
    state.at_risk += np.where(is_open & ((dpd > 30) | plan.restructured), balance, 0.0)
    state.arrears_months += is_open & (dpd > 0)
    state.missed |= is_open & (state.paid < due_now - eps[None, :])
    active = state.active
    state.default_month[active & (dpd >= model.default_dpd) & (state.default_month == 0)] = m
    written = active & (dpd >= model.write_off_dpd)
    state.write_off_month[written] = m
    active &= ~written
    done = active & (state.paid >= inputs.total_due[None, :] - eps[None, :])
    state.close_month[done] = m
    active &= ~done
    state.repaid = _repaid(plan, state.paid)


def _record(
    rec: dict[str, Floats],
    m: int,
    state: _RunState,
    opened: tuple[Bools, Floats],
    own: _OwnPayment,
    cover: tuple[Floats, Floats] | None,
    guarantor: _GuarantorCall,
    dpd: NDArray[np.int_],
) -> None:
    """Write month ``m`` into the trace."""
    i = m - 1
    received, given = cover if cover is not None else (0.0, 0.0)
    for key, value in (
        ("cash", state.cash),
        ("owed", own.owed),
        ("own_paid", own.pay),
        ("guarantor_paid", guarantor.paid),
        ("guarantor_refused", guarantor.called & ~guarantor.agrees),
        ("unwilling", (own.owed > 0) & ~own.payer),
        ("sacrifice", own.sacrificed),
        ("squeezed", own.squeezed),
        ("cover_received", received),
        ("cover_given", given),
    ):
        rec[key][:, :, i] = value
    # Days past due while the loan is open; frozen at write-off; 0 once repaid.
    frozen = rec["dpd"][:, :, i - 1] if i else 0
    is_open = opened[0]
    rec["dpd"][:, :, i] = np.where(is_open, dpd, np.where(state.write_off_month > 0, frozen, 0))


def run_plan(
    plan: LoanPlan, world: World, model: ModelParams, money_scale: float, trace: bool = False
) -> RunResult:
    """Run ``plan`` on every seed of ``world`` at once. Each month: the loans open, cash
    arrives, the borrowers pay, a group covers its members, the guarantor is called, and
    collection closes the month; ``trace`` keeps the month-by-month records."""
    inputs = _inputs(plan, world, model)
    state = _start(inputs, world.households)
    rec: dict[str, Floats] | None = None
    if trace:
        shape = (*inputs.shape, plan.months)
        rec = {k: np.zeros(shape) for k in Trace.__dataclass_fields__ if k != "contagion_month"}
    months = 0 if plan.write_off else plan.months
    for m in range(1, months + 1):
        due_now, previous_due = _due_by(plan, m)
        opened = _open_month(plan, state)
        _cash_in(inputs, state, m)
        own = _pay_own(inputs, state, due_now)
        cover = _group_cover(inputs, state, due_now, previous_due, m) if plan.group else None
        dpd, guarantor = _call_guarantor(inputs, state, due_now, m)
        _collect(inputs, state, opened, dpd, due_now, m)
        if rec is not None:
            _record(rec, m, state, opened, own, cover, guarantor, dpd)
    # A loan still unpaid after the collection window is written off.
    leftover = state.active & (state.paid < inputs.total_due[None, :] - inputs.eps[None, :])
    state.write_off_month[leftover] = max(months, 1)
    state.default_month[leftover & (state.default_month == 0)] = max(months, 1)
    result = _result(inputs, world, money_scale, months, state)
    if rec is not None:
        result.trace = Trace(contagion_month=state.contagion, **rec)
    return result


class _Losses(NamedTuple):
    """What a written-off loan loses and recovers, (S, B)."""

    is_written: Bools
    ead: Floats
    secured: Floats
    recovery: Floats


def _losses(inputs: _Inputs, state: _RunState) -> _Losses:
    """At write-off the collateral is seized and the unsecured rest partly recovered."""
    plan = inputs.plan
    is_written = state.write_off_month > 0
    ead = np.where(is_written, np.maximum(plan.principal0[None, :] - state.repaid, 0.0), 0.0)
    secured = np.minimum(ead, plan.secured_recovery[None, :])
    recovery = np.where(
        is_written, secured + inputs.model.unsecured_recovery * (ead - secured), 0.0
    )
    return _Losses(is_written, ead, secured, recovery)


def _loan_profit(
    inputs: _Inputs, state: _RunState, money_scale: float, fee: Floats, recovery: Floats
) -> Floats:
    """(S, B) fee + payments + recoveries - principal - cost of funds - operating costs."""
    plan, model = inputs.plan, inputs.model
    costs = model.costs
    cof_rate = model.cost_of_funds_annual / 12
    operating = (
        plan.upfront_cost[None, :]
        + money_scale * costs.servicing_per_month * plan.servicing_share * state.open_months
        + money_scale * costs.collection_per_month_in_arrears * state.arrears_months
    )
    profit = (
        fee + state.paid + recovery - plan.principal0[None, :] - cof_rate * state.balance_months
    )
    profit -= operating
    return np.where(plan.in_loan[None, :], profit, 0.0)


def _net_welfare(
    inputs: _Inputs,
    world: World,
    money_scale: float,
    months: int,
    state: _RunState,
    losses: _Losses,
) -> tuple[Floats, Bools]:
    """((S, B) the household's welfare, (S, B) collateral seized): the gain from the loan
    less what a default costs it."""
    plan, model = inputs.plan, inputs.model
    welfare = _welfare(
        plan, world, model, money_scale, months, state.household_paid, state.sacrifices
    )
    seized = losses.is_written & (plan.collateral_value[None, :] > 0)
    welfare -= np.where(seized, model.welfare.collateral_loss_share * plan.collateral_value, 0.0)
    # A written-off debt is still owed (interest included) less what the collateral paid:
    # a defaulter never ends richer than a payer.
    debt_left = np.maximum(inputs.total_due[None, :] - state.paid - losses.secured, 0.0)
    welfare -= np.where(
        losses.is_written, debt_left + model.welfare.default_cost * money_scale, 0.0
    )
    return np.where(plan.in_loan[None, :] & ~inputs.fraud, welfare, 0.0), seized


def _outcomes(inputs: _Inputs, state: _RunState, is_written: Bools) -> tuple[Ints, Floats]:
    """((S, B) each borrower's outcome code, (S, B) his PAR30 balance)."""
    plan, shape = inputs.plan, inputs.shape
    outcome = np.where(state.missed | (plan.prior > 0), LATE, ON_TIME)
    par30 = state.par30
    if plan.restructured:
        outcome = np.full(shape, RESTRUCTURED)
        par30 = np.broadcast_to(plan.principal0[None, :], shape).copy()
    outcome = np.where(is_written, DEFAULT, outcome)
    outcome = np.where(plan.in_loan[None, :], outcome, ON_TIME)
    return outcome, par30


def _result(
    inputs: _Inputs, world: World, money_scale: float, months: int, state: _RunState
) -> RunResult:
    """The run's figures once the last month is over."""
    plan = inputs.plan
    seeds = inputs.shape[0]
    in_loan = plan.in_loan[None, :]
    losses = _losses(inputs, state)
    fee = np.where(plan.in_loan, plan.fee, 0.0)[None, :]
    loan_profit_b = _loan_profit(inputs, state, money_scale, fee, losses.recovery)
    welfare_b, seized = _net_welfare(inputs, world, money_scale, months, state, losses)
    outcome_b, par30 = _outcomes(inputs, state, losses.is_written)
    member_sacrifice = np.where(in_loan, state.sacrifices, 0)
    loan_profit = loan_profit_b.sum(axis=1)
    paid, repaid = state.paid, state.repaid
    income = (fee + paid - np.minimum(repaid, paid)).sum(axis=1)  # interest and fees
    return RunResult(
        outcome=outcome_b.max(axis=1),
        loan_profit=loan_profit,
        profit=loan_profit if plan.moves_money else np.zeros(seeds),
        sacrifice_months=member_sacrifice.max(axis=1),
        member_outcome=outcome_b,
        member_sacrifice=member_sacrifice,
        paid=paid,
        default_month=state.default_month,
        write_off_month=state.write_off_month,
        close_month=state.close_month,
        ead=losses.ead,
        recovery=losses.recovery,
        income=income,
        par30_balance=np.where(in_loan, par30, 0.0).sum(axis=1),
        balance_months=state.balance_months.sum(axis=1),
        par30_months=np.where(in_loan, state.at_risk, 0.0).sum(axis=1),
        welfare=welfare_b.sum(axis=1) if plan.moves_money else np.zeros(seeds),
        asset_loss=_any_borrower(seized),
    )


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
