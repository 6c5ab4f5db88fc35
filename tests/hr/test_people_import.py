"""Importing accounts from CSV: all or nothing, every bad line named with its reason."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from courseware.core.models import AuditEvent, LearnerContact, User
from courseware.hr import cohorts
from courseware.hr.people_import import MAX_ROWS, import_people
from tests.conftest import make_user

HEADER = "user name,display name,employee id,branch,role,cohort\n"


def users_count(db) -> int:
    return db.scalar(select(func.count()).select_from(User))


def test_a_clean_file_imports_everyone(db):
    admin = make_user(db, "admin", role="admin")
    cohorts.create_cohort(db, "2026 春季班", "台北分行", date(2026, 6, 30), admin.id)
    db.commit()
    text = (
        "使用者名稱,姓名,員工編號,分行,角色,梯次,電子郵件\r\n"
        "wang.xm,王小明,E1001,台北分行,學員,2026 春季班,wang@bank.example\r\n"
        "lin.mh,林美惠,E1002,台中分行,trainee,,\r\n"
        "\r\n"
        "chen.hr,陳人資,E1003,總行,hr,,\r\n"
    )
    result = import_people(db, ("\ufeff" + text).encode("utf-8"), admin.id)
    db.commit()
    assert result.ok and [name for name, _password in result.created] == [
        "wang.xm",
        "lin.mh",
        "chen.hr",
    ]
    wang = db.scalar(select(User).where(User.username == "wang.xm"))
    assert (wang.display_name, wang.employee_id, wang.branch, wang.role) == (
        "王小明",
        "E1001",
        "台北分行",
        "trainee",
    )
    assert wang.must_change_password
    assert check_password_hash(wang.password_hash, dict(result.created)["wang.xm"])
    assert cohorts.current_memberships(db, [wang.id])[wang.id].name == "2026 春季班"
    assert db.get(LearnerContact, wang.id).email == "wang@bank.example"
    assert db.scalar(select(User.role).where(User.username == "chen.hr")) == "hr"
    actions = db.scalars(select(AuditEvent.action)).all()
    assert actions.count("account.create") == 4  # the admin, then three imported
    assert "account.import" in actions and "cohort.assign" in actions


def test_a_bad_file_imports_nothing_and_names_every_bad_line(db):
    admin = make_user(db, "admin", role="admin")
    make_user(db, "taken")
    cohorts.create_cohort(db, "taipei", "台北分行", date(2026, 6, 30), admin.id)
    db.commit()
    before = users_count(db)
    text = HEADER + "\n".join(
        [
            "good.one,好人,G1,台北分行,trainee,",  # line 2: fine
            "bad name!,壞名字,G2,台北分行,trainee,",  # 3: user name
            "taken,已有人,G3,台北分行,trainee,",  # 4: exists
            "good.one,重複,G4,台北分行,trainee,",  # 5: twice in the file
            "no.name,,G5,台北分行,trainee,",  # 6: display name
            "boss,老闆,G6,台北分行,king,",  # 7: role
            "teacher,老師,G7,台北分行,trainer,taipei",  # 8: cohort for a trainer
            "lost,迷路,G8,台北分行,trainee,no such",  # 9: unknown cohort
            "south,南部,G9,高雄分行,trainee,taipei",  # 10: cohort of another branch
            "short,短",  # 11: too few fields
            "dup.id,重複編號,G1,台北分行,trainee,",  # 12: employee id twice
        ]
    )
    result = import_people(db, text.encode("utf-8"), admin.id)
    assert not result.ok and result.created == []
    assert sorted({e.line for e in result.errors}) == list(range(3, 13))
    reasons = {e.line: e.message % e.params if e.params else e.message for e in result.errors}
    assert "letters, digits" in reasons[3]
    assert "is taken" in reasons[4]
    assert "also on line 2" in reasons[5]
    assert "display name" in reasons[6]
    assert "Unknown role king" in reasons[7]
    assert "Only trainees" in reasons[8]
    assert "no cohort called no such" in reasons[9]
    assert "for the branch 台北分行" in reasons[10]
    assert "2 fields; the header has 6" in reasons[11]
    assert "G1 is also on line 2" in reasons[12]
    db.rollback()
    assert users_count(db) == before


def test_big5_is_refused_with_a_message_that_says_so(db):
    data = (HEADER + "wang,王小明,E1,台北分行,trainee,\n").encode("big5")
    result = import_people(db, data, None)
    assert not result.ok and result.errors[0].line == 0
    assert "not UTF-8" in result.errors[0].message and "Big5" in result.errors[0].message


def test_file_level_problems(db):
    assert "empty" in import_people(db, b"", None).errors[0].message
    assert "no rows" in import_people(db, HEADER.encode(), None).errors[0].message
    missing = import_people(db, b"branch,role\n", None).errors
    assert missing[0].params == {"names": "user name, display name"}
    unknown = import_people(db, b"user name,display name,shoe size\nab,x,42\n", None).errors
    assert unknown[0].params == {"name": "shoe size"}
    huge = import_people(db, b"x" * (2 * 1024 * 1024 + 1), None).errors
    assert "2 MB" in huge[0].message
    many = HEADER + "".join(f"u{n},U,,,trainee,\n" for n in range(MAX_ROWS + 1))
    assert "5,000" in import_people(db, many.encode(), None).errors[-1].message


def test_quoted_fields_and_line_numbers(db):
    text = HEADER + 'a.b,"王, 小明",E1,台北分行,,\n"c.d","多行\n名字",E2,,,\nbad!,x,,,,\n'
    result = import_people(db, text.encode(), None)
    assert [e.line for e in result.errors] == [5]  # the quoted newline spans lines 3-4
