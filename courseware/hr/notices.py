"""Scheduled reminders (``courseware reminders run``) and the learner's in-app notices.

Each run looks at every active learner and writes what is due as a ``Notice``: due
soon (``reminders.due_soon_days`` before the cohort's due date), overdue, certificate
expiring (``reminders.expiring_days`` before expiry, the renewal path) and expired.
A notice's key (learner, reason, day) is unique, so a learner is told each thing once
however often the run is repeated. When a mailer is given, the learner's contact
address (``LearnerContact``) also gets it by email, recorded as a ``Reminder``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from courseware.certification.policy import Policy
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.mail import MailError, Message
from courseware.core.models import LearnerContact, Notice, Reminder, User
from courseware.hr.compliance import Scope, learner_facts, local_date, moment
from courseware.hr.reminders import Sender

KINDS = ("due_soon", "overdue", "expiring", "expired")
# What each notice says; ``day`` is the due date or the certificate's expiry.
NOTICE_TITLES = {
    "due_soon": N_("Your training is due soon"),
    "overdue": N_("Your training is overdue"),
    "expiring": N_("Time to renew your certificate"),
    "expired": N_("Your certificate has expired"),
}
NOTICE_TEXTS = {
    "due_soon": N_("Please complete your training by %(day)s."),
    "overdue": N_(
        "Your training was due on %(day)s and is not complete yet. "
        "Please finish it as soon as you can."
    ),
    "expiring": N_(
        "Your certificate is valid until %(day)s. Your renewal path is open: pass the "
        "renewal assessment and decide the renewal loan cases."
    ),
    "expired": N_(
        "Your certificate expired on %(day)s. Pass the renewal assessment and decide "
        "the renewal loan cases to be certified again."
    ),
}
# The HR reminder kinds (``Reminder.kind``) the emails are recorded under.
# A notice whose email failed (the mail server was down) is emailed again by the runs
# within this long after it was written; after that it stays in the app only.
RETRY_FOR = timedelta(days=2)
REMINDER_KIND = {
    "due_soon": "due",
    "overdue": "overdue",
    "expiring": "renewal",
    "expired": "renewal",
}


@dataclass(frozen=True)
class Due:
    user_id: int
    kind: str
    reason: str
    day: date
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.user_id}:{self.reason}:{self.day.isoformat()}"


@dataclass
class RunOutcome:
    learners: int = 0
    notices: int = 0
    already: int = 0
    emailed: int = 0
    email_failed: int = 0
    no_address: int = 0
    retried: int = 0
    error: str = ""
    by_kind: dict[str, int] = field(default_factory=dict)


def _threshold(days_left: int, thresholds: Sequence[int]) -> int | None:
    """The smallest threshold at or above ``days_left`` (None when none applies)."""
    fitting = [t for t in thresholds if t >= days_left]
    return min(fitting) if fitting and days_left >= 0 else None


def due_for(
    status: str,
    user_id: int,
    due_date: date | None,
    expires_on: date | None,
    today: date,
    policy: Policy,
) -> Due | None:
    """What one learner should be told today, if anything."""
    rules = policy.reminders
    if status in ("in_progress", "not_started") and due_date is not None:
        days = _threshold((due_date - today).days, rules.due_soon_days)
        if days is not None:
            return Due(user_id, "due_soon", f"due_soon_{days}", due_date)
    elif status == "overdue" and due_date is not None:
        return Due(user_id, "overdue", "overdue", due_date)
    elif status in ("certified", "expiring") and expires_on is not None:
        window = policy.certification.renewal_window_days
        inside = [d for d in rules.expiring_days if d <= window]
        days = _threshold((expires_on - today).days, inside)
        if days is not None:
            return Due(user_id, "expiring", f"expiring_{days}", expires_on)
    elif status == "expired" and expires_on is not None:
        return Due(user_id, "expired", "expired", expires_on)
    return None


def find_due(session: Session, policy: Policy, timezone: str, now: datetime) -> list[Due]:
    at = moment(now, timezone, policy)
    facts = learner_facts(at, Scope()).subquery("facts")
    found = []
    rows = session.execute(
        select(
            facts.c.user_id,
            facts.c.status,
            facts.c.due_date,
            facts.c.expires_at,
            facts.c.display_name,
        )
    )
    for user_id, status, due_date, expires_at, name in rows:
        due = due_for(status, user_id, due_date, local_date(expires_at, timezone), at.today, policy)
        if due is not None:
            found.append(replace(due, name=name))
    return found


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing.update(session.scalars(select(Notice.key).where(Notice.key.in_(chunk))))
    return existing


def run_reminders(
    session: Session,
    policy: Policy,
    timezone: str,
    mailer: Sender | None = None,
    compose: Callable[[Due, str], Message] | None = None,
    now: datetime | None = None,
) -> RunOutcome:
    """Write every notice that is due and not written yet; email each when a mailer is given.

    ``compose(due, address)`` writes the email. The caller commits.
    """
    now = now or utcnow()
    outcome = RunOutcome()
    due = find_due(session, policy, timezone, now)
    outcome.learners = len(due)
    existing = _existing_keys(session, [d.key for d in due])
    fresh = [d for d in due if d.key not in existing]
    outcome.already = len(due) - len(fresh)
    addresses: dict[int, str] = {}
    if mailer is not None and fresh:
        ids = [d.user_id for d in fresh]
        for start in range(0, len(ids), 500):
            addresses.update(
                (user_id, email)
                for user_id, email in session.execute(
                    select(LearnerContact.user_id, LearnerContact.email).where(
                        LearnerContact.user_id.in_(ids[start : start + 500])
                    )
                )
            )
    if mailer is not None and compose is not None:
        _retry_failed(session, mailer, compose, outcome, now)
    for item in fresh:
        notice = Notice(user_id=item.user_id, kind=item.kind, day=item.day, key=item.key)
        notice.created_at = now
        notice.email_status = "none"
        outcome.notices += 1
        outcome.by_kind[item.kind] = outcome.by_kind.get(item.kind, 0) + 1
        if mailer is not None and compose is not None:
            _email(
                session, mailer, compose, item, addresses.get(item.user_id), notice, outcome, now
            )
        session.add(notice)
    if outcome.notices or outcome.retried:
        record(
            session,
            None,
            "reminder.run",
            "reminders",
            "",
            after={
                "notices": outcome.notices,
                "emailed": outcome.emailed,
                "failed": outcome.email_failed,
                "retried": outcome.retried,
            },
        )
    return outcome


def _retry_failed(
    session: Session,
    mailer: Sender,
    compose: Callable[[Due, str], Message],
    outcome: RunOutcome,
    now: datetime,
) -> None:
    """Email again the notices whose email failed in the last RETRY_FOR (a mail outage)."""
    rows = session.execute(
        select(Notice, User.display_name, LearnerContact.email)
        .join(User, User.id == Notice.user_id)
        .outerjoin(LearnerContact, LearnerContact.user_id == Notice.user_id)
        .where(Notice.email_status == "failed", Notice.created_at > now - RETRY_FOR)
        .order_by(Notice.id)
    ).all()
    for notice, name, address in rows:
        if outcome.error:
            break
        item = Due(notice.user_id, notice.kind, notice.key.split(":")[1], notice.day, name)
        outcome.retried += 1
        _email(session, mailer, compose, item, address, notice, outcome, now)


def _email(
    session: Session,
    mailer: Sender,
    compose: Callable[[Due, str], Message],
    item: Due,
    address: str | None,
    notice: Notice,
    outcome: RunOutcome,
    now: datetime,
) -> None:
    if not address:
        notice.email_status = "no_address"
        outcome.no_address += 1
        return
    if outcome.error:  # the server is gone: not tried now, emailed again by the next run
        notice.email_status = "failed"
        outcome.email_failed += 1
        return
    status, detail = "sent", ""
    try:
        mailer.send(compose(item, address))
    except MailError as exc:
        status, detail = "failed", str(exc)[:500]
        if exc.fatal:
            outcome.error = detail
    notice.email_status = status
    if status == "sent":
        outcome.emailed += 1
    else:
        outcome.email_failed += 1
    session.add(
        Reminder(
            user_id=item.user_id,
            sent_at=now,
            sent_by=None,
            kind=REMINDER_KIND[item.kind],
            address=address,
            status=status,
            detail=detail,
        )
    )


def compose_email(
    item: Due,
    address: str,
    gettext: Callable[[str], str],
    link: str,
) -> Message:
    """The email copy of a notice, in the language ``gettext`` translates to."""
    subject = gettext(NOTICE_TITLES[item.kind])
    text = gettext(NOTICE_TEXTS[item.kind]) % {"day": item.day.isoformat()}
    greeting = gettext("Dear %(name)s,") % {"name": item.name}
    signature = gettext("Microloan Officer Academy")
    body = (
        f"{greeting}\n\n{text}\n\n{link}\n\n{signature}\n"
        if link
        else (f"{greeting}\n\n{text}\n\n{signature}\n")
    )
    return Message(address, subject, body)


# ------------------------------------------------------------- the learner's list


def notices_of(session: Session, user_id: int, limit: int = 100) -> list[Notice]:
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.user_id == user_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    session: Session, user_id: int, notice_id: int | None, now: datetime | None = None
) -> int:
    """Mark one of the learner's notices (or, with None, all of them) read; how many changed.

    Only the learner's own notices are touched: another's id changes nothing.
    """
    statement = update(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    if notice_id is not None:
        statement = statement.where(Notice.id == notice_id)
    result = session.execute(statement.values(read_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
