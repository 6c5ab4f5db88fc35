"""Loan-case work: serving cases, recording and scoring decisions, reading them back.

Domain code only (no Flask): every function takes a Session and values. The
engine (courseware.lending) simulates and scores; this package stores the
decisions and answers the questions the pages and certification ask.
"""

from courseware.casework.decisions import (
    SEEDS,
    TICKET_KINDS,
    DecisionNotFound,
    DecisionRefused,
    check_choices,
    counting_decision,
    get_decision,
    issue_ticket,
    open_ticket,
    serve_ticket,
    submit_decision,
    variant_of,
)
from courseware.casework.queries import (
    CalibrationRow,
    CaseScore,
    CaseStatistics,
    CaseStatus,
    CaseTally,
    Portfolio,
    calibration,
    case_statistics,
    case_statuses,
    case_tallies,
    counts,
    decisions_of_kind,
    first_decision_scores,
    learner_decisions,
    portfolio,
    renewal_order,
    variant_spread,
)
from courseware.casework.unlock import (
    CaseAccess,
    CaseGroup,
    Requirement,
    case_access,
    group_by_module,
)

__all__ = [
    "SEEDS",
    "TICKET_KINDS",
    "CalibrationRow",
    "CaseAccess",
    "CaseGroup",
    "CaseScore",
    "CaseStatistics",
    "CaseStatus",
    "CaseTally",
    "DecisionNotFound",
    "DecisionRefused",
    "Portfolio",
    "Requirement",
    "calibration",
    "case_access",
    "case_statistics",
    "case_statuses",
    "case_tallies",
    "check_choices",
    "counting_decision",
    "counts",
    "decisions_of_kind",
    "first_decision_scores",
    "get_decision",
    "group_by_module",
    "issue_ticket",
    "learner_decisions",
    "open_ticket",
    "portfolio",
    "renewal_order",
    "serve_ticket",
    "submit_decision",
    "variant_of",
    "variant_spread",
]
