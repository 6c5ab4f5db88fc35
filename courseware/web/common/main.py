"""Site-wide endpoints: health check and language choice."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, session

from courseware.web.common import health
from courseware.web.common.extensions import SUPPORTED_LOCALES
from courseware.web.common.security import safe_next

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    """200 with status "ok" when the site can serve and save, else 503 with status "fail";
    ``checks`` names the cause by code (see ``web.common.health``)."""
    found = health.checks()
    ok = all(value == health.OK for value in found.values())
    return jsonify(status="ok" if ok else "fail", checks=found), 200 if ok else 503


@bp.post("/language")
def set_language():
    chosen = request.form.get("lang", "")
    if chosen in SUPPORTED_LOCALES:
        session["lang"] = chosen
        session.permanent = True
    return redirect(safe_next(request.form.get("next")))
