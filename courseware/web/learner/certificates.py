"""Certificates: the learner's page, printable and PDF certificates, public verification."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from courseware import certification
from courseware.certification.badges import MAX_CREDENTIAL_BYTES, PROBLEMS, check_credential
from courseware.certification.pdf import CertificateText, FontUnavailable, render_certificate_pdf
from courseware.certification.qr import qr_svg
from courseware.core.clock import utcnow
from courseware.core.models import Certificate, User
from courseware.web.common.access import public
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.extensions import csrf, limiter
from courseware.web.common.policy import policy
from courseware.web.learner.credentials import issuer, site

bp = Blueprint("certificates", __name__)


def verify_url(code: str) -> str:
    base = current_app.config.get("BASE_URL")
    path = url_for("certificates.verify", code=code)
    return (
        f"{base.rstrip('/')}{path}"
        if base
        else url_for("certificates.verify", code=code, _external=True)
    )


def may_see(user: User) -> bool:
    """The holder, staff, and the holder's branch manager may open a certificate."""
    if current_user.id == user.id or current_user.role in ("hr", "admin", "trainer"):
        return True
    return (
        current_user.role == "manager"
        and bool(user.branch)
        and (current_user.branch == user.branch)
    )


def _certificate_or_404(code: str) -> tuple[Certificate, User]:
    normalised = certification.normalise_code(code)
    row = (
        db_session()
        .execute(
            select(Certificate, User)
            .join(User, User.id == Certificate.user_id)
            .where(Certificate.code == normalised)
        )
        .first()
    )
    if row is None or not may_see(row[1]):
        abort(404)
    return row[0], row[1]


@bp.get("/certificate")
def mine():
    session = db_session()
    now = utcnow()
    issued, standing = certification.check_and_stand(
        session, current_user.id, catalogue(), policy(), now
    )
    if issued is not None:
        session.commit()
    current = [standing.current] if standing.current else []
    return render_template(
        "learner/certificates/mine.html",
        standing=standing,
        policy=policy(),
        modules={m.slug: m for m in catalogue().modules},
        grounds=certification.grounds_of(session, current),
        **_titles(),
    )


def _titles() -> dict[str, dict[str, str]]:
    """Module and case titles by slug, for naming a certificate's evidence."""
    cat = catalogue()
    return {
        "module_titles": {m.slug: m.title for m in cat.modules},
        "case_titles": {slug: getattr(case, "title", slug) for slug, case in cat.cases.items()},
    }


@bp.get("/certificate/<code>")
def show(code: str):
    certificate, holder = _certificate_or_404(code)
    session = db_session()
    newest = session.scalar(
        select(func.max(Certificate.cycle)).where(Certificate.user_id == holder.id)
    )
    state = certification.certificate_state(certificate, policy(), utcnow(), newest)
    link = verify_url(certificate.code)
    credential_link = credential_url(certificate.code)
    return render_template(
        "learner/certificates/certificate.html",
        certificate=certificate,
        holder=holder,
        state=state,
        grounds=certification.grounds_of(session, [certificate])[certificate.id],
        evidence_links=current_user.id == holder.id,
        **_titles(),
        verify_url=link,
        qr=Markup(qr_svg(link, _("QR code: verify this certificate online"))),  # noqa: S704 - built from escaped parts
        credential_url=credential_link,
        credential_qr=Markup(  # noqa: S704 - built from escaped parts
            qr_svg(credential_link, _("QR code: this certificate's verifiable credential"))
        ),
    )


def credential_url(code: str) -> str:
    return site().credential_url(code)


@bp.get("/certificate/<code>/pdf")
def pdf(code: str):
    certificate, holder = _certificate_or_404(code)
    labels = {"earned": "首次認證", "renewal": "換證", "manual": "人工核發"}
    text = CertificateText(
        holder=holder.display_name,
        employee_id=holder.employee_id,
        branch=holder.branch,
        code=certificate.code,
        issued_on=_local_date(certificate.issued_at),
        expires_on=_local_date(certificate.expires_at),
        verify_url=verify_url(certificate.code),
        kind_label=labels.get(certificate.kind, ""),
    )
    try:
        data = render_certificate_pdf(text, current_app.config.get("PDF_FONT"))
    except FontUnavailable as exc:
        current_app.logger.warning("certificate PDF unavailable: %s", exc)
        return render_template("learner/certificates/no_pdf.html", certificate=certificate), 503
    filename = f"certificate-{certificate.code}.pdf"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Taipei"))).date()


@bp.get("/verify")
def verify_form():
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code[:64]))
    return render_template("learner/certificates/verify.html", result=None, code="", check=None)


@bp.get("/verify/<code>")
def verify(code: str):
    result = certification.verify(db_session(), code[:64], policy(), utcnow())
    response = render_template(
        "learner/certificates/verify.html", result=result, code=code[:64], check=None
    )
    return response, 200


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    ) or (request.is_json and "text/html" not in request.accept_mimetypes)


def _submitted_credential() -> str | bytes:
    """The credential: a JSON body, an uploaded file (``credential_file``) or the pasted text
    (``credential``). Longer ones are cut to one byte over the limit, which the check refuses."""
    limit = MAX_CREDENTIAL_BYTES + 1
    if request.is_json:
        return request.get_data()[:limit]
    upload = request.files.get("credential_file")
    if upload is not None and upload.filename:
        return upload.stream.read(limit)
    return (request.form.get("credential") or "")[:limit]


# CSRF: exempt for the JSON answer only. Checking a credential is a public, read-only act
# (it changes nothing and reads nothing private; the same answer is open to anyone who
# posts it), so a forged cross-site request gains nothing, and other sites' verifiers must be
# able to call it. The HTML form, posted from our own page, still checks its token.
@bp.post("/verify")
@csrf.exempt
@limiter.limit("30 per minute", methods=["POST"])
def verify_credential():
    wants_json = _wants_json()
    if not wants_json:
        csrf.protect()
    text = _submitted_credential()
    check = check_credential(db_session(), text, issuer(), site(), utcnow())
    if wants_json:
        return jsonify(check.as_json())
    messages = [_(PROBLEMS[p]) for p in check.problems if p in PROBLEMS]
    return render_template(
        "learner/certificates/verify.html",
        result=None,
        code="",
        check=check,
        messages=messages,
        pasted=text if isinstance(text, str) else "",
    )


for endpoint in (
    "certificates.verify_form",
    "certificates.verify",
    "certificates.verify_credential",
):
    public(endpoint)
