"""Where reminder emails go, and the record of those sent.

Accounts carry no email address: HR (or the CSV import) sets one per learner. Every
reminder email sent or tried is recorded, with who sent it, when and to which address;
what is sent and when is decided in one place, ``courseware.hr.notices``.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.mail import Message
from courseware.core.models import LearnerContact, Reminder, User
from courseware.hr.cohorts import CohortError

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


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


class Sender:
    """What ``notices.deliver`` needs from a mailer (``courseware.core.mail.Mailer``)."""

    def send(self, message: Message) -> None:  # pragma: no cover - protocol
        raise NotImplementedError


def reminders_for(session: Session, user_id: int) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder).where(Reminder.user_id == user_id).order_by(Reminder.sent_at.desc())
        )
    )
