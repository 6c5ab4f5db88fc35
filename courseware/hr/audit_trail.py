"""Reading the audit trail in words: who (by name), what (a sentence per action code), to whom
(by name), when, the details and the reason; filter by who, action, learner and dates; pages;
the same lines for export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from courseware.certification import requirement_name
from courseware.core.errors import N_
from courseware.core.models import AuditEvent, CaseDecision, Certificate, Cohort, QuizAttempt, User
from courseware.hr.compliance import local_date, local_datetime
from courseware.hr.exports import Cell

PER_PAGE = 50
EXPORT_BATCH = 500
AUDIT_COLUMNS = (
    N_("When"),
    N_("Who"),
    N_("What"),
    N_("To whom"),
    N_("Details"),
    N_("Reason"),
)

# Every action code written to the audit log, as the sentence the trail shows
# (tests/hr/test_audit_words.py finds each code in the source and asks for its sentence).
ACTION_SENTENCES = {
    "learner.due_date": N_("Set a learner's own due date"),
    "learners.bulk": N_("Acted on several learners at once"),
    "reminder.run": N_("Sent the due reminders and notices"),
    "account.anonymise": N_("Anonymised an account"),
    "account.create": N_("Created an account"),
    "account.import": N_("Imported accounts"),
    "account.password_change": N_("Changed their own password"),
    "account.password_reset": N_("Reset a password"),
    "account.password_reset_by_email": N_("Set a new password from an emailed link"),
    "account.password_reset_request": N_("Asked for a password reset link"),
    "account.sign_in_break_glass": N_("Signed in with a password while passwords are off"),
    "account.sso_create": N_("Got an account at their first single sign-on"),
    "account.sso_link": N_("Linked their institution account at single sign-on"),
    "account.sso_refused": N_("Was refused at single sign-on"),
    "account.sso_role": N_("Got a role from the institution's sign-in service"),
    "account.sso_sign_in": N_("Signed in with their institution account"),
    "account.unlock": N_("Unlocked an account locked by failed sign-ins"),
    "account.update": N_("Changed an account"),
    "case.reset": N_("Reset a case decision"),
    "certificate.earned": N_("Issued a certificate on completing the requirements"),
    "certificate.manual": N_("Issued a certificate by hand"),
    "certificate.renewal": N_("Renewed a certificate"),
    "certificate.revoke": N_("Revoked a certificate"),
    "cohort.assign": N_("Enrolled in a cohort"),
    "cohort.create": N_("Created a cohort"),
    "cohort.due_date": N_("Moved a cohort's due date"),
    "cohort.remove": N_("Removed from a cohort"),
    "cohort.update": N_("Changed a cohort"),
    "contact.update": N_("Changed a reminder address"),
    "content.import_set_aside": N_("Kept a studio draft over a changed course file"),
    "content.import_taken": N_("Took a changed course file's text into a draft"),
    "content.publish": N_("Published course content"),
    "content.return": N_("Returned a revision to its author"),
    "content.submit": N_("Submitted a revision for review"),
    "exemption.grant": N_("Granted an exemption"),
    "quiz.reset": N_("Reset a quiz attempt"),
    "reminder.send": N_("Sent reminders"),
}

# The detail fields events carry, in words; any other field shows as "key: value".
FIELD_LABELS = {
    "action": N_("Action"),
    "already": N_("Already reminded today"),
    "learners": N_("Learners"),
    "selection": N_("Which learners"),
    "approved_by": N_("Approved by"),
    "author_id": N_("Author"),
    "branch": N_("Branch"),
    "case": N_("Case"),
    "cohort": N_("Cohort"),
    "counted": N_("Counted toward certification"),
    "created": N_("Accounts created"),
    "cycle": N_("Certificate number"),
    "display_name": N_("Name"),
    "due_date": N_("Due date"),
    "email": N_("Reminder address"),
    "emailed": N_("Emails sent"),
    "employee_id": N_("Employee id"),
    "expires_at": N_("Valid until"),
    "failed": N_("Not sent"),
    "failures": N_("Failed sign-ins"),
    "locked_until": N_("Locked until"),
    "module": N_("Module"),
    "name": N_("Name"),
    "notices": N_("Notices written"),
    "passed": N_("Passed"),
    "origin": N_("Made in"),
    "path": N_("File"),
    "previous": N_("Previous revision"),
    "replaced": N_("Fields replaced"),
    "requirement": N_("Requirement"),
    "reset": N_("Reset"),
    "retried": N_("Emails sent again"),
    "revision": N_("Revision"),
    "role": N_("Role"),
    "score": N_("Score"),
    "sent": N_("Sent"),
    "state": N_("State"),
    "user_id": N_("Learner"),
    "username": N_("User name"),
    "via": N_("How"),
}
USER_FIELDS = ("user_id", "author_id", "approved_by")
VALUE_LABELS = {
    # A bulk action (``learners.bulk``), as hr/bulk.py ACTIONS names it.
    ("action", "remind"): N_("Send a reminder"),
    ("action", "enrol"): N_("Enrol in a cohort"),
    ("action", "due_set"): N_("Set the due date"),
    ("action", "due_move"): N_("Move the due date"),
    ("selection", "all"): N_("Every learner matching the filter you chose."),
    ("selection", "selected"): N_("The learners you ticked."),
    ("state", "issued"): N_("In force"),
    ("state", "revoked"): N_("Revoked"),
    ("via", "import"): N_("Imported from a file"),
    ("origin", "editor"): N_("the studio's editor"),
    ("origin", "import"): N_("an import of the course files"),
    ("origin", "revert"): N_("a revert to an earlier revision"),
    ("origin", "new"): N_("the studio's new-page form"),
    ("role", "trainee"): N_("Trainee"),
    ("role", "trainer"): N_("Trainer"),
    ("role", "manager"): N_("Branch manager"),
    ("role", "hr"): N_("HR"),
    ("role", "admin"): N_("Administrator"),
}


def action_sentence(action: str) -> str:
    """The message id of an action's sentence (the code itself for one not known yet)."""
    return ACTION_SENTENCES.get(action, action)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditQuery:
    action: str = ""
    actor: str = ""  # who: a user name or part of a name
    learner: str = ""  # to whom: a user name or part of a name
    since: date | None = None  # local days, both ends included
    until: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditQuery:
        page = (args.get("page") or "").strip()
        return cls(
            action=(args.get("action") or "").strip()[:48],
            actor=(args.get("actor") or "").strip()[:64],
            learner=(args.get("learner") or "").strip()[:64],
            since=_day(args.get("since")),
            until=_day(args.get("until")),
            page=int(page) if page.isdigit() and len(page) < 7 else 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        query = replace(self, **changes)
        found = {
            "action": query.action,
            "actor": query.actor,
            "learner": query.learner,
            "since": query.since.isoformat() if query.since else "",
            "until": query.until.isoformat() if query.until else "",
            "page": query.page if query.page != 1 else "",
        }
        return {k: v for k, v in found.items() if v != ""}

    def filters(self) -> dict[str, Any]:
        return {k: v for k, v in self.args().items() if k != "page"}


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    subject_id: int | None  # the person the act was about, where there is one
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    query: AuditQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def _start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone))


def _subject_id() -> Any:
    """The user an event is about: its target user, or the holder of its target certificate,
    quiz attempt or case decision (each branch is evaluated only for its own target type)."""
    kind, target = AuditEvent.target_type, AuditEvent.target_id
    return case(
        (kind == "user", cast(target, Integer)),
        (
            kind == "certificate",
            select(Certificate.user_id).where(Certificate.code == target).scalar_subquery(),
        ),
        (
            kind == "quiz_attempt",
            select(QuizAttempt.user_id)
            .where(QuizAttempt.id == cast(target, Integer))
            .scalar_subquery(),
        ),
        (
            kind == "case_decision",
            select(CaseDecision.user_id)
            .where(CaseDecision.id == cast(target, Integer))
            .scalar_subquery(),
        ),
        else_=None,
    )


def _people(text: str) -> Any:
    """The ids of the users a typed name means: the user name exactly, or part of the name."""
    person = aliased(User)
    return select(person.id).where(
        or_(
            func.lower(person.username) == text.lower(),
            person.display_name.contains(text, autoescape=True),
        )
    )


def _conditions(query: AuditQuery, timezone: str) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.action:
        found.append(AuditEvent.action == query.action)
    if query.actor:
        found.append(AuditEvent.actor_id.in_(_people(query.actor)))
    if query.learner:
        found.append(_subject_id().in_(_people(query.learner)))
    if query.since:
        found.append(AuditEvent.at >= _start(query.since, timezone))
    if query.until:
        found.append(AuditEvent.at < _start(query.until + timedelta(days=1), timezone))
    return found


def _statement(query: AuditQuery, timezone: str) -> Any:
    return (
        select(AuditEvent, _subject_id())
        .where(*_conditions(query, timezone))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def _row(event: AuditEvent, subject_id: int | None) -> AuditRow:
    return AuditRow(
        event.id,
        event.at,
        event.actor_id,
        event.action,
        event.target_type,
        event.target_id,
        subject_id,
        event.before,
        event.after,
        event.reason,
    )


def audit_page(session: Session, query: AuditQuery, timezone: str) -> AuditPage:
    total = (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(*_conditions(query, timezone))
        )
        or 0
    )
    pages = max(1, -(-total // PER_PAGE))
    query = replace(query, page=min(query.page, pages))
    found = session.execute(
        _statement(query, timezone).limit(PER_PAGE).offset((query.page - 1) * PER_PAGE)
    )
    return AuditPage([_row(*r) for r in found], total, query)


def iter_audit(session: Session, query: AuditQuery, timezone: str) -> Iterator[AuditRow]:
    statement = _statement(query, timezone).execution_options(stream_results=True, yield_per=500)
    for found in session.execute(statement):
        yield _row(*found)


def actions(session: Session) -> list[str]:
    """The action codes to filter by: every one known and any other on record."""
    found = set(session.scalars(select(AuditEvent.action).distinct()))
    return sorted(found | set(ACTION_SENTENCES))


@dataclass
class Names:
    """What the lines name: users, cohorts, modules and cases by their ids or slugs."""

    users: dict[int, str] = field(default_factory=dict)
    cohorts: dict[int, str] = field(default_factory=dict)
    modules: Mapping[str, str] = field(default_factory=dict)
    cases: Mapping[str, str] = field(default_factory=dict)


def _user_ids(row: AuditRow) -> Iterator[int]:
    for value in (row.actor_id, row.subject_id):
        if value is not None:
            yield value
    for details in (row.before, row.after):
        for key in USER_FIELDS:
            value = (details or {}).get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                yield value


def person_name(user: User) -> str:
    """A person as the trail names them: the name, and the user name when it differs."""
    if user.display_name and user.display_name != user.username:
        return f"{user.display_name} ({user.username})"
    return user.username


def names_for(
    session: Session,
    rows: Sequence[AuditRow],
    modules: Mapping[str, str] | None = None,
    cases: Mapping[str, str] | None = None,
) -> Names:
    """The names the rows need, in two queries."""
    user_ids = {i for row in rows for i in _user_ids(row)}
    cohort_ids = {
        int(row.target_id)
        for row in rows
        if row.target_type == "cohort" and row.target_id.isdigit()
    }
    users = (
        {u.id: person_name(u) for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    cohorts: dict[int, str] = (
        {
            cohort_id: name
            for cohort_id, name in session.execute(
                select(Cohort.id, Cohort.name).where(Cohort.id.in_(cohort_ids))
            )
        }
        if cohort_ids
        else {}
    )
    return Names(users, cohorts, modules or {}, cases or {})


@dataclass(frozen=True)
class AuditLine:
    """One event in words."""

    id: int
    at: datetime  # UTC; the page and the export show it in the site's zone
    action: str
    who: str
    what: str
    whom: str
    details: list[str]
    reason: str


def _value(key: str, value: Any, names: Names, label: Callable[..., str], timezone: str) -> str:
    """A detail's value in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return label(N_("Yes")) if value else label(N_("No"))
    if key in USER_FIELDS and isinstance(value, int):
        return names.users.get(value, label(N_("account %(id)s"), id=value))
    if isinstance(value, str) and (key, value) in VALUE_LABELS:  # a list or dict: no label
        return label(VALUE_LABELS[(key, value)])
    if key == "module":
        return names.modules.get(str(value), str(value))
    if key == "case":
        return names.cases.get(str(value), str(value))
    if key == "requirement":
        return requirement_name(str(value), names.modules, label)
    if key == "expires_at" and isinstance(value, str):
        try:
            return str(local_date(datetime.fromisoformat(value), timezone))
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _details(row: AuditRow, names: Names, label: Callable[..., str], timezone: str) -> list[str]:
    """The before and after fields as sentences: a change as "field: before → after"."""
    before, after = row.before or {}, row.after or {}
    lines = []
    for key in [*after, *(k for k in before if k not in after)]:
        if key == "user_id" and after.get(key, before.get(key)) == row.subject_id:
            continue  # already named under "to whom"
        name = label(FIELD_LABELS[key]) if key in FIELD_LABELS else key
        if key in before and key in after:
            lines.append(
                label(
                    N_("%(field)s: %(before)s → %(after)s"),
                    field=name,
                    before=_value(key, before[key], names, label, timezone),
                    after=_value(key, after[key], names, label, timezone),
                )
            )
        elif key in after:
            lines.append(
                label(
                    N_("%(field)s: %(value)s"),
                    field=name,
                    value=_value(key, after[key], names, label, timezone),
                )
            )
        else:
            lines.append(
                label(
                    N_("%(field)s (before): %(value)s"),
                    field=name,
                    value=_value(key, before[key], names, label, timezone),
                )
            )
    return lines


def _whom(row: AuditRow, names: Names, label: Callable[..., str]) -> str:
    if row.subject_id is not None:
        return names.users.get(row.subject_id, label(N_("account %(id)s"), id=row.subject_id))
    if row.target_type == "cohort" and row.target_id.isdigit():
        cohort = names.cohorts.get(int(row.target_id))
        return label(N_("Cohort %(name)s"), name=cohort) if cohort else ""
    if row.target_type == "content_document":
        return str((row.after or {}).get("path", ""))
    return ""


def audit_lines(
    rows: Sequence[AuditRow], names: Names, label: Callable[..., str], timezone: str
) -> list[AuditLine]:
    """The rows in words, each actor and person by name."""
    found = []
    for row in rows:
        who = (
            names.users.get(row.actor_id, label(N_("account %(id)s"), id=row.actor_id))
            if row.actor_id is not None
            else label(N_("system"))
        )
        what = label(action_sentence(row.action)) if row.action in ACTION_SENTENCES else row.action
        found.append(
            AuditLine(
                row.id,
                row.at,
                row.action,
                who,
                what,
                _whom(row, names, label),
                _details(row, names, label, timezone),
                row.reason,
            )
        )
    return found


def iter_lines(
    session: Session,
    query: AuditQuery,
    timezone: str,
    label: Callable[..., str],
    modules: Mapping[str, str] | None = None,
    cases: Mapping[str, str] | None = None,
) -> Iterator[AuditLine]:
    """Every matching event in words, named a batch at a time (for the exports)."""
    rows: Iterable[AuditRow] = iter_audit(session, query, timezone)
    iterator = iter(rows)
    while batch := list(islice(iterator, EXPORT_BATCH)):
        yield from audit_lines(batch, names_for(session, batch, modules, cases), label, timezone)


def audit_cells(line: AuditLine, timezone: str) -> list[Cell]:
    """One event as the exports write it: the same words as the page."""
    return [
        local_datetime(line.at, timezone),
        line.who,
        line.what,
        line.whom,
        "; ".join(line.details),
        line.reason,
    ]
