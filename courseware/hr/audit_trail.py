"""Reading the audit trail: filter by action, actor and dates; pages; rows for export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.orm import Session, aliased

from courseware.core.errors import N_
from courseware.core.models import AuditEvent, User
from courseware.hr.compliance import local_datetime
from courseware.hr.exports import Cell

PER_PAGE = 50
AUDIT_COLUMNS = (
    N_("When"),
    N_("Who"),
    N_("Action"),
    N_("Target"),
    N_("Before"),
    N_("After"),
    N_("Reason"),
)

# What each recorded action and target type is called on the page (the exports keep the
# codes, which scripts filter on).
ACTION_LABELS = {
    "account.anonymise": N_("Account anonymised"),
    "account.create": N_("Account created"),
    "account.import": N_("Accounts imported"),
    "account.password_change": N_("Password changed"),
    "account.password_reset": N_("Password reset"),
    "account.update": N_("Account changed"),
    "case.reset": N_("Case decision reset"),
    "certificate.earned": N_("Certificate earned"),
    "certificate.renewal": N_("Certificate renewed"),
    "certificate.manual": N_("Certificate issued by hand"),
    "certificate.revoke": N_("Certificate revoked"),
    "cohort.assign": N_("Added to a cohort"),
    "cohort.create": N_("Cohort created"),
    "cohort.due_date": N_("Cohort due date changed"),
    "cohort.remove": N_("Removed from a cohort"),
    "cohort.update": N_("Cohort changed"),
    "contact.update": N_("Reminder email changed"),
    "content.publish": N_("Course material published"),
    "content.return": N_("Course material sent back"),
    "content.submit": N_("Course material sent for review"),
    "exemption.grant": N_("Exemption granted"),
    "quiz.reset": N_("Quiz attempt reset"),
    "reminder.send": N_("Reminders sent"),
}
TARGET_LABELS = {
    "user": N_("Account"),
    "users": N_("Accounts"),
    "certificate": N_("Certificate"),
    "cohort": N_("Cohort"),
    "content_document": N_("Course material"),
    "quiz_attempt": N_("Quiz attempt"),
    "case_decision": N_("Case decision"),
    "reminders": N_("Reminders"),
}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditQuery:
    action: str = ""
    actor: str = ""  # a user name
    since: date | None = None  # local days, both ends included
    until: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditQuery:
        page = (args.get("page") or "").strip()
        return cls(
            action=(args.get("action") or "").strip()[:48],
            actor=(args.get("actor") or "").strip()[:64],
            since=_day(args.get("since")),
            until=_day(args.get("until")),
            page=int(page) if page.isdigit() and len(page) < 7 else 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        query = replace(self, **changes)
        found = {
            "action": query.action,
            "actor": query.actor,
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
    actor: str | None
    action: str
    target_type: str
    target_id: str
    target_name: str | None
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


def _conditions(query: AuditQuery, timezone: str) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.action:
        found.append(AuditEvent.action == query.action)
    if query.actor:
        actor_ids = select(User.id).where(func.lower(User.username) == query.actor.lower())
        found.append(AuditEvent.actor_id.in_(actor_ids))
    if query.since:
        found.append(AuditEvent.at >= _start(query.since, timezone))
    if query.until:
        found.append(AuditEvent.at < _start(query.until + timedelta(days=1), timezone))
    return found


def _statement(query: AuditQuery, timezone: str) -> Any:
    actor = aliased(User, name="actor")
    target = aliased(User, name="target_user")
    return (
        select(AuditEvent, actor.username, target.username)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(
            target,
            (AuditEvent.target_type == "user") & (cast(target.id, String) == AuditEvent.target_id),
        )
        .where(*_conditions(query, timezone))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def _row(event: AuditEvent, actor: str | None, target: str | None) -> AuditRow:
    return AuditRow(
        event.id,
        event.at,
        actor,
        event.action,
        event.target_type,
        event.target_id,
        target,
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
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def target_text(row: AuditRow, label: Callable[[str], str] | None = None) -> str:
    """The target as ``type id (name)``; with ``label``, the type in the reader's words."""
    kind = row.target_type
    if label is not None and kind in TARGET_LABELS:
        kind = label(TARGET_LABELS[kind])
    shown = f"{kind} {row.target_id}".strip()
    return f"{shown} ({row.target_name})" if row.target_name else shown


def audit_cells(row: AuditRow, timezone: str, label: Callable[[str], str]) -> list[Cell]:
    """One event as the page shows it and the exports write it."""
    return [
        local_datetime(row.at, timezone),
        row.actor or label(N_("system")),
        row.action,
        target_text(row),
        _json(row.before),
        _json(row.after),
        row.reason,
    ]
