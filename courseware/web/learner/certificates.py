"""Certificates: the learner's page, printable and PDF certificates, public verification."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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
from courseware.certification.pdf import CertificateText, FontUnavailable, render_certificate_pdf
from courseware.certification.qr import qr_svg
from courseware.core.clock import utcnow
from courseware.core.models import Certificate, User
from courseware.web.common.access import public
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.policy import policy

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
    )


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
    return render_template("learner/certificates/verify.html", result=None, code="")


@bp.get("/verify/<code>")
def verify(code: str):
    result = certification.verify(db_session(), code[:64], policy(), utcnow())
    response = render_template("learner/certificates/verify.html", result=result, code=code[:64])
    return response, 200


for endpoint in ("certificates.verify_form", "certificates.verify"):
    public(endpoint)
