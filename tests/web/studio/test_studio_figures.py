"""A case's figures as a form: written into the YAML with the rest kept, the loader's errors
shown at the figure, the input kept; CSRF and the trainer role required."""

from __future__ import annotations

import re

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from courseware.content.store import published_sources
from tests.conftest import csrf_token, login
from tests.studio.helpers import doc_id, hidden, sign_in

CASE = "case_studies/grocery-kiosk.yaml"
URL = "/author/cases/grocery-kiosk/figures"


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainer")


def _fields(page: str) -> dict[str, str]:
    """Every text input of the figures form, by name, as the page fills it."""
    found = {}
    for tag in re.findall(r'<input type="text" inputmode="decimal"[^>]*>', page):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        found[name] = re.search(r'value="([^"]*)"', tag).group(1)
    return found


def _form(client: FlaskClient) -> dict[str, str]:
    page = client.get(URL).get_data(as_text=True)
    return {
        **_fields(page),
        "csrf_token": hidden(page, "csrf_token"),
        "base": hidden(page, "base"),
        "note": "",
    }


def test_the_form_shows_the_cases_figures(trainer: FlaskClient):
    response = trainer.get(URL)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    fields = _fields(page)
    assert fields["dossier.business.sales.good_day"] == "6500"
    assert fields["dossier.business.margin"] == "0.18"
    assert fields["dossier.request.amount"] == "24000"
    assert fields["dossier.request.monthly_rate"] == "0.0105"
    assert fields["dossier.household_budget.expenses[1].amount"] == "4500"
    assert "Fixed costs a month: 店面租金" in page  # a budget line is named by its label
    assert "Edit YAML" in page


def test_saving_unchanged_changes_nothing(trainer: FlaskClient, db: Session):
    before = published_sources(db)[0][CASE]
    saved = trainer.post(URL, data={**_form(trainer), "action": "publish"})
    assert saved.status_code == 302
    assert "Nothing changed" in trainer.get(saved.location).get_data(as_text=True)
    db.rollback()
    assert published_sources(db)[0][CASE] == before


def test_a_changed_figure_is_written_into_the_yaml_and_the_rest_kept(
    trainer: FlaskClient, db: Session
):
    before = published_sources(db)[0][CASE]
    data = {**_form(trainer), "action": "publish", "note": "營業額修正"}
    data["dossier.business.sales.normal_day"] = "5,200"
    data["dossier.household_budget.income[0].amount"] = "６５００"  # full-width digits
    assert trainer.post(URL, data=data).status_code == 302
    db.rollback()
    after = published_sources(db)[0][CASE]
    expected = before.replace("normal_day: 5000", "normal_day: 5200").replace(
        "        amount: 6000\n    expenses:", "        amount: 6500\n    expenses:"
    )
    assert after == expected  # only the two figures changed, byte for byte
    case = yaml.safe_load(after)
    assert case["dossier"]["business"]["sales"]["normal_day"] == 5200
    assert case["dossier"]["household_budget"]["income"][0]["amount"] == 6500


def test_an_invalid_figure_is_shown_at_its_field_and_the_input_kept(
    trainer: FlaskClient, db: Session
):
    before = published_sources(db)[0][CASE]
    data = {**_form(trainer), "action": "publish"}
    data["dossier.business.margin"] = "-1"
    data["dossier.request.term"] = "十二"
    refused = trainer.post(URL, data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(
        r'id="fig-dossier-request-term" name="dossier.request.term" value="十二"[^>]*'
        r'aria-invalid="true" aria-describedby="fig-dossier-request-term-error"',
        page,
    )
    assert re.search(r'id="fig-dossier-request-term-error" role="alert">must be a number<', page)
    # A number the loader refuses: its located error comes back at the field.
    data["dossier.request.term"] = "12"
    refused = trainer.post(URL, data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "<strong>dossier.business.margin</strong>" in page
    assert re.search(
        r'name="dossier.business.margin" value="-1"[^>]*aria-invalid="true" '
        r'aria-describedby="fig-dossier-business-margin-error"',
        page,
    )
    assert re.search(
        r'id="fig-dossier-business-margin-error" role="alert">must be at least 0', page
    )
    db.rollback()
    assert published_sources(db)[0][CASE] == before


def test_csrf_is_required(trainer: FlaskClient, db: Session):
    data = _form(trainer)
    del data["csrf_token"]
    assert trainer.post(URL, data={**data, "action": "publish"}).status_code == 400


def test_a_trainee_gets_403(client: FlaskClient, users, course):
    login(client, "trainee")
    assert client.get(URL).status_code == 403
    token = csrf_token(client, "/")
    assert client.post(URL, data={"csrf_token": token, "action": "publish"}).status_code == 403


def test_the_yaml_editor_links_to_the_form(trainer: FlaskClient, db: Session):
    page = trainer.get(f"/author/content/{doc_id(db, CASE)}").get_data(as_text=True)
    assert f'<a href="{URL}">Form</a>' in page


def test_the_case_page_links_to_the_form(trainer: FlaskClient):
    page = trainer.get("/author/cases/grocery-kiosk").get_data(as_text=True)
    assert f'<a href="{URL}">Edit the figures</a>' in page
