"""The trainers' view of the loan cases: how trainees decide them, and calibration.

The calibration table is a macro (templates/studio/author_cases/_calibration.html) over
``casework.calibration(case)``, so the case studio can show it for an unpublished
edit parsed with ``courseware.lending.cases.parse_case``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from courseware import casework
from courseware.core.models import ContentRevision
from courseware.lending.cases import Case
from courseware.web.common.access import roles_required
from courseware.web.common.case_text import LABELS
from courseware.web.common.database import catalogue, db_session
from courseware.web.studio.case_figures import figures

bp = Blueprint("author_cases", __name__, url_prefix="/author/cases")
TRAINERS = ("trainer", "admin")
bp.add_url_rule(
    "/<slug>/figures",
    endpoint="figures",
    view_func=roles_required(*TRAINERS)(figures),
    methods=["GET", "POST"],
)
VARIANTS, VARIANT_SEEDS = 24, 200  # the calibration page's spread over the template


@bp.context_processor
def _labels() -> dict[str, Any]:
    return LABELS


def _case_or_404(slug: str) -> Case:
    case = catalogue().cases.get(slug)
    if case is None:
        abort(404)
    return case


@bp.get("")
@roles_required(*TRAINERS)
def index():
    cat = catalogue()
    return render_template(
        "studio/author_cases/index.html",
        cases=sorted(cat.cases.values(), key=lambda c: (c.spec.difficulty, c.title)),
        tallies=casework.case_tallies(db_session()),
        case_errors=cat.errors_for("case_studies/"),
    )


@bp.get("/<slug>")
@roles_required(*TRAINERS)
def case(slug: str):
    found = _case_or_404(slug)
    return render_template(
        "studio/author_cases/case.html",
        case=found,
        stats=casework.case_statistics(db_session(), found),
    )


@bp.get("/<slug>/calibration")
@roles_required(*TRAINERS)
def calibration(slug: str):
    found = _case_or_404(slug)
    return render_template(
        "studio/author_cases/calibration.html",
        case=found,
        rows=casework.calibration(found, casework.SEEDS),
        seeds=casework.SEEDS,
        spread=casework.variant_spread(found, VARIANTS, VARIANT_SEEDS),
        variants=VARIANTS,
        variant_seeds=VARIANT_SEEDS,
        revision=_published_revision(slug),
    )


def _published_revision(slug: str) -> ContentRevision | None:
    """The published revision the case is served from, to name by number and date."""
    revision_id = (catalogue().extras.get("case_revisions") or {}).get(slug)
    return db_session().get(ContentRevision, revision_id) if revision_id else None
