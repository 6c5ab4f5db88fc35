"""The event log of one realised run: what happened, month by month.

Each entry is (month, message id, params). Message ids are plain English
words the web layer maps to translated sentences; params hold numbers (money
rounded to whole currency units, shares as fractions) and, in a group case,
the member's name.
"""

from __future__ import annotations

from typing import Any

from courseware.lending.cases import Case
from courseware.lending.engine import RunResult, Trace
from courseware.lending.plans import LoanPlan
from courseware.lending.world import World

# Every message id the log can carry, for the web layer's translation table.
EVENT_KINDS = (
    "disbursed",  # amount, fee, term, installment (largest monthly amount due, whole loan)
    "counterfactual",  # amount, term: a rejection, run on the requested terms
    "restructured",  # balance, grace_months, term, installment
    "written_off",  # exposure, recovery
    "illness",  # months, sales_drop, cost, insured
    "downturn",  # months, sales_drop
    "shock",  # months, sales_drop: a book's shared shock (flood, market closure)
    "harvest",  # factor, quality (good | poor | failed)
    "unwilling",  # owed
    "short_of_cash",  # owed, paid
    "sacrifice",  # squeezed: household spending cut to pay
    "group_cover",  # amount
    "contagion",  # willingness
    "guarantor_paid",  # amount
    "guarantor_refused",  # (none)
    "past_due",  # dpd
    "default",  # dpd: 90 days past due reached; collection goes on
    "loan_written_off",  # exposure, recovery, collateral (bool): written off at 180 DPD
    "repaid",  # late (bool)
)


def _money(x: float) -> int:
    return round(float(x))


class _Log:
    """The events collected so far; in a group case each member's carry her name."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.group = len(names) > 1
        self.events: list[tuple[int, str, dict[str, Any]]] = []

    def add(self, month: int, kind: str, b: int | None = None, **params: Any) -> None:
        if self.group and b is not None:
            params["member"] = self.names[b]
        self.events.append((month, kind, params))


def build_events(
    case: Case, plan: LoanPlan, world: World, result: RunResult
) -> list[tuple[int, str, dict[str, Any]]]:
    """Events of seed row 0 (simulate_path runs a single seed)."""
    trace = result.trace
    assert trace is not None
    names = world.households.names
    log = _Log(names)
    if plan.write_off:
        log.add(
            0,
            "written_off",
            exposure=_money(result.ead[0].sum()),
            recovery=_money(result.recovery[0].sum()),
        )
        return log.events
    _opening(log, plan)
    ends = [
        int(max(result.write_off_month[0, b], result.close_month[0, b]))
        for b in range(len(names))
        if plan.in_loan[b]
    ]
    last = min(max(ends, default=plan.months), plan.months)
    for m in range(1, last + 1):
        _shared_events(log, case, world, trace, m)
        for b in range(len(names)):
            if not plan.in_loan[b]:
                continue
            end_b = max(result.write_off_month[0, b], result.close_month[0, b])
            if end_b and m > end_b:
                continue
            _member_events(log, case, plan, world, result, trace, m, b)
    return log.events


def _opening(log: _Log, plan: LoanPlan) -> None:
    """Month 0: the loan disbursed, restructured, or (for a rejection) the loan requested."""
    terms = plan.terms
    # The whole loan's largest monthly amount due (all members of a group together).
    installment = _money(plan.due[:, plan.prior :].sum(axis=0).max()) if plan.term else 0
    if not plan.moves_money:
        log.add(0, "counterfactual", amount=_money(terms.amount), term=terms.term)
    elif plan.restructured:
        log.add(
            0,
            "restructured",
            balance=_money(plan.principal0.sum()),
            grace_months=terms.grace_months,
            term=terms.term,
            installment=installment,
        )
    elif plan.prior == 0:
        log.add(
            0,
            "disbursed",
            amount=_money(plan.principal0.sum()),
            fee=_money(plan.fee.sum()),
            term=plan.term,
            installment=installment,
        )


def _shared_events(log: _Log, case: Case, world: World, trace: Trace, m: int) -> None:
    """What befalls every borrower in month ``m``: a downturn, the book's shock, a harvest,
    the group's contagion."""
    model = case.model
    i = m - 1
    if world.downturn_start[0, i]:
        log.add(
            m,
            "downturn",
            months=model.downturn.months,
            sales_drop=round(1 - model.downturn.sales_factor, 4),
        )
    shock = case.spec.params.shock
    hit = world.shock_hit is not None and bool(world.shock_hit[0])
    if shock is not None and hit and m == shock.month:
        log.add(m, "shock", months=shock.months, sales_drop=round(1 - shock.sales_factor, 4))
    harvest = world.harvest_months
    if harvest[i] and (i == 0 or not harvest[i - 1]):
        factor = float(world.harvest_factor[0, i])
        factors = sorted(model.harvest.factors, reverse=True)
        quality = (
            "good" if factor >= factors[0] else ("failed" if factor <= factors[-1] else "poor")
        )
        log.add(m, "harvest", factor=factor, quality=quality)
    if trace.contagion_month[0] == m:
        log.add(m, "contagion", willingness=model.group.contagion_willingness)


def _member_events(
    log: _Log,
    case: Case,
    plan: LoanPlan,
    world: World,
    result: RunResult,
    trace: Trace,
    m: int,
    b: int,
) -> None:
    """Borrower ``b``'s month ``m``: illness, payment, cover, guarantor, arrears, default,
    write-off, repayment."""
    model = case.model
    i = m - 1
    if world.illness_start[0, b, i]:
        log.add(
            m,
            "illness",
            b,
            months=model.illness.months,
            sales_drop=round(1 - model.illness.sales_factor, 4),
            cost=_money(world.illness_cost[0, b, i]),
            insured=plan.insured,
        )
    owed = trace.owed[0, b, i]
    own = trace.own_paid[0, b, i]
    if trace.unwilling[0, b, i]:
        log.add(m, "unwilling", b, owed=_money(owed))
    elif owed > 0 and own < owed - 0.5:
        log.add(m, "short_of_cash", b, owed=_money(owed), paid=_money(own))
    if trace.sacrifice[0, b, i]:
        log.add(m, "sacrifice", b, squeezed=_money(trace.squeezed[0, b, i]))
    if trace.cover_received[0, b, i] > 0.5:
        log.add(m, "group_cover", b, amount=_money(trace.cover_received[0, b, i]))
    if trace.guarantor_paid[0, b, i] > 0.5:
        log.add(m, "guarantor_paid", b, amount=_money(trace.guarantor_paid[0, b, i]))
    elif trace.guarantor_refused[0, b, i]:
        log.add(m, "guarantor_refused", b)
    dpd = int(trace.dpd[0, b, i])
    previous = int(trace.dpd[0, b, i - 1]) if i else 0
    if result.default_month[0, b] == m:
        log.add(m, "default", b, dpd=dpd)
    elif dpd > previous:
        log.add(m, "past_due", b, dpd=dpd)
    if result.write_off_month[0, b] == m:
        log.add(
            m,
            "loan_written_off",
            b,
            exposure=_money(result.ead[0, b]),
            recovery=_money(result.recovery[0, b]),
            collateral=bool(plan.collateral_value[b] > 0),
        )
    if result.close_month[0, b] == m:
        late = bool(trace.dpd[0, b, :m].max() > 0) or plan.prior > 0
        log.add(m, "repaid", b, late=late)
