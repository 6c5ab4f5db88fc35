"""The audit trail for HR and administrators, in words: filter, pages, CSV and XLSX of the
filtered lines."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, abort, render_template, request

from courseware.hr import audit_trail, exports
from courseware.hr.exports import Cell
from courseware.web.common.access import EDITORS, roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.reporting import export_response, label, timezone

bp = Blueprint("hr_audit", __name__, url_prefix="/hr/audit")


def _titles() -> tuple[dict[str, str], dict[str, str]]:
    cat = catalogue()
    return (
        {m.slug: m.title for m in cat.modules},
        {slug: getattr(case, "title", slug) for slug, case in cat.cases.items()},
    )


@bp.get("")
@roles_required(*EDITORS)
def index():
    query = audit_trail.AuditQuery.from_args(request.args)
    session = db_session()
    page = audit_trail.audit_page(session, query, timezone())
    names = audit_trail.names_for(session, page.rows, *_titles())
    return render_template(
        "hr/audit.html",
        page=page,
        query=page.query,
        lines=audit_trail.audit_lines(page.rows, names, label, timezone()),
        columns=audit_trail.AUDIT_COLUMNS,
        actions=[(a, audit_trail.action_sentence(a)) for a in audit_trail.actions(session)],
    )


def _rows(query: audit_trail.AuditQuery) -> Iterator[list[Cell]]:
    yield [label(title) for title in audit_trail.AUDIT_COLUMNS]
    tz = timezone()
    for line in audit_trail.iter_lines(db_session(), query, tz, label, *_titles()):
        yield audit_trail.audit_cells(line, tz)


@bp.get("/export.<fmt>")
@roles_required(*EDITORS)
def export(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    return export_response(_rows(audit_trail.AuditQuery.from_args(request.args)), fmt, "audit")
