"""The words and figures of the loan-case pages: labels of outcomes, option kinds, flags,
documents and events, and the locale's formats for money, shares and points.

Shared by the trainee's case pages and the trainer's studio and calibration pages, so
each label is written once.
"""

from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from courseware.lending.scoring import MAX_REASONS
from courseware.web.common import formats

OUTCOMES = {
    "on_time": _l("Repaid on time"),
    "late": _l("Repaid late"),
    "restructured": _l("Restructured"),
    "default": _l("Defaulted"),
}
OPTION_KINDS = {
    "approve": _l("Approve"),
    "approve_modified": _l("Approve with changes"),
    "reject": _l("Reject"),
    "reject_refer": _l("Reject and refer"),
    "reject_report": _l("Reject and report"),
    "defer": _l("Defer"),
    "restructure": _l("Restructure"),
    "collect": _l("Collect as agreed"),
    "call_guarantor": _l("Call the guarantor"),
    "write_off": _l("Write off"),
}
SEVERITIES = {"critical": _l("Critical"), "major": _l("Major"), "minor": _l("Minor")}
CATEGORIES = {
    "capacity": _l("Capacity to repay"),
    "over_indebtedness": _l("Over-indebtedness"),
    "character": _l("Character"),
    "fraud": _l("Fraud"),
    "security": _l("Security"),
    "conditions": _l("Conditions"),
}
DOCUMENTS = {
    "verified": _l("Verified"),
    "unverified": _l("Not verified"),
    "missing": _l("Missing"),
    "mismatch": _l("Does not match"),
}
SCHEDULES = {
    "equal": _l("equal monthly installments"),
    "flat": _l("flat-rate installments"),
    "harvest": _l("payments at harvest"),
    "balloon": _l("interest monthly, principal at the end"),
    "restructure": _l("restructured schedule"),
}
DECISION_KINDS = {
    "assessment": _l("Counts toward certification"),
    "practice": _l("Practice"),
    "renewal": _l("Renewal"),
}
STATES = {
    "new": _l("Not started"),
    "opened": _l("Opened"),
    "decided": _l("Case decided"),
    "reset": _l("Reset: decide again"),
}
EVENTS = {
    "disbursed": _l(
        "Loan paid out: %(amount)s over %(term)s months, fee %(fee)s; "
        "the largest monthly installment is %(installment)s."
    ),
    "counterfactual": _l(
        "Not approved: none of the lender's money moved. The path shows what the loan as "
        "requested (%(amount)s over %(term)s months) would have done."
    ),
    "restructured": _l(
        "Loan restructured: balance %(balance)s, %(grace_months)s grace months, "
        "then %(term)s installments of up to %(installment)s."
    ),
    "written_off": _l("Loan written off: %(exposure)s at stake, %(recovery)s recovered."),
    "illness": _l(
        "Illness: sales down %(sales_drop)s for %(months)s months, medical costs %(cost)s."
    ),
    "illness_insured": _l(
        "Illness: sales down %(sales_drop)s for %(months)s months, "
        "medical costs %(cost)s paid by the insurance."
    ),
    "downturn": _l("Market downturn: sales down %(sales_drop)s for %(months)s months."),
    "shock": _l(
        "The shock that hit the whole village: sales down %(sales_drop)s for %(months)s months."
    ),
    "harvest_good": _l("Good harvest (%(factor)s of a normal one)."),
    "harvest_poor": _l("Poor harvest (%(factor)s of a normal one)."),
    "harvest_failed": _l("Failed harvest (%(factor)s of a normal one)."),
    "unwilling": _l("The borrower did not pay the %(owed)s due."),
    "short_of_cash": _l("Short of cash: paid %(paid)s of the %(owed)s due."),
    "sacrifice": _l("Paid by cutting household spending by %(squeezed)s (a sacrifice month)."),
    "group_cover": _l("The group covered %(amount)s of the shortfall."),
    "contagion": _l(
        "Contagion: after months the group could not cover, the other members' "
        "willingness to pay fell to %(willingness)s."
    ),
    "guarantor_paid": _l("The guarantor paid %(amount)s."),
    "guarantor_refused": _l("The guarantor was asked to pay and did not."),
    "past_due": _l("%(dpd)s days past due."),
    "default": _l(
        "Default: %(dpd)s days past due. Collection goes on (guarantor, collateral) "
        "until the loan is written off."
    ),
    "loan_written_off": _l(
        "Written off after 180 days past due: %(exposure)s still owed, %(recovery)s recovered."
    ),
    "loan_written_off_collateral": _l(
        "Written off after 180 days past due: %(exposure)s still owed, %(recovery)s recovered; "
        "the pledged collateral was seized from the household."
    ),
    "repaid": _l("Repaid in full."),
    "repaid_late": _l("Repaid in full, after being late."),
}
SHARES = {"sales_drop", "factor", "willingness"}
MONEYS = {
    "amount",
    "fee",
    "installment",
    "balance",
    "exposure",
    "recovery",
    "cost",
    "owed",
    "paid",
    "squeezed",
}
LABELS = {
    "MAX_REASONS": MAX_REASONS,
    "OUTCOMES": OUTCOMES,
    "OPTION_KINDS": OPTION_KINDS,
    "SEVERITIES": SEVERITIES,
    "CATEGORIES": CATEGORIES,
    "DOCUMENTS": DOCUMENTS,
    "SCHEDULES": SCHEDULES,
    "DECISION_KINDS": DECISION_KINDS,
    "STATES": STATES,
}


# The case pages' figures, written like every other page's (web/common/formats.py).
money = formats.money


def share(value: float | None, digits: int = 1) -> str:
    return formats.percent(value, digits)


def ratio(value: float | None) -> str:
    """An installment-to-surplus ratio; no positive surplus (inf, stored as None) says so."""
    if value is None or math.isinf(value):
        return _("Surplus is negative")
    return share(value, 0)


number = formats.number


def points(value: float | None) -> str:
    return formats.number(value, 1)


def event_text(event: dict[str, Any]) -> str:
    kind, params = event["kind"], dict(event.get("params") or {})
    key = kind
    if kind == "illness" and params.get("insured"):
        key = "illness_insured"
    elif kind == "harvest":
        key = f"harvest_{params.get('quality', 'poor')}"
    elif kind == "repaid" and params.get("late"):
        key = "repaid_late"
    elif kind == "loan_written_off" and params.get("collateral"):
        key = "loan_written_off_collateral"
    template = EVENTS.get(key)
    if template is None:
        return kind
    values = {
        name: share(value, 0) if name in SHARES else money(value) if name in MONEYS else value
        for name, value in params.items()
    }
    try:
        text = str(template) % values
    except (KeyError, TypeError, ValueError):
        text = str(template)
    if params.get("member"):
        return _("%(member)s: %(event)s", member=params["member"], event=text)
    return text
