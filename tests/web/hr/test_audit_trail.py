"""The audit trail in words: who and to whom by name, what as a sentence, when in local time,
the details as words; filtered by who, action, learner and dates; exported the same."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

import courseware
from courseware import certification
from courseware.core import clock
from courseware.core.audit import record
from courseware.core.models import QuizAttempt
from courseware.hr.audit_trail import ACTION_SENTENCES
from tests.conftest import login

EN = {"Accept-Language": "en"}
SOURCE = Path(courseware.__file__).parent
# An action code built from an f-string, and the values its placeholder takes.
EXPANSIONS = {"certificate.{kind}": ("earned", "renewal", "manual")}


def _codes(node: ast.expr, assigned: dict[str, list[ast.expr]], where: str) -> set[str]:
    """The action codes an expression can be, or a failure naming where it is."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _codes(node.body, assigned, where) | _codes(node.orelse, assigned, where)
    if isinstance(node, ast.Name) and node.id in assigned:
        return set().union(*(_codes(v, assigned, where) for v in assigned[node.id]))
    if isinstance(node, ast.JoinedStr):
        shape = "".join(
            part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
            for part in node.values
        )
        assert shape in EXPANSIONS, f"{where}: add the values of {shape!r} to EXPANSIONS"
        return {re.sub(r"\{.*\}", value, shape) for value in EXPANSIONS[shape]}
    raise AssertionError(f"{where}: cannot tell which action code {ast.unparse(node)} is")


def audited_codes() -> set[str]:
    """Every action code the code base writes: each call of core.audit.record, read from the
    source."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            named = (isinstance(func, ast.Name) and func.id == "record") or (
                isinstance(func, ast.Attribute)
                and func.attr == "record"
                and isinstance(func.value, ast.Name)
                and func.value.id == "audit"
            )
            if not named:
                continue
            where = f"{path.relative_to(SOURCE)}:{node.lineno}"
            action = next((k.value for k in node.keywords if k.arg == "action"), None)
            if action is None:
                assert len(node.args) >= 3, f"{where}: an audit record without an action"
                action = node.args[2]
            found |= _codes(action, assigned, where)
    return found


def test_every_action_code_written_anywhere_has_its_sentence():
    codes = audited_codes()
    assert {"certificate.revoke", "certificate.earned", "content.submit", "quiz.reset"} <= codes
    assert len(codes) >= 20
    missing = sorted(codes - set(ACTION_SENTENCES))
    assert not missing, f"add a sentence to hr/audit_trail.py ACTION_SENTENCES for {missing}"


def _visible(html: str) -> str:
    """The table body as a reader sees it: no tags, no attributes."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.sub(r"<[^>]+>", " ", body)


def _events(db, certified, users):
    """A revocation by HR and a quiz reset by the trainer, both about the trainee."""
    clock.set_time(datetime(2026, 3, 1, 16, 30, tzinfo=clock.UTC))  # 00:30 on 2 March in Taipei
    certification.revoke(db, certified, users["hr"].id, "Training records falsified")
    attempt = db.scalars(select(QuizAttempt)).first()
    clock.set_time(datetime(2026, 4, 1, 2, 0, tzinfo=clock.UTC))
    certification.reset_quiz_attempt(db, attempt, users["trainer"].id, "Power cut during the quiz")
    record(db, None, "mystery.thing", "widget", "7", after={"colour": "blue"})
    db.commit()
    return attempt


def test_the_trail_reads_in_words(client, db, certified, users):
    attempt = _events(db, certified, users)
    login(client, "hr")
    html = client.get("/hr/audit", headers=EN).get_data(as_text=True)
    text = _visible(html)
    # What, who and to whom by name; the reason.
    assert "Revoked a certificate" in text and "Reset a quiz attempt" in text
    assert "hr 姓名 (hr)" in text and "trainer 姓名 (trainer)" in text
    assert text.count("trainee 姓名 (trainee)") >= 2
    assert "Training records falsified" in text and "Power cut during the quiz" in text
    # Details in words, not JSON, codes or ids.
    assert "State: In force → Revoked" in text
    assert "Passed (before): Yes" in text
    assert "colour: blue" in text  # an unknown field, readable
    assert "{" not in text and "certificate.revoke" not in text and "quiz.reset" not in text
    assert f"quiz_attempt {attempt.id}" not in text and "user_id" not in text
    # When: local time (Taipei), 2 March for an act at 16:30 UTC on 1 March.
    assert "Mar 2, 2026" in text
    # In Chinese by default.
    html = client.get("/hr/audit").get_data(as_text=True)
    assert "撤銷證書" in _visible(html)


def test_filters_by_who_action_learner_and_dates_and_the_export_follows(
    client, db, certified, users
):
    _events(db, certified, users)
    login(client, "hr")
    other = client.get("/hr/audit?learner=nobody-at-all", headers=EN).get_data(as_text=True)
    assert "0 entries match." in other
    by_learner = client.get("/hr/audit?learner=trainee", headers=EN).get_data(as_text=True)
    assert "Revoked a certificate" in by_learner and "Reset a quiz attempt" in by_learner
    assert "mystery.thing" not in _visible(by_learner)
    by_who = client.get("/hr/audit?actor=trainer 姓名", headers=EN).get_data(as_text=True)
    assert "1 entries match." in by_who and "Reset a quiz attempt" in _visible(by_who)
    by_action = client.get("/hr/audit?action=certificate.revoke", headers=EN)
    assert "1 entries match." in by_action.get_data(as_text=True)
    dated = client.get("/hr/audit?since=2026-03-02&until=2026-03-02", headers=EN)
    assert "Revoked a certificate" in _visible(dated.get_data(as_text=True))
    assert "Reset a quiz attempt" not in _visible(dated.get_data(as_text=True))

    query = "?learner=trainee&since=2026-03-01&until=2026-03-31"
    text = client.get(f"/hr/audit/export.csv{query}", headers=EN).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["When", "Who", "What", "To whom", "Details", "Reason"]
    assert rows[1:] == [
        [
            "2026-03-02 00:30",
            "hr 姓名 (hr)",
            "Revoked a certificate",
            "trainee 姓名 (trainee)",
            "State: In force → Revoked",
            "Training records falsified",
        ]
    ]
    data = client.get(f"/hr/audit/export.xlsx{query}", headers=EN).data
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2 and values[1][2] == "Revoked a certificate"
    assert values[1][0] == datetime(2026, 3, 2, 0, 30) and timedelta(0) is not None
