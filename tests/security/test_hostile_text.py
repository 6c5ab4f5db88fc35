"""A corpus of hostile markup through every place trainer or user text is shown:
lessons, questions and explanations, case text, names, branches, cohort names,
reasons, CSV imports, search. Nothing executable reaches a page."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from courseware import certification
from courseware.content.render import render_markdown, render_plain
from courseware.content.store import import_sources, read_sources
from courseware.hr.cohorts import create_cohort
from tests.conftest import DATA, login, make_user, post
from tests.security.xss import PAYLOADS, executable_markup


def test_the_corpus_is_large_enough():
    assert len(PAYLOADS) >= 40


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_pipelines_neutralise_each_payload(payload):
    for html in (
        render_markdown(payload).html,
        render_plain(payload),
        render_markdown(f"::: 注意\n{payload}\n:::\n").html,
    ):
        assert executable_markup(html) == [], (payload, html)


def _hostile_course(tmp_dir) -> dict[str, str]:
    sources, _ = read_sources(
        {
            "content": DATA / "content",
            "quizzes": DATA / "quizzes",
            "case_studies": DATA / "case_studies",
        }
    )
    lesson = "content/01-alpha/01-first.md"
    sources[lesson] = sources[lesson] + "\n\n" + "\n\n".join(PAYLOADS) + "\n"
    bank = yaml.safe_load(sources["quizzes/alpha.yaml"])
    for index, question in enumerate(bank["questions"]):
        payload = PAYLOADS[index % len(PAYLOADS)]
        question["prompt"] = f"{payload} {question['prompt']}"
        question["explanation"] = f"{PAYLOADS[-1 - index]} {question['explanation']}"
        if "choices" in question:
            key = next(iter(question["choices"]))
            question["choices"][key] = f"{PAYLOADS[index + 3]} {question['choices'][key]}"
        if "items" in question:
            question["items"][0] = f"{PAYLOADS[index + 5]} {question['items'][0]}"
    sources["quizzes/alpha.yaml"] = yaml.safe_dump(bank, allow_unicode=True, sort_keys=False)
    case = yaml.safe_load(sources["case_studies/grocery-kiosk.yaml"])
    case["title"] = PAYLOADS[2] + case["title"]
    case["summary"] = PAYLOADS[4]
    case["dossier"]["applicant"]["name"] = PAYLOADS[12]
    case["dossier"]["site_visit"] = [*PAYLOADS[:8], *case["dossier"]["site_visit"]]
    hostile = "\n\n".join(PAYLOADS[10:13]) + "\n\n"
    filler = "這是一段講師寫的講評文字，用來湊足講評需要的長度。" * 10
    case["key"]["debrief"] = (hostile + filler)[: max(160, min(400, len(hostile) + 120))]
    sources["case_studies/grocery-kiosk.yaml"] = yaml.safe_dump(
        case, allow_unicode=True, sort_keys=False
    )
    return sources


def test_no_page_shows_executable_markup_from_trainers_or_users(app, db, tmp_path):
    import_sources(db, _hostile_course(tmp_path))
    db.commit()
    hr = make_user(db, "hr", role="hr", branch=PAYLOADS[0][:60])
    admin = make_user(db, "admin", role="admin")
    learners = []
    for index, payload in enumerate(PAYLOADS):
        learners.append(make_user(db, f"p{index}", branch="台北分行", display_name=payload[:100]))
    cohort = create_cohort(db, PAYLOADS[26][:100], "", date(2030, 1, 1), hr.id)
    db.commit()
    from courseware.hr.cohorts import assign

    assign(db, cohort, learners[:5], hr.id)
    catalogue_policy = app.extensions["courseware.certification.policy"].policy
    from courseware.content.catalogue import build_catalogue
    from courseware.content.store import published_sources

    catalogue = build_catalogue(*published_sources(db))
    certificate = certification.issue_by_hand(
        db, learners[0], admin.id, PAYLOADS[5], catalogue, catalogue_policy
    )
    certification.grant_exemption(
        db, learners[1], "cases", admin.id, PAYLOADS[7], catalogue, catalogue_policy
    )
    db.commit()
    assert not [e for e in catalogue.errors], [str(e) for e in catalogue.errors]

    learner = app.test_client()
    login(learner, "p0")
    staff = app.test_client()
    login(staff, "admin")
    pages = {
        "lesson": learner.get("/modules/alpha/first"),
        "search": learner.get("/search", query_string={"q": PAYLOADS[0]}),
        "case": learner.get("/cases/grocery-kiosk"),
        "cases": learner.get("/cases"),
        "certificate": learner.get("/certificate"),
        "printable": learner.get(f"/certificate/{certificate.code}"),
        "verify": learner.get(f"/verify/{certificate.code}"),
        "transcript": learner.get("/transcript"),
        "admin": staff.get("/admin/"),
        "hr": staff.get("/hr/learners"),
        "cohorts": staff.get("/hr/cohorts"),
        "cohort": staff.get(f"/hr/cohorts/{cohort.id}"),
        "audit": staff.get("/hr/audit"),
        "people": staff.get(f"/people/{learners[1].id}/certification"),
        "studio": staff.get("/author"),
    }
    start = post(learner, "/quiz/alpha/start", token_from="/quiz/alpha")
    pages["quiz"] = learner.get(start.location)
    attempt = start.location.rsplit("/", 1)[-1]
    submitted = post(
        learner,
        f"/quiz/alpha/attempts/{attempt}/submit",
        {"token": _attempt_token(db, int(attempt))},
        token_from="/quiz/alpha",
    )
    pages["review"] = learner.get(submitted.location)
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.status_code)
        html = response.get_data(as_text=True)
        assert executable_markup(html) == [], (name, executable_markup(html)[:5])
    assert "alert(1)" in pages["lesson"].get_data(as_text=True)  # shown as text, not run


def _attempt_token(db, attempt_id: int) -> str:
    from courseware.core.models import QuizAttempt

    db.rollback()
    return db.get(QuizAttempt, attempt_id).token
