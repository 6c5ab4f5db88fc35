"""Simulate a case's decision options: one realised run, or statistics over many seeds.

``simulate_path`` gives the run a trainee sees (month-by-month figures and an
event log the web layer translates); ``evaluate_options`` scores every option
on the same fixed seeds 0..K-1 (common random numbers) and is cached per
(case slug, content hash, seeds).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from courseware.lending.cases import Case
from courseware.lending.engine import DEFAULT, OUTCOMES, RunResult, run_plan
from courseware.lending.events import build_events
from courseware.lending.plans import LoanPlan, build_plan, plan_months
from courseware.lending.world import World, build_world


class LoanEvent(NamedTuple):
    """One line of the event log: an English message id and its parameters."""

    month: int
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class LoanPath:
    case_slug: str
    option_id: str
    seed: int
    kind: str
    moves_money: bool
    counterfactual: bool  # True: a rejection, run on the requested terms to show what would be
    months: int
    cash: tuple[float, ...]  # household cash at each month's end (all borrowers)
    due: tuple[float, ...]  # amount falling due each month
    paid: tuple[float, ...]  # amount paid each month (borrower, group and guarantor)
    dpd: tuple[int, ...]  # days past due at each month's end (worst borrower)
    events: tuple[LoanEvent, ...]
    outcome: str  # on_time | late | restructured | default (for a rejection: would-be outcome)
    lender_profit: float  # 0 for a rejection
    loan_profit: float  # the profit the loan made or would have made
    welfare: float  # the household's net-worth change (0 for a rejection)
    sacrifice_months: int
    principal: float
    income: float  # interest and fees received
    par30_balance: float
    balance_months: float
    borrowers: tuple[str, ...]  # member names in a group case, else ("",)


@dataclass(frozen=True)
class OptionStats:
    """One option over K seeds. Money in the case currency; shares are fractions.

    ``value`` = expected lender profit + lambda x expected household welfare (the
    change in its net worth against no loan): what grading compares. For a
    rejection no money moves: the lender's figures are 0 and the ``counterfactual_*``
    fields describe the loan as requested; a procedural option (defer, refer,
    report) carries the value its case gives it. ``installment_ratio`` (average)
    and ``worst_month_ratio`` are float("inf") when a surplus is not positive.
    Treat the mappings as read-only: results are cached and shared.
    """

    option_id: str
    kind: str
    moves_money: bool
    seeds: int
    default_rate: float
    expected_profit: float
    profit_p10: float
    profit_p90: float
    p_sacrifice: float  # P(sacrifice months >= the protection threshold, 3 by default)
    mean_sacrifice_months: float
    installment: float
    installment_ratio: float
    outcome_shares: Mapping[str, float]
    client_protection_ok: bool
    is_best: bool
    counterfactual_default_rate: float  # the loan as requested, for a rejection
    counterfactual_expected_profit: float
    counterfactual_outcome_shares: Mapping[str, float]
    expected_welfare: float
    value: float
    worst_month_ratio: float
    p_asset_loss: float  # P(collateral seized from the household)
    effective_annual_rate: float | None  # fees included; None where nothing is priced
    mean_written_off: float = 0.0  # principal written off
    mean_balance_months: float = 0.0  # sum of month-opening balances (a year is 12)
    mean_par30_months: float = 0.0  # balance-months more than 30 days past due


def _world(case: Case, seeds: list[int]) -> World:
    return build_world(case.slug, case.spec.params, case.model, seeds, plan_months(case))


def _run(case: Case, option_id: str, world: World, trace: bool) -> tuple[LoanPlan, RunResult]:
    plan = build_plan(case, option_id, world.households)
    result = run_plan(plan, world, case.model, case.spec.params.money_scale, trace=trace)
    return plan, result


def simulate_path(case: Case, option_id: str, seed: int) -> LoanPath:
    """One realised run of one option for one seed; the same seed gives the same run."""
    if case.option(option_id) is None:
        raise KeyError(option_id)
    world = _world(case, [int(seed)])
    plan, result = _run(case, option_id, world, trace=True)
    trace = result.trace
    assert trace is not None
    months = plan.months if not plan.write_off else 1
    due = np.zeros(months)
    if not plan.write_off:
        future = plan.due[:, plan.prior :].sum(axis=0)
        due[: min(months, future.size)] = future[:months]
        if plan.prior:
            due[0] += plan.due[:, : plan.prior].sum()  # arrears fall due at once
    paid = trace.own_paid + trace.cover_received + trace.guarantor_paid
    events = tuple(
        LoanEvent(month, kind, params)
        for month, kind, params in build_events(case, plan, world, result)
    )
    return LoanPath(
        case_slug=case.slug,
        option_id=option_id,
        seed=int(seed),
        kind=plan.kind,
        moves_money=plan.moves_money,
        counterfactual=not plan.moves_money,
        months=months,
        cash=tuple(float(x) for x in trace.cash[0].sum(axis=0)[:months]),
        due=tuple(float(x) for x in due),
        paid=tuple(float(x) for x in paid[0].sum(axis=0)[:months]),
        dpd=tuple(int(x) for x in trace.dpd[0].max(axis=0)[:months]),
        events=events,
        outcome=OUTCOMES[int(result.outcome[0])],
        lender_profit=float(result.profit[0]),
        loan_profit=float(result.loan_profit[0]),
        welfare=float(result.welfare[0]),
        sacrifice_months=int(result.sacrifice_months[0]),
        principal=float(plan.principal0.sum()),
        income=float(result.income[0]),
        par30_balance=float(result.par30_balance[0]),
        balance_months=float(result.balance_months[0]),
        borrowers=world.households.names,
    )


def _shares(outcome: np.ndarray) -> dict[str, float]:
    counts = np.bincount(outcome, minlength=len(OUTCOMES))
    return {name: float(counts[i]) / outcome.size for i, name in enumerate(OUTCOMES)}


def _stats(case: Case, plan: LoanPlan, result: RunResult) -> OptionStats:
    rules = case.model.scoring
    seeds = result.outcome.size
    weight = case.model.welfare.weight
    cf_default = float(np.mean(result.outcome == DEFAULT))
    cf_profit = float(result.loan_profit.mean())
    cf_shares = _shares(result.outcome)
    if plan.moves_money:
        p_sacrifice = float(np.mean(result.sacrifice_months >= rules.protection_sacrifice_months))
        ok = (
            p_sacrifice <= rules.protection_max_sacrifice_prob
            and plan.worst_month_ratio <= rules.protection_max_installment_ratio
        )
        welfare = float(result.welfare.mean())
        return OptionStats(
            option_id=plan.option_id,
            kind=plan.kind,
            moves_money=True,
            seeds=seeds,
            default_rate=cf_default,
            expected_profit=cf_profit,
            profit_p10=float(np.percentile(result.profit, 10)),
            profit_p90=float(np.percentile(result.profit, 90)),
            p_sacrifice=p_sacrifice,
            mean_sacrifice_months=float(result.sacrifice_months.mean()),
            installment=plan.installment,
            installment_ratio=plan.installment_ratio,
            outcome_shares=cf_shares,
            client_protection_ok=ok,
            is_best=False,
            counterfactual_default_rate=cf_default,
            counterfactual_expected_profit=cf_profit,
            counterfactual_outcome_shares=cf_shares,
            expected_welfare=welfare,
            value=cf_profit + weight * welfare,
            worst_month_ratio=plan.worst_month_ratio,
            p_asset_loss=float(np.mean(result.asset_loss)),
            effective_annual_rate=plan.effective_annual_rate,
            mean_written_off=float(result.ead.sum(axis=1).mean()),
            mean_balance_months=float(result.balance_months.mean()),
            mean_par30_months=float(result.par30_months.mean()),
        )
    lender, client = procedure_value(case, plan.option_id)
    return OptionStats(
        option_id=plan.option_id,
        kind=plan.kind,
        moves_money=False,
        seeds=seeds,
        default_rate=0.0,
        expected_profit=lender,
        profit_p10=lender,
        profit_p90=lender,
        p_sacrifice=0.0,
        mean_sacrifice_months=0.0,
        installment=0.0,
        installment_ratio=0.0,
        outcome_shares=dict.fromkeys(OUTCOMES, 0.0),
        client_protection_ok=True,
        is_best=False,
        counterfactual_default_rate=cf_default,
        counterfactual_expected_profit=cf_profit,
        counterfactual_outcome_shares=cf_shares,
        expected_welfare=client,
        value=lender + weight * client,
        worst_month_ratio=0.0,
        p_asset_loss=0.0,
        effective_annual_rate=None,
    )


def procedure_value(case: Case, option_id: str) -> tuple[float, float]:
    """(lender, client) value of an option that lends nothing, in the case currency.

    A plain rejection is worth 0 to both. Deferring, referring and reporting cost the
    lender staff time (model.yaml ``procedural_cost``) and are worth what follows from
    them in this case (the option's ``procedure``: shares of the loan size), never a
    free zero: a deferral that only makes the applicant wait is worth less than a
    clear answer.
    """
    option = case.option(option_id)
    if option is None or option.kind == "reject":
        return 0.0, 0.0
    cost = case.model.procedural_cost * case.spec.params.money_scale
    procedure = option.procedure
    if procedure is None:
        return -cost, 0.0
    size = case.loan_size
    return procedure.lender * size - cost, procedure.client * size


def best_option_id(stats: list[OptionStats], prefer: str | None = None) -> str:
    """Highest value (lender's profit + lambda x client welfare) among the options that
    respect client protection (among all options when none does); a tie goes to
    ``prefer`` (the expert's pick), then to the earlier option."""
    pool = [s for s in stats if s.client_protection_ok] or stats
    top = max(s.value for s in pool)
    tied = [s.option_id for s in pool if s.value >= top - 1e-9]
    return prefer if prefer in tied else tied[0]


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, str, int], tuple[OptionStats, ...]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> tuple[OptionStats, ...] | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            return None

    def put(self, key: tuple[str, str, int], value: tuple[OptionStats, ...]) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_CACHE = _LRU(64)


def clear_cache() -> None:
    _CACHE.clear()


def evaluate_options(case: Case, seeds: int = 500) -> list[OptionStats]:
    """Statistics of every option over seeds 0..seeds-1, in the case's option order."""
    if not 1 <= seeds <= 100_000:
        raise ValueError("seeds must be from 1 to 100000")
    key = (case.slug, case.content_hash, seeds)
    cached = _CACHE.get(key)
    if cached is not None:
        return list(cached)
    world = _world(case, list(range(seeds)))
    stats = [_stats(case, *_run(case, o.id, world, trace=False)) for o in case.options]
    best = best_option_id(stats, prefer=case.spec.key.best_option)
    stats = [replace(s, is_best=True) if s.option_id == best else s for s in stats]
    _CACHE.put(key, tuple(stats))
    return stats
