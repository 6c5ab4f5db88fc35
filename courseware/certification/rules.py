"""The rules: requirements, certificate states, renewal, the evidence snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from courseware.certification.evidence import CaseEvidence, Evidence
from courseware.certification.policy import Policy
from courseware.content.catalogue import Catalogue
from courseware.core.errors import N_
from courseware.core.models import Certificate

CASES = "cases"


@dataclass(frozen=True)
class Requirement:
    key: str
    kind: str  # lessons | quiz | cases
    module_slug: str | None
    title: str
    met: bool
    exempt: bool
    done: float
    needed: float
    extra: float | None = None  # the quiz percent, or the cases' average
    threshold: float | None = None  # the average the cases need

    @property
    def satisfied(self) -> bool:
        return self.met or self.exempt


def lesson_key(module_slug: str) -> str:
    return f"lessons:{module_slug}"


def quiz_key(module_slug: str) -> str:
    return f"quiz:{module_slug}"


def requirement_name(key: str, module_titles: Mapping[str, str], label: Callable[..., str]) -> str:
    """A requirement's key (``quiz:<module>``, ``lessons:<module>``, ``cases``) in words, the
    module by its title; ``label`` translates. A key not known reads as itself."""
    kind, _sep, module = key.partition(":")
    title = module_titles.get(module, module)
    if kind == "quiz":
        return label(N_("Quiz of %(title)s"), title=title)
    if kind == "lessons":
        return label(N_("Lessons of %(title)s"), title=title)
    return label(N_("Loan cases")) if key == CASES else key


def counted_cases(
    cases: Iterable[CaseEvidence], count: int, mode: str = "all"
) -> list[CaseEvidence]:
    """The case decisions an average is taken over: every one (``case_average: all``, the
    default: no learner drops their worst judgement), or the best ``count`` (``best``)."""
    found = list(cases)
    if mode == "best":
        found = sorted(found, key=lambda c: c.score, reverse=True)[:count]
    return found


def case_average(cases: Iterable[CaseEvidence], count: int, mode: str = "all") -> float | None:
    scores = [c.score for c in counted_cases(cases, count, mode)]
    return sum(scores) / len(scores) if scores and count else None


def requirements(catalogue: Catalogue, policy: Policy, evidence: Evidence) -> list[Requirement]:
    """Each requirement with this learner's standing on it, in the course's order."""
    found: list[Requirement] = []
    for module in catalogue.modules:
        key = lesson_key(module.slug)
        done = sum((module.slug, lesson.slug) in evidence.lessons for lesson in module.lessons)
        total = len(module.lessons)
        found.append(
            Requirement(
                key,
                "lessons",
                module.slug,
                module.title,
                done == total,
                key in evidence.exemptions,
                done,
                total,
            )
        )
        if module.slug in catalogue.quizzes:
            key = quiz_key(module.slug)
            quiz = evidence.quizzes.get(module.slug)
            found.append(
                Requirement(
                    key,
                    "quiz",
                    module.slug,
                    module.title,
                    quiz is not None,
                    key in evidence.exemptions,
                    1 if quiz else 0,
                    1,
                    quiz.percent if quiz else None,
                )
            )
    rules = policy.certification
    counted = [c for c in evidence.cases if c.case_slug in catalogue.cases]
    average = case_average(counted, rules.cases_required, rules.case_average)
    met = len(counted) >= rules.cases_required and (
        rules.cases_required == 0 or (average or 0) >= rules.case_average_min
    )
    found.append(
        Requirement(
            CASES,
            "cases",
            None,
            "",
            met,
            CASES in evidence.exemptions,
            len(counted),
            rules.cases_required,
            average,
            rules.case_average_min,
        )
    )
    return found


def all_met(found: Sequence[Requirement]) -> bool:
    return bool(found) and all(r.satisfied for r in found)


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("no valid day")  # pragma: no cover


def state_of(certificate: Certificate, policy: Policy, now: datetime) -> str:
    """revoked | expired | renewal_due | valid."""
    if certificate.revoked_at is not None:
        return "revoked"
    if now >= certificate.expires_at:
        return "expired"
    window = timedelta(days=policy.certification.renewal_window_days)
    if now >= certificate.expires_at - window:
        return "renewal_due"
    return "valid"


# A certificate's state, named the same on every page, export and the verify page.
CERTIFICATE_STATES = ("valid", "expiring", "expired", "replaced", "revoked")
CERTIFICATE_STATE_LABELS = {
    "valid": N_("Valid"),
    "expiring": N_("Expiring"),
    "expired": N_("Expired"),
    "replaced": N_("Replaced"),
    "revoked": N_("Revoked"),
}


def certificate_state(
    certificate: Certificate, policy: Policy, now: datetime, newest_cycle: int | None = None
) -> str:
    """The one name of a certificate's state: valid | expiring (inside the renewal window) |
    expired | replaced (a later certificate of the holder superseded it) | revoked.

    ``newest_cycle`` is the holder's latest certificate cycle; without it the certificate is
    taken to be the latest.
    """
    if certificate.revoked_at is not None:
        return "revoked"
    if newest_cycle is not None and newest_cycle > certificate.cycle:
        return "replaced"
    state = state_of(certificate, policy, now)
    return "expiring" if state == "renewal_due" else state


def certificate_states(
    certificates: Sequence[Certificate], policy: Policy, now: datetime
) -> dict[int, str]:
    """Each of one holder's certificates by id, with its state."""
    newest = max((c.cycle for c in certificates), default=None)
    return {c.id: certificate_state(c, policy, now, newest) for c in certificates}


def revocable(state: str) -> bool:
    """Only a current certificate that still counts may be revoked."""
    return state in ("valid", "expiring")


def latest(certificates: Sequence[Certificate]) -> Certificate | None:
    return max(certificates, key=lambda c: c.cycle) if certificates else None


def snapshot(catalogue: Catalogue, policy: Policy, evidence: Evidence) -> dict[str, Any]:
    """What the certificate was earned on: scores and the content revisions."""
    rules = policy.certification
    best_cases = sorted(
        counted_cases(evidence.cases, rules.cases_required, rules.case_average),
        key=lambda c: c.score,
        reverse=True,
    )
    return {
        "quizzes": {
            slug: {
                "percent": q.percent,
                "attempt_id": q.attempt_id,
                "bank_revision_id": q.bank_revision_id,
            }
            for slug, q in sorted(evidence.quizzes.items())
        },
        "cases": [
            {
                "case": c.case_slug,
                "score": round(c.score, 1),
                "decision_id": c.decision_id,
                "case_revision_id": c.case_revision_id,
                # The variant of the case template the decision was made on (v2), or the
                # fixed v1 case: enough to draw the very same case again.
                "case_model": c.case_model,
                "variant_seed": c.seed if c.case_model >= 2 else None,
            }
            for c in best_cases
        ],
        "lessons": {
            f"{module}/{lesson}": revision
            for (module, lesson), revision in sorted(evidence.lessons.items())
        },
        "exemptions": sorted(evidence.exemptions),
        "rules": {
            "cases_required": rules.cases_required,
            "case_average_min": rules.case_average_min,
            "case_average": rules.case_average,
        },
        "content_version": catalogue.version,
    }


@dataclass(frozen=True)
class Renewal:
    """Where a certified learner stands on renewing."""

    open: bool
    window_opens: datetime | None
    quiz_passed: bool
    cases_done: int
    cases_needed: int
    cases_average: float | None
    cases_average_min: float

    @property
    def complete(self) -> bool:
        cases_ok = self.cases_done >= self.cases_needed and (
            self.cases_needed == 0 or (self.cases_average or 0) >= self.cases_average_min
        )
        return self.open and self.quiz_passed and cases_ok


def renewal_for(evidence: Evidence, policy: Policy, now: datetime) -> Renewal:
    rules = policy.certification
    current = latest([c for c in evidence.certificates if c.revoked_at is None])
    if current is None:
        return Renewal(
            False, None, False, 0, rules.renewal.cases, None, rules.renewal.case_average_min
        )
    opens = current.expires_at - timedelta(days=rules.renewal_window_days)
    # Only work done in this renewal window (and after this certificate) counts.
    since = max(opens, current.issued_at)
    quiz = any(q.submitted_at >= since for q in evidence.renewal_quizzes)
    cases = [c for c in evidence.renewal_cases if c.decided_at >= since]
    average = case_average(cases, rules.renewal.cases, rules.case_average)
    return Renewal(
        now >= opens,
        opens,
        quiz,
        len(cases),
        rules.renewal.cases,
        average,
        rules.renewal.case_average_min,
    )


@dataclass(frozen=True)
class Standing:
    requirements: list[Requirement]
    complete: bool
    current: Certificate | None
    state: str  # none | valid | renewal_due | expired | revoked
    renewal: Renewal
    history: list[Certificate]
    states: dict[int, str] = field(default_factory=dict)  # certificate id: certificate_state

    @property
    def current_state(self) -> str:
        """The current certificate's named state, or "none"."""
        return self.states.get(self.current.id, "none") if self.current else "none"


def standing(catalogue: Catalogue, policy: Policy, evidence: Evidence, now: datetime) -> Standing:
    found = requirements(catalogue, policy, evidence)
    current = latest(evidence.certificates)
    state = state_of(current, policy, now) if current else "none"
    return Standing(
        found,
        all_met(found),
        current,
        state,
        renewal_for(evidence, policy, now),
        sorted(evidence.certificates, key=lambda c: c.cycle, reverse=True),
        certificate_states(evidence.certificates, policy, now),
    )
