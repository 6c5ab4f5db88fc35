"""Certificate pages: the learner's page, PDF with an embedded font, public verification,
and the staff page where each act needs a reason."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from courseware import certification
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from courseware.core.models import AuditEvent, Certificate
from tests.certification.pdf_facts import pdf_fonts, pdf_text
from tests.certification.test_certification import complete_everything
from tests.conftest import login, post


def test_learner_page_lists_requirements_and_what_is_open(client, users, course):
    login(client, "trainee")
    html = client.get("/certificate", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Lessons of 測試模組一: 0 of 2 done" in html
    assert "Loan cases: 0 of 8 decided" in html
    assert "Open" in html
    # In Chinese the module's title is quoted, not set off by a space.
    html = client.get("/certificate", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "「測試模組一」的課程：已完成 0 / 2" in html


def test_completing_everything_issues_the_certificate_on_the_page(app, client, db, users, course):
    catalogue = build_catalogue(*published_sources(db))
    complete_everything(db, users["trainee"], catalogue)
    app.extensions["courseware.certification.policy"] = type(
        app.extensions["courseware.certification.policy"]
    )(
        app.extensions["courseware.certification.policy"].policy.model_copy(
            update={
                "certification": app.extensions[
                    "courseware.certification.policy"
                ].policy.certification.model_copy(update={"cases_required": 2})
            }
        ),
        [],
    )
    login(client, "trainee")
    html = client.get("/certificate").get_data(as_text=True)
    cert = db.scalar(select(Certificate))
    assert cert is not None and cert.code in html


def test_verify_page_shows_each_state(app, client, db, certified, users):
    html = client.get(f"/verify/{certified.code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Valid" in html and users["trainee"].display_name in html
    assert users["trainee"].employee_id not in html  # name and dates only
    clock.set_time(certified.expires_at)
    assert "Expired" in client.get(
        f"/verify/{certified.code}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    certification.revoke(db, certified, users["hr"].id, "Found to be a ghost employee")
    db.commit()
    assert "Revoked" in client.get(
        f"/verify/{certified.code}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)


def test_unknown_and_malformed_codes_get_the_same_answer(client, certified):
    answers = []
    for code in ("MLA-2222-3333-4444-5555", "garbage%3Cscript%3E", "x" * 300):
        response = client.get(f"/verify/{code}")
        html = response.get_data(as_text=True)
        answers.append(
            (
                response.status_code,
                re.search(r"<section class=.verification.*?</section>", html, re.S).group(0),
            )
        )
    assert answers[0] == answers[1] == answers[2]
    assert "verification-unknown" in answers[0][1]


def test_verify_is_public_and_the_form_redirects(client, certified):
    response = client.get(f"/verify?code={certified.code.lower()}")
    assert response.status_code == 302
    assert client.get(response.location).status_code == 200


def test_pdf_is_a_download_with_the_holders_name(client, certified, users):
    login(client, "trainee")
    response = client.get(f"/certificate/{certified.code}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="certificate-{certified.code}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert users["trainee"].display_name in text and certified.code in text
    assert f"/verify/{certified.code}" in text
    assert all(font.is_subset and font.file_key for font in pdf_fonts(response.data))


@pytest.mark.skipif(
    shutil.which("pdffonts") is None,
    reason="poppler-utils (pdffonts) not installed; .ci/run installs it",
)
def test_pdf_embeds_its_font(client, certified, tmp_path):
    login(client, "trainee")
    response = client.get(f"/certificate/{certified.code}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.data)
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes yes yes " in f" {row.split(None, 1)[1]} " for row in rows), fonts
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert certified.code in text and "微貸授信人員結業證書" in text


def test_pdf_font_setting_naming_no_file_still_gives_the_pdf(app, client, certified):
    app.config["PDF_FONT"] = "/nonexistent/font.ttf"
    login(client, "trainee")
    response = client.get(f"/certificate/{certified.code}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")


def test_pdf_on_a_broken_install_says_what_to_do(app, client, certified, monkeypatch, tmp_path):
    monkeypatch.setattr("courseware.certification.pdf.PACKAGED_FONT", tmp_path / "gone.otf")
    login(client, "trainee")
    response = client.get(f"/certificate/{certified.code}/pdf", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "reinstall" in html and "COURSEWARE_PDF_FONT" in html
    assert client.get(f"/certificate/{certified.code}").status_code == 200


def test_printable_page_has_the_pdfs_facts_qr_code_and_link(client, certified, users):
    login(client, "trainee")
    html = client.get(f"/certificate/{certified.code}").get_data(as_text=True)
    pdf = pdf_text(client.get(f"/certificate/{certified.code}/pdf").data)
    link = f"http://localhost/verify/{certified.code}"
    holder = users["trainee"]
    for fact in (
        "微貸授信人員結業證書",
        holder.display_name,
        f"員工編號 {holder.employee_id}",
        holder.branch,
        "已完成微貸授信人員訓練課程全部六個模組",
        "首次認證",
        certified.code,
        link,
    ):
        assert fact in html and fact in pdf, fact
    assert f'<a href="{link}">{link}</a>' in html
    qr = re.search(r'<svg class="qr-code"[^>]*viewBox="0 0 (\d+) \1"[^>]*>.*?</svg>', html, re.S)
    assert qr and 'role="img"' in qr.group(0) and "aria-label=" in qr.group(0)
    assert qr.group(0).count("h") > 20  # modules drawn, not an empty box
    assert 'href="/static/css/site.css' in html  # styled by our own stylesheet, no CDN
    assert "https://" not in html.split("<body", 1)[0]


def test_another_trainee_cannot_open_the_certificate(app, client, db, certified):
    from tests.conftest import make_user

    make_user(db, "other")
    login(client, "other")
    assert client.get(f"/certificate/{certified.code}").status_code == 404
    assert client.get(f"/certificate/{certified.code}/pdf").status_code == 404


@pytest.mark.parametrize("role", ["trainee", "manager"])
def test_staff_page_is_for_trainers_hr_and_admins(client, users, role):
    login(client, role)
    assert client.get(f"/people/{users['trainee'].id}/certification").status_code == 403


def test_revoke_without_reason_keeps_the_form_and_changes_nothing(client, db, certified, users):
    login(client, "hr")
    page = f"/people/{users['trainee'].id}/certification"
    response = post(
        client,
        f"/people/{users['trainee'].id}/certificates/{certified.id}/revoke",
        {"reason": "no"},
        token_from=page,
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Certificate, certified.id).revoked_at is None


def test_hr_revokes_with_reason_and_it_is_audited(client, db, certified, users):
    login(client, "hr")
    page = f"/people/{users['trainee'].id}/certification"
    response = post(
        client,
        f"/people/{users['trainee'].id}/certificates/{certified.id}/revoke",
        {"reason": "Certificate obtained by fraud"},
        token_from=page,
    )
    assert response.status_code == 302
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.revoke"))
    assert event.actor_id == users["hr"].id and event.reason == "Certificate obtained by fraud"


def test_trainer_cannot_revoke(client, certified, users):
    login(client, "trainer")
    page = f"/people/{users['trainee'].id}/certification"
    response = post(
        client,
        f"/people/{users['trainee'].id}/certificates/{certified.id}/revoke",
        {"reason": "I want to"},
        token_from=page,
    )
    assert response.status_code == 403


def test_trainer_grants_exemption_from_the_staff_page(client, db, users, course):
    login(client, "trainer")
    page = f"/people/{users['trainee'].id}/certification"
    response = post(
        client,
        f"/people/{users['trainee'].id}/exemptions",
        {"requirement": "cases", "reason": "Experienced officer from a partner bank"},
        token_from=page,
    )
    assert response.status_code == 302
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "exemption.grant"))
