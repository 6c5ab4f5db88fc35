"""The audit trail for HR and administrators: filter, pages, CSV and XLSX of the filtered rows."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, abort, render_template, request

from courseware.hr import audit_trail, exports
from courseware.hr.exports import Cell
from courseware.web.common.access import EDITORS, roles_required
from courseware.web.common.database import db_session
from courseware.web.common.reporting import export_response, label, timezone

bp = Blueprint("hr_audit", __name__, url_prefix="/hr/audit")


@bp.get("")
@roles_required(*EDITORS)
def index():
    query = audit_trail.AuditQuery.from_args(request.args)
    session = db_session()
    page = audit_trail.audit_page(session, query, timezone())
    return render_template(
        "hr/audit.html",
        page=page,
        query=page.query,
        rows=[(row, audit_trail.audit_cells(row, timezone(), label)) for row in page.rows],
        columns=audit_trail.AUDIT_COLUMNS,
        actions=audit_trail.actions(session),
        action_label=action_label,
        target_text=lambda row: audit_trail.target_text(row, label),
    )


def action_label(action: str) -> str:
    """An action's name in the reader's language; an unknown one shows its code."""
    known = audit_trail.ACTION_LABELS.get(action)
    return label(known) if known else action


def _rows(query: audit_trail.AuditQuery) -> Iterator[list[Cell]]:
    yield [label(title) for title in audit_trail.AUDIT_COLUMNS]
    tz = timezone()
    for row in audit_trail.iter_audit(db_session(), query, tz):
        yield audit_trail.audit_cells(row, tz, label)


@bp.get("/export.<fmt>")
@roles_required(*EDITORS)
def export(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    return export_response(_rows(audit_trail.AuditQuery.from_args(request.args)), fmt, "audit")
