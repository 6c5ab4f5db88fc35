"""Certification: the rules, the evidence, issuing, renewal, revocation, verification.

Rules come from settings.yaml (``courseware.certification.policy``): every lesson of every
module done, every module quiz passed, and case work (at least N first
decisions averaging at least S: all of them with ``case_average: all``, the default, or the
best N with ``case_average: best``). A requirement may be met by an
exemption granted with a written reason. On completion a certificate is
issued at once with an unguessable code and a snapshot of the evidence; it
expires after the policy's validity and is renewed by a renewal assessment
and fresh case decisions. Every manual act is audited.
"""

from courseware.certification.evidence import CaseEvidence, Evidence, QuizEvidence, gather_evidence
from courseware.certification.grounds import Ground, grounds_of
from courseware.certification.issuing import (
    CertificationError,
    check_and_issue,
    check_and_stand,
    grant_exemption,
    issue_by_hand,
    learner_standing,
    new_code,
    normalise_code,
    renewal_open,
    reset_case_decision,
    reset_quiz_attempt,
    revoke,
)
from courseware.certification.rules import (
    CASES,
    CERTIFICATE_STATE_LABELS,
    CERTIFICATE_STATES,
    Renewal,
    Requirement,
    Standing,
    add_months,
    all_met,
    certificate_state,
    certificate_states,
    lesson_key,
    quiz_key,
    requirement_name,
    requirements,
    revocable,
    standing,
    state_of,
)
from courseware.certification.verification import Verification, verify

__all__ = [
    "CASES",
    "CERTIFICATE_STATES",
    "CERTIFICATE_STATE_LABELS",
    "CaseEvidence",
    "CertificationError",
    "Evidence",
    "Ground",
    "QuizEvidence",
    "Renewal",
    "Requirement",
    "Standing",
    "Verification",
    "add_months",
    "all_met",
    "certificate_state",
    "certificate_states",
    "check_and_issue",
    "check_and_stand",
    "gather_evidence",
    "grant_exemption",
    "grounds_of",
    "issue_by_hand",
    "learner_standing",
    "lesson_key",
    "new_code",
    "normalise_code",
    "quiz_key",
    "renewal_open",
    "requirement_name",
    "requirements",
    "reset_case_decision",
    "reset_quiz_attempt",
    "revocable",
    "revoke",
    "standing",
    "state_of",
    "verify",
]
