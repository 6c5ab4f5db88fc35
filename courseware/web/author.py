"""The trainers' area: question banks at a glance and item statistics per quiz."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from courseware.assessment.statistics import quiz_overview, quiz_statistics
from courseware.web.access import roles_required
from courseware.web.database import catalogue, db_session

bp = Blueprint("author", __name__, url_prefix="/author")


@bp.get("")
@roles_required("trainer", "admin")
def index():
    cat = catalogue()
    return render_template(
        "author/index.html",
        modules=cat.modules,
        banks=cat.quizzes,
        overview=quiz_overview(db_session()),
        quiz_errors=cat.errors_for("quizzes/"),
    )


@bp.get("/quizzes/<module>")
@roles_required("trainer", "admin")
def quiz(module: str):
    cat = catalogue()
    bank = cat.quizzes.get(module)
    mod = cat.module(module)
    if bank is None or mod is None:
        abort(404)
    return render_template(
        "author/quiz.html",
        module=mod,
        bank=bank,
        stats=quiz_statistics(db_session(), bank),
        lessons={lesson.slug: lesson.title for lesson in mod.lessons},
    )
