"""Scheduled reminders (``courseware reminders run``) and the learner's in-app notices.

Each run looks at every active learner and writes what is due as a ``Notice``: due
soon (``reminders.due_soon_days`` before the cohort's due date), overdue, certificate
expiring (``reminders.expiring_days`` before expiry, the renewal path) and expired.
A notice's key (learner, reason, day) is unique, so a learner is told each thing once
however often the run is repeated. When a mailer is given, the learner's contact
address (``LearnerContact``) also gets it by email, recorded as a ``Reminder``.

HR's reminders (the bulk action on the learner table, the button on a learner's page)
take the same path (``deliver``): a notice in the app for each chosen learner who needs
one, and an email when mail is configured; its key names the day, so a learner gets
the same reminder from HR at most once a day, and not on a day the run already told them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ScalarSelect, func, select, update
from sqlalchemy.orm import Session

from courseware.certification.policy import Policy
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.db import begin_write
from courseware.core.errors import N_
from courseware.core.mail import MailError, Message
from courseware.core.models import LearnerContact, Notice, Reminder, User
from courseware.hr.compliance import Scope, learner_facts, local_date, moment
from courseware.hr.learner_table import LearnerRow
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
# A notice whose email is still ``pending`` this long after it was written was left by a
# sender that stopped (a crash between the commit and the sending): the runs email it.
PENDING_FOR = timedelta(minutes=15)
# Emails whose outcomes are written in one short transaction.
EMAIL_BATCH = 50
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


_T = TypeVar("_T")
# ``compose(due, address)`` writes the email copy of a notice.
Compose = Callable[[Due, str], Message]


@dataclass
class Outcome:
    """What a run or an HR reminder did: the notices written and what became of their email."""

    learners: int = 0  # learners looked at
    notices: int = 0  # notices written now
    already: int = 0  # told the same thing already (today, for an HR reminder)
    not_needed: int = 0  # nothing to remind them of
    emailed: int = 0
    email_failed: int = 0
    no_address: int = 0
    retried: int = 0
    error: str = ""  # the mail server could not be reached: no more emails are tried
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


def asked_for(row: LearnerRow, timezone: str, today: date) -> Due | None:
    """The reminder HR sends a learner by hand today, if they need one: overdue, renewal
    (expiring or expired) or, with a due date ahead, due. Its reason names the day, so
    the learner gets it once that day however often HR asks."""
    expires_on = local_date(row.expires_at, timezone)
    kind, day = None, None
    if row.status == "overdue" and row.due_date is not None:
        kind, day = "overdue", row.due_date
    elif row.status in ("expiring", "expired") and expires_on is not None:
        kind, day = row.status, expires_on
    elif row.status in ("in_progress", "not_started") and row.due_date is not None:
        kind, day = "due_soon", row.due_date
    if kind is None or day is None:
        return None
    return Due(row.user_id, kind, f"hr_{today.isoformat()}", day, row.display_name)


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


def _chunks(ids: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(ids), 500):
        yield ids[start : start + 500]


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    existing: set[str] = set()
    for chunk in _chunks(keys):
        existing.update(session.scalars(select(Notice.key).where(Notice.key.in_(chunk))))
    return existing


def _told_since(session: Session, items: Sequence[Due], since: datetime) -> set[tuple[int, str]]:
    """(learner, kind) pairs already told since ``since``, by the run or by HR."""
    told: set[tuple[int, str]] = set()
    for chunk in _chunks([d.user_id for d in items]):
        rows = session.execute(
            select(Notice.user_id, Notice.kind).where(
                Notice.user_id.in_(chunk), Notice.created_at >= since
            )
        )
        told.update((user_id, kind) for user_id, kind in rows)
    return told


def _addresses(session: Session, ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(LearnerContact.user_id, LearnerContact.email).where(
                LearnerContact.user_id.in_(chunk)
            )
        )
        found.update((user_id, email) for user_id, email in rows)
    return found


def deliver(
    session: Session,
    items: Sequence[Due],
    mailer: Sender | None,
    compose: Compose | None,
    now: datetime,
    actor_id: int | None = None,
    outcome: Outcome | None = None,
    retry: Sequence[Email] = (),
) -> Outcome:
    """The one place a reminder is sent: write each item's notice unless its key is on
    record and audit the lot (``reminder.run`` for the scheduled run, ``reminder.send``
    for HR), then email the notices (and ``retry``) when a mailer is given, each email
    recorded as a ``Reminder`` sent by ``actor_id``.

    Commits, in steps: the notices first (with whatever else the session holds: the
    caller's earlier writes go with them), an email's notice being ``pending`` until it
    is sent; then the emails go out with no transaction open (on SQLite no write lock is
    held while the mail server is talked to), and their outcomes (the notice's
    ``email_status``, the ``Reminder``) are written in short transactions of their own,
    EMAIL_BATCH emails each, the audit record (append-only, so written once, with the
    counts) with the last. Without emails to send, notices and audit are one commit. A
    crash after the first commit leaves notices ``pending``: the next run emails them
    (``emails_to_retry``). The caller commits what it writes after."""
    outcome = outcome or Outcome()
    mailing = mailer is not None and compose is not None
    existing = _existing_keys(session, [d.key for d in items])
    fresh = list({d.key: d for d in items if d.key not in existing}.values())
    outcome.already += len(items) - len(fresh)
    addresses = _addresses(session, [d.user_id for d in fresh]) if mailing else {}
    written: list[tuple[Notice, Due, str]] = []
    for item in fresh:
        notice = Notice(user_id=item.user_id, kind=item.kind, day=item.day, key=item.key)
        notice.created_at = now
        notice.email_status = "none"
        outcome.notices += 1
        outcome.by_kind[item.kind] = outcome.by_kind.get(item.kind, 0) + 1
        if mailing:
            address = addresses.get(item.user_id)
            if address:
                notice.email_status = "pending"
                written.append((notice, item, address))
            else:
                notice.email_status = "no_address"
                outcome.no_address += 1
        session.add(notice)
    session.flush()
    emails = [*retry, *(Email(n.id, item, address) for n, item, address in written)]
    if not (mailing and emails):
        _audit(session, actor_id, outcome)
        session.commit()
        return outcome
    session.commit()
    assert mailer is not None and compose is not None
    _send(session, mailer, compose, emails, outcome, now, actor_id)
    return outcome


def _audit(session: Session, actor_id: int | None, outcome: Outcome) -> None:
    """The audit record of a run (``reminder.run``) or of HR's reminder (``reminder.send``),
    with what became of the emails: written once they are sent."""
    if outcome.notices or outcome.retried:
        record(
            session,
            actor_id,
            "reminder.run" if actor_id is None else "reminder.send",
            "reminders",
            "",
            after={
                "notices": outcome.notices,
                "emailed": outcome.emailed,
                "failed": outcome.email_failed,
                "retried": outcome.retried,
            },
        )


def run_reminders(
    session: Session,
    policy: Policy,
    timezone: str,
    mailer: Sender | None = None,
    compose: Compose | None = None,
    now: datetime | None = None,
) -> Outcome:
    """The scheduled run: every notice that is due and not written yet, emailed when a
    mailer is given, and the emails a mail outage (or a crash before they went out) lost
    sent again. Commits as ``deliver`` does: the notices first, the emails after them."""
    now = now or utcnow()
    due = find_due(session, policy, timezone, now)
    outcome = Outcome(learners=len(due))
    retry: list[Email] = []
    if mailer is not None and compose is not None:
        retry = emails_to_retry(session, now)
        outcome.retried = len(retry)
    return deliver(session, due, mailer, compose, now, None, outcome, retry)


def remind(
    session: Session,
    rows: Iterable[LearnerRow],
    timezone: str,
    actor_id: int | None,
    mailer: Sender | None = None,
    compose: Compose | None = None,
    now: datetime | None = None,
) -> Outcome:
    """HR reminds the chosen learners: each who needs it gets a notice in the app and,
    with a mailer, an email; one told the same thing today (by HR or by the run) is
    skipped. Commits as ``deliver`` does: the notices first, the emails after them."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(timezone)).date()
    outcome = Outcome()
    wanted = []
    for row in rows:
        outcome.learners += 1
        item = asked_for(row, timezone, today)
        if item is None:
            outcome.not_needed += 1
        else:
            wanted.append(item)
    start = datetime.combine(today, time(), ZoneInfo(timezone))
    told = _told_since(session, wanted, start)
    fresh = [d for d in wanted if (d.user_id, d.kind) not in told]
    outcome.already += len(wanted) - len(fresh)
    return deliver(session, fresh, mailer, compose, now, actor_id, outcome)


@dataclass(frozen=True)
class Email:
    """A notice's email to send: plain values, so sending reads nothing from the database."""

    notice_id: int
    item: Due
    address: str | None


def emails_to_retry(session: Session, now: datetime) -> list[Email]:
    """The notices to email again: those whose email failed in the last RETRY_FOR (a mail
    outage), and those left ``pending`` for over PENDING_FOR (the sender stopped between
    writing the notice and sending its email; a younger one may be on its way now)."""
    rows = session.execute(
        select(Notice, User.display_name, LearnerContact.email)
        .join(User, User.id == Notice.user_id)
        .outerjoin(LearnerContact, LearnerContact.user_id == Notice.user_id)
        .where(
            Notice.created_at > now - RETRY_FOR,
            (Notice.email_status == "failed")
            | ((Notice.email_status == "pending") & (Notice.created_at < now - PENDING_FOR)),
        )
        .order_by(Notice.id)
    ).all()
    return [
        Email(
            notice.id,
            Due(notice.user_id, notice.kind, notice.key.split(":")[1], notice.day, name),
            address,
        )
        for notice, name, address in rows
    ]


@dataclass
class _Sent:
    notice_id: int
    status: str
    reminder: Reminder | None = None


def _send(
    session: Session,
    mailer: Sender,
    compose: Compose,
    emails: Sequence[Email],
    outcome: Outcome,
    now: datetime,
    actor_id: int | None,
) -> None:
    """Email each notice, no transaction open while the mail server is talked to; write
    the outcomes EMAIL_BATCH at a time, and the audit record with the last."""
    done: list[_Sent] = []
    for email in emails:
        done.append(_email(mailer, compose, email, outcome, now, actor_id))
        if len(done) >= EMAIL_BATCH:
            _write(session, done)
            done = []
    _write(session, done, (actor_id, outcome))


def _write(
    session: Session,
    done: Sequence[_Sent],
    audit: tuple[int | None, Outcome] | None = None,
) -> None:
    """One short transaction: the outcome of ``done`` (and, last, the audit record)."""
    if session.in_transaction():  # a read begun meanwhile: end it, start as a writer
        session.commit()
    begin_write(session)
    by_status: dict[str, list[int]] = {}
    for sent in done:
        by_status.setdefault(sent.status, []).append(sent.notice_id)
        if sent.reminder is not None:
            session.add(sent.reminder)
    for status, ids in by_status.items():
        for chunk in _chunks(ids):
            session.execute(
                update(Notice).where(Notice.id.in_(chunk)).values(email_status=status),
                execution_options={"synchronize_session": False},
            )
    if audit is not None:
        _audit(session, *audit)
    session.commit()


def _email(
    mailer: Sender,
    compose: Compose,
    email: Email,
    outcome: Outcome,
    now: datetime,
    actor_id: int | None,
) -> _Sent:
    item, address = email.item, email.address
    if not address:
        outcome.no_address += 1
        return _Sent(email.notice_id, "no_address")
    if outcome.error:  # the server is gone: not tried now, emailed again by the next run
        outcome.email_failed += 1
        return _Sent(email.notice_id, "failed")
    status, detail = "sent", ""
    try:
        mailer.send(compose(item, address))
    except MailError as exc:
        status, detail = "failed", str(exc)[:500]
        if exc.fatal:
            outcome.error = detail
    if status == "sent":
        outcome.emailed += 1
    else:
        outcome.email_failed += 1
    reminder = Reminder(
        user_id=item.user_id,
        sent_at=now,
        sent_by=actor_id,
        kind=REMINDER_KIND[item.kind],
        address=address,
        status=status,
        detail=detail,
    )
    return _Sent(email.notice_id, status, reminder)


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


def unread_of(user_id: ColumnElement[int] | int) -> ScalarSelect[int]:
    """The count of a learner's unread notices, as a subquery: the sign-in's user query
    carries it (``User.id``), so the header shows it at no extra query."""
    return (
        select(func.count())
        .select_from(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .scalar_subquery()
    )


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(unread_of(user_id))) or 0


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
