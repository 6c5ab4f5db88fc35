"""Loan cases through the browser's eyes: open, decide, outcome, loan book; bad input;
owners only; the trainers' pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware import casework
from courseware.casework.dossier import calculate
from courseware.content.catalogue import build_catalogue
from courseware.content.store import add_revision, published_sources
from courseware.core import clock
from courseware.core.models import CaseDecision, CaseTicket, Certificate, ContentDocument
from courseware.lending.cases import Case, load_case_dir
from courseware.lending.simulation import evaluate_options
from courseware.lending.variants import shuffled_reasons
from tests.certification.test_certification import finish_lessons, pass_quiz
from tests.conftest import DATA, csrf_token, login, make_user, post

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
GOOD = "grocery-kiosk"
BAD = "bar-owner"
KEY_REASONS = ["capacity-comfortable", "clean-track-record", "records-verified"]


@pytest.fixture(autouse=True)
def _seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tickets draw their seeds in a fixed sequence: each test sees the same variants on
    every run (and two tickets still differ)."""
    from itertools import count

    from courseware.casework import decisions

    sequence = count(start=7001, step=7919)
    monkeypatch.setattr(decisions.secrets, "randbelow", lambda _limit: next(sequence))


@pytest.fixture
def trainee(as_trainee: FlaskClient) -> FlaskClient:
    """Signed in, reading the site in English (message ids), with the clock fixed."""
    post(as_trainee, "/language", {"lang": "en", "next": "/"})
    clock.set_time(START)
    return as_trainee


def _form(client: FlaskClient, slug: str) -> dict[str, str]:
    page = client.get(f"/cases/{slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    found = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("token", "seed", "revision")
    }
    found["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return found


def _template(slug: str) -> Case:
    """The fixture course's case file, as the site imported it."""
    cases, errors = load_case_dir(DATA / "case_studies")
    assert not errors
    return cases[slug]


def _served(slug: str, form: dict[str, str]) -> Case:
    """The variant the page served with this form's seed."""
    return casework.variant_of(_template(slug), int(form["seed"]))


def _expert(slug: str, form: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """The best option, the red flags and the key reasons of the served variant."""
    variant = _served(slug, form)
    best = next(s.option_id for s in evaluate_options(variant, casework.SEEDS) if s.is_best)
    return best, sorted(variant.key_flags), list(variant.spec.key.key_reasons)


def _decide_as_expert(client, slug):
    form = _form(client, slug)
    option, flags, reasons = _expert(slug, form)
    return _decide(client, slug, option, flags, reasons, form=form)


def _decide(client, slug, option, flags=(), reasons=(), form=None, **changes):
    data = dict(form or _form(client, slug))
    data.update({"option": option, "flags": list(flags), "reasons": list(reasons)})
    data.update(changes)
    return client.post(f"/cases/{slug}/decide", data=data)


def _decisions(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(CaseDecision))


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_open_decide_see_the_outcome_and_the_loan_book(trainee, db):
    listing = _text(trainee.get("/cases"))
    assert "巷口雜貨店的第四次貸款" in listing and "Not started" in listing

    form = _form(trainee, GOOD)
    page = _text(trainee.get(f"/cases/{GOOD}"))
    for section in ("Applicant", "Business", "Household budget a month", "Credit bureau"):
        assert section in page
    assert "Site visit" in page and "The request" in page and "林秀琴" in page
    assert "fees included, is at most 16% (Civil Code art. 205)" in page  # the rate note
    assert 'name="amount" type="text" value="24000"' in page  # the calculator, pre-filled
    # The dossier's figures are the served variant's, worked out as the calculator does.
    calc = calculate(_served(GOOD, form))
    assert f"{round(float(calc.surplus)):,}" in page  # the surplus from the dossier
    assert f"{round(calc.installment):,}" in page  # the installment of the request
    rates = {
        s.option_id: s.effective_annual_rate for s in evaluate_options(_served(GOOD, form), 50)
    }
    shown = f"{rates['approve-as-requested'] * 100:.1f}%"
    assert f"effective annual rate {shown}, fees included" in page  # each priced option's rate
    assert "Counts toward certification" in page
    assert 'src="/static/js/cases.js?v=' in page  # fingerprinted (courseware/web/common/assets.py)
    assert " style=" not in page and "<script>" not in page
    # The checklist is the whole catalogue, without severities: flags are found, not read off.
    assert "Critical" not in page and "badge-critical" not in page

    option, flags, reasons = _expert(GOOD, form)
    response = _decide(trainee, GOOD, option, flags, reasons, form=form)
    assert response.status_code == 303
    outcome = response.location
    assert re.fullmatch(rf"/cases/{GOOD}/decisions/\d+", outcome)

    html = _text(trainee.get(outcome))
    for part in ("Decision quality", "Risk factors found", "Rationale", "Portfolio contribution"):
        assert part in html
    assert "100.0" in html  # the expert's choice, every flag and every key reason
    for o in _template(GOOD).options:
        assert o.label in html  # every option in the table
    assert "Default rate" in html and "Expected profit" in html and "Sacrifice risk" in html
    assert "Household's expected gain" in html and "Effective annual rate" in html
    assert "This case was drawn for you from its template" in html
    assert '<svg class="chart path-chart" viewBox="0 0 400 380" width="100%" role="img"' in html
    assert 'class="chart-event"' in html
    lends = _template(GOOD).option(option).kind not in ("reject", "reject_refer", "reject_report")
    assert ("Loan paid out:" if lends else "Not approved: none of the lender") in html
    assert "The same figures as a table" in html
    if lends:
        assert "The lender's profit" in html or "The lender's loss" in html
    else:
        assert "Had the loan been approved as requested" in html
    assert "The expert's debrief" in html
    assert " style=" not in html and "<script>" not in html

    listing = _text(trainee.get("/cases"))
    assert "Case decided" in listing and "100.0" in listing

    book = _text(trainee.get("/cases/portfolio"))
    assert "巷口雜貨店的第四次貸款" in book and "PAR30" in book and "Default rate" in book
    assert "Wrong rejections" in book and "Good approvals" in book
    assert "The expert's choices" in book


def test_a_rejection_shows_what_would_have_happened(trainee, db):
    form = _form(trainee, BAD)
    response = _decide(trainee, BAD, "reject", ["negative-or-volatile-surplus"], form=form)
    html = _text(trainee.get(response.location))
    assert "Had the loan been approved as requested" in html
    assert "Nothing was lent" in html
    assert "As requested it would default in" in html
    stats = evaluate_options(_served(BAD, form), casework.SEEDS)
    if any(s.moves_money and s.worst_month_ratio == float("inf") for s in stats):
        assert "Surplus is negative" in html
    assert "inf" not in html.lower().replace("info", "")
    assert "Not approved: none of the lender&#39;s money moved" in html
    decision = db.scalar(select(CaseDecision))
    assert decision.lender_profit == 0 and decision.record["path"]["counterfactual"]


def test_a_double_submit_records_one_decision(trainee, db):
    form = _form(trainee, GOOD)
    first = _decide(trainee, GOOD, "approve-as-requested", form=form)
    second = _decide(trainee, GOOD, "reject-competition", form=form)
    assert second.status_code == 303 and second.location == first.location
    assert "already decided with this form" in _text(trainee.get(second.location))
    assert _decisions(db) == 1


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"seed": "1"}, "The seed in the form is not the one this case was served with", 400),
        ({"revision": "99999"}, "another version of this case", 400),
        ({"token": "forged"}, "This decision form is not valid", 400),
        ({"option": "approve-a-million"}, "Choose one of the decisions offered.", 400),
        ({"flags": ["sector-downturn", "made-up-flag"]}, "The checklist has no red flag", 400),
        ({"reasons": [*KEY_REASONS, "need-collateral"]}, "Choose at most 3 reasons.", 400),
    ],
)
def test_tampered_or_invalid_decisions_are_refused_and_nothing_is_stored(
    trainee, db, changes, message, status
):
    form = _form(trainee, GOOD)
    changes = dict(changes)  # the parameters are shared by both backends' runs
    if changes.get("seed") == form["seed"]:
        changes = {"seed": "2"}
    option = changes.pop("option", "approve-as-requested")
    flags = changes.pop("flags", ["sector-downturn"])
    reasons = changes.pop("reasons", KEY_REASONS[:2])
    response = _decide(trainee, GOOD, option, flags, reasons, form, **changes)
    assert response.status_code == status
    html = _text(response)
    assert message in html
    assert _decisions(db) == 0
    db.rollback()
    assert db.scalar(select(CaseTicket)).used_at is None
    if "Choose" in message or "red flag" in message:
        # The form comes back with the trainee's choices and the same ticket.
        assert f'name="token" value="{form["token"]}"' in html
        assert 'value="sector-downturn" checked' in html


def test_a_case_edited_after_it_was_opened_is_refused(trainee, db):
    form = _form(trainee, GOOD)
    # (Not its difficulty: a difficulty-2 template would be locked for this trainee.)
    _publish_edit(db, lambda body: body.replace("第四次貸款", "第四次貸款（修訂）"))
    response = _decide(trainee, GOOD, "approve-as-requested", form=form)
    assert response.status_code == 400
    assert "This case was changed after you opened it" in _text(response)
    assert _decisions(db) == 0
    fresh = _form(trainee, GOOD)
    assert fresh["token"] != form["token"] and fresh["revision"] != form["revision"]
    assert _decide(trainee, GOOD, "approve-as-requested", form=fresh).status_code == 303


def test_the_first_decision_counts_and_later_ones_are_practice(trainee, db):
    first = _decide_as_expert(trainee, GOOD)
    page = _text(trainee.get(f"/cases/{GOOD}"))
    assert "You have decided this case before: this decision is practice." in page
    second = _decide(trainee, GOOD, "reject-competition")
    assert second.location != first.location
    practice = _text(trainee.get(second.location))
    assert "only your first decision on a case counts toward certification, so this one" in (
        practice
    )
    assert "The best option was “" in practice and "Well judged" not in practice
    counted = _text(trainee.get(first.location))
    assert "✓ Counts toward certification" in counted
    # The verdict comes first: how well judged, whether it counts, what is still missing.
    verdict = counted[counted.index("Well judged: 100.0 of 100 points") :]
    assert verdict.index("You chose the best option") < verdict.index("Your decision")
    assert "This decision counts toward your certificate." in verdict
    assert "Loan cases so far: 1 of 8 decided." in verdict
    assert "Still needed for the certificate:" in verdict and "Quiz of" in verdict
    assert verdict.index("The loan month by month") < verdict.index("Your score")
    assert "seed" not in counted.lower() and "revision" not in counted.lower()
    db.rollback()
    kinds = sorted(d.kind for d in db.scalars(select(CaseDecision)))
    assert kinds == ["assessment", "practice"]
    listing = _text(trainee.get("/cases"))
    assert "100.0" in listing  # the score that counts is the first one


def test_reopening_a_case_keeps_the_seed(trainee, db):
    assert _form(trainee, GOOD)["seed"] == _form(trainee, GOOD)["seed"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseTicket)) == 1


def test_another_trainees_decision_is_not_found(trainee, app, db):
    outcome = _decide(trainee, GOOD, "approve-as-requested").location
    make_user(db, "neighbour")
    other = app.test_client()
    assert login(other, "neighbour").status_code == 302
    assert other.get(outcome).status_code == 404
    assert trainee.get(outcome.replace(GOOD, BAD)).status_code == 404
    assert trainee.get(f"/cases/{GOOD}/decisions/999999").status_code == 404
    assert trainee.get("/cases/no-such-case").status_code == 404


def test_the_calculator_works_without_script(trainee):
    html = _text(trainee.get(f"/cases/{GOOD}?amount=30000&term=12&rate=2.5&surplus=9364"))
    assert '<output data-out="installment">2,925</output>' in html
    assert '<output data-out="ratio">31%</output>' in html
    html = _text(trainee.get(f"/cases/{GOOD}?amount=30000&term=12&rate=2.5&surplus=-100"))
    assert '<output data-out="ratio">Surplus is negative</output>' in html
    response = trainee.get(f"/cases/{GOOD}?amount=900000&term=48&rate=2.5")
    assert response.status_code == 200
    html = _text(response)
    assert "Enter an amount from 10,000 to 40,000." in html
    assert "Enter a whole number of months from 6 to 18." in html
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert '<output data-out="installment">–</output>' in html


def test_trainer_written_text_is_escaped_and_the_debrief_sanitized(trainee, db):
    def edit(body: str) -> str:
        return body.replace(
            "title: 巷口雜貨店的第四次貸款", "title: 巷口雜貨店<script>alert(1)</script>"
        ).replace(
            "帳冊、發票與實地抽點存貨相符，",
            "**帳冊、發票**與實地抽點存貨相符<img src=x onerror=alert(1)>，",
        )

    _publish_edit(db, edit)
    page = _text(trainee.get(f"/cases/{GOOD}"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    html = _text(trainee.get(_decide(trainee, GOOD, "approve-as-requested").location))
    assert "<strong>帳冊、發票</strong>" in html
    assert "onerror" not in html and "<script>alert" not in html


def test_trainers_pages_are_for_trainers_and_admins(client, users, course, db):
    for role in ("trainee", "hr", "manager"):
        other = client.application.test_client()
        assert login(other, role).status_code == 302
        for path in ("/author/cases", f"/author/cases/{GOOD}", f"/author/cases/{GOOD}/calibration"):
            assert other.get(path).status_code == 403, (role, path)
    for role in ("trainer", "admin"):
        other = client.application.test_client()
        assert login(other, role).status_code == 302
        assert other.get("/author/cases").status_code == 200
        assert other.get("/author/cases/no-such-case").status_code == 404


def test_calibration_lists_every_option_of_a_case(client, users, course):
    assert login(client, "trainer").status_code == 302
    post(client, "/language", {"lang": "en", "next": "/"})
    html = _text(client.get(f"/author/cases/{BAD}/calibration"))
    template = _template(BAD)
    for option in template.options:  # by the name trainees see, not the file's id
        assert html.count(f">{option.label}") >= 2 and option.id not in html
    stats = evaluate_options(template, casework.SEEDS)
    broken = sum(not s.client_protection_ok for s in stats)
    assert broken and html.count("Breaks client protection") == broken and "★ Best" in html
    assert "Surplus is negative" in html
    # The spread across variants: how often each option is the best.
    assert "Across variants" in html and "Default rate, lowest to highest" in html


def test_two_trainees_see_different_figures_and_reason_orders(app, db, course):
    pages = []
    for name in ("amy", "ben"):
        make_user(db, name)
        learner = app.test_client()
        assert login(learner, name).status_code == 302
        form = _form(learner, GOOD)
        html = _text(learner.get(f"/cases/{GOOD}"))
        order = re.findall(r'name="reasons" value="([^"]+)"', html)
        variant = _served(GOOD, form)
        # The reasons are the variant's, in the order drawn for this attempt.
        expected = [r.id for r in shuffled_reasons(variant.spec.reasons, int(form["seed"]), GOOD)]
        assert order == expected
        pages.append((form["seed"], order, variant.spec.dossier))
    (seed_a, order_a, dossier_a), (seed_b, order_b, dossier_b) = pages
    assert seed_a != seed_b and order_a != order_b and dossier_a != dossier_b


def test_trainers_see_how_trainees_decided(app, client, users, course, db):
    clock.set_time(START)
    for name, option in (("ann", "approve-as-requested"), ("bo", "reject-competition")):
        make_user(db, name)
        learner = app.test_client()
        assert login(learner, name).status_code == 302
        _decide(learner, GOOD, option)
    assert login(client, "trainer").status_code == 302
    post(client, "/language", {"lang": "en", "next": "/"})
    overview = _text(client.get("/author/cases"))
    assert "巷口雜貨店的第四次貸款" in overview and f"/author/cases/{GOOD}/calibration" in overview
    html = _text(client.get(f"/author/cases/{GOOD}"))
    assert "The most missed red flags" in html
    assert "產業景氣下滑或競爭加劇" in html
    assert "missed by 2 (100%)" in html
    assert _template(GOOD).option("reject-competition").label in html


def _publish_edit(db: Session, edit) -> None:
    db.rollback()
    document = db.scalar(
        select(ContentDocument).where(ContentDocument.path == f"case_studies/{GOOD}.yaml")
    )
    body = (DATA / "case_studies" / f"{GOOD}.yaml").read_text(encoding="utf-8")
    changed = edit(body)
    assert changed != body
    add_revision(db, document, changed, origin="editor")
    db.commit()


def test_csrf_is_required_to_decide(trainee, db):
    form = _form(trainee, GOOD)
    form.pop("csrf_token")
    response = trainee.post(f"/cases/{GOOD}/decide", data={**form, "option": "reject-competition"})
    assert response.status_code == 400
    assert _decisions(db) == 0
    assert csrf_token(trainee, "/cases")


def test_completing_the_case_work_issues_the_certificate(app, client, db, users, course):
    clock.set_time(START)
    catalogue = build_catalogue(*published_sources(db))
    finish_lessons(db, users["trainee"], catalogue)
    for slug in catalogue.quizzes:
        pass_quiz(db, users["trainee"], slug)
    db.commit()
    holder = app.extensions["courseware.certification.policy"]
    rules = holder.policy.certification.model_copy(
        update={"cases_required": 1, "case_average_min": 0}
    )
    app.extensions["courseware.certification.policy"] = type(holder)(
        holder.policy.model_copy(update={"certification": rules}), []
    )
    assert login(client, "trainee").status_code == 302
    post(client, "/language", {"lang": "en", "next": "/"})
    response = _decide(client, GOOD, "approve-as-requested")
    assert "Congratulations: your certificate is issued." in _text(client.get(response.location))
    db.rollback()
    certificate = db.scalar(select(Certificate))
    assert certificate.kind == "earned"
    # The evidence names the variant each decision was made on, enough to draw it again.
    decision = db.scalar(select(CaseDecision))
    [entry] = certificate.evidence["cases"]
    assert entry["decision_id"] == decision.id and entry["case_model"] == 2
    assert entry["variant_seed"] == decision.seed == decision.record["variant"]["seed"]


def test_in_the_renewal_window_cases_are_decided_for_renewal(client, db, certified):
    clock.set_time(certified.expires_at - timedelta(days=30))
    assert login(client, "trainee").status_code == 302
    post(client, "/language", {"lang": "en", "next": "/"})
    page = _text(client.get(f"/cases/{GOOD}"))
    assert "This decision counts toward renewing your certificate." in page
    response = _decide(client, GOOD, "approve-as-requested")
    assert response.status_code == 303
    db.rollback()
    decision = db.scalar(select(CaseDecision).order_by(CaseDecision.id.desc()))
    assert decision.kind == "renewal" and decision.first_key is None
    html = _text(client.get(response.location))
    assert "This decision was made for the renewal of your certificate." in html


def test_the_outcome_explains_the_consistency_rules(trainee, db):
    form = _form(trainee, GOOD)
    variant = _served(GOOD, form)
    pro = [r.id for r in variant.spec.reasons if r.side == "approve"][:3]
    fraud = next(f.id for f in variant.catalogue.flags if f.category == "fraud")
    declined = _decide(trainee, GOOD, "reject-competition", [], pro, form=form)
    html = _text(trainee.get(declined.location))
    assert "every reason you gave argues for lending" in html
    lend = next(o.id for o in variant.options if o.kind in ("approve", "approve_modified"))
    lent = _decide(trainee, GOOD, lend, [fraud], [])
    html = _text(trainee.get(lent.location))
    assert "You marked a critical fraud sign and still lent" in html


def test_a_decision_made_on_a_v1_case_keeps_its_page(trainee, db):
    outcome = _decide_as_expert(trainee, GOOD).location
    db.rollback()
    decision = db.scalar(select(CaseDecision))
    # As migration 0008 leaves a decision recorded before loan cases v2: case_model 1, and a
    # record without the v2 figures.
    record = dict(decision.record)
    for key in ("variant", "welfare_lambda"):
        record.pop(key)
    record["options"] = [
        {k: v for k, v in o.items() if k not in ("value", "expected_welfare", "worst_month_ratio")}
        for o in record["options"]
    ]
    decision.record, decision.case_model = record, 1
    db.commit()
    html = _text(trainee.get(outcome))
    assert "made on the first version of the case" in html
    assert "This case was drawn for you" not in html
    assert "Your score" in html and "Every option" in html


def test_the_outcome_links_flags_and_reasons_to_their_lesson_sections(trainee, db):
    form = _form(trainee, GOOD)
    option, flags, reasons = _expert(GOOD, form)
    # A flag ticked that is not there shows its lesson too.
    extra = "pressure-to-disburse"
    response = _decide(trainee, GOOD, option, [*flags, extra], reasons, form=form)
    html = _text(trainee.get(response.location))
    # The fixture course links every flag and reason to alpha/first's "什麼是微貸".
    link = '<a class="lesson-link" href="/modules/alpha/first#什麼是微貸">'
    expected = len(flags) + 1 + len(reasons) + len(_served(GOOD, form).spec.key.key_reasons)
    assert html.count(link) == expected
    assert "Where the course teaches this" in html

    # A record stored before the links existed still renders, without them.
    db.rollback()
    decision = db.scalars(select(CaseDecision).order_by(CaseDecision.id.desc())).first()
    record = dict(decision.record)
    record["flags"] = {
        k: [{key: v for key, v in f.items() if key != "lesson"} for f in fs]
        for k, fs in record["flags"].items()
    }
    record["reasons"] = [{k: v for k, v in r.items() if k != "lesson"} for r in record["reasons"]]
    record["key_reasons"] = [{"id": r["id"], "text": r["text"]} for r in record["key_reasons"]]
    decision.record = record
    db.commit()
    old = trainee.get(response.location)
    assert old.status_code == 200 and "lesson-link" not in _text(old)
