"""Reminder emails to learners about their due date or renewal, and where they go.

Accounts carry no email address: HR (or the CSV import) sets one per learner. Every
reminder sent or tried is recorded, with who sent it, when and to which address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.mail import MailError, Message
from courseware.core.models import LearnerContact, Reminder, User
from courseware.hr.cohorts import CohortError
from courseware.hr.learner_table import LearnerRow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# A learner reminded this recently is skipped, so a double click sends one email.
REMINDER_GAP = timedelta(hours=20)
MAX_REMINDERS = 500


def email_problem(email: str) -> str | None:
    if len(email) > 254 or not EMAIL_RE.match(email):
        return N_("That does not look like an email address.")
    return None


def set_contact(session: Session, user: User, email: str, actor_id: int | None) -> None:
    """Set (or, with an empty address, clear) where the learner's reminders go."""
    email = email.strip()
    contact = session.get(LearnerContact, user.id)
    before = {"email": contact.email} if contact else None
    if not email:
        if contact is not None:
            session.delete(contact)
            record(session, actor_id, "contact.update", "user", user.id, before=before)
        return
    if problem := email_problem(email):
        raise CohortError("email", problem)
    if contact is None:
        session.add(LearnerContact(user_id=user.id, email=email, updated_at=utcnow()))
    elif contact.email == email:
        return
    else:
        contact.email, contact.updated_at = email, utcnow()
    record(
        session, actor_id, "contact.update", "user", user.id, before=before, after={"email": email}
    )


def reminder_kind(row: LearnerRow) -> str | None:
    """Which reminder a learner needs now, if any."""
    if row.status == "overdue":
        return "overdue"
    if row.status in ("expiring", "expired"):
        return "renewal"
    if row.status in ("in_progress", "not_started") and row.due_date is not None:
        return "due"
    return None


@dataclass
class ReminderOutcome:
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    recently_reminded: int = 0
    not_needed: int = 0
    error: str = ""  # set when the mail server could not be reached; sending stopped


class Sender:
    """What ``send_reminders`` needs from a mailer (``courseware.core.mail.Mailer``)."""

    def send(self, message: Message) -> None:  # pragma: no cover - protocol
        raise NotImplementedError


def send_reminders(
    session: Session,
    rows: Iterable[LearnerRow],
    mailer: Sender,
    compose: Callable[[LearnerRow, str, str], Message],
    actor_id: int | None,
    now: datetime | None = None,
) -> ReminderOutcome:
    """Email each learner who needs a reminder and record each one sent or failed.

    ``compose(row, kind, address)`` writes the message. When the mail server cannot
    be reached, that failure is recorded, ``error`` says why and sending stops.
    """
    now = now or utcnow()
    outcome = ReminderOutcome()
    wanted: list[tuple[LearnerRow, str]] = []
    for row in rows:
        kind = reminder_kind(row)
        if kind is None:
            outcome.not_needed += 1
        elif len(wanted) < MAX_REMINDERS:
            wanted.append((row, kind))
    ids = [row.user_id for row, _ in wanted]
    addresses = dict(
        session.execute(
            select(LearnerContact.user_id, LearnerContact.email).where(
                LearnerContact.user_id.in_(ids)
            )
        ).all()
    )
    recent = set(
        session.scalars(
            select(Reminder.user_id).where(
                Reminder.user_id.in_(ids),
                Reminder.status == "sent",
                Reminder.sent_at > now - REMINDER_GAP,
            )
        )
    )
    for row, kind in wanted:
        address = addresses.get(row.user_id)
        if not address:
            outcome.no_address += 1
            continue
        if row.user_id in recent:
            outcome.recently_reminded += 1
            continue
        status, detail = "sent", ""
        try:
            mailer.send(compose(row, kind, address))
        except MailError as exc:
            status, detail = "failed", str(exc)[:500]
            outcome.error = detail if exc.fatal else outcome.error
        session.add(
            Reminder(
                user_id=row.user_id,
                sent_at=now,
                sent_by=actor_id,
                kind=kind,
                address=address,
                status=status,
                detail=detail,
            )
        )
        if status == "sent":
            outcome.sent += 1
        else:
            outcome.failed += 1
        if outcome.error:
            break  # the server is gone: the rest would fail the same way
    if outcome.sent or outcome.failed:
        record(
            session,
            actor_id,
            "reminder.send",
            "reminders",
            "",
            after={"sent": outcome.sent, "failed": outcome.failed},
        )
    return outcome


def reminders_for(session: Session, user_id: int) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder).where(Reminder.user_id == user_id).order_by(Reminder.sent_at.desc())
        )
    )
