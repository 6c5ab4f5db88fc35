"""Turn a decision option into a loan plan: who owes what each month, and on what terms.

Each option kind has a builder in ``PLAN_BUILDERS``; adding a kind means adding
its entry to ``cases.OPTION_KINDS`` and a builder here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from courseware.lending.arithmetic import (
    installment_declining,
    principal_parts,
    restructure_schedule,
)
from courseware.lending.case_schema import GuarantorParams
from courseware.lending.cases import OPTION_KINDS, Case, Terms, harvest_loan_months
from courseware.lending.params import ModelParams
from courseware.lending.pricing import effective_annual_rate
from courseware.lending.terms import new_loan_schedule
from courseware.lending.world import Households


@dataclass(frozen=True)
class LoanPlan:
    """Arrays have one row per borrower (B); money in the case currency."""

    option_id: str
    kind: str
    moves_money: bool  # False: a rejection, simulated as a counterfactual
    restructured: bool
    write_off: bool
    group: bool
    in_loan: np.ndarray  # (B,) bool: this borrower has a loan under the plan
    prior: int  # H: installments already past due when the simulation starts
    due: np.ndarray  # (B, H+T) amounts due, past-due ones first
    cum_due: np.ndarray  # (B, H+T)
    principal0: np.ndarray  # (B,) principal at stake at month 0
    repaid_x: tuple[np.ndarray, ...]  # per borrower: cumulative paid ...
    repaid_y: tuple[np.ndarray, ...]  # ... and the principal it has repaid
    fee: np.ndarray  # (B,) fee received at month 0
    upfront_cost: np.ndarray  # (B,) origination or restructuring cost
    servicing_share: float  # share of the per-loan servicing cost each borrower bears
    invested_return: np.ndarray  # (B,) monthly return on the invested part of the loan
    premium: np.ndarray  # (B,) monthly insurance premium during the term
    insured: bool
    guarantor_capacity: np.ndarray  # (B,)
    guarantor_prob: np.ndarray  # (B,)
    call_guarantor_now: bool
    secured_recovery: np.ndarray  # (B,) haircut x collateral value
    collateral_value: np.ndarray  # (B,) the pledged collateral's full value to the household
    business_share: float  # share of the loan money invested in the business
    household_share: float  # share spent in the household (the rest is diverted)
    stakes: bool  # a strategic borrower has something to lose: guarantor, collateral, repeat loan
    term: int  # T: months with installments from now on
    months: int  # T + collection window
    installment: float  # largest amount due in one month, any borrower
    installment_ratio: float  # sum due / expected pre-loan surplus over the term, worst borrower
    worst_month_ratio: float  # max over months of due / expected surplus that month (seasonal)
    effective_annual_rate: float | None  # fees included; None when the option prices nothing
    terms: Terms


def _repaid_curve(due: list[float], parts: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative paid -> principal repaid, at the months where something falls due."""
    cum_due = np.cumsum(due)
    cum_part = np.maximum.accumulate(np.maximum(np.cumsum(parts), 0.0))
    keep = np.asarray(due) > 0
    x = np.concatenate([[0.0], cum_due[keep]])
    y = np.concatenate([[0.0], cum_part[keep]])
    return x, y


@dataclass(frozen=True)
class _Schedules:
    prior: int
    due: list[list[float]]
    parts: list[list[float]]
    principal0: list[float]


def _new_loan(case: Case, terms: Terms, people: Households) -> _Schedules:
    params = case.spec.params
    harvest = harvest_loan_months(params, terms.term)
    amounts = list(terms.member_amounts) if params.members else [terms.amount]
    due, parts = zip(*(new_loan_schedule(terms, a, harvest) for a in amounts), strict=True)
    return _Schedules(0, [list(d) for d in due], [list(p) for p in parts], amounts)


def _existing_loan(case: Case, terms: Terms, people: Households) -> _Schedules:
    loan = case.spec.params.existing_loan
    assert loan is not None  # guaranteed by the case check
    if terms.schedule == "restructure":
        due = restructure_schedule(loan.balance, loan.monthly_rate, terms.grace_months, terms.term)
        parts = principal_parts(loan.balance, loan.monthly_rate, due)
        return _Schedules(0, [due], [parts], [loan.balance])
    count = loan.arrears_installments + loan.remaining_term
    installment = installment_declining(loan.balance, loan.monthly_rate, count)
    due = [installment] * count
    parts = principal_parts(loan.balance, loan.monthly_rate, due)
    return _Schedules(loan.arrears_installments, [due], [parts], [loan.balance])


def _plan(case: Case, option_id: str, people: Households) -> LoanPlan:
    option = case.option(option_id)
    if option is None:
        raise KeyError(option_id)
    kind = OPTION_KINDS[option.kind]
    terms = case.terms(option_id)
    model, params = case.model, case.spec.params
    existing = kind.moves_money and kind.existing_loan
    s = _existing_loan(case, terms, people) if existing else _new_loan(case, terms, people)
    borrowers = len(s.due)
    due = np.array(s.due, dtype=float)
    curves = [_repaid_curve(s.due[b], s.parts[b]) for b in range(borrowers)]
    principal0 = np.array(s.principal0, dtype=float)
    in_loan = principal0 > 0
    use = _money_use(case, option.kind, terms, existing, principal0)
    guarantor = params.guarantor if terms.guarantor else None
    capacity, prob = _guarantor_cover(model, guarantor, borrowers)
    secured, collateral_value = _collateral(model, terms, principal0)
    burden = _burden(people, due, s.prior, in_loan, option.kind == "write_off")
    guarantor_can_pay = guarantor is not None and guarantor.capacity > 0
    stakes = bool(
        guarantor_can_pay or terms.collateral is not None or params.repeat_client or existing
    )
    premium_rate = model.insurance.premium_share_per_year / 12 if terms.insurance else 0.0
    return LoanPlan(
        option_id=option_id,
        kind=option.kind,
        moves_money=kind.moves_money,
        restructured=option.kind == "restructure",
        write_off=option.kind == "write_off",
        group=borrowers > 1,
        in_loan=in_loan,
        prior=s.prior,
        due=due,
        cum_due=np.cumsum(due, axis=1),
        principal0=principal0,
        repaid_x=tuple(c[0] for c in curves),
        repaid_y=tuple(c[1] for c in curves),
        fee=terms.fee_rate * principal0,
        upfront_cost=np.where(in_loan, use.upfront * params.money_scale, 0.0),
        servicing_share=model.group.cost_share_per_member if borrowers > 1 else 1.0,
        invested_return=use.invested_return,
        premium=premium_rate * principal0,
        insured=terms.insurance and model.insurance.covers_illness_cost,
        guarantor_capacity=capacity,
        guarantor_prob=prob,
        call_guarantor_now=option.kind == "call_guarantor",
        secured_recovery=secured,
        collateral_value=collateral_value,
        business_share=use.business_share,
        household_share=use.household_share,
        stakes=stakes,
        term=burden.term,
        months=burden.term + model.collection_window_months,
        installment=burden.installment,
        installment_ratio=burden.installment_ratio,
        worst_month_ratio=burden.worst_month_ratio,
        effective_annual_rate=effective_annual_rate(case.spec, option, model),
        terms=terms,
    )


class _MoneyUse(NamedTuple):
    upfront: float  # origination or restructuring cost per borrower, before the money scale
    invested_return: np.ndarray  # (B,) monthly return on the invested part of the loan
    business_share: float
    household_share: float


def _money_use(
    case: Case, kind: str, terms: Terms, existing: bool, principal0: np.ndarray
) -> _MoneyUse:
    """What the loan costs the lender up front and what the household does with the money."""
    model = case.model
    borrowers = principal0.shape[0]
    business_share, household_share = loan_use(case)
    if existing:
        # Re-contracting a restructured loan, or visiting and calling a guarantor, costs staff
        # time; collecting as scheduled and writing off cost nothing up front.
        upfront = {
            "restructure": model.costs.restructuring,
            "call_guarantor": model.costs.guarantor_check,
        }.get(kind, 0.0)
        invested = np.zeros(borrowers)
        business_share = household_share = 0.0  # the money was lent and used long ago
    else:
        upfront = model.costs.origination
        upfront += model.costs.guarantor_check if terms.guarantor else 0.0
        upfront += model.costs.collateral_registration if terms.collateral else 0.0
        invested = model.return_on_capital * business_share * principal0
    if borrowers > 1:
        upfront *= model.group.cost_share_per_member
    return _MoneyUse(upfront, invested, business_share, household_share)


def _guarantor_cover(
    model: ModelParams, guarantor: GuarantorParams | None, borrowers: int
) -> tuple[np.ndarray, np.ndarray]:
    """(B,) what the guarantor can pay for each borrower and (B,) how likely he pays."""
    capacity = np.zeros(borrowers)
    prob = np.zeros(borrowers)
    if guarantor is not None:
        capacity[:] = guarantor.capacity / borrowers
        prob[:] = guarantor.pay_prob if guarantor.pay_prob is not None else model.guarantor.pay_prob
    return capacity, prob


def _collateral(
    model: ModelParams, terms: Terms, principal0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(B,) what the lender recovers from the collateral (after the haircut) and (B,) its
    full value to the household, shared in proportion to each borrower's principal."""
    borrowers = principal0.shape[0]
    secured = np.zeros(borrowers)
    collateral_value = np.zeros(borrowers)
    if terms.collateral is not None and principal0.sum() > 0:
        haircut = getattr(model.collateral_haircut, terms.collateral.type)
        collateral_value = terms.collateral.value * principal0 / principal0.sum()
        secured = haircut * collateral_value
    return secured, collateral_value


class _Burden(NamedTuple):
    term: int  # months with installments from now on
    installment: float
    installment_ratio: float
    worst_month_ratio: float


def _burden(
    people: Households, due: np.ndarray, prior: int, in_loan: np.ndarray, write_off: bool
) -> _Burden:
    """The term and how heavily the installments weigh on the household's expected surplus
    (worst borrower; a write-off weighs on nobody)."""
    borrowers = due.shape[0]
    future = due[:, prior:]
    term = future.shape[1]
    expected = people.expected_surplus[:, :term].sum(axis=1)
    owed = due.sum(axis=1)
    counted = [b for b in range(borrowers) if in_loan[b] and not write_off]
    ratios = [(owed[b] / expected[b] if expected[b] > 0 else float("inf")) for b in counted]
    worst = [_worst_month(future[b], people.expected_surplus[b, :term]) for b in counted]
    return _Burden(
        term=term,
        installment=float(future.max()) if future.size and ratios else 0.0,
        installment_ratio=max(ratios) if ratios else 0.0,
        worst_month_ratio=max(worst) if worst else 0.0,
    )


def loan_use(case: Case) -> tuple[float, float]:
    """(business share, household share) of the loan money; the rest is diverted."""
    use = case.spec.params.loan_use
    if use is None:
        invested = case.model.invested_share
        return invested, 1.0 - invested
    return use.business, use.household


def _worst_month(due: np.ndarray, surplus: np.ndarray) -> float:
    """The largest share of a month's expected surplus (seasons included) that falls due."""
    worst = 0.0
    for amount, month_surplus in zip(due, surplus, strict=False):
        if amount <= 0:
            continue
        if month_surplus <= 0:
            return float("inf")
        worst = max(worst, float(amount / month_surplus))
    return worst


PlanBuilder = Callable[[Case, str, Households], LoanPlan]
PLAN_BUILDERS: dict[str, PlanBuilder] = {kind: _plan for kind in OPTION_KINDS}


def build_plan(case: Case, option_id: str, people: Households) -> LoanPlan:
    option = case.option(option_id)
    if option is None:
        raise KeyError(option_id)
    return PLAN_BUILDERS[option.kind](case, option_id, people)


def plan_months(case: Case) -> int:
    """The longest horizon any option of the case needs (world draws are shared)."""
    longest = 1
    for option in case.options:
        terms = case.terms(option.id)
        loan = case.spec.params.existing_loan
        kind = OPTION_KINDS[option.kind]
        if kind.existing_loan and kind.moves_money and loan is not None:
            restructured = option.kind == "restructure"
            length = terms.term + terms.grace_months if restructured else loan.remaining_term
        else:
            length = terms.term
        longest = max(longest, length)
    return longest + case.model.collection_window_months
