"""Decision options: the registry of option kinds and each option's effective terms.

An option in a case file states only what it changes; ``resolve_terms`` fills
the rest from the request (or from the existing loan, for a restructuring).
"""

from __future__ import annotations

from dataclasses import dataclass

from courseware.lending.arithmetic import (
    amortisation_schedule,
    balloon_schedule,
    harvest_schedule,
    principal_parts,
)
from courseware.lending.case_schema import CaseFile, Collateral, Option, Params
from courseware.lending.params import ModelParams


@dataclass(frozen=True)
class OptionKind:
    """How a kind of decision acts: the registry below is the one place to add one."""

    moves_money: bool  # the lender's money is at stake (False: a rejection, profit exactly 0)
    approval: bool  # counts as approving credit (missed-critical-flag penalty)
    existing_loan: bool  # acts on an existing loan (params.existing_loan)
    collects: bool = True  # on an existing loan: payments are still collected (not a write-off)

    @property
    def sets_terms(self) -> bool:
        """The decision puts terms in place: a new loan, or an existing one re-spread."""
        return self.moves_money and (self.approval or not self.existing_loan)

    @property
    def keeps_schedule(self) -> bool:
        """The existing loan runs on as agreed (collect, call the guarantor)."""
        return self.moves_money and self.existing_loan and not self.approval and self.collects


OPTION_KINDS: dict[str, OptionKind] = {
    "approve": OptionKind(moves_money=True, approval=True, existing_loan=False),
    "approve_modified": OptionKind(moves_money=True, approval=True, existing_loan=False),
    "reject": OptionKind(moves_money=False, approval=False, existing_loan=False),
    "reject_refer": OptionKind(moves_money=False, approval=False, existing_loan=False),
    "reject_report": OptionKind(moves_money=False, approval=False, existing_loan=False),
    "defer": OptionKind(moves_money=False, approval=False, existing_loan=False),
    "restructure": OptionKind(moves_money=True, approval=True, existing_loan=True),
    "collect": OptionKind(moves_money=True, approval=False, existing_loan=True),
    "call_guarantor": OptionKind(moves_money=True, approval=False, existing_loan=True),
    "write_off": OptionKind(moves_money=True, approval=False, existing_loan=True, collects=False),
}


@dataclass(frozen=True)
class Terms:
    """The loan an option puts in place (for a rejection: the loan that was requested)."""

    amount: float
    term: int
    monthly_rate: float
    rate_type: str
    schedule: str
    fee_rate: float
    guarantor: bool
    collateral: Collateral | None
    insurance: bool
    member_amounts: tuple[float, ...]
    grace_months: int


def harvest_loan_months(params: Params, term: int) -> list[int]:
    """Loan months (1-based) whose calendar month is a harvest month."""
    harvest = set(params.harvest_months)
    return [m for m in range(1, term + 1) if (params.start_month - 1 + m) % 12 + 1 in harvest]


def resolve_terms(spec: CaseFile, option: Option, model: ModelParams) -> Terms:
    """Fill an option's missing terms from the request (or the existing loan)."""
    kind = OPTION_KINDS.get(option.kind)
    request = spec.dossier.request
    existing = spec.params.existing_loan
    members = spec.params.members or []
    if kind is not None and not kind.moves_money:
        return _requested_terms(spec, model)
    if kind is not None and kind.existing_loan and existing is not None:
        default_amount, default_term, default_rate = (
            existing.balance,
            existing.remaining_term,
            existing.monthly_rate,
        )
        default_schedule = "restructure" if option.kind == "restructure" else "equal"
        default_fee = 0.0
    else:
        default_amount, default_term, default_rate = (
            request.amount,
            request.term,
            request.monthly_rate,
        )
        default_schedule = request.schedule
        default_fee = request.fee_rate if request.fee_rate is not None else model.fee_rate
    schedule = option.schedule or default_schedule
    rate_type = option.rate_type or ("flat" if schedule == "flat" else request.rate_type)
    if schedule == "flat":
        rate_type = "flat"
    member_amounts = tuple(option.member_amounts or [m.requested for m in members])
    guarantor = option.guarantor
    if guarantor is None:
        guarantor = request.guarantor is not None and spec.params.guarantor is not None
    amount = option.amount
    if amount is None:
        amount = sum(member_amounts) if member_amounts and option.member_amounts else default_amount
    return Terms(
        amount=float(amount),
        term=option.term or default_term,
        monthly_rate=default_rate if option.monthly_rate is None else option.monthly_rate,
        rate_type=rate_type,
        schedule=schedule,
        fee_rate=default_fee if option.fee_rate is None else option.fee_rate,
        guarantor=guarantor,
        collateral=option.collateral,
        insurance=option.insurance,
        member_amounts=member_amounts,
        grace_months=option.grace_months,
    )


def _requested_terms(spec: CaseFile, model: ModelParams) -> Terms:
    """The loan that was asked for: what a rejection is judged against."""
    request = spec.dossier.request
    members = spec.params.members or []
    amount, term, rate = request.amount, request.term, request.monthly_rate
    rate_type, schedule = request.rate_type, request.schedule
    fee = request.fee_rate if request.fee_rate is not None else model.fee_rate
    guarantor = request.guarantor is not None and spec.params.guarantor is not None
    return Terms(
        amount,
        term,
        rate,
        rate_type,
        schedule,
        fee,
        guarantor,
        None,
        False,
        tuple(m.requested for m in members),
        0,
    )


def new_loan_schedule(
    terms: Terms, amount: float, harvest: list[int]
) -> tuple[list[float], list[float]]:
    """(amounts due, principal parts) for a new loan of ``amount`` on ``terms``."""
    if amount <= 0:
        return [0.0] * terms.term, [0.0] * terms.term
    if terms.schedule in ("equal", "flat"):
        rows = amortisation_schedule(amount, terms.monthly_rate, terms.term, terms.rate_type)
        return [r.payment for r in rows], [r.principal for r in rows]
    if terms.schedule == "harvest":
        due = harvest_schedule(amount, terms.monthly_rate, terms.term, harvest)
    elif terms.schedule == "balloon":
        due = balloon_schedule(amount, terms.monthly_rate, terms.term)
    else:
        raise ValueError(f"schedule {terms.schedule!r} is not for a new loan")
    return due, principal_parts(amount, terms.monthly_rate, due)


def loan_schedule(params: Params, terms: Terms) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(amounts due, principal parts) month by month of a new loan on ``terms``, all
    members of a group together."""
    harvest = harvest_loan_months(params, terms.term)
    amounts = list(terms.member_amounts) if params.members else [terms.amount]
    rows = [new_loan_schedule(terms, a, harvest) for a in amounts]
    due = tuple(float(sum(r[0][m] for r in rows)) for m in range(terms.term))
    parts = tuple(float(sum(r[1][m] for r in rows)) for m in range(terms.term))
    return due, parts
