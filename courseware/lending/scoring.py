"""Grade a loan decision with the rubric of DOMAIN.md section 4, and sum up a portfolio.

decision quality (40): 40 x max(0, 1 - (EV_best - EV_chosen) / (0.3 x loan)); at most
    20 when the chosen option breaks client protection (P(>= 3 sacrifice months) > 20%,
    or installment > 80% of the surplus), however profitable.
red flags (35): 35 x (weight ticked correctly - 0.5 x weight ticked falsely) / total key
    weight; approving while missing a critical flag costs 10 more; never below 0.
rationale (10): the trainee's (up to) 3 reasons against the case's 3 key reasons.
portfolio (15): this loan's contribution, EV_chosen against EV_best, clipped to [0, 15].
All the numbers come from model.yaml (``scoring``), so a trainer can change them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from courseware.lending.cases import OPTION_KINDS, Case
from courseware.lending.simulation import LoanPath, OptionStats


class DecisionInvalid(ValueError):
    """The submitted decision does not fit the case (unknown option, flag or reason)."""


@dataclass(frozen=True)
class ScoreBreakdown:
    option_id: str
    best_option_id: str
    decision: float
    flags: float
    reasons: float
    portfolio: float
    total: float
    found_flags: tuple[str, ...]
    missed_flags: tuple[str, ...]
    false_flags: tuple[str, ...]
    missed_critical: tuple[str, ...]
    reasons_hit: tuple[str, ...]
    cap_applied: bool  # the chosen option breaks client protection: decision points <= 20
    critical_penalty: bool  # approved while missing a critical flag
    ev_chosen: float
    ev_best: float


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _check(case: Case, option_id: str, flags: Iterable[str], reasons: Sequence[str]) -> None:
    if case.option(option_id) is None:
        raise DecisionInvalid(f"unknown option {option_id!r} for case {case.slug!r}")
    for flag in flags:
        if flag not in case.catalogue:
            raise DecisionInvalid(f"unknown red flag {flag!r}")
    if isinstance(reasons, str):
        raise DecisionInvalid("reasons must be a list of reason ids")
    if len(reasons) > 3:
        raise DecisionInvalid("at most 3 reasons may be given")
    if len(set(reasons)) != len(reasons):
        raise DecisionInvalid("a reason may be given only once")
    known = set(case.reason_ids)
    for reason in reasons:
        if reason not in known:
            raise DecisionInvalid(f"unknown reason {reason!r} for case {case.slug!r}")


def _by_id(stats: Sequence[OptionStats], case: Case) -> dict[str, OptionStats]:
    found = {s.option_id: s for s in stats}
    missing = [o.id for o in case.options if o.id not in found]
    if missing:
        raise ValueError(f"statistics are missing for options {missing} of case {case.slug!r}")
    return found


def _best(stats: Sequence[OptionStats]) -> OptionStats:
    marked = [s for s in stats if s.is_best]
    if marked:
        return marked[0]
    pool = [s for s in stats if s.client_protection_ok] or list(stats)
    return max(pool, key=lambda s: s.expected_profit)


def score_decision(
    case: Case,
    stats: Sequence[OptionStats],
    option_id: str,
    flags: set[str],
    reasons: list[str],
) -> ScoreBreakdown:
    """Score one decision; the order of flags and reasons never matters."""
    ticked = set(flags)
    _check(case, option_id, ticked, reasons)
    rules = case.model.scoring
    table = _by_id(stats, case)
    chosen, best = table[option_id], _best(stats)

    tolerance = rules.ev_tolerance_share_of_loan * case.loan_size
    gap = best.expected_profit - chosen.expected_profit
    decision = rules.decision_points * _clip(1 - gap / tolerance, 0.0, 1.0)
    cap = not chosen.client_protection_ok
    if cap:
        decision = min(decision, rules.protection_cap_points)

    weights = rules.severity_weights
    key = case.key_flags
    order = case.catalogue.ids
    found = tuple(f for f in order if f in ticked and f in key)
    missed = tuple(f for f in order if f in key and f not in ticked)
    false = tuple(f for f in order if f in ticked and f not in key)

    def weight_of(flag: str, severity: str | None = None) -> float:
        if severity is None:
            entry = case.catalogue.get(flag)
            severity = entry.severity if entry else "minor"
        return float(getattr(weights, severity))

    total_weight = sum(weight_of(f, s) for f, s in key.items())
    correct = sum(weight_of(f, key[f]) for f in found)
    wrong = sum(weight_of(f) for f in false)
    flag_points = rules.flag_points * (correct - rules.false_tick_weight * wrong)
    flag_points /= max(total_weight, 1e-9)
    missed_critical = tuple(f for f in missed if key[f] == "critical")
    penalty = OPTION_KINDS[chosen.kind].approval and bool(missed_critical)
    if penalty:
        flag_points -= rules.missed_critical_penalty
    flag_points = _clip(flag_points, 0.0, rules.flag_points)

    hit = tuple(r for r in case.spec.key.key_reasons if r in set(reasons))
    reason_points = rules.reason_points * len(hit) / len(case.spec.key.key_reasons)

    if best.expected_profit > 0:
        share = chosen.expected_profit / best.expected_profit
    else:
        share = 1 - gap / tolerance
    portfolio = rules.portfolio_points * _clip(share, 0.0, 1.0)

    total = _clip(decision + flag_points + reason_points + portfolio, 0.0, 100.0)
    return ScoreBreakdown(
        option_id=option_id,
        best_option_id=best.option_id,
        decision=decision,
        flags=flag_points,
        reasons=reason_points,
        portfolio=portfolio,
        total=total,
        found_flags=found,
        missed_flags=missed,
        false_flags=false,
        missed_critical=missed_critical,
        reasons_hit=hit,
        cap_applied=cap,
        critical_penalty=penalty,
        ev_chosen=chosen.expected_profit,
        ev_best=best.expected_profit,
    )


# Portfolio ------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRecord:
    """One decided case, as the portfolio view needs it (store these with the attempt)."""

    case_slug: str
    option_id: str
    moves_money: bool
    principal: float  # amount lent (or existing balance at stake); 0 for a rejection
    outcome: str  # realised outcome; for a rejection, the outcome the requested loan would have had
    profit: float  # realised lender profit; 0 for a rejection
    income: float  # interest and fees received; 0 for a rejection
    par30_balance: float
    balance_months: float
    ev_chosen: float
    ev_best: float


def decision_record(case: Case, stats: Sequence[OptionStats], path: LoanPath) -> DecisionRecord:
    """Build the record of a decision from its option statistics and the realised run."""
    table = _by_id(stats, case)
    money = path.moves_money
    return DecisionRecord(
        case_slug=case.slug,
        option_id=path.option_id,
        moves_money=money,
        principal=path.principal if money else 0.0,
        outcome=path.outcome,
        profit=path.lender_profit,
        income=path.income if money else 0.0,
        par30_balance=path.par30_balance if money else 0.0,
        balance_months=path.balance_months if money else 0.0,
        ev_chosen=table[path.option_id].expected_profit,
        ev_best=_best(stats).expected_profit,
    )


@dataclass(frozen=True)
class PortfolioSummary:
    decisions: int
    approved: int
    rejected: int
    disbursed: float
    realised_profit: float
    par30: float  # balance-weighted share of the portfolio ever > 30 DPD, plus restructured
    default_rate: float  # defaults among approved loans
    portfolio_yield: float  # interest and fees / average outstanding, a year
    good_approvals: int  # approved and repaid
    bad_approvals: int  # approved and defaulted
    wrong_rejections: int  # rejected, but the requested loan would have been repaid
    right_rejections: int  # rejected, and the requested loan would have defaulted
    ev_chosen: float
    ev_best: float
    ev_share: float  # EV chosen / EV best when the best is positive, else 1 - gap / |best|


def portfolio_summary(decisions: Sequence[DecisionRecord]) -> PortfolioSummary:
    lent = [d for d in decisions if d.moves_money]
    refused = [d for d in decisions if not d.moves_money]
    disbursed = sum(d.principal for d in lent)
    balance_months = sum(d.balance_months for d in lent)
    defaults = sum(1 for d in lent if d.outcome == "default")
    ev_chosen = sum(d.ev_chosen for d in decisions)
    ev_best = sum(d.ev_best for d in decisions)
    if ev_best > 0:
        ev_share = ev_chosen / ev_best
    elif decisions:
        ev_share = 1.0 - (ev_best - ev_chosen) / max(abs(ev_best), 1.0)
    else:
        ev_share = 1.0
    return PortfolioSummary(
        decisions=len(decisions),
        approved=len(lent),
        rejected=len(refused),
        disbursed=disbursed,
        realised_profit=sum(d.profit for d in lent),
        par30=sum(d.par30_balance for d in lent) / disbursed if disbursed > 0 else 0.0,
        default_rate=defaults / len(lent) if lent else 0.0,
        portfolio_yield=12 * sum(d.income for d in lent) / balance_months
        if balance_months > 0
        else 0.0,
        good_approvals=len(lent) - defaults,
        bad_approvals=defaults,
        wrong_rejections=sum(1 for d in refused if d.outcome != "default"),
        right_rejections=sum(1 for d in refused if d.outcome == "default"),
        ev_chosen=ev_chosen,
        ev_best=ev_best,
        ev_share=ev_share,
    )
