"""Per-kind case results on a learner's transcript: where the learner is weak (fraud,
seasonality, pricing...), for HR and in the export; each learner sees only their own."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from courseware import certification
from courseware.core import clock
from courseware.core.models import CaseDecision, User
from courseware.hr.transcripts import KindResult, Transcript, kind_results
from courseware.lending.case_schema import CASE_KINDS
from courseware.lending.kinds import CASE_KIND_LABELS
from tests.certification.test_certification import decide
from tests.conftest import login, make_user
from tests.web.hr.test_hr import EN, csv_rows, xlsx_rows

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.S)
# The fixture course: grocery-kiosk is [good, seasonal], bar-owner [borderline],
# restructure-illness [restructuring].


def _decision(slug: str, score: float, counting: bool = True) -> CaseDecision:
    return CaseDecision(
        case_slug=slug, score_total=score, first_key=f"1:{slug}" if counting else None
    )


def test_every_kind_has_a_label():
    assert set(CASE_KIND_LABELS) == set(CASE_KINDS)


def test_kind_results_average_counting_decisions_per_kind():
    data = Transcript(
        learner=User(username="x"),
        standing=None,
        decisions=[
            _decision("fraud-a", 40),
            _decision("fraud-b", 60),
            _decision("fraud-b", 100, counting=False),  # practice: left out
            _decision("seasonal-fraud", 80),
            _decision("priced", 70),
            _decision("retired", 10),  # no longer published: no kinds
        ],
        case_kinds={
            "fraud-a": ("fraud", "bad"),
            "fraud-b": ("fraud",),
            "seasonal-fraud": ("seasonal", "fraud"),
            "priced": ("pricing",),
        },
    )
    assert kind_results(data, 70) == [
        KindResult("bad", 1, 40.0, True),
        KindResult("fraud", 3, 60.0, True),
        KindResult("seasonal", 1, 80.0, False),
        KindResult("pricing", 1, 70.0, False),  # at the pass mark is not weak
    ]


@pytest.fixture
def learner(db, users, course):
    clock.set_time(NOW)
    trainee = users["trainee"]
    decide(db, trainee, "grocery-kiosk", 90)
    decide(db, trainee, "bar-owner", 55)
    decide(db, trainee, "bar-owner", 95, kind="practice")
    reset = decide(db, trainee, "restructure-illness", 30)
    certification.reset_case_decision(db, reset, users["hr"].id, "decided for a colleague")
    db.commit()
    yield trainee
    clock.set_time(None)


def _kind_table(html: str) -> list[list[str]]:
    """The body rows of the per-kind table, the row header (th) first."""
    section = html.split('class="transcript-section transcript-kinds"', 1)[1]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in CELL.findall(row)]
        for row in body.split("</tr>")[:-1]
    ]


def test_hr_sees_the_learners_results_by_kind_with_the_weak_ones_marked(client, learner):
    login(client, "hr")
    html = client.get(f"/hr/learners/{learner.id}", headers=EN).get_data(as_text=True)
    assert "Case results by kind" in html
    assert "below the case pass mark (70) are marked weak" in html
    assert _kind_table(html) == [
        ["Good loans", "1", "90.0", "At or above the pass mark"],
        ["Borderline cases", "1", "55.0", "Weak"],
        ["Seasonal income", "1", "90.0", "At or above the pass mark"],
    ]

    exported = csv_rows(client.get(f"/hr/learners/{learner.id}/export.csv", headers=EN).data)
    kinds = [row for row in exported if row[0] == "Case kind"]
    assert kinds == [
        ["Case kind", "Good loans", "", "", "90.0", "Cases: 1"],
        [
            "Case kind",
            "Borderline cases",
            "",
            "",
            "55.0",
            "Cases: 1 · Below the case pass mark of 70",
        ],
        ["Case kind", "Seasonal income", "", "", "90.0", "Cases: 1"],
    ]
    workbook = xlsx_rows(client.get(f"/hr/learners/{learner.id}/export.xlsx", headers=EN).data)
    # (A whole score reads 90 in the workbook and 90.0 in the CSV: compare the numbers.)
    assert [(*r[:4], float(r[4]), r[5]) for r in workbook if r[0] == "Case kind"] == [
        (*r[:4], float(r[4]), r[5]) for r in kinds
    ]


def test_the_table_is_in_traditional_chinese(client, learner):
    login(client, "hr")
    html = client.get(f"/hr/learners/{learner.id}").get_data(as_text=True)
    assert "各類型案例的成績" in html
    assert ["邊緣案件", "1", "55.0", "弱項"] in _kind_table(html)


def test_a_learner_sees_their_own_results_by_kind_and_no_one_elses(app, client, db, learner):
    login(client, "trainee")
    mine = client.get("/transcript", headers=EN).get_data(as_text=True)
    assert ["Borderline cases", "1", "55.0", "Weak"] in _kind_table(mine)

    make_user(db, "other")
    client = app.test_client()
    login(client, "other")
    assert client.get(f"/hr/learners/{learner.id}", headers=EN).status_code == 403
    assert client.get(f"/hr/learners/{learner.id}/export.csv").status_code == 403
    theirs = client.get("/transcript", headers=EN).get_data(as_text=True)
    assert "Case results by kind" not in theirs and "Borderline cases" not in theirs
