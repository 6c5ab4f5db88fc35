"""The evidence a certificate rests on (its quiz attempts and case decisions, their scores
and dates) on the certificate pages, the transcript and the auditor's export."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import CaseDecision, QuizAttempt
from tests.conftest import login

EN = {"Accept-Language": "en"}


def _facts(db):
    catalogue = build_catalogue(*published_sources(db))
    attempts = list(db.scalars(select(QuizAttempt)))
    decisions = list(db.scalars(select(CaseDecision)))
    return catalogue, attempts, decisions


def test_the_auditors_transcript_export_lists_each_certificate_with_its_evidence(
    client, db, certified, users
):
    catalogue, attempts, decisions = _facts(db)
    assert attempts and decisions
    login(client, "hr")
    text = client.get(f"/hr/learners/{users['trainee'].id}/export.csv", headers=EN).get_data(
        as_text=True
    )
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    evidence = [r for r in rows if r[0] == "Certificate evidence"]
    titles = {m.slug: m.title for m in catalogue.modules}
    # 2026-01-10 02:00 UTC is 10:00 in Taipei, the site's zone.
    for attempt in attempts:
        assert [
            f"{certified.code}: Quiz of {titles[attempt.module_slug]}",
            "",
            "2026-01-10 10:00",
            f"{attempt.percent}%",
            "Quiz passed",
        ] in [r[1:] for r in evidence]
    for decision in decisions:
        title = getattr(catalogue.cases[decision.case_slug], "title", decision.case_slug)
        assert [
            f"{certified.code}: {title}",
            "",
            "2026-01-10 10:00",
            f"{decision.score_total:.1f}",
            "Case decision counted",
        ] in [r[1:] for r in evidence]
    assert len(evidence) == len(attempts) + len(decisions)
    # The XLSX export carries the same rows.
    response = client.get(f"/hr/learners/{users['trainee'].id}/export.xlsx", headers=EN)
    sheet = load_workbook(io.BytesIO(response.data)).active
    firsts = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert firsts.count("Certificate evidence") == len(evidence)


def test_the_transcript_page_shows_the_evidence(client, db, certified, users):
    login(client, "hr")
    html = client.get(f"/hr/learners/{users['trainee'].id}", headers=EN).get_data(as_text=True)
    assert "Certificate evidence" in html and "Case decision counted" in html


def test_the_holder_reaches_each_attempt_and_decision_from_the_certificate(
    app, client, db, certified, users
):
    _catalogue, attempts, decisions = _facts(db)
    login(client, "trainee")
    for page in (f"/certificate/{certified.code}", "/certificate"):
        html = client.get(page, headers=EN).get_data(as_text=True)
        assert "What this certificate rests on" in html
        for attempt in attempts:
            assert f'href="/quiz/{attempt.module_slug}/attempts/{attempt.id}/review"' in html
        for decision in decisions:
            assert f'href="/cases/{decision.case_slug}/decisions/{decision.id}"' in html
            assert f"score {decision.score_total:.1f}" in html


def test_hr_sees_the_evidence_without_links_to_the_learners_own_pages(client, db, certified, users):
    _catalogue, attempts, decisions = _facts(db)
    login(client, "hr")
    for page in (
        f"/certificate/{certified.code}",
        f"/people/{users['trainee'].id}/certification",
    ):
        html = client.get(page, headers=EN).get_data(as_text=True)
        assert "rests on" in html
        assert html.count('data-evidence="quiz"') == len(attempts)
        assert html.count('data-evidence="case"') == len(decisions)
        assert "/review" not in html and "/decisions/" not in html
