"""Issuing, renewing, revoking; exemptions and resets. Every manual act is audited."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.certification.evidence import Evidence, gather_evidence
from courseware.certification.policy import Policy
from courseware.certification.rules import (
    Standing,
    add_months,
    all_met,
    latest,
    renewal_for,
    requirements,
    snapshot,
    standing,
    state_of,
)
from courseware.content.catalogue import Catalogue
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.db import rows_changed
from courseware.core.errors import N_
from courseware.core.models import CaseDecision, Certificate, Exemption, QuizAttempt, User
from courseware.core.xapi import certificate_statement

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_PREFIX = "MLA"


class CertificationError(ValueError):
    """A request the rules do not allow; ``message`` is a translatable id."""

    def __init__(self, message: str, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = params or {}


def new_code() -> str:
    """An unguessable code (80 random bits), grouped for reading aloud: MLA-XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return f"{CODE_PREFIX}-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_code(text: str) -> str:
    """Read a typed code forgivingly: case, spaces, and O/I/L typed for 0/1."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())[:40]
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if cleaned.startswith(CODE_PREFIX.replace("L", "1")):
        cleaned = cleaned[len(CODE_PREFIX) :]
    if len(cleaned) != 16 or any(ch not in CODE_ALPHABET for ch in cleaned):
        return ""
    return f"{CODE_PREFIX}-" + "-".join(cleaned[i : i + 4] for i in range(0, 16, 4))


def _issue(
    session: Session,
    user_id: int,
    kind: str,
    evidence: dict[str, Any],
    policy: Policy,
    now: datetime,
    *,
    cycle: int,
    issued_by: int | None = None,
    reason: str = "",
) -> Certificate | None:
    """Insert the certificate for ``cycle``; None when another request issued it first."""
    certificate = Certificate(
        user_id=user_id,
        cycle=cycle,
        code=new_code(),
        kind=kind,
        issued_at=now,
        expires_at=add_months(now, policy.certification.validity_months),
        issued_by=issued_by,
        reason=reason,
        evidence=evidence,
    )
    try:
        with session.begin_nested():
            session.add(certificate)
    except IntegrityError:
        return None
    record(
        session,
        issued_by,
        f"certificate.{kind}",
        "certificate",
        certificate.code,
        after={
            "user_id": user_id,
            "cycle": cycle,
            "expires_at": certificate.expires_at.isoformat(),
        },
        reason=reason,
    )
    certificate_statement(session, user_id, certificate.code, kind, certificate.expires_at, now)
    return certificate


def _next_cycle(evidence: Evidence) -> int:
    """The cycle after the latest certificate in the evidence that was read.

    Taken from the same snapshot that decided to issue, never from a fresh
    query: a request that read "no certificate yet" tries cycle 1 and loses to
    the (user, cycle) unique constraint if another request issued it meanwhile.
    """
    current = latest(evidence.certificates)
    return (current.cycle if current else 0) + 1


def learner_standing(
    session: Session,
    user_id: int,
    catalogue: Catalogue,
    policy: Policy,
    now: datetime | None = None,
) -> Standing:
    evidence = gather_evidence(session, [user_id]).get(user_id, Evidence())
    return standing(catalogue, policy, evidence, now or utcnow())


def check_and_issue(
    session: Session,
    user_id: int,
    catalogue: Catalogue,
    policy: Policy,
    now: datetime | None = None,
) -> Certificate | None:
    """Issue the certificate a learner has just earned (first or renewal), if any.

    Called after every act that may complete a requirement. Safe under
    concurrency: two requests completing the last requirement together issue
    one certificate (the (user, cycle) pair is unique).
    """
    now = now or utcnow()
    evidence = gather_evidence(session, [user_id]).get(user_id, Evidence())
    return _check_and_issue(session, user_id, catalogue, policy, now, evidence)


def check_and_stand(
    session: Session,
    user_id: int,
    catalogue: Catalogue,
    policy: Policy,
    now: datetime | None = None,
) -> tuple[Certificate | None, Standing]:
    """``check_and_issue``, then the learner's standing, from one gathering of the evidence
    (the certificate page: half the queries of calling both)."""
    now = now or utcnow()
    evidence = gather_evidence(session, [user_id]).get(user_id, Evidence())
    issued = _check_and_issue(session, user_id, catalogue, policy, now, evidence)
    if issued is not None:
        evidence.certificates.append(issued)
    return issued, standing(catalogue, policy, evidence, now)


def renewal_open(
    session: Session, user_id: int, policy: Policy, now: datetime | None = None
) -> bool:
    """Whether the learner's renewal window is open, from their certificates alone (one query;
    the same answer as ``learner_standing(...).renewal.open``)."""
    certificates = list(session.scalars(select(Certificate).where(Certificate.user_id == user_id)))
    return renewal_for(Evidence(certificates=certificates), policy, now or utcnow()).open


def _check_and_issue(
    session: Session,
    user_id: int,
    catalogue: Catalogue,
    policy: Policy,
    now: datetime,
    evidence: Evidence,
) -> Certificate | None:
    current = latest(evidence.certificates)
    if current is None or current.revoked_at is not None:
        if not all_met(requirements(catalogue, policy, evidence)):
            return None
        if current is not None and not _earned_again_since(evidence, current):
            return None  # a revoked certificate is not re-issued from the same evidence
        return _issue(
            session,
            user_id,
            "earned",
            snapshot(catalogue, policy, evidence),
            policy,
            now,
            cycle=_next_cycle(evidence),
        )
    renewal = renewal_for(evidence, policy, now)
    if renewal.complete:
        data = snapshot(catalogue, policy, evidence)
        data["renewal"] = {
            "cases": [
                {"case": c.case_slug, "score": round(c.score, 1), "decision_id": c.decision_id}
                for c in evidence.renewal_cases
                if renewal.window_opens and c.decided_at >= renewal.window_opens
            ],
        }
        return _issue(session, user_id, "renewal", data, policy, now, cycle=current.cycle + 1)
    return None


def _earned_again_since(evidence: Evidence, revoked: Certificate) -> bool:
    """After a revocation, a new certificate needs new work: a quiz or case since then."""
    since = revoked.revoked_at or revoked.issued_at
    return any(q.submitted_at > since for q in evidence.quizzes.values()) or any(
        c.decided_at > since for c in evidence.cases
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise CertificationError(N_("Write the reason (at least 5 characters)."))
    if len(reason) > 1000:
        raise CertificationError(N_("Keep the reason under 1,000 characters."))
    return reason


def issue_by_hand(
    session: Session,
    user: User,
    actor_id: int,
    reason: str,
    catalogue: Catalogue,
    policy: Policy,
    now: datetime | None = None,
) -> Certificate:
    """A certificate issued by HR or a trainer outside the rules, with the reason."""
    reason = _require_reason(reason)
    now = now or utcnow()
    evidence = gather_evidence(session, [user.id]).get(user.id, Evidence())
    current = latest(evidence.certificates)
    if current is not None and state_of(current, policy, now) in ("valid", "renewal_due"):
        raise CertificationError(N_("This learner already holds a valid certificate."))
    certificate = _issue(
        session,
        user.id,
        "manual",
        snapshot(catalogue, policy, evidence),
        policy,
        now,
        cycle=_next_cycle(evidence),
        issued_by=actor_id,
        reason=reason,
    )
    if certificate is None:
        raise CertificationError(N_("Another certificate was issued meanwhile; reload the page."))
    return certificate


def revoke(
    session: Session,
    certificate: Certificate,
    actor_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    reason = _require_reason(reason)
    now = now or utcnow()
    changed = rows_changed(
        session.execute(
            update(Certificate)
            .where(Certificate.id == certificate.id, Certificate.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=actor_id, revoke_reason=reason)
        )
    )
    if not changed:
        raise CertificationError(N_("This certificate is already revoked."))
    session.refresh(certificate)
    record(
        session,
        actor_id,
        "certificate.revoke",
        "certificate",
        certificate.code,
        before={"state": "issued"},
        after={"state": "revoked"},
        reason=reason,
    )


def grant_exemption(
    session: Session,
    user: User,
    requirement: str,
    actor_id: int,
    reason: str,
    catalogue: Catalogue,
    policy: Policy,
    now: datetime | None = None,
) -> Exemption:
    reason = _require_reason(reason)
    keys = {r.key for r in requirements(catalogue, policy, Evidence())}
    if requirement not in keys:
        raise CertificationError(N_("There is no such requirement."))
    exists = session.scalar(
        select(Exemption).where(Exemption.user_id == user.id, Exemption.requirement == requirement)
    )
    if exists is not None:
        raise CertificationError(N_("This requirement is already exempted."))
    exemption = Exemption(
        user_id=user.id,
        requirement=requirement,
        reason=reason,
        granted_by=actor_id,
        granted_at=now or utcnow(),
    )
    session.add(exemption)
    session.flush()
    record(
        session,
        actor_id,
        "exemption.grant",
        "user",
        user.id,
        after={"requirement": requirement},
        reason=reason,
    )
    return exemption


def reset_quiz_attempt(
    session: Session,
    attempt: QuizAttempt,
    actor_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Take a quiz attempt out of the count (limit and pass), keeping it on record."""
    reason = _require_reason(reason)
    if attempt.reset_at is not None:
        raise CertificationError(N_("This attempt was already reset."))
    attempt.reset_at = now or utcnow()
    record(
        session,
        actor_id,
        "quiz.reset",
        "quiz_attempt",
        attempt.id,
        before={"passed": attempt.passed, "score": attempt.score},
        after={"reset": True, "user_id": attempt.user_id, "module": attempt.module_slug},
        reason=reason,
    )


def reset_case_decision(
    session: Session,
    decision: CaseDecision,
    actor_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Take a case decision out of certification so the learner's next one counts."""
    reason = _require_reason(reason)
    if decision.reset_at is not None:
        raise CertificationError(N_("This decision was already reset."))
    before = {"score": decision.score_total, "counted": decision.first_key is not None}
    decision.reset_at = now or utcnow()
    decision.first_key = None
    record(
        session,
        actor_id,
        "case.reset",
        "case_decision",
        decision.id,
        before=before,
        after={"reset": True, "user_id": decision.user_id, "case": decision.case_slug},
        reason=reason,
    )
