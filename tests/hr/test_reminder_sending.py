"""Reminder emails go out after the notices are committed, with no transaction open.

HR's reminders and ``courseware reminders run`` used to write each notice and send its
email inside one transaction, committed at the end: on SQLite a POST's transaction holds
the database's one write lock (BEGIN IMMEDIATE), so for the tens of seconds that a thousand
emails take, a learner's quiz or lesson waited out its busy timeout and answered 503. Here
the mail server is held in the middle of a send while a learner writes, with a short busy
timeout; and a sender that stops between the commit and the sending leaves its notices
``pending`` for the next run, not lost.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from courseware.certification.policy import Policy
from courseware.core.db import begin_write, make_engine, make_session_factory
from courseware.core.mail import Message
from courseware.core.models import AuditEvent, Notice, Reminder
from courseware.hr import notices, reminders
from tests.conftest import make_user
from tests.hr.test_cohorts import FakeMailer, compose, row
from tests.hr.test_reports import NOW

BUSY_TIMEOUT_MS = 300
HOLD_SECONDS = 30  # the mailer waits at most this long for the learner's write


class HeldMailer(FakeMailer):
    """A mail server that, on the first message, waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def send(self, message: Message) -> None:
        self.entered.set()
        self.release.wait(HOLD_SECONDS)
        super().send(message)


class Crash(Exception):
    """The process dies mid-send (killed, out of memory): not a mail error."""


class CrashingMailer(FakeMailer):
    def send(self, message: Message) -> None:
        raise Crash


@pytest.fixture
def hr(db):
    return make_user(db, "hr", role="hr")


def learners(db, hr, count: int) -> list:
    people = [make_user(db, f"p{n}") for n in range(count)]
    for person in people:
        reminders.set_contact(db, person, f"{person.username}@bank.example", hr.id)
    db.commit()
    return people


def test_a_learner_writes_while_hr_reminder_emails_are_sent(app: Flask, database_url: str, db, hr):
    people = learners(db, hr, 2)
    sessions = app.extensions["courseware.core.db"].sessions
    mailer = HeldMailer()
    outcomes: list[notices.Outcome] = []
    failures: list[Exception] = []

    def hr_reminds() -> None:
        try:
            with sessions() as session:
                begin_write(session)  # as HR's POST does (BEGIN IMMEDIATE on SQLite)
                rows = [row(p.id, "overdue") for p in people]
                outcomes.append(
                    notices.remind(session, rows, "Asia/Taipei", hr.id, mailer, compose, NOW)
                )
        except Exception as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    # The learner's own connection, giving up on a lock after BUSY_TIMEOUT_MS (not 5 s).
    other = make_engine(database_url, busy_timeout_ms=BUSY_TIMEOUT_MS)
    sending = threading.Thread(target=hr_reminds)
    sending.start()
    try:
        assert mailer.entered.wait(HOLD_SECONDS), "the mailer was not reached"
        with make_session_factory(other)() as learner:
            begin_write(learner)  # a learner's POST: "database is locked" before the change
            # The notice is committed before its email goes out: the learner reads it now.
            read = notices.mark_read(learner, people[0].id, None, NOW)
            learner.commit()
            pending = learner.scalars(
                select(Notice.email_status).where(Notice.user_id == people[0].id)
            ).all()
    finally:
        mailer.release.set()
        sending.join(HOLD_SECONDS)
        other.dispose()
    assert not failures, failures
    assert read == 1 and pending == ["pending"]
    [outcome] = outcomes
    assert (outcome.notices, outcome.emailed, outcome.email_failed) == (2, 2, 0)
    db.rollback()
    told = db.execute(select(Notice.email_status, Notice.read_at.is_not(None))).all()
    assert sorted(told) == [("sent", False), ("sent", True)]
    assert db.scalar(select(func.count()).select_from(Reminder)) == 2
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "reminder.send"))
    assert event.after == {"notices": 2, "emailed": 2, "failed": 0, "retried": 0}


def test_emails_are_written_in_batches(app: Flask, db, hr, monkeypatch):
    """Each batch's outcome is committed once it is sent: a crash later loses none of it."""
    monkeypatch.setattr(notices, "EMAIL_BATCH", 2)
    people = learners(db, hr, 3)
    mailer = FakeMailer()
    sent_before: list[int] = []
    original = mailer.send

    def counting(message: Message) -> None:
        with app.extensions["courseware.core.db"].sessions() as look:  # what is committed
            sent = select(func.count()).select_from(Notice).where(Notice.email_status == "sent")
            sent_before.append(look.scalar(sent) or 0)
        original(message)

    mailer.send = counting  # type: ignore[method-assign]
    rows = [row(p.id, "overdue") for p in people]
    outcome = notices.remind(db, rows, "Asia/Taipei", hr.id, mailer, compose, NOW)
    assert outcome.emailed == 3
    assert sent_before == [0, 0, 2]


def test_a_notice_left_pending_by_a_crash_is_emailed_by_the_next_run(db, hr):
    people = learners(db, hr, 2)
    rows = [row(p.id, "overdue") for p in people]
    with pytest.raises(Crash):
        notices.remind(db, rows, "Asia/Taipei", hr.id, CrashingMailer(), compose, NOW)
    db.rollback()  # the crashed request's session is gone; its first commit stays
    statuses = db.scalars(select(Notice.email_status)).all()
    assert statuses == ["pending", "pending"]
    assert db.scalar(select(func.count()).select_from(Reminder)) == 0

    # A run right after (HR's request may still be sending them) leaves them alone.
    mailer = FakeMailer()
    soon = notices.run_reminders(db, Policy(), "Asia/Taipei", mailer, compose, NOW)
    assert (soon.retried, soon.emailed) == (0, 0) and mailer.sent == []

    # The next run, later: each is emailed once and marked sent.
    later = NOW + notices.PENDING_FOR + timedelta(minutes=1)
    outcome = notices.run_reminders(db, Policy(), "Asia/Taipei", mailer, compose, later)
    assert (outcome.retried, outcome.emailed, outcome.email_failed) == (2, 2, 0)
    assert sorted(m.to for m in mailer.sent) == ["p0@bank.example", "p1@bank.example"]
    db.rollback()
    assert db.scalars(select(Notice.email_status)).all() == ["sent", "sent"]
    assert set(db.scalars(select(Reminder.status))) == {"sent"}
    again = notices.run_reminders(db, Policy(), "Asia/Taipei", mailer, compose, later)
    assert again.retried == 0 and len(mailer.sent) == 2
