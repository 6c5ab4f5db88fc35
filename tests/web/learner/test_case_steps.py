"""The case page in steps, as the server sends it: without script it is the whole
dossier and form in order (dossier, findings, decision), every step shown; a refused
form comes back with the error at its field and the trainee's choices kept."""

from __future__ import annotations

import re

from tests.web.learner.test_cases import GOOD, KEY_REASONS, _decide, _form, _text
from tests.web.learner.test_cases import _seeds as _seeds
from tests.web.learner.test_cases import trainee as trainee


def _positions(html: str, markers: list[str]) -> list[int]:
    found = []
    for marker in markers:
        at = html.find(marker)
        assert at >= 0, f"{marker!r} is not on the page"
        found.append(at)
    return found


def test_without_script_the_page_is_the_whole_form_in_order(trainee):
    html = _text(trainee.get(f"/cases/{GOOD}"))
    order = [
        'class="step-progress"',
        'href="#step-dossier"',
        'href="#step-findings"',
        'href="#step-decision"',
        'id="step-dossier"',
        'id="d-applicant"',
        'id="d-request"',
        'id="calculator"',
        'class="decision-form"',
        'id="step-findings"',
        'name="flags"',
        'id="step-decision"',
        'name="option"',
        'name="reasons"',
        'type="submit" class="button primary"',
    ]
    positions = _positions(html, order)
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))
    # Every step is in the page and none is hidden: the script hides them, not the server.
    steps = re.findall(r'<section class="case-step"[^>]*>', html)
    assert len(steps) == 3 and not any("hidden" in s for s in steps), steps
    # The next and back buttons only work with the script: they come hidden.
    for nav in re.findall(r'<(?:div|span) class="step-nav"[^>]*>', html):
        assert " hidden" in nav
    # The flags, the option and the reasons are inside the one decision form.
    start = html.index('class="decision-form"')
    form = html[start : html.index("</form>", start)]
    assert html.index('type="submit" class="button primary"', start) < start + len(form)
    for name in ("flags", "option", "reasons"):
        assert f'name="{name}"' in form
    assert "autofocus" not in html and 'data-error-step=""' in html


def test_a_refused_decision_shows_the_error_at_its_field_and_keeps_the_choices(trainee):
    form = _form(trainee, GOOD)
    response = _decide(trainee, GOOD, "", ["sector-downturn"], KEY_REASONS[:2], form=form)
    assert response.status_code == 400
    html = _text(response)
    assert 'data-error-step="step-decision"' in html
    decision = html[html.index('id="step-decision"') :]
    fieldset = re.search(r'<fieldset class="case-fieldset has-error"[^>]*>', decision).group(0)
    assert 'aria-describedby="option-error"' in fieldset
    error = re.search(r'<p class="field-error" id="option-error" role="alert">([^<]+)</p>', html)
    assert error and "Choose one of the decisions offered." in error.group(1)
    # Only at the field: no second copy of the message at the top of the form.
    assert html.count("Choose one of the decisions offered.") == 1
    radios = re.findall(r'<input type="radio" name="option"[^>]*>', html)
    assert radios and all('aria-describedby="option-error"' in r for r in radios)
    assert "autofocus" in radios[0] and html.count("autofocus") == 1
    # What the trainee chose is kept.
    assert 'value="sector-downturn" checked' in html
    for reason in KEY_REASONS[:2]:
        assert re.search(rf'name="reasons" value="{reason}" checked', html)


def test_a_refused_checklist_points_to_the_findings_step(trainee):
    form = _form(trainee, GOOD)
    response = _decide(
        trainee, GOOD, "approve-as-requested", ["sector-downturn", "made-up-flag"], form=form
    )
    assert response.status_code == 400
    html = _text(response)
    assert 'data-error-step="step-findings"' in html
    findings = html[html.index('id="step-findings"') : html.index('id="step-decision"')]
    assert 'id="flags-error" role="alert"' in findings
    boxes = re.findall(r'<input type="checkbox" name="flags"[^>]*>', findings)
    assert all('aria-describedby="flags-error"' in b for b in boxes)
    assert "autofocus" in boxes[0] and html.count("autofocus") == 1
    assert re.search(r'name="option" value="approve-as-requested" checked', html)
