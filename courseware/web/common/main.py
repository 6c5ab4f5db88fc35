"""Site-wide endpoints: health check and language choice."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, session
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from courseware.web.common.database import db_session
from courseware.web.common.extensions import SUPPORTED_LOCALES
from courseware.web.common.security import safe_next

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True), 200


@bp.post("/language")
def set_language():
    chosen = request.form.get("lang", "")
    if chosen in SUPPORTED_LOCALES:
        session["lang"] = chosen
        session.permanent = True
    return redirect(safe_next(request.form.get("next")))
