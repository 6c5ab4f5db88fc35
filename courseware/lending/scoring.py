"""Grade a loan decision with the rubric of DOMAIN.md section 4, and sum up a portfolio.

Every option has a value V = the lender's expected profit + lambda x the household's
expected welfare (lending.simulation), so a reject of a creditworthy applicant
costs what both sides lose, and a harmful approval costs the client too.

decision quality (40): 40 x max(0, 1 - x / t), x = (V_best - V_chosen) / (V_best - V_worst)
    within the case's variant, t = ``decision_tolerance_share_of_spread``; at most 20 when
    the chosen option breaks client protection (P(>= 3 sacrifice months) > 20%, or an
    installment above 80% of the surplus in the worst month), however valuable (and its
    portfolio points at most in the same share, 7.5 of 15).
red flags (35): found, not recognised: each flag carries fixed points by severity
    (``flag_point_value`` x weight), lost when missed; each false flag costs
    ``false_flag_cost``; approving while missing a critical flag costs 10 more.
rationale (10): a key reason scores only when it argues for the decision chosen; a
    reason that is false in this variant or argues the other way costs.
consistency (subtracted from the total): approving after marking a critical fraud flag;
    declining with only reasons that argue for lending.
portfolio (15): 15 x max(0, 1 - x / ``portfolio_tolerance_share_of_spread``).
All the numbers come from model.yaml (``scoring``), so a trainer can change them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from courseware.core.errors import N_
from courseware.lending.cases import OPTION_KINDS, Case
from courseware.lending.simulation import LoanPath, OptionStats

APPROVE, DECLINE = "approve", "decline"


MAX_REASONS = 3  # reasons a trainee may give for one decision (the form reads it too)


class DecisionInvalid(ValueError):
    """The submitted decision does not fit the case (unknown option, flag or reason).

    ``message`` is an English message id with ``%(name)s`` parameters in ``params``, for the
    caller to translate; ``field`` names the part of the form at fault (option, flags,
    reasons).
    """

    def __init__(
        self, message: str, params: Mapping[str, object] | None = None, field: str | None = None
    ) -> None:
        self.message = message
        self.params = dict(params or {})
        self.field = field
        super().__init__(message % self.params if self.params else message)


def check_choices(
    case: Case, option_id: str, flags: Iterable[str] | str, reasons: Sequence[str] | str
) -> tuple[set[str], list[str]]:
    """The ticked flags and the reasons, checked against the case (``DecisionInvalid``).

    The one check of a decision's choices: recording a decision (courseware.casework) and
    scoring it both call it. A single value stands for a list of one.
    """
    if not option_id or case.option(option_id) is None:
        raise DecisionInvalid(N_("Choose one of the decisions offered."), field="option")
    ticked = {flags} if isinstance(flags, str) else set(flags)
    unknown = sorted(f for f in ticked if f not in case.catalogue)
    if unknown:
        raise DecisionInvalid(
            N_("The checklist has no red flag %(id)s."), {"id": unknown[0]}, field="flags"
        )
    chosen = [reasons] if isinstance(reasons, str) else list(reasons)
    if len(chosen) > MAX_REASONS:
        raise DecisionInvalid(
            N_("Choose at most %(count)s reasons."), {"count": MAX_REASONS}, field="reasons"
        )
    if len(set(chosen)) != len(chosen):
        raise DecisionInvalid(N_("Each reason can be chosen once."), field="reasons")
    known = set(case.reason_ids)
    for reason in chosen:
        if reason not in known:
            raise DecisionInvalid(
                N_("This case has no reason %(id)s."), {"id": reason}, field="reasons"
            )
    return ticked, chosen


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
    ev_chosen: float  # the chosen option's value (profit + lambda x welfare)
    ev_best: float
    wrong_reasons: tuple[str, ...] = ()  # false here, or arguing for the other decision
    consistency: tuple[str, ...] = ()  # approved_after_fraud_flag, declined_with_approval_reasons
    consistency_points: float = 0.0  # subtracted from the total
    gap_share: float = 0.0  # (V_best - V_chosen) / (V_best - V_worst)


# The outcome page's verdict bands, as a share of the points the decision could earn.
VERDICT_PARTIAL_SHARE = 50  # at least half: partly right


def verdict(total: float, out_of: float, good_share: float) -> str:
    """How well a decision was judged: ``good`` at ``good_share`` percent of the points or
    more (the average certification asks), ``partial`` at half or more, else ``poor``. A
    rubric of no points counts out of 100."""
    share = 100 * total / (out_of or 100)
    if share >= good_share:
        return "good"
    return "partial" if share >= VERDICT_PARTIAL_SHARE else "poor"


def decision_side(kind: str) -> str:
    """approve: the decision extends credit (or relief); decline: it does not."""
    found = OPTION_KINDS.get(kind)
    return APPROVE if found is not None and found.approval else DECLINE


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


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
    return max(pool, key=lambda s: s.value)


def gap_share(stats: Sequence[OptionStats], chosen: OptionStats) -> float:
    """How far down from the best option towards the worst the chosen one lies (0 to 1+)."""
    best = _best(stats)
    worst = min(s.value for s in stats)
    spread = best.value - worst
    if spread <= 1e-9:
        # The best option is also the least valuable: every other one is worth more only by
        # breaking client protection. Those are as far from the answer as an option can be.
        return 0.0 if chosen.client_protection_ok else 1.0
    return max(0.0, (best.value - chosen.value) / spread)


FlagResult = tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]


def _flag_points(case: Case, ticked: set[str], approving: bool) -> FlagResult:
    rules = case.model.scoring
    weights = rules.severity_weights
    key = case.key_flags
    order = case.catalogue.ids
    found = tuple(f for f in order if f in ticked and f in key)
    missed = tuple(f for f in order if f in key and f not in ticked)
    false = tuple(f for f in order if f in ticked and f not in key)
    lost = sum(float(getattr(weights, key[f])) for f in missed) * rules.flag_point_value
    points = rules.flag_points - lost - rules.false_flag_cost * len(false)
    missed_critical = tuple(f for f in missed if key[f] == "critical")
    penalty = approving and bool(missed_critical)
    if penalty:
        points -= rules.missed_critical_penalty
    return _clip(points, 0.0, rules.flag_points), found, missed, false, missed_critical, penalty


def _reason_points(
    case: Case, side: str, reasons: Sequence[str]
) -> tuple[float, tuple[str, ...], tuple[str, ...], bool]:
    """(points, key reasons hit, wrong reasons, all given reasons argue for lending)."""
    rules = case.model.scoring
    sides = {r.id: r.side for r in case.spec.reasons}
    key = list(case.spec.key.key_reasons)
    fits = {side, "neutral"}
    hit = tuple(r for r in key if r in reasons and sides.get(r) in fits)
    given = set(reasons)
    wrong = tuple(r.id for r in case.spec.reasons if r.id in given and r.id not in hit)
    points = rules.reason_points * len(hit) / max(len(key), 1)
    points -= rules.wrong_reason_cost * len(wrong)
    pro_lending = bool(reasons) and all(sides.get(r) == APPROVE for r in reasons)
    return _clip(points, 0.0, rules.reason_points), hit, wrong, pro_lending


def score_decision(
    case: Case,
    stats: Sequence[OptionStats],
    option_id: str,
    flags: set[str],
    reasons: list[str],
) -> ScoreBreakdown:
    """Score one decision; the order of options, flags and reasons never matters."""
    ticked, reasons = check_choices(case, option_id, flags, reasons)
    rules = case.model.scoring
    table = _by_id(stats, case)
    chosen, best = table[option_id], _best(stats)
    side = decision_side(chosen.kind)
    approving = side == APPROVE

    x = gap_share(stats, chosen)
    decision = rules.decision_points * _clip(1 - x / rules.decision_tolerance_share_of_spread, 0, 1)
    cap = not chosen.client_protection_ok
    if cap:
        decision = min(decision, rules.protection_cap_points)
    flag_points, found, missed, false, missed_critical, penalty = _flag_points(
        case, ticked, approving
    )
    reason_points, hit, wrong, pro_lending = _reason_points(case, side, reasons)

    consistency: list[str] = []
    deduction = 0.0
    fraud_marked = False
    for flag in ticked:
        entry = case.catalogue.get(flag)
        if entry is not None and entry.category == "fraud" and entry.severity == "critical":
            fraud_marked = True
    if approving and fraud_marked and OPTION_KINDS[chosen.kind].moves_money:
        consistency.append("approved_after_fraud_flag")
        deduction += rules.approve_after_fraud_flag_penalty
    if not approving and pro_lending:
        consistency.append("declined_with_approval_reasons")
        deduction += rules.decline_with_approval_reasons_penalty

    portfolio = rules.portfolio_points * _clip(
        1 - x / rules.portfolio_tolerance_share_of_spread, 0, 1
    )
    if cap:  # a loan that breaks client protection contributes at most in the same share
        portfolio = min(
            portfolio, rules.portfolio_points * rules.protection_cap_points / rules.decision_points
        )
    total = _clip(decision + flag_points + reason_points + portfolio - deduction, 0.0, 100.0)
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
        ev_chosen=chosen.value,
        ev_best=best.value,
        wrong_reasons=wrong,
        consistency=tuple(consistency),
        consistency_points=deduction,
        gap_share=x,
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
        ev_chosen=table[path.option_id].value,
        ev_best=_best(stats).value,
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
