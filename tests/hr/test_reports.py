"""The compliance status (one definition, as SQL and as Python), the dashboard figures,
the funnel and the learner table's search, filters, sort and pages."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from courseware.certification.policy import Policy
from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from courseware.core.activity import backfill_first_activity
from courseware.core.models import (
    CaseDecision,
    Certificate,
    Cohort,
    CohortMembership,
    LearnerSummary,
    LessonProgress,
    QuizAttempt,
    User,
)
from courseware.hr.compliance import STATUSES, Moment, Scope, learner_facts, moment, status_of
from courseware.hr.learner_table import (
    LearnerQuery,
    iter_learners,
    learner_page,
    search_condition,
)
from courseware.hr.reports import course_keys, dashboard
from courseware.hr.summary import summary_filter, summary_status_is

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taipei, 1 March
AT = moment(NOW, "Asia/Taipei", Policy())
DAY = timedelta(days=1)


# ---------------------------------------------------------------- seeding in bulk


def add_learner(db: Session, username: str, branch: str = "台北分行", **extra: object) -> int:
    values = {
        "username": username,
        "display_name": extra.pop("display_name", f"{username} 姓名"),
        "employee_id": extra.pop("employee_id", f"E-{username}"),
        "branch": branch,
        "role": extra.pop("role", "trainee"),
        "password_hash": "x",
        "active": extra.pop("active", True),
        "must_change_password": False,
        "session_version": 1,
        "created_at": NOW - 100 * DAY,
    }
    return db.execute(insert(User).returning(User.id), [values]).scalar_one()


def add_certificate(
    db: Session,
    user_id: int,
    expires_at: datetime,
    cycle: int = 1,
    revoked: bool = False,
) -> None:
    db.execute(
        insert(Certificate),
        [
            {
                "user_id": user_id,
                "cycle": cycle,
                "code": f"MLA-{user_id:04d}-{cycle:04d}-0000-0000",
                "kind": "earned",
                "issued_at": expires_at - 365 * DAY,
                "expires_at": expires_at,
                "issued_by": None,
                "reason": "",
                "evidence": {},
                "revoked_at": (expires_at - 300 * DAY) if revoked else None,
                "revoked_by": None,
                "revoke_reason": "Found to be a ghost employee" if revoked else "",
            }
        ],
    )


def add_cohort(db: Session, name: str, due: date, branch: str = "") -> int:
    return db.execute(
        insert(Cohort).returning(Cohort.id),
        [{"name": name, "branch": branch, "due_date": due, "created_at": NOW - 50 * DAY}],
    ).scalar_one()


def join(db: Session, user_id: int, cohort_id: int) -> None:
    db.execute(
        insert(CohortMembership),
        [
            {
                "user_id": user_id,
                "cohort_id": cohort_id,
                "joined_at": NOW - 40 * DAY,
                "left_at": None,
                "current_key": str(user_id),
            }
        ],
    )


def decision_row(user_id: int, n: int, **changes: object) -> dict[str, object]:
    """A case decision row for bulk inserts: case c, option a approved, repaid on time."""
    row: dict[str, object] = {
        "user_id": user_id,
        "case_slug": "c",
        "case_revision_id": 1,
        "content_hash": "h",
        "seed": 1,
        "ticket_token": f"tok{n}",
        "kind": "assessment",
        "first_key": f"{user_id}:c",
        "option_id": "a",
        "option_kind": "approve",
        "flags": [],
        "reasons": [],
        "score_total": 75,
        "score_decision": 0,
        "score_flags": 0,
        "score_reasons": 0,
        "score_portfolio": 0,
        "best_option_id": "a",
        "expected_profit": 0,
        "best_expected_profit": 0,
        "outcome": "on_time",
        "lender_profit": 0,
        "record": {},
        "decided_at": NOW - DAY,
    }
    return {**row, **changes}


def add_activity(db: Session, user_id: int, module: str = "m1", lesson: str = "l1") -> None:
    db.execute(
        insert(LessonProgress),
        [
            {
                "user_id": user_id,
                "module_slug": module,
                "lesson_slug": lesson,
                "first_viewed_at": NOW - 5 * DAY,
                "last_viewed_at": NOW - 5 * DAY,
                "completed_at": NOW - 5 * DAY,
                "completed_revision_id": None,
                "seconds_spent": 300,
            }
        ],
    )
    # Rows inserted behind the services' back: record the activity as they would.
    backfill_first_activity(db)


def sql_status(db: Session, at: Moment = AT) -> dict[str, str]:
    facts = learner_facts(at, Scope()).subquery()
    return dict(db.execute(select(facts.c.username, facts.c.status)).all())


# ---------------------------------------------------------------- the precedence table

# (name, certificates [(expires offset in days, revoked)], due offset in days, activity, status)
CASES = [
    ("nothing yet", [], None, False, "not_started"),
    ("reading", [], None, True, "in_progress"),
    ("due today is not late", [], 0, True, "in_progress"),
    ("due tomorrow, idle", [], 1, False, "not_started"),
    ("due yesterday", [], -1, False, "overdue"),
    ("due passed while working", [], -10, True, "overdue"),
    ("certified", [(200, False)], None, True, "certified"),
    ("certified, due passed long ago", [(200, False)], -100, True, "certified"),
    ("expiring in 30 days", [(30, False)], None, True, "expiring"),
    ("expiring in 59 days", [(59, False)], None, True, "expiring"),
    ("61 days left is certified", [(61, False)], None, True, "certified"),
    ("expiring beats overdue", [(30, False)], -5, True, "expiring"),
    ("expired yesterday", [(-1, False)], None, True, "expired"),
    ("expired beats overdue", [(-1, False)], -5, True, "expired"),
    ("expires this instant", [(0, False)], None, True, "expired"),
    ("revoked", [(200, True)], None, True, "revoked"),
    ("revoked beats expired", [(-10, True)], None, True, "revoked"),
    ("revoked beats overdue", [(200, True)], -5, True, "revoked"),
    ("re-certified after a revocation", [(100, True), (300, False)], -5, True, "certified"),
    ("latest cycle revoked", [(300, False), (400, True)], None, True, "revoked"),
]


@pytest.mark.parametrize(("name", "certificates", "due", "activity", "expected"), CASES)
def test_status_precedence_in_python(name, certificates, due, activity, expected):
    latest = certificates[-1] if certificates else None
    status = status_of(
        has_certificate=latest is not None,
        revoked=bool(latest and latest[1]),
        expires_at=NOW + latest[0] * DAY if latest else None,
        due_date=AT.today + due * DAY if due is not None else None,
        has_activity=activity,
        at=AT,
    )
    assert status == expected, name


def test_status_precedence_in_sql(db):
    for index, (_name, certificates, due, activity, _expected) in enumerate(CASES):
        user_id = add_learner(db, f"case{index}")
        for cycle, (days, revoked) in enumerate(certificates, 1):
            add_certificate(db, user_id, NOW + days * DAY, cycle, revoked)
        if due is not None:
            join(db, user_id, add_cohort(db, f"cohort {index}", AT.today + due * DAY))
        if activity:
            add_activity(db, user_id)
    db.commit()
    found = sql_status(db)
    assert {name: found[f"case{i}"] for i, (name, *_rest) in enumerate(CASES)} == {
        name: expected for name, *_rest, expected in CASES
    }


def test_sql_and_python_agree_on_every_combination(db):
    """Every mix of certificate, revocation, expiry, due date and activity: same status."""
    expiries = [None, -30, -1, 0, 1, 30, 59, 60, 61, 400]
    dues = [None, -1, 0, 1]
    expected = {}
    due_cohorts = {d: add_cohort(db, f"due {d}", AT.today + d * DAY) for d in dues if d is not None}
    for n, (expiry, revoked, due, activity) in enumerate(
        itertools.product(expiries, [False, True], dues, [False, True])
    ):
        if expiry is None and revoked:
            continue
        user_id = add_learner(db, f"combo{n}")
        if expiry is not None:
            add_certificate(db, user_id, NOW + expiry * DAY, revoked=revoked)
        if due is not None:
            join(db, user_id, due_cohorts[due])
        if activity:
            add_activity(db, user_id)
        expected[f"combo{n}"] = status_of(
            has_certificate=expiry is not None,
            revoked=revoked,
            expires_at=NOW + expiry * DAY if expiry is not None else None,
            due_date=AT.today + due * DAY if due is not None else None,
            has_activity=activity,
            at=AT,
        )
    db.commit()
    assert sql_status(db) == expected
    for status in STATUSES:  # the learner table's filter, on the summary's stored dates
        filtered = select(LearnerSummary.username).where(
            *summary_filter(Scope()), summary_status_is(status, AT)
        )
        assert set(db.scalars(filtered)) == {n for n, s in expected.items() if s == status}
    assert set(expected.values()) == {
        "revoked",
        "expired",
        "overdue",
        "expiring",
        "certified",
        "in_progress",
        "not_started",
    }


def test_due_date_passes_at_local_midnight(db):
    """Due 1 March passes at midnight in Taipei (16:00 UTC), not at midnight UTC."""
    user_id = add_learner(db, "late")
    join(db, user_id, add_cohort(db, "march", date(2026, 3, 1)))
    db.commit()
    before = moment(datetime(2026, 3, 1, 15, 59, tzinfo=UTC), "Asia/Taipei", Policy())
    after = moment(datetime(2026, 3, 1, 16, 0, tzinfo=UTC), "Asia/Taipei", Policy())
    assert sql_status(db, before)["late"] == "not_started"
    assert sql_status(db, after)["late"] == "overdue"


def test_only_active_trainees_are_learners(db):
    add_learner(db, "learner")
    add_learner(db, "gone", active=False)
    for role in ("trainer", "manager", "hr", "admin"):
        add_learner(db, role, role=role)
    db.commit()
    assert set(sql_status(db)) == {"learner"}


# ---------------------------------------------------------------- figures and funnel


@pytest.fixture
def catalogue(db: Session, course: None) -> Catalogue:
    return build_catalogue(*published_sources(db))


def test_dashboard_figures_bars_and_funnel(db, catalogue):
    keys = course_keys(catalogue, Policy())
    spring = add_cohort(db, "spring", AT.today - 10 * DAY, "台北分行")
    autumn = add_cohort(db, "autumn", AT.today + 90 * DAY)
    a = add_learner(db, "a")  # certified, expiring in 20 days
    add_certificate(db, a, NOW + 20 * DAY)
    join(db, a, spring)
    b = add_learner(db, "b")  # certified, expiring in 50 days
    add_certificate(db, b, NOW + 50 * DAY)
    module = catalogue.modules[0]
    c = add_learner(db, "c")  # overdue, one lesson of the first module done
    join(db, c, spring)
    add_activity(db, c, module.slug, module.lessons[0].slug)
    d = add_learner(db, "d", branch="台中分行")  # in progress
    join(db, d, autumn)
    for lesson in module.lessons:
        add_activity(db, d, module.slug, lesson.slug)
    db.execute(
        insert(QuizAttempt),
        [
            {
                "user_id": d,
                "kind": "module",
                "module_slug": module.slug,
                "token": "t1",
                "status": "submitted",
                "pass_mark": 0.8,
                "started_at": NOW,
                "submitted_at": NOW,
                "score": 9,
                "max_score": 10,
                "passed": True,
            }
        ],
    )
    add_learner(db, "e", branch="台中分行")  # not started
    db.commit()
    data = dashboard(db, AT, Scope(), keys)
    assert data.enrolled == 5
    assert (data.certified, data.in_progress, data.overdue) == (2, 1, 1)
    assert data.expiring_within == {30: 1, 60: 2}
    assert [(bar.label, bar.enrolled, bar.certified, bar.percent) for bar in data.branches] == [
        ("台中分行", 2, 0, 0),
        ("台北分行", 3, 2, 67),
    ]
    assert [(bar.label, bar.enrolled, bar.certified, bar.overdue) for bar in data.cohorts] == [
        ("autumn", 1, 0, 0),
        ("spring", 2, 1, 1),
        ("", 2, 1, 0),
    ]
    first = data.funnel[0]
    assert (first.started, first.lessons_done, first.quiz_passed, first.complete) == (2, 1, 1, 1)
    assert len(data.funnel) == len(catalogue.modules)
    branch_only = dashboard(db, AT, Scope(branch="台中分行"), keys)
    assert branch_only.enrolled == 2 and [b.label for b in branch_only.branches] == ["台中分行"]
    assert dashboard(db, AT, Scope(branch="", nobody=True), keys).enrolled == 0


def test_a_module_without_a_quiz_is_complete_once_its_lessons_are(db, catalogue):
    """The funnel once showed "0 done" for a module with no question bank: nobody could
    pass its (missing) quiz, beside certified learners."""
    from dataclasses import replace

    keys = course_keys(catalogue, Policy())
    module = catalogue.modules[0]
    learner = add_learner(db, "reader")
    for lesson in module.lessons:
        add_activity(db, learner, module.slug, lesson.slug)
    add_learner(db, "idle")
    db.commit()
    with_quiz = dashboard(db, AT, Scope(), keys)
    assert with_quiz.funnel[0].complete == 0 and with_quiz.funnel_enrolled == 2
    without = replace(keys, quiz_modules=tuple(m for m in keys.quiz_modules if m != module.slug))
    step = dashboard(db, AT, Scope(), without).funnel[0]
    assert (step.lessons_done, step.quiz_passed, step.complete) == (1, 1, 1)


def test_cohort_bars_are_worst_first_without_empty_cohorts(db, catalogue):
    keys = course_keys(catalogue, Policy())
    add_cohort(db, "empty", AT.today)
    good, bad, late = (add_cohort(db, n, AT.today + 9 * DAY) for n in ("good", "bad", "late"))
    late_due = add_cohort(db, "late-due", AT.today - DAY)
    for cohort, certified in ((good, 2), (bad, 0), (late, 1), (late_due, 1)):
        for n in range(2):
            learner = add_learner(db, f"c{cohort}-{n}")
            join(db, learner, cohort if cohort != late else late_due)
            if n < certified:
                add_certificate(db, learner, NOW + 300 * DAY)
    add_learner(db, "loner")
    db.commit()
    bars = dashboard(db, AT, Scope(), keys).cohorts
    assert [(b.label, b.enrolled, b.certified, b.overdue) for b in bars] == [
        ("bad", 2, 0, 0),
        ("late-due", 4, 2, 2),
        ("good", 2, 2, 0),
        ("", 1, 0, 0),  # no cohort: last
    ]


def test_filter_lists_the_branches_with_learners_in_scope(db):
    from courseware.hr.learner_table import filter_choices

    for n, branch in enumerate(["台北分行", "台中分行", "台北分行", "高雄分行", "", "台東分行"]):
        add_learner(db, f"b{n}", branch=branch)
    add_learner(db, "hr1", branch="花蓮分行", role="hr")  # not a learner
    add_learner(db, "gone", branch="宜蘭分行", active=False)  # not active
    db.commit()
    expected = sorted(["台中分行", "台北分行", "台東分行", "高雄分行"])
    assert filter_choices(db, Scope())[0] == expected
    assert filter_choices(db, Scope(branch="台中分行"))[0] == ["台中分行"]
    assert filter_choices(db, Scope(branch="花蓮分行"))[0] == []
    assert filter_choices(db, Scope(branch="", nobody=True))[0] == []


def test_filter_lists_only_cohorts_with_learners_in_scope(db):
    from courseware.hr.learner_table import filter_choices

    taipei = add_cohort(db, "台北梯", AT.today, "台北分行")
    add_cohort(db, "空梯", AT.today, "台北分行")
    mixed = add_cohort(db, "總行梯", AT.today)
    join(db, add_learner(db, "t1"), taipei)
    join(db, add_learner(db, "t2", branch="台中分行"), mixed)
    db.commit()
    names = [name for _id, name in filter_choices(db, Scope())[1]]
    assert names == ["台北梯", "總行梯"]
    assert [n for _id, n in filter_choices(db, Scope(branch="台北分行"))[1]] == ["台北梯"]


def test_filter_leaves_out_a_cohort_whose_members_all_left_or_are_staff(db):
    from courseware.hr.learner_table import filter_choices

    left = add_cohort(db, "離開梯", AT.today, "台北分行")
    staff = add_cohort(db, "職員梯", AT.today, "台北分行")
    kept = add_cohort(db, "留下梯", AT.today, "台北分行")
    join(db, add_learner(db, "t-left"), left)
    db.execute(
        update(CohortMembership)
        .where(CohortMembership.cohort_id == left)
        .values(left_at=NOW - DAY, current_key=None)
    )
    join(db, add_learner(db, "hr-in-cohort", role="hr"), staff)
    join(db, add_learner(db, "t-kept"), kept)
    db.commit()
    assert [n for _id, n in filter_choices(db, Scope())[1]] == ["留下梯"]


def test_bulk_target_cohorts_are_the_cohorts_list_in_scope_and_order(db):
    from courseware.hr.cohorts import cohort_choices, list_cohorts

    add_cohort(db, "晚梯", AT.today + timedelta(days=30), "台北分行")
    add_cohort(db, "早梯", AT.today, "台中分行")
    add_cohort(db, "總行梯", AT.today + timedelta(days=5))
    db.commit()
    for scope in (Scope(), Scope(branch="台北分行"), Scope(branch="", nobody=True)):
        listed = [(c.id, c.name, c.due_date) for c in list_cohorts(db, scope)]
        assert [(c.id, c.name, c.due_date) for c in cohort_choices(db, scope)] == listed
    assert [c.name for c in cohort_choices(db, Scope())] == ["早梯", "總行梯", "晚梯"]
    assert [c.name for c in cohort_choices(db, Scope(branch="台北分行"))] == ["晚梯"]


# ---------------------------------------------------------------- the learner table


def test_table_searches_filters_sorts_and_pages(db, catalogue):
    keys = course_keys(catalogue, Policy())
    spring = add_cohort(db, "spring", AT.today - 1 * DAY)
    for n in range(12):
        user_id = add_learner(
            db,
            f"user{n:02d}",
            branch="台北分行" if n % 2 else "台中分行",
            display_name=f"學員{n:02d}",
        )
        if n % 3 == 0:
            join(db, user_id, spring)
    db.commit()
    page = learner_page(db, AT, Scope(), LearnerQuery(per_page=25), keys)
    assert page.total == 12 and [r.username for r in page.rows][:3] == [
        "user00",
        "user01",
        "user02",
    ]
    query = LearnerQuery(branch="台中分行", status="overdue")
    assert [r.username for r in learner_page(db, AT, Scope(), query, keys).rows] == [
        "user00",
        "user06",
    ]
    query = LearnerQuery(q="USER1", sort="name", descending=True)
    assert [r.username for r in learner_page(db, AT, Scope(), query, keys).rows] == [
        "user11",
        "user10",
    ]
    paged = learner_page(db, AT, Scope(), LearnerQuery(per_page=25, page=9), keys)
    assert paged.query.page == 1  # past the end: the last page
    by_status = learner_page(db, AT, Scope(), LearnerQuery(sort="status"), keys)
    assert by_status.rows[0].status == "overdue"
    streamed = list(iter_learners(db, AT, Scope(), LearnerQuery(sort="status"), keys))
    assert [r.username for r in streamed][: len(by_status.rows)] == [
        r.username for r in by_status.rows
    ]


def test_search_finds_by_name_user_name_or_employee_id_in_any_case(db, catalogue):
    """On both databases (PostgreSQL answers it from the trigram indexes of migration 0021)."""
    keys = course_keys(catalogue, Policy())
    add_learner(db, "Amy.Chen", display_name="陳美玲", employee_id="TPE-0042")
    add_learner(db, "bob_lin", display_name="Bob Lin", employee_id="KHH-0007")
    add_learner(db, "carol", display_name="王小明", employee_id="TPE-100%")
    db.commit()

    def found(q: str) -> list[str]:
        rows = learner_page(db, AT, Scope(), LearnerQuery(q=q, sort="username"), keys).rows
        return [r.username for r in rows]

    assert found("陳美玲") == ["Amy.Chen"]  # the name, three characters
    assert found("美") == ["Amy.Chen"]  # one character: no trigram, still found
    assert found("陳美") == ["Amy.Chen"]  # two, compared as stored (no case to fold)
    assert found("42") == ["Amy.Chen"]  # digits: no case either
    assert found("Y.") == ["Amy.Chen"]  # two characters with a case: lowered
    assert found("LI") == ["bob_lin"]
    assert found("amy.c") == ["Amy.Chen"]  # the user name, another case
    assert found("BOB_") == ["bob_lin"]  # "_" is a character, not LIKE's wildcard
    assert found("bob lin") == ["bob_lin"]  # the name
    assert found("tpe-00") == ["Amy.Chen"]  # the employee id, another case
    assert found("100%") == ["carol"]  # "%" is a character too
    assert found("tpe") == ["Amy.Chen", "carol"]
    assert found("nobody") == []


def test_search_uses_the_trigram_indexes_on_postgresql(db):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the trigram indexes are PostgreSQL's (SQLite reads the summary table)")
    s = LearnerSummary
    condition = search_condition("officer0004", (s.display_name, s.username, s.employee_id))
    compiled = select(s.user_id).where(condition).compile(db.get_bind())
    connection = db.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the test's table is tiny
    found = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars()
    plan = "\n".join(found)
    db.rollback()
    for column in ("display_name", "username", "employee_id"):
        assert f"ix_learner_summary_{column}_trgm" in plan, plan


def test_query_from_arguments_is_forgiving():
    query = LearnerQuery.from_args(
        {
            "q": " 王 ",
            "status": "bogus",
            "sort": "x;drop",
            "page": "-3",
            "per_page": "7",
            "cohort": "a",
        }
    )
    assert query == LearnerQuery(q="王")
    query = LearnerQuery.from_args({"status": "overdue", "sort": "due", "dir": "desc", "page": "2"})
    assert query.args() == {"status": "overdue", "sort": "due", "dir": "desc", "page": 2}
    assert query.filters() == {"status": "overdue", "sort": "due", "dir": "desc"}


def test_progress_counts_on_the_page(db, catalogue):
    keys = course_keys(catalogue, Policy())
    user_id = add_learner(db, "busy")
    module = catalogue.modules[0]
    for lesson in module.lessons:
        add_activity(db, user_id, module.slug, lesson.slug)
    add_activity(db, user_id, "gone-module", "gone-lesson")  # not in the course: not counted
    db.execute(
        insert(CaseDecision),
        [
            decision_row(
                user_id,
                n,
                first_key=f"{user_id}:c{n}" if n < 2 else None,
                score_total=80,
                decided_at=NOW,
            )
            for n in range(3)
        ],
    )
    db.commit()
    with clock.travel_to(NOW):
        row = learner_page(db, AT, Scope(), LearnerQuery(), keys).rows[0]
    assert (row.lessons_done, row.quizzes_passed, row.cases_counted) == (len(module.lessons), 0, 2)


def test_the_funnel_is_reused_for_a_minute_then_counted_again():
    from datetime import UTC, datetime, timedelta

    from courseware.hr.compliance import Scope
    from courseware.hr.reports import FunnelCache

    cache = FunnelCache(timedelta(seconds=60))
    counted: list[int] = []

    def count() -> list:
        counted.append(1)
        return [len(counted)]

    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    key = ("branch", False, (("m", "l"),), ("m",), (("m", "模組"),))
    assert cache.get(key, start, count) == ([1], start)
    assert cache.get(key, start + timedelta(seconds=59), count) == ([1], start)
    assert cache.get(key, start + timedelta(seconds=60), count)[0] == [2]
    other = (*key[:2], (("m", "l"), ("m", "l2")), *key[3:])  # a lesson was published
    assert cache.get(other, start + timedelta(seconds=61), count)[0] == [3]
    assert FunnelCache.key(Scope(branch="台北分行"), _keys()) != FunnelCache.key(Scope(), _keys())


def _keys():
    from courseware.hr.reports import CourseKeys

    return CourseKeys((("m", "l"),), {"m": 1}, ("m",), {"m": "模組"}, 8)
