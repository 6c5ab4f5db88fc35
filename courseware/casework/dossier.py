"""What the case page computes from the dossier: the surplus, each option's terms, the calculator.

Everything here uses only what the trainee can read (the dossier, the options'
terms), never the hidden ``params``: the page must not give the answer away.
The installment uses the formulas of ``courseware.lending.arithmetic``, as the
page's script (static/js/cases.js) does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from courseware.core.errors import N_
from courseware.lending.arithmetic import installment_declining, installment_flat
from courseware.lending.cases import OPTION_KINDS, Case, Terms
from courseware.lending.simulation import OptionStats
from courseware.lending.variants import DossierFigures, dossier_figures

MAX_RATE_PERCENT = 10.0  # the calculator accepts monthly rates up to 10%


# A month of the household's cash flow before the new loan, from the dossier alone:
# the same computation fills the {ratio} and {surplus} of the case's texts.
SurplusEstimate = DossierFigures


def surplus_estimate(case: Case) -> SurplusEstimate:
    return dossier_figures(case.spec)


@dataclass(frozen=True)
class OptionView:
    """One decision the trainee may choose, with the terms it puts in place."""

    id: str
    label: str
    kind: str
    moves_money: bool
    terms: Terms | None  # None for a rejection
    installment: float  # the largest amount due in one month (0 for a rejection)
    existing_loan: bool
    effective_annual_rate: float | None  # fees included; None where nothing is priced
    sets_terms: bool = False  # a new loan or a restructure: its terms are shown
    keeps_schedule: bool = False  # the existing loan runs on as agreed


def option_views(case: Case, stats: list[OptionStats]) -> list[OptionView]:
    installments = {s.option_id: s.installment for s in stats}
    rates = {s.option_id: s.effective_annual_rate for s in stats}
    views = []
    for option in case.options:
        kind = OPTION_KINDS[option.kind]
        views.append(
            OptionView(
                id=option.id,
                label=option.label,
                kind=option.kind,
                moves_money=kind.moves_money,
                terms=case.terms(option.id) if kind.moves_money else None,
                installment=installments.get(option.id, 0.0) if kind.moves_money else 0.0,
                existing_loan=kind.existing_loan,
                effective_annual_rate=rates.get(option.id),
                sets_terms=kind.sets_terms,
                keeps_schedule=kind.keeps_schedule,
            )
        )
    return views


# The calculator -------------------------------------------------------------------


@dataclass(frozen=True)
class Calculation:
    """The calculator's inputs and results; ``errors`` maps a field to (message id, params).

    ``ratio`` is float("inf") when the surplus is not positive, None when unknown.
    """

    amount: str
    term: str
    rate: str  # percent a month, as typed
    surplus: str
    installment: float | None = None
    ratio: float | None = None
    errors: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)


def _number(text: str | None) -> float | None:
    try:
        value = float((text or "").replace(",", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _plain(value: float) -> str:
    return f"{value:.10g}"


def installment_for(amount: float, monthly_rate: float, term: int, rate_type: str) -> float:
    """The equal installment of a loan (the formula the page's script repeats)."""
    if rate_type == "flat":
        return installment_flat(amount, monthly_rate, term)
    return installment_declining(amount, monthly_rate, term)


def calculate(case: Case, args: Mapping[str, str] | None = None) -> Calculation:
    """Installment, surplus and their ratio for the terms typed (the request's by default).

    Amount and term must stay inside the case's allowed ranges.
    """
    args = args or {}
    request = case.spec.dossier.request
    allowed = case.spec.allowed
    estimate = surplus_estimate(case)
    amount_text = args.get("amount") or _plain(request.amount)
    term_text = args.get("term") or str(request.term)
    rate_text = args.get("rate") or _plain(round(request.monthly_rate * 100, 6))
    default_surplus = _plain(round(estimate.surplus)) if estimate.surplus is not None else ""
    surplus_text = args.get("surplus") or default_surplus
    errors: dict[str, tuple[str, Mapping[str, Any]]] = {}

    amount = _number(amount_text)
    if amount is None or amount <= 0 or not allowed.amount.min <= amount <= allowed.amount.max:
        errors["amount"] = (
            N_("Enter an amount from %(min)s to %(max)s."),
            {"min": allowed.amount.min, "max": allowed.amount.max},
        )
    term_value = _number(term_text)
    term = int(term_value) if term_value is not None and term_value.is_integer() else None
    if term is None or term < 1 or not allowed.term.min <= term <= allowed.term.max:
        errors["term"] = (
            N_("Enter a whole number of months from %(min)s to %(max)s."),
            {"min": int(allowed.term.min), "max": int(allowed.term.max)},
        )
    rate = _number(rate_text)
    if rate is None or not 0 <= rate <= MAX_RATE_PERCENT:
        errors["rate"] = (
            N_("Enter a monthly rate from %(min)s to %(max)s percent."),
            {"min": 0, "max": int(MAX_RATE_PERCENT)},
        )
    surplus = _number(surplus_text) if surplus_text else None
    if surplus_text and surplus is None:
        errors["surplus"] = (N_("Enter the surplus as a number."), {})

    installment = ratio = None
    if not {"amount", "term", "rate"} & errors.keys():
        assert amount is not None and term is not None and rate is not None
        installment = installment_for(amount, rate / 100, term, request.rate_type)
        if surplus is not None:
            ratio = installment / surplus if surplus > 0 else float("inf")
    return Calculation(amount_text, term_text, rate_text, surplus_text, installment, ratio, errors)
