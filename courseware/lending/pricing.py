"""The price of the credit an option grants: its effective annual rate, fees included.

Taiwan's Civil Code art. 205 (as amended in 2021) makes interest above 16% a year
unclaimable; the course teaches that every price, fees included, stays within it.
``model.yaml`` holds the cap (``legal_max_effective_annual_rate``) and
``courseware validate`` refuses a case with an option above it.
"""

from __future__ import annotations

from courseware.core.errors import N_, ContentError
from courseware.lending.arithmetic import (
    amortisation_schedule,
    balloon_schedule,
    effective_monthly_rate,
    harvest_schedule,
    restructure_schedule,
)
from courseware.lending.case_schema import CaseFile, Option
from courseware.lending.params import ModelParams
from courseware.lending.terms import OPTION_KINDS, Terms, harvest_loan_months, resolve_terms

UNPRICED_KINDS = ("collect", "call_guarantor", "write_off")


def _payments(spec: CaseFile, terms: Terms, amount: float) -> list[float]:
    if amount <= 0:
        return [0.0] * terms.term
    if terms.schedule in ("equal", "flat"):
        rows = amortisation_schedule(amount, terms.monthly_rate, terms.term, terms.rate_type)
        return [r.payment for r in rows]
    if terms.schedule == "harvest":
        months = harvest_loan_months(spec.params, terms.term)
        return harvest_schedule(amount, terms.monthly_rate, terms.term, months)
    if terms.schedule == "balloon":
        return balloon_schedule(amount, terms.monthly_rate, terms.term)
    raise ValueError(f"schedule {terms.schedule!r} is not for a new loan")


def effective_annual_rate(spec: CaseFile, option: Option, model: ModelParams) -> float | None:
    """(1 + i)^12 - 1, where the amount less the upfront fee equals the payments
    discounted at i a month; None for an option that prices nothing (a rejection,
    collecting or writing off an existing loan)."""
    kind = OPTION_KINDS.get(option.kind)
    if kind is None or not kind.moves_money or option.kind in UNPRICED_KINDS:
        return None
    terms = resolve_terms(spec, option, model)
    if option.kind == "restructure":
        loan = spec.params.existing_loan
        if loan is None:
            return None
        due = restructure_schedule(loan.balance, loan.monthly_rate, terms.grace_months, terms.term)
        principal, fee = loan.balance, 0.0
    else:
        amounts = list(terms.member_amounts) if spec.params.members else [terms.amount]
        schedules = [_payments(spec, terms, a) for a in amounts]
        due = [sum(month) for month in zip(*schedules, strict=True)]
        principal = sum(amounts)
        fee = terms.fee_rate * principal
    if principal <= 0 or sum(due) <= 0:
        return None
    i = effective_monthly_rate(principal - fee, due)
    return (1 + i) ** 12 - 1


def check_prices(path: str, spec: CaseFile, model: ModelParams) -> list[ContentError]:
    """Every priced option at or under the legal cap, fees included."""
    errors = []
    cap = model.legal_max_effective_annual_rate
    for i, option in enumerate(spec.options):
        try:
            rate = effective_annual_rate(spec, option, model)
        except ValueError:
            continue  # the option's own check reports a schedule that cannot be built
        if rate is not None and rate > cap + 1e-9:
            errors.append(
                ContentError(
                    path,
                    f"options[{i}]",
                    N_(
                        "the effective annual rate, fees included, is %(rate)s%%, above the "
                        "legal cap of %(cap)s%% (Civil Code art. 205)"
                    ),
                    {"rate": round(rate * 100, 2), "cap": round(cap * 100, 2)},
                )
            )
    return errors
