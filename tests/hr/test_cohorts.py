"""Cohorts and due dates, memberships with history, contacts, reminders and the mailer."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from courseware.core.mail import MailError, Message, parse_smtp_url
from courseware.core.models import (
    AuditEvent,
    CohortMembership,
    LearnerContact,
    Notice,
    Reminder,
)
from courseware.hr import cohorts, notices, reminders
from courseware.hr.learner_table import LearnerRow
from tests.conftest import login, make_user, post
from tests.hr.test_reports import DAY, NOW


@pytest.fixture
def hr(db):
    return make_user(db, "hr", role="hr")


def audit(db, action):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_create_validates_and_audits(db, hr):
    cohort = cohorts.create_cohort(db, " 2026 春季班 ", "台北分行", date(2026, 6, 30), hr.id)
    db.commit()
    assert cohort.name == "2026 春季班"
    [event] = audit(db, "cohort.create")
    assert event.actor_id == hr.id and event.after["due_date"] == "2026-06-30"
    with pytest.raises(cohorts.CohortError) as raised:
        cohorts.create_cohort(db, "2026 春季班", "", date(2026, 7, 1), hr.id)
    assert raised.value.field == "name"
    for name, due, field in (
        ("", date(2026, 1, 1), "name"),
        ("x", None, "due_date"),
        ("y", date(1999, 1, 1), "due_date"),
    ):
        with pytest.raises(cohorts.CohortError) as raised:
            cohorts.create_cohort(db, name, "", due, hr.id)
        assert raised.value.field == field


def test_due_date_change_is_its_own_audit_event(db, hr):
    cohort = cohorts.create_cohort(db, "spring", "", date(2026, 6, 30), hr.id)
    cohorts.update_cohort(
        db,
        cohort,
        hr.id,
        name="spring",
        branch="",
        due_date=date(2026, 7, 31),
        reason="Branch opened late",
    )
    db.commit()
    [event] = audit(db, "cohort.due_date")
    assert (event.before["due_date"], event.after["due_date"]) == ("2026-06-30", "2026-07-31")
    assert event.reason == "Branch opened late"
    cohorts.update_cohort(
        db, cohort, hr.id, name="spring 2026", branch="台北分行", due_date=date(2026, 7, 31)
    )
    [renamed] = audit(db, "cohort.update")
    assert renamed.before == {"name": "spring", "branch": ""}
    assert len(audit(db, "cohort.due_date")) == 1


def test_one_current_cohort_each_with_history(db, hr):
    learner = make_user(db, "learner")
    spring = cohorts.create_cohort(db, "spring", "", date(2026, 6, 30), hr.id)
    autumn = cohorts.create_cohort(db, "autumn", "", date(2026, 12, 31), hr.id)
    assert cohorts.assign(db, spring, [learner], hr.id) == 1
    assert cohorts.assign(db, spring, [learner], hr.id) == 0  # already there
    assert cohorts.assign(db, autumn, [learner], hr.id) == 1
    db.commit()
    history = cohorts.membership_history(db, learner.id)
    assert [(c.name, m.left_at is None) for m, c in history] == [
        ("autumn", True),
        ("spring", False),
    ]
    assert cohorts.current_memberships(db, [learner.id])[learner.id].name == "autumn"
    moves = audit(db, "cohort.assign")
    assert [(e.before, e.after["cohort"]) for e in moves] == [
        (None, "spring"),
        ({"cohort": "spring"}, "autumn"),
    ]
    assert cohorts.remove(db, learner, hr.id) is True
    assert cohorts.remove(db, learner, hr.id) is False
    db.commit()
    assert cohorts.current_memberships(db, [learner.id]) == {}


def test_the_database_refuses_a_second_current_membership(db, hr):
    learner = make_user(db, "learner")
    spring = cohorts.create_cohort(db, "spring", "", date(2026, 6, 30), hr.id)
    autumn = cohorts.create_cohort(db, "autumn", "", date(2026, 12, 31), hr.id)
    db.add(CohortMembership(user_id=learner.id, cohort_id=spring.id, current_key=str(learner.id)))
    db.commit()
    db.add(CohortMembership(user_id=learner.id, cohort_id=autumn.id, current_key=str(learner.id)))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_only_trainees_of_the_cohort_branch_join(db, hr):
    trainer = make_user(db, "teacher", role="trainer")
    elsewhere = make_user(db, "south", branch="高雄分行")
    taipei = cohorts.create_cohort(db, "taipei", "台北分行", date(2026, 6, 30), hr.id)
    with pytest.raises(cohorts.CohortError, match="Only trainees"):
        cohorts.assign(db, taipei, [trainer], hr.id)
    with pytest.raises(cohorts.CohortError) as raised:
        cohorts.assign(db, taipei, [elsewhere], hr.id)
    assert raised.value.params["names"] == "south"


def test_find_learners_by_name_or_employee_id(db):
    one = make_user(db, "Wang.Ming")
    make_user(db, "teacher", role="trainer")
    found, unknown = cohorts.find_learners(db, ["wang.ming", "E-teacher", "nobody", " "])
    assert found == [one] and unknown == ["E-teacher", "nobody"]


# ---------------------------------------------------------------- contacts and reminders


def test_contact_addresses(db, hr):
    learner = make_user(db, "learner")
    reminders.set_contact(db, learner, "wang@bank.example", hr.id)
    reminders.set_contact(db, learner, "wang@bank.example", hr.id)  # unchanged: no event
    db.commit()
    assert db.get(LearnerContact, learner.id).email == "wang@bank.example"
    assert len(audit(db, "contact.update")) == 1
    with pytest.raises(cohorts.CohortError):
        reminders.set_contact(db, learner, "not an address", hr.id)
    reminders.set_contact(db, learner, "", hr.id)
    db.commit()
    assert db.get(LearnerContact, learner.id) is None


class FakeMailer:
    def __init__(self, fail_for=(), fatal=False):
        self.sent: list[Message] = []
        self.fail_for = set(fail_for)
        self.fatal = fatal

    def send(self, message: Message) -> None:
        if message.to in self.fail_for:
            raise MailError("refused", fatal=self.fatal)
        self.sent.append(message)


def row(
    user_id: int,
    status: str,
    due: date | None = date(2026, 2, 1),
    expires: datetime | None = None,
) -> LearnerRow:
    return LearnerRow(
        user_id, f"u{user_id}", f"U{user_id}", "", "", None, None, due, None, expires, None, status
    )


def compose(item: notices.Due, address: str) -> Message:
    return Message(address, item.kind, item.name)


def test_hr_reminders_go_to_those_who_need_them_once_a_day(db, hr):
    """Each learner who needs it gets a notice in the app, and an email where they have
    an address; asked again the same day, nobody is told twice; the next day, again."""
    people = [make_user(db, f"p{n}") for n in range(6)]
    for person in people[:5]:
        reminders.set_contact(db, person, f"{person.username}@bank.example", hr.id)
    db.commit()
    rows = [
        row(people[0].id, "overdue"),
        row(people[1].id, "expiring", None, NOW + timedelta(days=20)),
        row(people[2].id, "in_progress"),
        row(people[3].id, "in_progress", due=None),  # no due date: nothing to remind of
        row(people[4].id, "certified"),
        row(people[5].id, "overdue"),  # no address: in the app only
    ]
    mailer = FakeMailer(fail_for={"p1@bank.example"})
    outcome = notices.remind(db, rows, "Asia/Taipei", hr.id, mailer, compose, NOW)
    db.commit()
    assert (outcome.notices, outcome.not_needed, outcome.already) == (4, 2, 0)
    assert (outcome.emailed, outcome.email_failed, outcome.no_address) == (2, 1, 1)
    assert [(m.to, m.subject) for m in mailer.sent] == [
        ("p0@bank.example", "overdue"),
        ("p2@bank.example", "due_soon"),
    ]
    told = db.execute(select(Notice.user_id, Notice.kind, Notice.email_status)).all()
    assert sorted(told) == sorted(
        [
            (people[0].id, "overdue", "sent"),
            (people[1].id, "expiring", "failed"),
            (people[2].id, "due_soon", "sent"),
            (people[5].id, "overdue", "no_address"),
        ]
    )
    statuses = dict(db.execute(select(Reminder.address, Reminder.status)).all())
    assert statuses == {
        "p0@bank.example": "sent",
        "p1@bank.example": "failed",
        "p2@bank.example": "sent",
    }
    assert set(db.scalars(select(Reminder.sent_by))) == {hr.id}
    [event] = audit(db, "reminder.send")
    assert event.actor_id == hr.id and event.after["notices"] == 4
    later = NOW + timedelta(hours=6)  # the same day in Taipei
    again = notices.remind(db, rows, "Asia/Taipei", hr.id, FakeMailer(), compose, later)
    assert (again.notices, again.already, again.emailed) == (0, 4, 0)
    tomorrow = notices.remind(db, rows[:1], "Asia/Taipei", hr.id, mailer, compose, NOW + DAY)
    assert (tomorrow.notices, tomorrow.emailed) == (1, 1)


def test_hr_reminders_skip_what_the_run_told_today(db, hr):
    person = make_user(db, "p0")
    db.add(Notice(user_id=person.id, kind="overdue", day=date(2026, 2, 1), key="x", created_at=NOW))
    db.commit()
    outcome = notices.remind(db, [row(person.id, "overdue")], "Asia/Taipei", hr.id, now=NOW)
    assert (outcome.notices, outcome.already) == (0, 1)


def test_an_unreachable_server_stops_the_emails_not_the_notices(db, hr):
    people = [make_user(db, f"p{n}") for n in range(3)]
    for person in people:
        reminders.set_contact(db, person, f"{person.username}@bank.example", hr.id)
    mailer = FakeMailer(fail_for={"p0@bank.example"}, fatal=True)
    outcome = notices.remind(
        db, [row(p.id, "overdue") for p in people], "Asia/Taipei", hr.id, mailer, compose, NOW
    )
    assert (outcome.notices, outcome.emailed, outcome.email_failed) == (3, 0, 3)
    assert outcome.error == "refused"
    assert db.scalar(select(func.count()).select_from(Reminder)) == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.bank.example:2525", ("mail.bank.example", 2525, "", "", False, False)),
        ("smtp://mail.bank.example", ("mail.bank.example", 25, "", "", False, False)),
        ("smtps://u%40x:p%3Ass@mail:465", ("mail", 465, "u@x", "p:ss", True, False)),
        ("smtp://u:p@mail:587?starttls=1", ("mail", 587, "u", "p", False, True)),
    ],
)
def test_smtp_urls(url, expected):
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.username, s.password, s.tls, s.starttls) == expected


@pytest.mark.parametrize("url", ["http://mail:25", "smtp://", "mail.bank.example"])
def test_bad_smtp_urls(url):
    with pytest.raises(ValueError, match="smtp://"):
        parse_smtp_url(url)


# ---------------------------------------------------------------- the cohort pages


def test_hr_creates_a_cohort_assigns_learners_and_changes_the_due_date(client, db, users):
    login(client, "hr")
    response = post(
        client,
        "/hr/cohorts",
        {"name": "2026 春季班", "branch": "台北分行", "due_date": "2026-06-30"},
        token_from="/hr/cohorts",
    )
    assert response.status_code == 302
    path = response.location
    second = make_user(db, "second")
    response = post(
        client,
        f"{path}/members",
        {"learners": "trainee, E-second\nnobody"},
        token_from=path,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "No learner has the user name or employee id nobody." in response.get_data(as_text=True)
    response = post(client, f"{path}/members", {"learners": "trainee, E-second"}, token_from=path)
    assert response.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert "trainee 姓名" in html and "second 姓名" in html
    response = post(
        client,
        path,
        {
            "name": "2026 春季班",
            "branch": "台北分行",
            "due_date": "2026-07-15",
            "reason": "延後開課",
        },
        token_from=path,
    )
    assert response.status_code == 302
    [event] = audit(db, "cohort.due_date")
    assert event.actor_id == users["hr"].id and event.reason == "延後開課"
    cohort_id = int(path.rsplit("/", 1)[1])
    response = post(client, f"{path}/members/{second.id}/remove", token_from=path)
    assert response.status_code == 302
    assert "E-second" not in client.get(path).get_data(as_text=True)
    assert (
        post(
            client, f"/hr/cohorts/{cohort_id}/members/{second.id}/remove", token_from=path
        ).status_code
        == 404
    )


def test_cohort_form_errors_are_shown(client, users):
    login(client, "hr")
    response = post(
        client, "/hr/cohorts", {"name": "", "due_date": "not a date"}, token_from="/hr/cohorts"
    )
    assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True)


def test_audit_page_filters_and_exports(client, db, users):
    login(client, "hr")
    post(
        client,
        "/hr/cohorts",
        {"name": "spring", "due_date": "2026-06-30"},
        token_from="/hr/cohorts",
    )
    html = client.get("/hr/audit?action=cohort.create", headers={"Accept-Language": "en"})
    text = html.get_data(as_text=True)
    assert (
        "Created a cohort" in text
        and "1 entries match." in text
        and "Created an account" not in text.split("<tbody>")[1]
    )
    csv_text = client.get(
        "/hr/audit/export.csv?action=cohort.create&actor=hr", headers={"Accept-Language": "en"}
    ).data.decode("utf-8-sig")
    assert csv_text.count("Created a cohort") == 1 and "spring" in csv_text
    assert "cohort.create" not in csv_text
    empty = client.get("/hr/audit/export.csv?actor=nobody").data.decode("utf-8-sig")
    assert len(empty.strip().splitlines()) == 1
    dated = client.get(
        "/hr/audit?since=2000-01-01&until=2000-01-02", headers={"Accept-Language": "en"}
    )
    assert "0 entries match." in dated.get_data(as_text=True)
