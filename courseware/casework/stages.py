"""Cases decided in several steps: a multi-visit case or a village book.

The ticket served on the case holds every stage: each stage's decision is kept
(``CaseStageDecision``, one per ticket and stage) and the ticket stays open, so
a learner can leave between stages and come back to the next one. When the
last stage is decided (or an earlier decision ends the case: a rejection, a
write-off) the ticket is spent and the case's one decision is recorded with
the mean of its stages' scores; it counts toward certification like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.casework.decisions import (
    SEEDS,
    DecisionRefused,
    as_int,
    check_choices,
    read_posted,
    spend_ticket,
    store_decision,
    usable_ticket,
)
from courseware.casework.record import build_record, plain
from courseware.core.activity import note_activity
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import CaseDecision, CaseStageDecision, CaseTicket
from courseware.lending.cases import Case
from courseware.lending.scoring import decision_record, score_decision
from courseware.lending.simulation import evaluate_options, simulate_path
from courseware.lending.stages import StageWalk, stage_count, walk, with_shock
from courseware.lending.world import shock_draws

BOOK_SEEDS = 200  # seeds for the book's with/without-shock figures


def stages_done(session: Session, token: str) -> list[CaseStageDecision]:
    return list(
        session.scalars(
            select(CaseStageDecision)
            .where(CaseStageDecision.ticket_token == token)
            .order_by(CaseStageDecision.stage)
        )
    )


@dataclass(frozen=True)
class StageView:
    """Where a learner stands in a staged case on a ticket."""

    index: int  # the stage to decide now (0-based)
    total: int  # stages the case can take
    case: Case  # the case of that stage
    done: list[CaseStageDecision]
    walk: StageWalk


def current_stage(session: Session, template: Case, ticket: CaseTicket) -> StageView | None:
    """The stage to decide on this ticket (None: every stage is decided)."""
    done = stages_done(session, ticket.token)
    found = walk(template, ticket.seed, [d.option_id for d in done])
    if found.ended:
        return None
    return StageView(len(done), stage_count(template), found.cases[-1], done, found)


@dataclass(frozen=True)
class StageResult:
    stage: CaseStageDecision
    decision: CaseDecision | None  # set when this stage ended the case


def submit_stage(
    session: Session,
    user_id: int,
    token: str,
    template: Case,
    posted_stage: object,
    option_id: str,
    flags: Iterable[str],
    reasons: Sequence[str],
    posted_seed: object,
    posted_revision: object,
    now: datetime | None = None,
) -> StageResult:
    """Record one stage (DecisionRefused: nothing stored); the last one records the case.

    Call at the start of a transaction; the caller commits, or rolls back on a refusal.
    """
    now = now or utcnow()
    seed, revision = read_posted(session, user_id, token, template, posted_seed, posted_revision)
    ticket = usable_ticket(session, user_id, token, template, seed, revision)
    stage_no = as_int(posted_stage)
    done = stages_done(session, token)
    if stage_no != len(done):
        raise DecisionRefused(
            N_("This stage was already decided. Nothing was changed: go on with the next one.")
        )
    choices = [d.option_id for d in done]
    case = walk(template, seed, choices).cases[-1]
    ticked, chosen = check_choices(case, option_id, flags, reasons)

    stats = evaluate_options(case, SEEDS)
    score = score_decision(case, stats, option_id, ticked, chosen)
    path = simulate_path(case, option_id, seed)
    loan = decision_record(case, stats, path)
    expert_path = simulate_path(case, score.best_option_id, seed)
    expert = decision_record(case, stats, expert_path)
    record = build_record(case, stats, score, path, loan, expert_path, expert, chosen, SEEDS)
    row = CaseStageDecision(
        ticket_token=token,
        user_id=user_id,
        case_slug=template.slug,
        stage=len(done),
        option_id=option_id,
        flags=sorted(ticked),
        reasons=chosen,
        score_total=score.total,
        record=record,
        decided_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise DecisionRefused(
            N_("This stage was already decided. Nothing was changed: go on with the next one.")
        ) from None
    note_activity(session, user_id, now)
    after = walk(template, seed, [*choices, option_id])
    if not after.ended:
        return StageResult(row, None)
    rows = [*done, row]
    spend_ticket(session, user_id, token, template, seed, revision, now)
    fields = _combined(template, rows, after, seed)
    return StageResult(row, store_decision(session, user_id, ticket, template.slug, fields, now))


def _mean(rows: Sequence[CaseStageDecision], part: str) -> float:
    return float(np.mean([r.record["score"][part] for r in rows]))


def _combined(
    template: Case, rows: Sequence[CaseStageDecision], played: StageWalk, seed: int
) -> dict[str, Any]:
    """The case's one decision: the last stage's record and the stages' mean scores."""
    last = rows[-1].record
    record = dict(last)
    record["stages"] = [
        {
            "stage": r.stage,
            "title": played.cases[r.stage].title,
            "option_id": r.option_id,
            "option_label": r.record["option"]["label"],
            "best_label": r.record["best_option"]["label"],
            "score": r.score_total,
            "record": r.record,
        }
        for r in rows
    ]
    if template.spec.book is not None:
        record["book"] = book_figures(template, rows, played, seed)
    score = last["score"]
    return {
        "option_id": rows[-1].option_id,
        "option_kind": last["option"]["kind"],
        "flags": sorted({f for r in rows for f in r.flags}),
        "reasons": [x for r in rows for x in r.reasons],
        "score_total": float(np.mean([r.score_total for r in rows])),
        "score_decision": _mean(rows, "decision"),
        "score_flags": _mean(rows, "flags"),
        "score_reasons": _mean(rows, "reasons"),
        "score_portfolio": _mean(rows, "portfolio"),
        "cap_applied": any(r.record["score"].get("cap_applied") for r in rows),
        "best_option_id": score["best_option_id"],
        "expected_profit": float(sum(r.record["score"]["ev_chosen"] for r in rows)),
        "best_expected_profit": float(sum(r.record["score"]["ev_best"] for r in rows)),
        "outcome": last["path"]["outcome"],
        "lender_profit": float(last["path"]["lender_profit"]),
        "record": record,
    }


def book_figures(
    template: Case, rows: Sequence[CaseStageDecision], played: StageWalk, seed: int
) -> dict[str, Any]:
    """The book the learner made, with and without the shared shock: PAR30 (balance more
    than 30 days past due over the balance, month by month) and expected write-offs."""
    assert template.spec.book is not None
    shock = template.spec.book.shock
    figures: dict[str, dict[str, float]] = {}
    for force in ("on", "off"):
        par30 = balance = lost = lent = 0.0
        for row in rows:
            case = with_shock(played.cases[row.stage], force)
            stats = next(
                s for s in evaluate_options(case, BOOK_SEEDS) if s.option_id == row.option_id
            )
            if not stats.moves_money:
                continue
            par30 += stats.mean_par30_months
            balance += stats.mean_balance_months
            lost += stats.mean_written_off
            lent += case.terms(row.option_id).amount
        figures[force] = {
            "par30": par30 / balance if balance else 0.0,
            "written_off": lost,
            "lent": lent,
        }
    first = played.cases[0]
    hit, _factor = shock_draws(first.spec.params, [seed], 1)
    loans = [
        {
            "title": played.cases[r.stage].title,
            "option_label": r.record["option"]["label"],
            "outcome": r.record["path"]["outcome"],
            "moves_money": r.record["path"]["moves_money"],
            "score": r.score_total,
        }
        for r in rows
    ]
    return plain(
        {
            "shock": {
                "title": shock.title,
                "story": shock.story,
                "prob": shock.prob,
                "month": shock.month,
                "hit": bool(hit[0]),
            },
            "with_shock": figures["on"],
            "without_shock": figures["off"],
            "loans": loans,
        }
    )
