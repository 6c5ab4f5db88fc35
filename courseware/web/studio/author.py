"""The trainers' area: question banks at a glance, item statistics per quiz, and the
facilitator's guide of each module (for classroom sessions) as a page and a PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import get_locale

from courseware.assessment.statistics import quiz_overview, quiz_statistics
from courseware.certification.pdf import FontUnavailable
from courseware.content.catalogue import Catalogue, Guide, Module
from courseware.content.render import render_markdown
from courseware.studio.guide_pdf import render_guide_pdf
from courseware.web.common.access import roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.policy import policy
from courseware.web.studio.forms import TYPE_LABELS

bp = Blueprint("author", __name__, url_prefix="/author")


@bp.get("")
@roles_required("trainer", "admin")
def index():
    cat = catalogue()
    return render_template(
        "studio/author/index.html",
        modules=cat.modules,
        banks=cat.quizzes,
        overview=quiz_overview(db_session()),
        quiz_errors=cat.errors_for("quizzes/"),
        content_errors=cat.errors_for("content/"),  # the trainer's landing page shows them
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
        "studio/author/quiz.html",
        module=mod,
        bank=bank,
        stats=quiz_statistics(db_session(), bank, policy().studio.item_min_responses),
        type_labels=TYPE_LABELS,
        min_responses=policy().studio.item_min_responses,
        lessons={lesson.slug: lesson.title for lesson in mod.lessons},
    )


def _guide_or_404(cat: Catalogue, module: str) -> tuple[Module, Guide]:
    mod = cat.module(module)
    guide = cat.guides.get(module)
    if mod is None or guide is None:
        abort(404)
    return mod, guide


def _case_titles(cat: Catalogue, guide: Guide) -> list[tuple[str, str]]:
    return [(slug, cat.cases[slug].title if slug in cat.cases else slug) for slug in guide.cases]


@bp.get("/guides")
@roles_required("trainer", "admin")
def guides():
    cat = catalogue()
    return render_template(
        "studio/author/guides.html",
        modules=cat.modules,
        guides=cat.guides,
        guide_errors=[e for e in cat.errors if e.path.endswith("/guide.md")],
    )


@bp.get("/guides/<module>")
@roles_required("trainer", "admin")
def guide(module: str):
    cat = catalogue()
    mod, found = _guide_or_404(cat, module)
    rendered = render_markdown(found.body, cat.glossary_terms, str(get_locale()))
    return render_template(
        "studio/author/guide.html",
        module=mod,
        guide=found,
        rendered=rendered,
        cases=_case_titles(cat, found),
        playable=set(cat.cases),
    )


@bp.get("/guides/<module>.pdf")
@roles_required("trainer", "admin")
def guide_pdf(module: str):
    cat = catalogue()
    mod, found = _guide_or_404(cat, module)
    try:
        data = render_guide_pdf(
            found, mod.title, _case_titles(cat, found), current_app.config.get("PDF_FONT")
        )
    except FontUnavailable as exc:
        current_app.logger.warning("guide PDF unavailable: %s", exc)
        abort(503)
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="guide-{mod.slug}.pdf"'},
    )
