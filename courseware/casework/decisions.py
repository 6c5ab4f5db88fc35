"""Serving a case (the ticket) and recording the decision made on it.

A ticket fixes the seed and the case revision a decision is judged on. Its
token is spent by one conditional UPDATE, so a double submit (or twenty at
once) records one decision. The learner's first decision on a case counts
toward certification (``first_key``, unique); later ones are practice.

Call ``issue_ticket`` and ``submit_decision`` at the start of a transaction:
they write first, so that on SQLite concurrent requests queue for the write
lock instead of failing on a stale snapshot.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.casework.record import build_record
from courseware.core.activity import note_activity
from courseware.core.clock import utcnow
from courseware.core.db import rows_changed
from courseware.core.errors import N_
from courseware.core.models import CaseDecision, CaseTicket
from courseware.core.xapi import case_statement
from courseware.lending import scoring
from courseware.lending.cases import Case
from courseware.lending.scoring import ScoreBreakdown, decision_record, score_decision
from courseware.lending.simulation import LoanPath, evaluate_options, simulate_path
from courseware.lending.stages import is_staged
from courseware.lending.variants import draw_variant

TICKET_KINDS = ("assessment", "practice", "renewal")
SEEDS = 500  # the fixed seeds 0..499 every option is graded on
SEED_LIMIT = 2**31 - 1  # the seed column is a 32-bit integer


class DecisionRefused(Exception):
    """The decision cannot be recorded; nothing was stored.

    ``message`` is an English message id (translate it with ``params``); ``field``
    names the part of the form at fault (option, flags, reasons) or is None for the
    form as a whole; ``decision_id`` is set when this form was already decided.
    """

    def __init__(
        self,
        message: str,
        params: Mapping[str, Any] | None = None,
        field: str | None = None,
        decision_id: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})
        self.field = field
        self.decision_id = decision_id


class DecisionNotFound(LookupError):
    """No such decision, or it belongs to someone else."""


def first_key(user_id: int, slug: str) -> str:
    return f"{user_id}:{slug}"


def open_key(user_id: int, slug: str, kind: str) -> str:
    return f"{user_id}:{slug}:{kind}"


def counting_decision(session: Session, user_id: int, slug: str) -> CaseDecision | None:
    """The learner's decision on this case that counts toward certification, if any."""
    return session.scalar(
        select(CaseDecision).where(CaseDecision.first_key == first_key(user_id, slug))
    )


def _lock(session: Session, key: str) -> None:
    """Write first: SQLite's write lock, and the open ticket's row lock on PostgreSQL."""
    session.execute(
        update(CaseTicket)
        .where(CaseTicket.open_key == key)
        .values(kind=CaseTicket.kind)
        .execution_options(synchronize_session=False)
    )


def issue_ticket(
    session: Session,
    user_id: int,
    case: Case,
    revision_id: int | None,
    kind: str = "assessment",
    now: datetime | None = None,
) -> CaseTicket:
    """The learner's open ticket for this case, or a new one with a fresh seed.

    Reopening a case before deciding serves the same ticket (and seed); a ticket
    served on an earlier version of the case is replaced. An assessment ticket on a
    case the learner has already decided (and not had reset) is issued as practice.
    """
    if kind not in TICKET_KINDS:
        raise ValueError(f"ticket kind must be one of {TICKET_KINDS}, got {kind!r}")
    now = now or utcnow()
    locked = None
    if kind == "assessment":
        locked = open_key(user_id, case.slug, kind)
        _lock(session, locked)
        if counting_decision(session, user_id, case.slug) is not None:
            kind = "practice"
    key = open_key(user_id, case.slug, kind)
    if key != locked:  # the assessment key is locked already
        _lock(session, key)
    current = session.scalar(select(CaseTicket).where(CaseTicket.open_key == key))
    if current is not None:
        if current.content_hash == case.content_hash and current.case_revision_id == revision_id:
            return current
        current.open_key = None  # served on another version: it can no longer be decided
        session.flush()
    ticket = CaseTicket(
        token=secrets.token_urlsafe(32),
        user_id=user_id,
        case_slug=case.slug,
        case_revision_id=revision_id,
        content_hash=case.content_hash,
        seed=secrets.randbelow(SEED_LIMIT),
        kind=kind,
        issued_at=now,
        open_key=key,
    )
    try:
        with session.begin_nested():
            session.add(ticket)
            session.flush()
    except IntegrityError:
        # Another request of this learner opened the case at the same moment: serve theirs.
        existing = session.scalar(select(CaseTicket).where(CaseTicket.open_key == key))
        if existing is None:
            raise
        return existing
    note_activity(session, user_id, now)
    return ticket


def open_ticket(session: Session, user_id: int, slug: str, kind: str) -> CaseTicket | None:
    return session.scalar(
        select(CaseTicket).where(CaseTicket.open_key == open_key(user_id, slug, kind))
    )


def serve_ticket(
    session: Session,
    user_id: int,
    case: Case,
    revision_id: int | None,
    renewal: bool = False,
    now: datetime | None = None,
) -> CaseTicket:
    """The ticket the case page serves: a renewal ticket while the learner's renewal
    window is open, else an assessment ticket (issued as practice once the case counts)."""
    kind = "renewal" if renewal else "assessment"
    return issue_ticket(session, user_id, case, revision_id, kind, now)


# Submitting -----------------------------------------------------------------------


def variant_of(case: Case, seed: int) -> Case:
    """The variant of a case template a ticket's seed serves (the seed also drives the
    realised run): the dossier shown and the grading both read it."""
    return draw_variant(case, seed)


def check_choices(
    case: Case, option_id: str, flags: Iterable[str], reasons: Sequence[str]
) -> tuple[set[str], list[str]]:
    """The ticked flags and the reasons, checked against the case (DecisionRefused).

    The check itself is ``courseware.lending.scoring.check_choices``, the one the rubric
    uses; this only turns its refusal into the form's.
    """
    try:
        return scoring.check_choices(case, option_id, flags, reasons)
    except scoring.DecisionInvalid as exc:
        raise DecisionRefused(exc.message, exc.params, field=exc.field) from exc


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").strip()
    if text.lstrip("-").isdigit() and len(text) < 20:
        return int(text)
    return None


def _revision(value: object) -> tuple[bool, int | None]:
    """(readable, revision id); an empty value means "no revision"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True, None
    parsed = as_int(value)
    return parsed is not None, parsed


def _ticket(session: Session, token: str) -> CaseTicket | None:
    """The ticket as the database has it now (another session may have spent it)."""
    return session.scalar(
        select(CaseTicket)
        .where(CaseTicket.token == token)
        .execution_options(populate_existing=True)
    )


def _refusal(
    session: Session,
    user_id: int,
    token: str,
    case: Case,
    seed: int | None,
    revision_ok: bool,
    revision: int | None,
) -> DecisionRefused:
    """Why the ticket could not be spent."""
    ticket = _ticket(session, token) if token else None
    if ticket is None or ticket.user_id != user_id or ticket.case_slug != case.slug:
        return DecisionRefused(
            N_("This decision form is not valid. Open the case again and decide there.")
        )
    if ticket.used_at is not None:
        done = session.scalar(select(CaseDecision.id).where(CaseDecision.ticket_token == token))
        return DecisionRefused(
            N_("This case was already decided with this form. Nothing was changed."),
            decision_id=done,
        )
    if seed is None or seed != ticket.seed:
        return DecisionRefused(
            N_("The seed in the form is not the one this case was served with. Nothing was stored.")
        )
    if not revision_ok or revision != ticket.case_revision_id:
        return DecisionRefused(
            N_(
                "The form names another version of this case than the one served. "
                "Nothing was stored."
            )
        )
    if ticket.content_hash != case.content_hash:
        return DecisionRefused(
            N_(
                "This case was changed after you opened it. Nothing was stored: "
                "open it again and decide on the current version."
            )
        )
    return DecisionRefused(N_("This decision form can no longer be used. Open the case again."))


def submit_decision(
    session: Session,
    user_id: int,
    token: str,
    case: Case,
    option_id: str,
    flags: Iterable[str],
    reasons: Sequence[str],
    posted_seed: object,
    posted_revision: object,
    now: datetime | None = None,
) -> CaseDecision:
    """Record, score and simulate a decision once (DecisionRefused: nothing stored).

    The caller rolls back on DecisionRefused and commits otherwise.
    """
    if is_staged(case):
        raise ValueError(f"{case.slug} is decided stage by stage: use submit_stage")
    now = now or utcnow()
    try:
        seed, revision = read_posted(session, user_id, token, case, posted_seed, posted_revision)
    except DecisionRefused:
        check_choices(case, option_id, flags, reasons)  # a form error is told first
        raise
    # Graded on the variant this ticket served; a forged seed fails the update below.
    variant = variant_of(case, seed)
    ticked, chosen = check_choices(variant, option_id, flags, reasons)

    # The heavy work comes before any write, so the ticket's lock is held briefly.
    stats = evaluate_options(variant, SEEDS)
    score = score_decision(variant, stats, option_id, ticked, chosen)
    path = simulate_path(variant, option_id, seed)
    loan = decision_record(variant, stats, path)
    expert_path = simulate_path(variant, score.best_option_id, seed)
    expert = decision_record(variant, stats, expert_path)
    record = build_record(variant, stats, score, path, loan, expert_path, expert, chosen, SEEDS)

    ticket = spend_ticket(session, user_id, token, case, seed, revision, now)
    fields = decision_fields(option_id, ticked, chosen, score, path, record)
    return store_decision(session, user_id, ticket, case.slug, fields, now)


def decision_fields(
    option_id: str,
    flags: Iterable[str],
    reasons: Sequence[str],
    score: ScoreBreakdown,
    path: LoanPath,
    record: Mapping[str, Any],
) -> dict[str, Any]:
    """The columns of a decision graded on one path (the seeder writes the same)."""
    return {
        "option_id": option_id,
        "option_kind": path.kind,
        "flags": sorted(flags),
        "reasons": list(reasons),
        "score_total": score.total,
        "score_decision": score.decision,
        "score_flags": score.flags,
        "score_reasons": score.reasons,
        "score_portfolio": score.portfolio,
        "cap_applied": score.cap_applied,
        "best_option_id": score.best_option_id,
        "expected_profit": score.ev_chosen,
        "best_expected_profit": score.ev_best,
        "outcome": path.outcome,
        "lender_profit": path.lender_profit,
        "record": record,
    }


def read_posted(
    session: Session,
    user_id: int,
    token: str,
    case: Case,
    posted_seed: object,
    posted_revision: object,
) -> tuple[int, int | None]:
    """The seed and content revision a decision form carries (DecisionRefused when they
    cannot be a ticket's: a missing token, an unreadable or out-of-range seed)."""
    seed = as_int(posted_seed)
    revision_ok, revision = _revision(posted_revision)
    if seed is None or not 0 <= seed < SEED_LIMIT or not revision_ok or not token:
        raise _refusal(session, user_id, token, case, seed, revision_ok, revision)
    return seed, revision


def _usable(user_id: int, case: Case, seed: int, revision: int | None) -> list[Any]:
    """The one rule of a usable ticket, as query conditions: this learner's, for this case
    as served (seed, content, revision), not spent yet."""
    return [
        CaseTicket.user_id == user_id,
        CaseTicket.case_slug == case.slug,
        CaseTicket.used_at.is_(None),
        CaseTicket.seed == seed,
        CaseTicket.content_hash == case.content_hash,
        CaseTicket.case_revision_id.is_(None)
        if revision is None
        else CaseTicket.case_revision_id == revision,
    ]


def usable_ticket(
    session: Session, user_id: int, token: str, case: Case, seed: int, revision: int | None
) -> CaseTicket:
    """Lock the ticket (SQLite's write lock, the row lock on PostgreSQL), then read it if it
    is still usable for this decision; DecisionRefused when it is not (nothing spent)."""
    session.execute(
        update(CaseTicket)
        .where(CaseTicket.token == token)
        .values(kind=CaseTicket.kind)
        .execution_options(synchronize_session=False)
    )
    ticket = session.scalar(
        select(CaseTicket).where(CaseTicket.token == token, *_usable(user_id, case, seed, revision))
    )
    if ticket is None:
        raise _refusal(session, user_id, token, case, seed, True, revision)
    return ticket


def spend_ticket(
    session: Session,
    user_id: int,
    token: str,
    case: Case,
    seed: int,
    revision: int | None,
    now: datetime,
) -> CaseTicket:
    """Spend the ticket once (DecisionRefused when it was spent, forged or outdated)."""
    spent = session.execute(
        update(CaseTicket)
        .where(CaseTicket.token == token, *_usable(user_id, case, seed, revision))
        .values(used_at=now, open_key=None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(spent) != 1:
        raise _refusal(session, user_id, token, case, seed, True, revision)
    ticket = _ticket(session, token)
    assert ticket is not None
    return ticket


def store_decision(
    session: Session,
    user_id: int,
    ticket: CaseTicket,
    slug: str,
    fields: Mapping[str, Any],
    now: datetime,
) -> CaseDecision:
    """Record the decision a spent ticket made; the first assessment one counts."""

    def decision(kind: str, key: str | None) -> CaseDecision:
        return CaseDecision(
            user_id=user_id,
            case_slug=slug,
            case_revision_id=ticket.case_revision_id,
            content_hash=ticket.content_hash,
            seed=ticket.seed,
            ticket_token=ticket.token,
            kind=kind,
            first_key=key,
            case_model=2,
            decided_at=now,
            **fields,
        )

    kind, key = ticket.kind, None
    if kind == "assessment":
        if counting_decision(session, user_id, slug) is None:
            key = first_key(user_id, slug)
        else:
            kind = "practice"
    try:
        with session.begin_nested():
            found = decision(kind, key)
            session.add(found)
            session.flush()
    except IntegrityError:
        if key is None:
            raise
        # Another ticket of this learner recorded the first decision a moment ago.
        with session.begin_nested():
            found = decision("practice", None)
            session.add(found)
            session.flush()
    case_statement(
        session, user_id, slug, found.option_id, found.flags, found.score_total, found.kind, now
    )
    return found


# Reading and resetting ---------------------------------------------------------------


def get_decision(session: Session, user_id: int, decision_id: int) -> CaseDecision:
    """The learner's own decision (DecisionNotFound for anyone else's)."""
    found = session.get(CaseDecision, decision_id)
    if found is None or found.user_id != user_id:
        raise DecisionNotFound(decision_id)
    return found
