"""Words for the kinds of judgement a case template trains (case_schema.CASE_KINDS),
shown to HR on a learner's transcript and in its export."""

from __future__ import annotations

from courseware.core.errors import N_

CASE_KIND_LABELS: dict[str, str] = {
    "good": N_("Good loans"),
    "bad": N_("Bad loans"),
    "borderline": N_("Borderline cases"),
    "fraud": N_("Fraud"),
    "over_indebted": N_("Over-indebtedness"),
    "seasonal": N_("Seasonal income"),
    "group": N_("Group loans"),
    "restructuring": N_("Restructuring"),
    "pricing": N_("Pricing and disclosure"),
    "informal_debt": N_("Informal debt"),
    "emergency": N_("Emergency loans"),
    "diversion": N_("Loan diversion"),
    "concentration": N_("Concentration risk"),
}
