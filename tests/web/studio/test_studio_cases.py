"""The case editor: schema errors name the field, and calibration of unpublished text."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from courseware.content.store import published_sources
from tests.studio.helpers import doc_id, editor_form, editor_text, sign_in

CASE = "case_studies/grocery-kiosk.yaml"


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainer")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("\n  margin: 0.18\n", "\n  margin: 1.5\n"), "params.margin", "must be at most 1"),
        (
            ("    margin: 0.18\n", "    margin: -1\n"),
            "dossier.business.margin",
            "must be at least 0",
        ),
        (
            ("  start_month: 11\n", "  start_month: 13\n"),
            "params.start_month",
            "must be at most 12",
        ),
        (("best_option: reject-competition", "best_option: lend-it-all"), "key.best_option", ""),
        (("slug: grocery-kiosk", "slug: grocery"), "slug", "must match the file name"),
    ],
)
def test_a_case_out_of_range_is_refused_naming_the_field(
    trainer, db: Session, change, field, message
):
    case = doc_id(db, CASE)
    form = editor_form(trainer, case)
    assert change[0] in form["text"]
    form["text"] = form["text"].replace(change[0], change[1], 1)
    before = published_sources(db)[0][CASE]
    refused = trainer.post(f"/author/content/{case}", data={**form, "action": "publish"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f"<strong>{field}</strong>: {message}" in page
    assert change[1].strip() in editor_text(page)
    db.rollback()
    assert published_sources(db)[0][CASE] == before


def test_calibrate_shows_each_option_for_the_unpublished_parameters(trainer, db: Session):
    case = doc_id(db, CASE)
    form = editor_form(trainer, case)
    published = trainer.post(f"/author/content/{case}", data={**form, "action": "calibrate"})
    page = published.get_data(as_text=True)
    assert published.status_code == 200 and "Calibration of this unpublished text" in page
    assert "Default rate" in page and "Expected profit" in page and "Sacrifice risk" in page
    assert "approve-as-requested" in page
    # Much weaker sales: the same options now default far more often, before anything is published.
    published_sales = re.search(r"\n  base_sales: (\d+)", form["text"]).group(1)
    form["text"] = form["text"].replace(
        f"\n  base_sales: {published_sales}", "\n  base_sales: 90000"
    )
    weaker = trainer.post(f"/author/content/{case}", data={**form, "action": "calibrate"}).get_data(
        as_text=True
    )
    assert weaker != page and "base_sales: 90000" in editor_text(weaker)
    db.rollback()
    assert f"base_sales: {published_sales}" in published_sources(db)[0][CASE]


def test_calibrate_explains_a_case_that_cannot_be_simulated(trainer, db: Session):
    case = doc_id(db, CASE)
    form = editor_form(trainer, case)
    form["text"] = form["text"].replace("\n  margin: 0.18\n", "\n  margin: lots\n")
    page = trainer.post(f"/author/content/{case}", data={**form, "action": "calibrate"}).get_data(
        as_text=True
    )
    assert "The case cannot be simulated yet" in page and "<strong>params.margin</strong>" in page
