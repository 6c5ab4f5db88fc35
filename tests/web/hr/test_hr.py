"""The HR pages: who reaches them, what a manager sees, exports equal to the filtered table,
formula injection, reminders by email, and a query count that stays flat with learners."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from html.parser import HTMLParser

import openpyxl
import pytest
from sqlalchemy import event, insert, select

from courseware.core import clock
from courseware.core.models import (
    AuditEvent,
    CaseDecision,
    Certificate,
    CohortMembership,
    LearnerContact,
    LessonProgress,
    Notice,
    QuizAttempt,
    Reminder,
    User,
)
from courseware.web.common import formats
from tests.conftest import free_port, login, make_user, post
from tests.hr.test_reports import (
    AT,
    DAY,
    NOW,
    add_certificate,
    add_cohort,
    add_learner,
    decision_row,
    join,
)

EN = {"Accept-Language": "en"}


pytestmark = pytest.mark.usefixtures("fixed_clock")


# ---------------------------------------------------------------- reading pages


class TableCells(HTMLParser):
    """The text of each body row of the first table with the given class."""

    def __init__(self, table_class: str):
        super().__init__()
        self.table_class = table_class
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and self.table_class in classes:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, table_class: str = "hr-learners") -> list[list[str]]:
    parser = TableCells(table_class)
    parser.feed(html)
    return parser.rows


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def xlsx_rows(data: bytes) -> list[list[str]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = []
    for row in book.active.iter_rows(values_only=True):
        cells = []
        for value in row:
            if isinstance(value, datetime):
                text = value.strftime(
                    "%Y-%m-%d"
                    if value.hour == value.minute == 0 and value.second == 0
                    else "%Y-%m-%d %H:%M"
                )
            else:
                text = "" if value is None else str(value)
            cells.append(text)
        rows.append(cells)
    book.close()
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows]  # read-only mode drops empty trailing cells


# ---------------------------------------------------------------- seeding


def seed(db, count: int, start: int = 0, branches=("台北分行", "台中分行")) -> None:
    """``count`` learners in bulk with certificates, cohorts, progress and reminders spread."""
    cohorts = [add_cohort(db, f"梯次{start}-{k}", AT.today + (k - 1) * 30 * DAY) for k in range(3)]
    users = (
        db.execute(
            insert(User).returning(User.id),
            [
                {
                    "username": f"l{n:05d}",
                    "display_name": f"學員{n:05d}",
                    "employee_id": f"E{n:05d}",
                    "branch": branches[n % len(branches)],
                    "role": "trainee",
                    "password_hash": "x",
                    "active": True,
                    "must_change_password": False,
                    "session_version": 1,
                    "created_at": NOW,
                }
                for n in range(start, start + count)
            ],
        )
        .scalars()
        .all()
    )
    certificates, memberships, lessons, attempts, decisions, reminders = [], [], [], [], [], []
    for n, user_id in zip(range(start, start + count), users, strict=True):
        if n % 3 == 1:
            expires = NOW + ((n % 11) * 20 - 40) * DAY
            certificates.append(
                {
                    "user_id": user_id,
                    "cycle": 1,
                    "code": f"MLA-{n:04d}-X",
                    "kind": "earned",
                    "issued_at": expires - 365 * DAY,
                    "expires_at": expires,
                    "issued_by": None,
                    "reason": "",
                    "evidence": {},
                    "revoked_by": None,
                    "revoke_reason": "",
                    "revoked_at": NOW - DAY if n % 7 == 0 else None,
                }
            )
        if n % 2 == 0:
            memberships.append(
                {
                    "user_id": user_id,
                    "cohort_id": cohorts[n % 3],
                    "joined_at": NOW - DAY,
                    "left_at": None,
                    "current_key": str(user_id),
                }
            )
        if n % 4 != 3:
            lessons += [
                {
                    "user_id": user_id,
                    "module_slug": "m1",
                    "lesson_slug": f"l{k}",
                    "first_viewed_at": NOW - DAY,
                    "last_viewed_at": NOW - DAY,
                    "completed_at": NOW - DAY if k else None,
                    "completed_revision_id": None,
                    "seconds_spent": 60,
                }
                for k in range(2)
            ]
        if n % 5 == 0:
            attempts.append(
                {
                    "user_id": user_id,
                    "kind": "module",
                    "module_slug": "m1",
                    "token": f"t{n}",
                    "status": "submitted",
                    "pass_mark": 0.8,
                    "started_at": NOW - DAY,
                    "submitted_at": NOW - DAY,
                    "score": 9,
                    "max_score": 10,
                    "passed": True,
                }
            )
        if n % 6 == 0:
            decisions.append(decision_row(user_id, n))
        if n % 9 == 0:
            reminders.append(
                {
                    "user_id": user_id,
                    "sent_at": NOW - 2 * DAY,
                    "sent_by": None,
                    "kind": "due",
                    "address": f"l{n}@bank.example",
                    "status": "sent",
                    "detail": "",
                }
            )
    for model, rows in (
        (Certificate, certificates),
        (CohortMembership, memberships),
        (LessonProgress, lessons),
        (QuizAttempt, attempts),
        (CaseDecision, decisions),
        (Reminder, reminders),
    ):
        if rows:
            db.execute(insert(model), rows)
    db.commit()


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("role", ["trainee", "trainer"])
def test_only_hr_managers_and_admins_reach_hr(client, users, role):
    login(client, role)
    for path in (
        "/hr",
        "/hr/learners",
        "/hr/learners/export.csv",
        "/hr/cohorts",
        "/hr/audit",
        f"/hr/learners/{users['trainee'].id}",
    ):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", ["hr", "admin", "manager"])
def test_hr_pages_open(client, users, course, role):
    login(client, role)
    for path in ("/hr", "/hr/learners", "/hr/cohorts", f"/hr/learners/{users['trainee'].id}"):
        assert client.get(path).status_code == 200, path
    assert client.get("/hr/audit").status_code == (403 if role == "manager" else 200)


def test_a_cohort_has_a_name_not_a_persons_name(client, users, course):
    """zh-Hant has two words for 'name': 姓名 is a person's, 名稱 a group's."""
    login(client, "hr")
    page = client.get("/hr/cohorts", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert '<th scope="col">梯次名稱</th>' in page and '<th scope="col">姓名</th>' not in page
    assert '<label for="name">梯次名稱</label>' in page


def test_header_links_to_hr(client, users, course):
    login(client, "hr")
    assert 'href="/hr"' in client.get("/course").get_data(as_text=True)


def test_manager_sees_only_their_branch(client, db, users, course):
    seed(db, 6)  # alternating 台北分行 / 台中分行
    manager = users["manager"]  # 台北分行
    other_cohort = add_cohort(db, "台中班", AT.today, "台中分行")
    db.commit()
    login(client, "manager")
    html = client.get("/hr/learners?per_page=100", headers=EN).get_data(as_text=True)
    branches = {row[3] for row in table_rows(html)}
    assert branches == {manager.branch}
    assert "台中分行" not in client.get("/hr", headers=EN).get_data(as_text=True)
    exported = csv_rows(client.get("/hr/learners/export.csv?branch=台中分行").data)
    assert exported[1:] == []  # asking for another branch finds nobody
    stranger = db.scalar(select(User).where(User.branch == "台中分行", User.role == "trainee"))
    assert client.get(f"/hr/learners/{stranger.id}").status_code == 404
    assert client.get(f"/hr/learners/{stranger.id}/export.csv").status_code == 404
    assert client.get(f"/hr/cohorts/{other_cohort}").status_code == 404
    assert post(client, "/hr/cohorts", {"name": "x", "due_date": "2026-05-01"}).status_code == 403
    assert post(client, "/hr/learners/reminders").status_code == 403
    own = add_cohort(db, "台北班", AT.today, manager.branch)
    db.commit()
    assert client.get(f"/hr/cohorts/{own}").status_code == 200
    assert (
        post(client, f"/hr/cohorts/{own}", {"name": "x", "due_date": "2026-05-01"}).status_code
        == 403
    )
    assert post(client, f"/hr/cohorts/{own}/members", {"learners": "trainee"}).status_code == 403


def test_manager_without_a_branch_sees_nobody(client, db, users, course):
    seed(db, 4)
    make_user(db, "lost", role="manager", branch="")
    login(client, "lost")
    html = client.get("/hr/learners", headers=EN).get_data(as_text=True)
    assert table_rows(html) == [["No learners match."]]
    assert len(csv_rows(client.get("/hr/learners/export.csv").data)) == 1


# ---------------------------------------------------------------- the table and its exports


def _as_shown(cell: str) -> str:
    """An exported cell as the page writes it: an ISO date in the locale's form."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
        return formats.date(date.fromisoformat(cell))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", cell):
        return " ".join(formats.cell(datetime.fromisoformat(cell)).split())
    return cell


def test_exports_equal_the_filtered_table(app, client, db, users, course):
    seed(db, 40)
    login(client, "hr")
    filters = "branch=台北分行&sort=expires&dir=desc&q=學員"
    html = client.get(f"/hr/learners?{filters}&per_page=100", headers=EN).get_data(as_text=True)
    shown = table_rows(html)
    assert len(shown) == 20
    page = client.get(f"/hr/learners?{filters}", headers=EN).get_data(as_text=True)
    assert "/hr/learners/export.csv?q=%E5%AD%B8%E5%93%A1&amp;branch=" in page  # carries filters
    exported_csv = csv_rows(client.get(f"/hr/learners/export.csv?{filters}", headers=EN).data)
    exported_xlsx = xlsx_rows(client.get(f"/hr/learners/export.xlsx?{filters}", headers=EN).data)
    assert exported_csv[0][:3] == ["Name", "User name", "Employee id"]
    # The page writes dates in the reader's locale (formats.cell), the exports in ISO form.
    with app.test_request_context(headers=EN):
        assert [[_as_shown(cell) for cell in row] for row in exported_csv[1:]] == shown
    assert exported_xlsx == exported_csv
    # Paging shows the same rows in the same order, 25 at a time.
    first = table_rows(
        client.get(f"/hr/learners?{filters}&per_page=25", headers=EN).get_data(as_text=True)
    )
    assert first == shown[:20]


def test_the_sort_can_be_chosen_in_the_form_and_the_form_keeps_it(client, db, users, course):
    """On a phone the headings are hidden: the filter form carries and chooses the sort."""
    seed(db, 12)
    login(client, "hr")
    html = client.get("/hr/learners?sort=branch&dir=desc&per_page=100", headers=EN).get_data(
        as_text=True
    )
    assert re.search(r'<option value="branch"\s+selected>Branch</option>', html)
    assert re.search(r'<option value="desc"\s+selected>Descending</option>', html)
    # Submitting the form as it stands (its sort fields included) changes nothing.
    by_branch = table_rows(html)
    again = client.get(
        "/hr/learners?q=&branch=&cohort=&status=&per_page=100&sort=branch&dir=desc", headers=EN
    ).get_data(as_text=True)
    assert table_rows(again) == by_branch
    branches = [row[3] for row in by_branch]
    assert branches == sorted(branches, reverse=True) and len(set(branches)) > 1
    ascending = table_rows(
        client.get("/hr/learners?sort=branch&dir=&per_page=100", headers=EN).get_data(as_text=True)
    )
    assert [row[3] for row in ascending] == sorted(branches)


def test_the_table_pages_keep_its_filters(client, db, users, course):
    seed(db, 60)
    login(client, "hr")
    first = client.get("/hr/learners?q=學員&per_page=25&sort=branch", headers=EN)
    page = first.get_data(as_text=True)
    assert "Page 1 of 3" in page and 'rel="prev"' not in page
    following = re.search(r'<a href="([^"]+)" rel="next">', page)
    assert following is not None
    link = following.group(1).replace("&amp;", "&")
    assert "page=2" in link and "sort=branch" in link and "per_page=25" in link
    second = client.get(link, headers=EN).get_data(as_text=True)
    assert "Page 2 of 3" in second and 'rel="prev"' in second and 'rel="next"' in second
    assert set(map(tuple, table_rows(second))).isdisjoint(map(tuple, table_rows(page)))


def test_status_filter_applies_to_page_and_export(app, client, db, users, course):
    seed(db, 30)
    login(client, "hr")
    html = client.get("/hr/learners?status=overdue&per_page=100", headers=EN).get_data(as_text=True)
    rows = table_rows(html)
    assert rows and {row[6] for row in rows} == {"Overdue"}
    exported = csv_rows(client.get("/hr/learners/export.csv?status=overdue", headers=EN).data)
    with app.test_request_context(headers=EN):
        assert [[_as_shown(cell) for cell in row] for row in exported[1:]] == rows


def test_exports_neutralise_formulas(client, db, users, course):
    add_learner(
        db,
        "evil",
        display_name='=HYPERLINK("http://x","y")',
        employee_id="+1234",
        branch="@SUM(A1)",
    )
    add_learner(db, "evil2", display_name="-2+3", employee_id="\tTab", branch="台北分行")
    db.commit()
    login(client, "hr")
    rows = csv_rows(client.get("/hr/learners/export.csv?q=evil&sort=username").data)
    assert rows[1][:4] == ['\'=HYPERLINK("http://x","y")', "evil", "'+1234", "'@SUM(A1)"]
    assert rows[2][0] == "'-2+3" and rows[2][2] == "'\tTab"
    data = client.get("/hr/learners/export.xlsx?q=evil&sort=username").data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].value == '\'=HYPERLINK("http://x","y")' and sheet["A2"].data_type == "s"
    assert sheet["C2"].value == "'+1234" and sheet["A3"].value == "'-2+3"


def test_csv_opens_in_excel_with_chinese(client, db, users, course):
    login(client, "hr")
    response = client.get("/hr/learners/export.csv")
    assert response.is_streamed  # row by row from the database, not built in memory
    assert response.data.startswith("\ufeff".encode())
    assert "attachment" in response.headers["Content-Disposition"]
    assert "trainee 姓名" in response.data.decode("utf-8-sig")
    assert client.get("/hr/learners/export.pdf").status_code == 404


def test_dashboard_shows_figures_bars_and_funnel(client, db, users, course):
    seed(db, 30)
    login(client, "hr")
    html = client.get("/hr", headers=EN).get_data(as_text=True)
    for text in (
        "Enrolled",
        "In progress",
        "Certified",
        "Overdue",
        "Expiring within 30 days",
        "Expiring within 60 days",
        "Completion by branch",
        "Cohorts needing attention",
        "Through the modules",
        "台北分行",
    ):
        assert text in html, text
    assert "style=" not in html and "<progress" in html


def test_dashboard_summarises_cohorts_and_pages_the_rest_worst_first(client, db, users, course):
    """Five cohorts on the overview, worst first; all of them (empty ones left out) a page
    of 25 at a time; the learner table's filter lists only cohorts with learners."""
    add_cohort(db, "空梯次", AT.today)  # no learners: on no list
    for k in range(30):
        cohort = add_cohort(db, f"梯次{k:02d}", AT.today + 30 * DAY)
        for n in range(2):
            learner = add_learner(db, f"u{k:02d}{n}")
            join(db, learner, cohort)
            if n < k % 3:  # cohorts 0, 3, 6 …: none certified; 2, 5, …: both
                add_certificate(db, learner, NOW + 300 * DAY)
    db.commit()
    login(client, "hr")
    html = client.get("/hr", headers=EN).get_data(as_text=True)
    section = html[html.index('id="cohort-title"') : html.index('id="funnel-title"')]
    shown = re.findall(r'class="bar-label">([^<]+)<', section)
    assert shown == ["梯次00", "梯次03", "梯次06", "梯次09", "梯次12"]
    assert "All 30 cohorts, worst first" in section and "空梯次" not in html
    first = client.get("/hr/completion/cohorts", headers=EN).get_data(as_text=True)
    labels = re.findall(r'class="bar-label">([^<]+)<', first)
    assert len(labels) == 25 and labels[:2] == ["梯次00", "梯次03"]
    assert labels[10] == "梯次01" and "Page 1 of 2" in first  # 0% first, then 50%, then 100%
    second = client.get("/hr/completion/cohorts?page=2", headers=EN).get_data(as_text=True)
    assert re.findall(r'class="bar-label">([^<]+)<', second)[-2:] == ["梯次29", "No cohort"]
    assert "空梯次" not in first + second
    table = client.get("/hr/learners", headers=EN).get_data(as_text=True)
    choices = table[table.index('<select id="cohort"') :]
    choices = choices[: choices.index("</select>")]
    assert "梯次00" in choices and "空梯次" not in choices  # (one may still enrol into it)


def test_the_funnel_says_when_and_over_how_many_it_was_counted(client, db, users, course):
    """The funnel is cached: its "n / N" and its time are those of its count, not now."""
    from courseware.hr.reports import FunnelCache

    client.application.extensions["courseware.funnel_cache"] = FunnelCache(timedelta(hours=1))
    add_learner(db, "first")
    db.commit()
    login(client, "hr")
    client.get("/hr", headers=EN)
    add_learner(db, "second")
    db.commit()
    clock.set_time(NOW + timedelta(minutes=5))
    html = client.get("/hr", headers=EN).get_data(as_text=True)
    assert '<span class="figure-number">3</span> <span class="figure-label">Enrolled' in html
    counted = re.search(r"Counted at ([^<]*) over (\d+) learners", html)
    assert counted and counted.group(2) == "2"  # the trainee and "first", an hour's cache
    assert "10:00" in counted.group(1) and "10:05" not in counted.group(1)
    funnel = html[html.index('class="data stack-on-phone hr-funnel"') :]
    funnel = funnel[: funnel.index("</table>")]
    assert "0 / 2" in funnel and "0 / 3" not in funnel  # the branches above are live: 0 / 3
    assert re.search(r"As of [^<]*10:05", html)  # the live figures: now


# ---------------------------------------------------------------- the query count


def count_queries(app, client, paths) -> list[int]:
    engine = app.extensions["courseware.core.db"].engine
    counts = []
    for path in paths:
        seen = []

        def note(*_args, seen=seen):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", note)
        try:
            response = client.get(path)
            assert response.status_code == 200, path
            response.get_data()  # a streamed body runs its queries now
        finally:
            event.remove(engine, "before_cursor_execute", note)
        counts.append(len(seen))
    return counts


def test_query_count_stays_flat_from_10_to_1000_learners(app, client, db, users, course):
    paths = [
        "/hr",
        "/hr/learners",
        "/hr/learners?branch=台北分行&status=overdue&sort=due&q=學員",
        "/hr/learners/export.csv?branch=台北分行&sort=status",
        "/hr/learners/export.xlsx?status=certified",
    ]
    seed(db, 10)
    login(client, "hr")
    client.get("/hr")  # the first request of a worker loads the course
    with_10 = count_queries(app, client, paths)
    seed(db, 990, start=10)
    with_1000 = count_queries(app, client, paths)
    assert with_10 == with_1000
    assert max(with_1000) <= 12, with_1000


# ---------------------------------------------------------------- reminders by email


def remind_all(client, q: str) -> str:
    """Remind every learner the search ``q`` matches; the page shown after, in English."""
    response = post(
        client,
        "/hr/learners/reminders",
        {"q": q},
        token_from="/hr/learners",
        headers=EN,
        follow_redirects=True,
    )
    return response.get_data(as_text=True)


def test_without_email_reminders_reach_the_app_only(client, db, users, course):
    late = add_learner(db, "late")
    join(db, late, add_cohort(db, "spring", AT.today - 3 * DAY))
    db.commit()
    login(client, "hr")
    html = client.get("/hr/learners", headers=EN).get_data(as_text=True)
    assert "reminders reach learners in the app only" in html and 'value="remind"' in html
    text = remind_all(client, "late")
    assert "Reminders: 1 learners told in the app." in text
    assert "the reminders are in the app only" in text
    assert db.scalar(select(Notice.kind).where(Notice.user_id == late)) == "overdue"
    assert db.scalar(select(Reminder.id)) is None


def test_hr_sends_reminders_and_sees_when(app, client, db, users, course, smtp_server):
    url, inbox = smtp_server
    app.config["SMTP_URL"] = url
    late = add_learner(db, "late")
    join(db, late, add_cohort(db, "spring", AT.today - 3 * DAY))
    renew = add_learner(db, "renew")
    add_certificate(db, renew, NOW + 20 * DAY)
    add_learner(db, "nodue")  # no due date, not certified: no reminder needed
    no_address = add_learner(db, "noaddress")
    join(db, no_address, add_cohort(db, "summer", AT.today + 30 * DAY))
    for user_id, email in ((late, "late@bank.example"), (renew, "renew@bank.example")):
        db.add(LearnerContact(user_id=user_id, email=email, updated_at=NOW))
    db.commit()
    login(client, "hr")
    page = client.get("/hr/learners", headers=EN).get_data(as_text=True)
    assert 'value="remind"' in page
    text = remind_all(client, "e")
    assert "Reminders: 3 learners told in the app." in text
    assert "Emails sent: 2. Failed: 0. No email address: 1." in text
    received = {
        tuple(m.rcpt_tos): message_from_bytes(m.content, policy=policy.default)
        for m in inbox.messages
    }
    assert set(received) == {("late@bank.example",), ("renew@bank.example",)}
    overdue_mail = received[("late@bank.example",)]
    assert overdue_mail["Subject"] == "您的訓練已逾期"  # the site's language, as the notice
    assert "/notices" in overdue_mail.get_content()
    assert "late 姓名" in overdue_mail.get_content()
    sent = db.scalars(select(Reminder).order_by(Reminder.user_id)).all()
    assert [(r.user_id, r.kind, r.status, r.sent_by) for r in sent] == [
        (late, "overdue", "sent", users["hr"].id),
        (renew, "renewal", "sent", users["hr"].id),
    ]
    rows = table_rows(client.get("/hr/learners?q=late").get_data(as_text=True))
    assert rows[0][-1] == "2026/3/1 上午10:00"  # sent at, in Taipei time
    again = remind_all(client, "e")
    assert "Reminders: 0 learners told in the app. Already reminded today: 3." in again
    assert len(inbox.messages) == 2
    assert "reminder.send" in db.scalars(select(AuditEvent.action)).all()


def test_unreachable_mail_server_is_reported(app, client, db, users, course):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    late = add_learner(db, "late")
    join(db, late, add_cohort(db, "spring", AT.today - 3 * DAY))
    db.add(LearnerContact(user_id=late, email="late@bank.example", updated_at=NOW))
    db.commit()
    login(client, "hr")
    text = remind_all(client, "late")
    assert "The mail server could not be reached" in text
    assert db.scalar(select(Reminder.status)) == "failed"


def test_learner_banner_shows_due_date_and_alerts(app, client, db, users, course):
    trainee = users["trainee"]
    cohort = add_cohort(db, "spring", AT.today + 10 * DAY)
    join(db, trainee.id, cohort)
    db.commit()
    login(client, "trainee")
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "Complete your training by Mar 11, 2026" in html and "/transcript" in html  # Babel date
    clock.set_time(NOW + 12 * DAY)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "Your training is overdue." in html and 'role="alert"' in html
    add_certificate(db, trainee.id, NOW + 40 * DAY)
    db.commit()
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "Time to renew your certificate." in html and "Apr 10, 2026" in html
    staff = app.test_client()
    login(staff, "hr")
    assert "learner-banner" not in staff.get("/course").get_data(as_text=True)
