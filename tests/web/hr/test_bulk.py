"""Bulk actions on the learner table: remind or enrol the ticked learners or all that
match the filter, after a confirmation that states the count; audited; CSRF; a manager
acts on their own branch only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from courseware.core.models import (
    AuditEvent,
    CohortMembership,
    LearnerContact,
    Notice,
    Reminder,
)
from tests.conftest import csrf_token, login, post
from tests.hr.test_reports import AT, DAY, NOW, add_cohort, add_learner, join

EN = {"Accept-Language": "en"}


pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture
def late(db):
    """Six overdue learners in 台北分行 with addresses, and two in 台中分行."""
    spring = add_cohort(db, "spring", AT.today - 3 * DAY)
    ids = {}
    for n in range(8):
        branch = "台北分行" if n < 6 else "台中分行"
        user_id = add_learner(db, f"late{n}", branch=branch)
        join(db, user_id, spring)
        db.add(LearnerContact(user_id=user_id, email=f"late{n}@bank.example", updated_at=NOW))
        ids[f"late{n}"] = user_id
    db.commit()
    return ids


def act(client, form: dict) -> str:
    """Post a bulk action; the page it leads to, in English."""
    response = post(
        client,
        "/hr/learners/bulk",
        form,
        token_from="/hr/learners",
        headers=EN,
        follow_redirects=True,
    )
    return response.get_data(as_text=True)


def confirm_count(html: str) -> int:
    match = re.search(r'name="confirmed" value="(\d+)"', html)
    assert match, html[:2000]
    return int(match.group(1))


def test_bulk_remind_all_matching_confirms_the_count_then_sends_and_audits(
    app,
    client,
    db,
    users,
    course,
    late,
    smtp_server,
):
    url, inbox = smtp_server
    app.config["SMTP_URL"] = url
    login(client, "hr")
    form = {"selection": "all", "action": "remind", "branch": "台北分行", "status": "overdue"}
    first = post(client, "/hr/learners/bulk", form, token_from="/hr/learners", headers=EN)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "Send reminders to 6 learners?" in html
    assert confirm_count(html) == 6 and not inbox.messages  # nothing sent before confirming
    text = act(client, {**form, "confirmed": "6"})
    assert "Reminders: 6 learners told in the app." in text and "Emails sent: 6." in text
    assert len(inbox.messages) == 6
    told = db.scalars(select(Notice.user_id).where(Notice.kind == "overdue")).all()
    assert sorted(told) == sorted(late[f"late{n}"] for n in range(6))
    assert db.scalar(select(Reminder.id).where(Reminder.user_id == late["late6"])) is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "learners.bulk")).one()
    assert event.actor_id == users["hr"].id
    assert event.after["action"] == "remind" and event.after["learners"] == 6
    assert event.after["filter"] == {"branch": "台北分行", "status": "overdue"}
    assert event.after["notices"] == 6 and event.after["emailed"] == 6
    trail = client.get("/hr/audit", headers=EN).get_data(as_text=True)
    assert "Acted on several learners at once" in trail and "Sent reminders" in trail
    assert "Action: Send a reminder" in trail and "Learners: 6" in trail
    assert "Notices written: 6" in trail
    again = act(client, {**form, "confirmed": "6"})
    assert "Reminders: 0 learners told in the app. Already reminded today: 6." in again
    assert len(inbox.messages) == 6 and db.scalar(select(func.count(Notice.id))) == 6


def test_bulk_remind_without_email_tells_each_learner_in_the_app(client, db, users, course, late):
    join(db, users["trainee"].id, add_cohort(db, "winter", AT.today - DAY))
    db.commit()
    login(client, "hr")
    form = {
        "selection": "selected",
        "ids": [late["late0"], users["trainee"].id],
        "action": "remind",
    }
    html = post(client, "/hr/learners/bulk", form, token_from="/hr/learners", headers=EN)
    assert "Send reminders to 2 learners?" in html.get_data(as_text=True)
    done = act(client, {**form, "confirmed": "2"})
    assert "Reminders: 2 learners told in the app." in done
    assert "Email is not configured, so the reminders are in the app only." in done
    assert db.scalar(select(Reminder.id)) is None
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "reminder.send")).all()
    assert event.actor_id == users["hr"].id and event.after["notices"] == 2
    learner = client.application.test_client()
    login(learner, "trainee")
    page = learner.get("/notices", headers=EN).get_data(as_text=True)
    assert "Your training is overdue" in page


def test_a_changed_count_asks_again(app, client, db, users, course, late, smtp_server):
    app.config["SMTP_URL"] = smtp_server[0]
    login(client, "hr")
    form = {"selection": "all", "action": "remind", "status": "overdue", "confirmed": "5"}
    response = post(client, "/hr/learners/bulk", form, token_from="/hr/learners", headers=EN)
    assert response.status_code == 200 and confirm_count(response.get_data(as_text=True)) == 8
    assert not smtp_server[1].messages


def test_bulk_enrol_the_ticked_learners_one_audited_move_each(client, db, users, course, late):
    autumn = add_cohort(db, "autumn", AT.today + 60 * DAY, "台北分行")
    db.commit()
    login(client, "hr")
    picked = [late["late0"], late["late2"]]
    page = client.get("/hr/learners?branch=台北分行").get_data(as_text=True)
    assert all(f'name="ids" value="{i}"' in page for i in picked)
    form = {"selection": "selected", "ids": picked, "action": "enrol", "target_cohort": autumn}
    html = post(client, "/hr/learners/bulk", form, token_from="/hr/learners", headers=EN)
    assert "Enrol 2 learners in autumn (due Apr 30, 2026)?" in html.get_data(as_text=True)
    post(client, "/hr/learners/bulk", {**form, "confirmed": "2"}, token_from="/hr/learners")
    db.expire_all()
    current = db.scalars(
        select(CohortMembership.user_id).where(
            CohortMembership.cohort_id == autumn, CohortMembership.left_at.is_(None)
        )
    ).all()
    assert sorted(current) == sorted(picked)
    moves = db.scalars(select(AuditEvent).where(AuditEvent.action == "cohort.assign")).all()
    assert sorted(int(e.target_id) for e in moves) == sorted(picked)
    summary = db.scalars(select(AuditEvent).where(AuditEvent.action == "learners.bulk")).one()
    assert summary.after["learners"] == 2 and summary.after["ids"] == picked


def test_a_manager_cannot_act_on_another_branchs_learner_by_tampering(
    client, db, users, course, late
):
    own = add_cohort(db, "北班", AT.today + 60 * DAY, "台北分行")
    db.commit()
    login(client, "manager")  # 台北分行
    page = client.get("/hr/learners").get_data(as_text=True)
    assert f'value="{late["late6"]}"' not in page  # 台中分行: not even listed
    form = {
        "selection": "selected",
        "ids": [late["late0"], late["late6"]],
        "action": "enrol",
        "target_cohort": own,
        "confirmed": "2",
    }
    response = post(client, "/hr/learners/bulk", form, token_from="/hr/learners")
    assert response.status_code == 403
    everyone = {
        "selection": "all",
        "status": "overdue",
        "action": "enrol",
        "target_cohort": own,
        "confirmed": "6",
    }
    post(client, "/hr/learners/bulk", everyone, token_from="/hr/learners")  # all = own branch
    db.expire_all()
    moved = set(
        db.scalars(select(CohortMembership.user_id).where(CohortMembership.cohort_id == own))
    )
    assert late["late6"] not in moved and late["late7"] not in moved
    assert moved == {late[f"late{n}"] for n in range(6)}
    other = add_cohort(db, "中班", AT.today + 60 * DAY, "台中分行")
    db.commit()
    foreign = {**everyone, "target_cohort": other}
    post(client, "/hr/learners/bulk", foreign, token_from="/hr/learners")
    db.expire_all()
    assert db.scalar(select(CohortMembership.id).where(CohortMembership.cohort_id == other)) is None


def test_bulk_actions_need_the_csrf_token(client, users, course, late):
    login(client, "hr")
    csrf_token(client, "/hr/learners")
    response = client.post("/hr/learners/bulk", data={"selection": "all", "action": "enrol"})
    assert response.status_code == 400


def test_bulk_set_and_move_due_dates_change_status_and_are_audited(client, db, users, course, late):
    """Set: the ticked overdue learners get a date next month (no longer overdue); move:
    theirs moves back a month (overdue again); learners in no cohort are skipped; the
    cohort keeps its own date."""
    from courseware.core.models import Cohort
    from courseware.hr.compliance import Scope
    from courseware.hr.learner_table import LearnerQuery, iter_learners
    from courseware.hr.reports import course_keys

    login(client, "hr")
    picked = [late["late0"], late["late1"], users["trainee"].id]  # the trainee: no cohort
    form = {"selection": "selected", "ids": picked, "action": "due_set", "due_set": "2026-04-01"}
    html = post(client, "/hr/learners/bulk", form, token_from="/hr/learners", headers=EN)
    text = html.get_data(as_text=True)
    assert "Set the due date of 3 learners to Apr 1, 2026?" in text
    assert "Learners in no cohort have no due date and are skipped: 1." in text
    done = act(client, {**form, "confirmed": "3"})
    assert "Due dates changed: 2. In no cohort, so skipped: 1." in done

    def standing():
        db.rollback()  # see what the requests committed
        from courseware.certification.policy import Policy
        from courseware.content.catalogue import build_catalogue
        from courseware.content.store import published_sources

        keys = course_keys(build_catalogue(*published_sources(db)), Policy())
        rows = iter_learners(db, AT, Scope(), LearnerQuery(), keys)
        return {r.user_id: (r.status, r.due_date) for r in rows}

    found = standing()
    assert found[late["late0"]][1].isoformat() == "2026-04-01"
    assert found[late["late0"]][0] != "overdue" and found[late["late2"]][0] == "overdue"
    assert db.scalar(select(Cohort.due_date).where(Cohort.name == "spring")) == AT.today - 3 * DAY
    moved = {"selection": "selected", "ids": picked[:1], "action": "due_move", "due_move": "-40"}
    again = act(client, {**moved, "confirmed": "1"})
    assert "Due dates changed: 1." in again, re.findall(r'class="flash[^>]*>([^<]*)', again)
    assert standing()[late["late0"]] == ("overdue", AT.today + 31 * DAY - 40 * DAY)
    changes = db.scalars(select(AuditEvent).where(AuditEvent.action == "learner.due_date")).all()
    assert [(int(e.target_id), e.after["due_date"]) for e in changes] == [
        (late["late0"], "2026-04-01"),
        (late["late1"], "2026-04-01"),
        (late["late0"], "2026-02-20"),
    ]
    bad = {**moved, "due_move": "0", "confirmed": "1"}
    refused = post(client, "/hr/learners/bulk", bad, token_from="/hr/learners", headers=EN)
    assert refused.status_code == 302
