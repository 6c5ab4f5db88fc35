"""One learner's transcript: every lesson, quiz attempt, case decision, certificate,
cohort and reminder, with dates; and the same as rows for an auditor's export."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.casework import counts
from courseware.certification import (
    CERTIFICATE_STATE_LABELS,
    Ground,
    certificate_states,
    grounds_of,
    requirement_name,
)
from courseware.certification.policy import Policy
from courseware.content.catalogue import Catalogue
from courseware.core.errors import N_
from courseware.core.models import (
    CaseDecision,
    Certificate,
    Cohort,
    CohortMembership,
    LearnerContact,
    LessonProgress,
    QuizAttempt,
    Reminder,
    User,
)
from courseware.hr.cohorts import membership_history
from courseware.hr.compliance import (
    STATUS_LABELS,
    Moment,
    Scope,
    learner_facts,
    local_date,
    local_datetime,
)
from courseware.hr.exports import Cell
from courseware.hr.reminders import reminders_for
from courseware.lending.case_schema import CASE_KINDS
from courseware.lending.kinds import CASE_KIND_LABELS


@dataclass(frozen=True)
class Standing:
    """Where one learner stands: the same status the HR table shows."""

    status: str
    cohort_name: str | None
    due_date: date | None
    expires_at: datetime | None


def standing_of(session: Session, user_id: int, at: Moment) -> Standing | None:
    """The learner's status (None for accounts that are not learners), from one query."""
    row = session.execute(learner_facts(at, Scope()).where(User.id == user_id)).first()
    if row is None:
        return None
    return Standing(row.status, row.cohort_name, row.due_date, row.expires_at)


@dataclass(frozen=True)
class LessonLine:
    module_title: str
    lesson_title: str
    first_viewed_at: datetime | None
    completed_at: datetime | None
    seconds_spent: int
    in_course: bool = True


@dataclass
class Transcript:
    learner: User
    standing: Standing | None
    lessons: list[LessonLine] = field(default_factory=list)
    attempts: list[QuizAttempt] = field(default_factory=list)
    decisions: list[CaseDecision] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    memberships: list[tuple[CohortMembership, Cohort]] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)
    email: str = ""
    module_titles: dict[str, str] = field(default_factory=dict)
    case_titles: dict[str, str] = field(default_factory=dict)
    case_kinds: dict[str, Sequence[str]] = field(default_factory=dict)
    certificate_states: dict[int, str] = field(default_factory=dict)  # id: certificate_state
    grounds: dict[int, list[Ground]] = field(default_factory=dict)  # id: its evidence


def transcript(
    session: Session,
    user: User,
    catalogue: Catalogue,
    at: Moment,
    policy: Policy | None = None,
) -> Transcript:
    """Everything on record for one learner (a handful of queries); with the ``policy``, each
    certificate's state too."""
    progress = {
        (p.module_slug, p.lesson_slug): p
        for p in session.scalars(select(LessonProgress).where(LessonProgress.user_id == user.id))
    }
    lessons = []
    for module in catalogue.modules:
        for lesson in module.lessons:
            row = progress.pop((module.slug, lesson.slug), None)
            lessons.append(
                LessonLine(
                    module.title,
                    lesson.title,
                    row.first_viewed_at if row else None,
                    row.completed_at if row else None,
                    row.seconds_spent if row else 0,
                )
            )
    for (module_slug, lesson_slug), row in sorted(progress.items()):
        lessons.append(
            LessonLine(
                module_slug,
                lesson_slug,
                row.first_viewed_at,
                row.completed_at,
                row.seconds_spent,
                in_course=False,
            )
        )
    contact = session.get(LearnerContact, user.id)
    certificates = list(
        session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.cycle.desc())
        )
    )
    return Transcript(
        learner=user,
        standing=standing_of(session, user.id, at),
        lessons=lessons,
        attempts=list(
            session.scalars(
                select(QuizAttempt)
                .where(QuizAttempt.user_id == user.id, QuizAttempt.status != "open")
                .order_by(QuizAttempt.started_at, QuizAttempt.id)
            )
        ),
        decisions=list(
            session.scalars(
                select(CaseDecision)
                .where(CaseDecision.user_id == user.id)
                .order_by(CaseDecision.decided_at, CaseDecision.id)
            )
        ),
        certificates=certificates,
        memberships=membership_history(session, user.id),
        reminders=reminders_for(session, user.id),
        email=contact.email if contact else "",
        module_titles={m.slug: m.title for m in catalogue.modules},
        case_titles={slug: getattr(case, "title", slug) for slug, case in catalogue.cases.items()},
        case_kinds={
            slug: tuple(getattr(getattr(case, "spec", None), "kinds", ()))
            for slug, case in catalogue.cases.items()
        },
        certificate_states=certificate_states(certificates, policy, at.now) if policy else {},
        grounds=grounds_of(session, certificates),
    )


@dataclass(frozen=True)
class KindResult:
    kind: str  # one of case_schema.CASE_KINDS
    cases: int
    mean_score: float
    weak: bool  # the mean is below the case pass mark


def kind_results(data: Transcript, pass_mark: float) -> list[KindResult]:
    """Where the learner is strong or weak: for each kind of case they have counting
    decisions in, how many and their mean score, in the vocabulary's order. A template of
    several kinds counts in each; the kinds are the templates' as published now (a case
    no longer published has none)."""
    scores: dict[str, list[float]] = {}
    for decision in data.decisions:
        if counts(decision):
            for kind in data.case_kinds.get(decision.case_slug, ()):
                scores.setdefault(kind, []).append(decision.score_total)
    results = []
    for kind in CASE_KINDS:
        if found := scores.get(kind):
            mean = sum(found) / len(found)
            results.append(KindResult(kind, len(found), mean, mean < pass_mark))
    return results


def kind_cells(
    results: Sequence[KindResult], pass_mark: float, label: Callable[..., str]
) -> Iterator[list[Cell]]:
    """The per-kind results as transcript rows (for the export)."""
    for result in results:
        note = label(N_("Cases: %(count)s"), count=result.cases)
        if result.weak:
            note += " · " + label(N_("Below the case pass mark of %(mark)s"), mark=f"{pass_mark:g}")
        yield [
            label(N_("Case kind")),
            label(CASE_KIND_LABELS.get(result.kind, result.kind)),
            "",
            "",
            round(result.mean_score, 1),
            note,
        ]


TRANSCRIPT_COLUMNS = (
    N_("Record"),
    N_("Item"),
    N_("Started"),
    N_("Finished"),
    N_("Result"),
    N_("Note"),
)


def decision_role(decision: CaseDecision) -> str:
    if decision.reset_at is not None:
        return N_("Reset")
    if decision.first_key is not None:
        return N_("Counts")
    return N_("Renewal") if decision.kind == "renewal" else N_("Practice")


def transcript_cells(
    data: Transcript, timezone: str, label: Callable[..., str]
) -> Iterator[list[Cell]]:
    """The transcript as rows: lessons, quiz attempts, case decisions, certificates, cohorts.

    Long because the sections are written in the order the exported sheet shows them, each a
    heading row and its rows; the auditor's file reads like this function.
    """

    def when(moment: datetime | None) -> Any:
        return local_datetime(moment, timezone)

    learner = data.learner
    status = data.standing.status if data.standing else ""
    yield [
        label(N_("Learner")),
        f"{learner.display_name} ({learner.username})",
        "",
        "",
        label(STATUS_LABELS[status]) if status else "",
        " · ".join(x for x in (learner.employee_id, learner.branch) if x),
    ]
    for line in data.lessons:
        done = line.completed_at is not None
        result = N_("Done") if done else N_("Opened") if line.first_viewed_at else N_("Not opened")
        yield [
            label(N_("Lesson")),
            f"{line.module_title} / {line.lesson_title}",
            when(line.first_viewed_at),
            when(line.completed_at),
            label(result),
            label(N_("%(minutes)s min read"), minutes=line.seconds_spent // 60),
        ]
    for attempt in data.attempts:
        title = data.module_titles.get(attempt.module_slug, attempt.module_slug)
        result = (
            label(N_("%(percent)s%%, passed"), percent=attempt.percent)
            if attempt.passed
            else label(N_("%(percent)s%%, not passed"), percent=attempt.percent or 0)
        )
        note = label(N_("Renewal")) if attempt.kind == "renewal" else ""
        if attempt.reset_at is not None:
            note = label(N_("Reset on %(day)s"), day=local_date(attempt.reset_at, timezone))
        yield [
            label(N_("Quiz attempt")),
            title,
            when(attempt.started_at),
            when(attempt.submitted_at),
            result,
            note,
        ]
    for decision in data.decisions:
        yield [
            label(N_("Case decision")),
            data.case_titles.get(decision.case_slug, decision.case_slug),
            "",
            when(decision.decided_at),
            round(decision.score_total, 1),
            label(decision_role(decision)),
        ]
    kinds = {"earned": N_("Earned"), "renewal": N_("Renewal"), "manual": N_("Issued by hand")}
    for certificate in data.certificates:
        note = label(kinds.get(certificate.kind, N_("Earned")))
        if certificate.reason:
            note += " · " + certificate.reason
        if certificate.revoked_at is not None:
            note += " · " + label(
                N_("Revoked on %(day)s: %(reason)s"),
                day=local_date(certificate.revoked_at, timezone),
                reason=certificate.revoke_reason,
            )
        state = data.certificate_states.get(certificate.id)
        yield [
            label(N_("Certificate")),
            certificate.code,
            when(certificate.issued_at),
            when(certificate.expires_at),
            label(CERTIFICATE_STATE_LABELS[state]) if state else "",
            note,
        ]
    for certificate in data.certificates:
        for ground in data.grounds.get(certificate.id, []):
            yield evidence_cells(data, certificate, ground, when, label)
    for membership, cohort in data.memberships:
        yield [
            label(N_("Cohort")),
            cohort.name,
            when(membership.joined_at),
            when(membership.left_at),
            label(N_("Due %(day)s"), day=cohort.due_date.isoformat()),
            cohort.branch,
        ]
    for reminder in data.reminders:
        yield [
            label(N_("Reminder")),
            label(REMINDER_LABELS.get(reminder.kind, reminder.kind)),
            "",
            when(reminder.sent_at),
            label(N_("Sent")) if reminder.status == "sent" else label(N_("Failed")),
            reminder.address,
        ]


EVIDENCE_LABELS = {
    "quiz": N_("Quiz passed"),
    "case": N_("Case decision counted"),
    "renewal_case": N_("Renewal case decision"),
    "exemption": N_("Exempted"),
}


def evidence_cells(
    data: Transcript,
    certificate: Certificate,
    ground: Ground,
    when: Callable[[datetime | None], Any],
    label: Callable[..., str],
) -> list[Cell]:
    """One piece of a certificate's evidence as a transcript row: the certificate and what it
    rests on, when, the score and which kind of evidence it is."""
    if ground.kind == "quiz":
        item = label(
            N_("Quiz of %(title)s"), title=data.module_titles.get(ground.subject, ground.subject)
        )
        result: Cell = label(N_("%(percent)s%%"), percent=round(ground.score or 0))
    elif ground.kind == "exemption":
        item, result = requirement_name(ground.subject, data.module_titles, label), ""
    else:
        item = data.case_titles.get(ground.subject, ground.subject)
        result = round(ground.score, 1) if ground.score is not None else ""
    return [
        label(N_("Certificate evidence")),
        f"{certificate.code}: {item}",
        "",
        when(ground.at),
        result,
        label(EVIDENCE_LABELS[ground.kind]),
    ]


REMINDER_LABELS = {
    "due": N_("Due date reminder"),
    "overdue": N_("Overdue reminder"),
    "renewal": N_("Renewal reminder"),
}


def sections(rows: Iterator[list[Cell]]) -> list[tuple[str, list[list[Cell]]]]:
    """Rows grouped by their first cell, in order of first appearance (for the page)."""
    found: dict[str, list[list[Cell]]] = {}
    for row in rows:
        found.setdefault(str(row[0]), []).append(row[1:])
    return list(found.items())
