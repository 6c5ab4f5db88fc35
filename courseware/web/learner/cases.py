"""Loan cases: the list, the dossier with its calculator and decision form, the outcome,
and the learner's loan book."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_compact_decimal
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import Form, StringField

from courseware import casework, certification
from courseware.casework.dossier import calculate, option_views, surplus_estimate
from courseware.casework.record import record_for_page
from courseware.content.render import render_plain
from courseware.core.clock import utcnow
from courseware.lending.cases import Case
from courseware.lending.scoring import verdict
from courseware.lending.simulation import evaluate_options
from courseware.lending.stages import is_staged, stage_titles
from courseware.lending.variants import (
    dossier_figures,
    fill,
    placeholder_values,
    shuffled_reasons,
)
from courseware.web.common.access import STAFF
from courseware.web.common.case_text import (
    LABELS,
    event_text,
    money,
    number,
    points,
    ratio,
    share,
)
from courseware.web.common.certify import certify_if_earned
from courseware.web.common.charts import ChartText, event_markers, path_chart
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.errors import render_error
from courseware.web.common.policy import policy

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.app_template_filter("case_money")
def _money_filter(value: float | None) -> str:
    return money(value)


@bp.app_template_filter("case_number")
def _number_filter(value: float | None) -> str:
    return number(value)


@bp.app_template_filter("case_share")
def _share_filter(value: float | None, digits: int = 1) -> str:
    return share(value, digits)


@bp.app_template_filter("case_ratio")
def _ratio_filter(value: float | None) -> str:
    return ratio(value)


@bp.app_template_filter("case_points")
def _points_filter(value: float | None) -> str:
    return points(value)


@bp.app_template_filter("case_summary")
def _summary_filter(case: Case) -> str:
    """A case's summary outside a served variant (the list of cases): its {figures} as the
    template's own dossier gives them, not as raw placeholders."""
    return fill(case.spec.summary, placeholder_values(dossier_figures(case.spec)))


@bp.context_processor
def _labels() -> dict[str, Any]:
    return LABELS


def _case_or_404(slug: str) -> Case:
    case = catalogue().cases.get(slug)
    if case is None:
        abort(404)
    return case


def _revision(slug: str) -> int | None:
    return (catalogue().extras.get("case_revisions") or {}).get(slug)


def _serve(case: Case) -> Any:
    """The learner's ticket for the case: a renewal one while their renewal window is open."""
    session = db_session()
    renewal = certification.renewal_open(session, current_user.id, policy())
    session.commit()  # the ticket must open its own transaction (SQLite)
    ticket = casework.serve_ticket(
        session, current_user.id, case, _revision(case.slug), renewal=renewal
    )
    session.commit()
    return ticket


class CalculatorForm(Form):
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    term = StringField(_l("Term (months)"), render_kw={"inputmode": "numeric"})
    rate = StringField(_l("Monthly rate (%)"), render_kw={"inputmode": "decimal"})
    surplus = StringField(_l("Monthly surplus before the loan"), render_kw={"inputmode": "decimal"})


def _unlock_after() -> int:
    """Learners unlock harder templates; staff (unlock_after 0) open all."""
    return 0 if current_user.role in STAFF else policy().cases.unlock_after


def _locked(case: Case) -> Any:
    """A 403 page for a template the learner has not unlocked yet; None when it is open."""
    requirement = casework.case_requirement(
        db_session(), current_user.id, case, catalogue().cases.values(), _unlock_after()
    )
    if requirement is None:
        return None
    return render_error(
        403,
        _(
            "This case is still locked. It opens once you have decided %(needed)s of the "
            "difficulty-%(difficulty)s cases (%(done)s so far): start with those in the "
            "list of cases.",
            needed=requirement.needed,
            difficulty=requirement.difficulty,
            done=requirement.done,
        ),
    )


@bp.get("")
def index():
    cases = sorted(catalogue().cases.values(), key=lambda c: (c.spec.difficulty, c.title))
    session = db_session()
    statuses = casework.case_statuses(session, current_user.id)
    access = casework.case_access(session, current_user.id, cases, _unlock_after(), statuses)
    renewal = certification.renewal_open(session, current_user.id, policy())
    fresh: set[str] = set()
    if renewal:
        rules = policy().certification.renewal
        cases, fresh = casework.renewal_order(cases, statuses, utcnow(), rules.fresh_case_months)
    return render_template(
        "learner/cases/index.html",
        cases=cases,
        groups=casework.group_by_module(cases, catalogue().modules),
        access=access,
        statuses=statuses,
        renewal=renewal,
        fresh=fresh,
        fresh_months=policy().certification.renewal.fresh_case_months,
    )


@bp.get("/portfolio")
def portfolio():
    book = casework.portfolio(db_session(), current_user.id, request.args.get("scope", "all"))
    return render_template("learner/cases/portfolio.html", book=book)


def _render_case(template: Case, ticket: Any, chosen: dict[str, Any], error: Any = None):
    stage = None
    if is_staged(template):
        stage = casework.current_stage(db_session(), template, ticket)
        if stage is None:  # cannot happen: the last stage spends the ticket with it
            return render_error(409, _("This case is already decided. Open it again."))
        case = stage.case
    else:
        case = casework.variant_of(template, ticket.seed)
    calc = calculate(case, request.args)
    form = CalculatorForm(data={k: getattr(calc, k) for k in ("amount", "term", "rate", "surplus")})
    for name, (message, params) in calc.errors.items():
        values = {k: number(v) if isinstance(v, float) else v for k, v in params.items()}
        getattr(form, name).errors = [_(message, **values)]
    flags: dict[str, list[Any]] = {}
    for flag in case.catalogue.flags:
        flags.setdefault(flag.category, []).append(flag)
    return render_template(
        "learner/cases/case.html",
        case=case,
        template_slug=template.slug,
        template=template,
        stage=stage,
        stage_titles=stage_titles(template) if stage else [],
        spec=case.spec,
        ticket=ticket,
        estimate=surplus_estimate(case),
        calc=calc,
        calc_form=form,
        options=option_views(case, evaluate_options(case, casework.SEEDS)),
        flag_groups=flags,
        reasons=shuffled_reasons(case.spec.reasons, ticket.seed, case.slug),
        chosen=chosen,
        error=error,
    ), 400 if error else 200


@bp.get("/<slug>")
def case(slug: str):
    found = _case_or_404(slug)
    if (locked := _locked(found)) is not None:
        return locked
    return _render_case(found, _serve(found), {"option": "", "flags": set(), "reasons": []})


@bp.post("/<slug>/decide")
def decide(slug: str):
    found = _case_or_404(slug)
    if (locked := _locked(found)) is not None:
        return locked
    form = request.form
    chosen = {
        "option": form.get("option", ""),
        "flags": set(form.getlist("flags")),
        "reasons": form.getlist("reasons"),
    }
    posted = {
        "token": form.get("token", ""),
        "option_id": chosen["option"],
        "flags": form.getlist("flags"),
        "reasons": chosen["reasons"],
        "posted_seed": form.get("seed", ""),
        "posted_revision": form.get("revision", ""),
    }
    session = db_session()
    session.commit()  # spending the ticket must open its own transaction (SQLite)
    staged = is_staged(found)
    try:
        if staged:
            stage = form.get("stage", "")
            result = casework.submit_stage(
                session, current_user.id, template=found, posted_stage=stage, **posted
            )
            decision = result.decision
        else:
            decision = casework.submit_decision(session, current_user.id, case=found, **posted)
    except casework.DecisionRefused as refused:
        session.rollback()
        return _refused(found, chosen, refused, staged)
    if decision is not None and decision.kind != "practice":
        # One transaction: the decision and the certificate it earns, or neither.
        certify_if_earned(current_user.id)
    else:
        session.commit()
    if decision is None:  # a stage recorded, the case goes on
        flash(
            _("Stage recorded. The next stage follows; you can stop here and come back."), "success"
        )
        return redirect(url_for("cases.case", slug=found.slug), 303)
    return redirect(url_for("cases.outcome", slug=decision.case_slug, decision_id=decision.id), 303)


def _refused(found: Case, chosen: dict[str, Any], refused: casework.DecisionRefused, staged: bool):
    """Nothing was stored: show why, where the learner can act on it."""
    message = _(refused.message, **refused.params)
    if refused.decision_id is not None:  # decided already (a double submit): its outcome
        flash(message, "info")
        return redirect(
            url_for("cases.outcome", slug=found.slug, decision_id=refused.decision_id), 303
        )
    if refused.field is not None:  # a form error: the form again, with what was chosen
        return _render_case(found, _serve(found), chosen, (refused.field, message))
    if staged:  # a stage decided already: the case page shows the next one
        flash(message, "info")
        return redirect(url_for("cases.case", slug=found.slug), 303)
    return render_error(400, message)


@bp.get("/<slug>/decisions/<int:decision_id>")
def outcome(slug: str, decision_id: int):
    try:
        decision = casework.get_decision(db_session(), current_user.id, decision_id)
    except casework.DecisionNotFound:
        abort(404)
    if decision.case_slug != slug or not decision.record.get("path"):
        abort(404)
    record = record_for_page(decision.record)
    standing = certification.learner_standing(db_session(), current_user.id, catalogue(), policy())
    return render_template(
        "learner/cases/outcome.html",
        decision=decision,
        record=record,
        counts=casework.counts(decision),
        verdict=verdict(
            record["score"]["total"],
            record["rubric"]["total"],
            policy().certification.case_average_min,
        ),
        standing=standing,
        cases_requirement=next((r for r in standing.requirements if r.kind == "cases"), None),
        chart=_chart(record["path"], record["case"]["title"]),
        events=_events(record["path"]),
        debrief=render_plain(record["debrief"]),
        chosen_stats=next(o for o in record["options"] if o["id"] == decision.option_id),
    )


def _axis_money(value: float) -> str:
    return format_compact_decimal(value, locale=str(get_locale()), fraction_digits=1)


def _chart(path: dict[str, Any], title: str):
    description = (
        _("What would have happened to the loan as requested, month by month.")
        if path["counterfactual"]
        else _("What happened to the loan, month by month.")
    )
    text = ChartText(
        title=_("The loan month by month: %(title)s", title=title),
        description=description,
        payments=_("Due and paid"),
        cash=_("Household cash"),
        dpd=_("Days past due"),
        month=_("Month of the loan"),
        never_late=_("Never late: no day past due"),
    )
    months = [e["month"] for e in path["events"]]
    return path_chart(
        path["cash"], path["due"], path["paid"], path["dpd"], months, text, _axis_money
    )


def _events(path: dict[str, Any]) -> list[dict[str, Any]]:
    markers = event_markers([e["month"] for e in path["events"]])
    return [
        {"marker": markers[e["month"]], "month": e["month"], "text": event_text(e)}
        for e in path["events"]
    ]
