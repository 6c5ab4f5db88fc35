"""Reading decisions back: certification scores, the learner's cases and loan book,
and the trainers' view of how a case is decided."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.casework.decisions import TICKET_KINDS
from courseware.casework.record import decision_record_of
from courseware.core.models import CaseDecision, CaseStageDecision, CaseTicket
from courseware.lending.cases import Case
from courseware.lending.scoring import PortfolioSummary, portfolio_summary
from courseware.lending.simulation import OptionStats, evaluate_options
from courseware.lending.variants import draw_variant


@dataclass(frozen=True)
class CaseScore:
    case_slug: str
    score: float
    case_revision_id: int | None
    decided_at: datetime
    decision_id: int


def _scores(rows: Sequence[Any]) -> list[CaseScore]:
    return [
        CaseScore(r.case_slug, r.score_total, r.case_revision_id, r.decided_at, r.id) for r in rows
    ]


_SCORE_COLUMNS = (
    CaseDecision.user_id,
    CaseDecision.case_slug,
    CaseDecision.score_total,
    CaseDecision.case_revision_id,
    CaseDecision.decided_at,
    CaseDecision.id,
)


def first_decision_scores(session: Session, user_ids: Sequence[int]) -> dict[int, list[CaseScore]]:
    """Each learner's counting (first, not reset) decisions, oldest first; one query."""
    wanted = list(dict.fromkeys(user_ids))
    result: dict[int, list[CaseScore]] = {user_id: [] for user_id in wanted}
    if not wanted:
        return result
    rows = session.execute(
        select(*_SCORE_COLUMNS)
        .where(CaseDecision.user_id.in_(wanted), CaseDecision.counts)
        .order_by(CaseDecision.decided_at, CaseDecision.id)
    ).all()
    for row in rows:
        result[row.user_id].extend(_scores([row]))
    return result


def decisions_of_kind(
    session: Session, user_id: int, kind: str, since: datetime | None = None
) -> list[CaseScore]:
    """The learner's decisions of one kind (assessment, practice, renewal) since a time,
    oldest first; reset decisions are left out."""
    if kind not in TICKET_KINDS:
        raise ValueError(f"kind must be one of {TICKET_KINDS}, got {kind!r}")
    query = select(*_SCORE_COLUMNS).where(
        CaseDecision.user_id == user_id,
        CaseDecision.kind == kind,
        CaseDecision.reset_at.is_(None),
    )
    if since is not None:
        query = query.where(CaseDecision.decided_at >= since)
    return _scores(session.execute(query.order_by(CaseDecision.decided_at, CaseDecision.id)).all())


def learner_decisions(session: Session, user_id: int) -> list[CaseDecision]:
    return list(
        session.scalars(
            select(CaseDecision)
            .where(CaseDecision.user_id == user_id)
            .order_by(CaseDecision.decided_at, CaseDecision.id)
        )
    )


def counts(decision: CaseDecision) -> bool:
    """True when the decision counts toward certification (``CaseDecision.counts``)."""
    return bool(decision.counts)


# The learner's list of cases --------------------------------------------------------


@dataclass
class CaseStatus:
    counting: CaseDecision | None = None
    latest: CaseDecision | None = None
    practice: int = 0
    reset: int = 0
    opened: bool = False  # an open ticket: the case was opened and not decided yet
    stages_done: int = 0  # stages decided on the open ticket (a multi-visit case, a book)

    @property
    def state(self) -> str:
        if self.counting is not None:
            return "decided"
        if self.reset:
            return "reset"
        return "opened" if self.opened else "new"


def case_statuses(session: Session, user_id: int) -> dict[str, CaseStatus]:
    statuses: dict[str, CaseStatus] = {}
    for decision in learner_decisions(session, user_id):
        status = statuses.setdefault(decision.case_slug, CaseStatus())
        status.latest = decision
        if counts(decision):
            status.counting = decision
        elif decision.reset_at is not None:
            status.reset += 1
        else:
            status.practice += 1
    open_tickets = session.execute(
        select(CaseTicket.case_slug, func.count(CaseStageDecision.id))
        .outerjoin(CaseStageDecision, CaseStageDecision.ticket_token == CaseTicket.token)
        .where(CaseTicket.user_id == user_id, CaseTicket.open_key.is_not(None))
        .group_by(CaseTicket.case_slug)
    )
    for slug, stages in open_tickets:
        status = statuses.setdefault(slug, CaseStatus())
        status.opened = True
        status.stages_done = max(status.stages_done, int(stages))
    return statuses


def renewal_order(
    cases: Sequence[Case],
    statuses: Mapping[str, CaseStatus],
    now: datetime,
    fresh_months: int,
) -> tuple[list[Case], set[str]]:
    """Cases for a renewal: those not decided in the last ``fresh_months`` months first
    (in their usual order), then the rest; and the set of the fresh ones' slugs."""
    since = now - timedelta(days=round(30.44 * fresh_months))
    fresh = {
        case.slug
        for case in cases
        if (status := statuses.get(case.slug)) is None
        or status.latest is None
        or status.latest.decided_at < since
    }
    ordered = [c for c in cases if c.slug in fresh] + [c for c in cases if c.slug not in fresh]
    return ordered, fresh


# The loan book ------------------------------------------------------------------------


@dataclass(frozen=True)
class Portfolio:
    decisions: list[CaseDecision]
    mine: PortfolioSummary
    expert: PortfolioSummary
    scope: str  # all | counting


def portfolio(session: Session, user_id: int, scope: str = "all") -> Portfolio:
    """The learner's decisions as a loan book, beside the expert's choices on the same seeds."""
    # Every decision stores its record; one without (made outside this flow) is left out.
    decisions = [d for d in learner_decisions(session, user_id) if d.record.get("loan")]
    if scope == "counting":
        decisions = [d for d in decisions if counts(d)]
    else:
        scope = "all"
    mine = portfolio_summary([decision_record_of(d.record["loan"]) for d in decisions])
    expert = portfolio_summary([decision_record_of(d.record["expert"]) for d in decisions])
    return Portfolio(decisions, mine, expert, scope)


# The trainers' view -----------------------------------------------------------------


@dataclass(frozen=True)
class CaseTally:
    first_decisions: int
    all_decisions: int
    average_score: float | None


def case_tallies(session: Session) -> dict[str, CaseTally]:
    """Per case: counting decisions, all decisions, and the counting decisions' average score."""
    counting = CaseDecision.counts
    rows = session.execute(
        select(
            CaseDecision.case_slug,
            func.count(CaseDecision.id),
            func.count(CaseDecision.id).filter(counting),
            func.avg(CaseDecision.score_total).filter(counting),
        ).group_by(CaseDecision.case_slug)
    ).all()
    return {
        slug: CaseTally(first, total, float(avg) if avg is not None else None)
        for slug, total, first, avg in rows
    }


@dataclass(frozen=True)
class OptionTally:
    option_id: str
    label: str
    first: int
    all: int
    average_score: float | None


@dataclass(frozen=True)
class FlagTally:
    flag_id: str
    label: str
    severity: str
    count: int
    share: float


@dataclass
class CaseStatistics:
    first_decisions: int
    all_decisions: int
    average: dict[str, float | None]  # total and each rubric part, counting decisions
    options: list[OptionTally]
    missed_flags: list[FlagTally]
    false_flags: list[FlagTally]
    learners: int = 0


PARTS = ("total", "decision", "flags", "reasons", "portfolio")


def _flag_tallies(decisions: Sequence[CaseDecision], which: str, top: int) -> list[FlagTally]:
    counter: Counter[str] = Counter()
    labels: dict[str, tuple[str, str]] = {}
    for d in decisions:
        for flag in d.record.get("flags", {}).get(which, []):
            counter[flag["id"]] += 1
            labels[flag["id"]] = (flag["label"], flag["severity"])
    total = len(decisions) or 1
    return [
        FlagTally(flag_id, *labels[flag_id], count, count / total)
        for flag_id, count in counter.most_common(top)
    ]


def case_statistics(session: Session, case: Case, top: int = 5) -> CaseStatistics:
    """How trainees decided one case: options chosen, scores, the most missed flags."""
    decisions = list(
        session.scalars(select(CaseDecision).where(CaseDecision.case_slug == case.slug))
    )
    first = [d for d in decisions if counts(d)]
    average: dict[str, float | None] = {}
    for part in PARTS:
        values = [getattr(d, f"score_{part}") for d in first]
        average[part] = sum(values) / len(values) if values else None
    labels = {o.id: o.label for o in case.options}
    for d in decisions:  # options of earlier revisions keep the label they were decided on
        labels.setdefault(d.option_id, d.record.get("option", {}).get("label", d.option_id))
    options = []
    for option_id, label in labels.items():
        mine = [d for d in first if d.option_id == option_id]
        options.append(
            OptionTally(
                option_id,
                label,
                len(mine),
                sum(1 for d in decisions if d.option_id == option_id),
                sum(d.score_total for d in mine) / len(mine) if mine else None,
            )
        )
    return CaseStatistics(
        first_decisions=len(first),
        all_decisions=len(decisions),
        average=average,
        options=options,
        missed_flags=_flag_tallies(first, "missed", top),
        false_flags=_flag_tallies(first, "false", top),
        learners=len({d.user_id for d in decisions}),
    )


@dataclass(frozen=True)
class CalibrationRow:
    option_id: str
    label: str
    kind: str
    stats: OptionStats


def calibration(case: Case, seeds: int = 500) -> list[CalibrationRow]:
    """Each option's default rate, expected profit and sacrifice risk for the case as given
    (the published case, or a trainer's unpublished edit parsed with ``parse_case``)."""
    return [
        CalibrationRow(s.option_id, option.label, option.kind, s)
        for s, option in zip(evaluate_options(case, seeds), case.options, strict=True)
    ]


@dataclass(frozen=True)
class VariantSpreadRow:
    option_id: str
    label: str
    kind: str
    best_share: float  # share of the variants where this option is the best
    default_min: float
    default_mean: float
    default_max: float
    value_mean: float


def variant_spread(case: Case, variants: int = 24, seeds: int = 200) -> list[VariantSpreadRow]:
    """How the options fare across variants 0..variants-1 of a case template: where each
    is the best, and the range of its default rate (for the calibration page)."""
    best: dict[str, int] = dict.fromkeys((o.id for o in case.options), 0)
    rates: dict[str, list[float]] = {o.id: [] for o in case.options}
    values: dict[str, list[float]] = {o.id: [] for o in case.options}
    for seed in range(variants):
        variant = draw_variant(case, seed)
        for s in evaluate_options(variant, seeds):
            rates[s.option_id].append(s.default_rate)
            values[s.option_id].append(s.value)
            best[s.option_id] += int(s.is_best)
    return [
        VariantSpreadRow(
            option.id,
            option.label,
            option.kind,
            best[option.id] / variants,
            min(rates[option.id]),
            sum(rates[option.id]) / variants,
            max(rates[option.id]),
            sum(values[option.id]) / variants,
        )
        for option in case.options
    ]
