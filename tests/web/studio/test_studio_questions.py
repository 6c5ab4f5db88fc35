"""The question editor: form, preview as the trainee sees it, the loader's checks with the
question and field named, retire instead of delete."""

from __future__ import annotations

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.store import published_sources
from courseware.core.models import ContentRevision
from tests.studio.helpers import doc_id, hidden, sign_in

BANK = "quizzes/alpha.yaml"
BETA = "quizzes/beta.yaml"


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainer")


def _form(client: FlaskClient, url: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    return {"csrf_token": hidden(page, "csrf_token"), "base": hidden(page, "base")}


def _bank(db: Session, path: str = BANK) -> dict:
    db.rollback()
    return yaml.safe_load(published_sources(db)[0][path])


def test_the_bank_page_lists_questions_with_retire_buttons(trainer: FlaskClient, db: Session):
    page = trainer.get(f"/author/banks/{doc_id(db, BANK)}").get_data(as_text=True)
    assert "<code>alpha-single</code>" in page and "<code>alpha-retired</code>" in page
    assert "Bring back" in page and "Retire" in page


def test_edit_preview_and_publish_one_question(trainer: FlaskClient, db: Session):
    bank = doc_id(db, BANK)
    url = f"/author/banks/{bank}/questions/alpha-single"
    page = trainer.get(url).get_data(as_text=True)
    assert "哪一位最適合微貸？" in page and 'value="b"' in page
    data = {
        **_form(trainer, url),
        "type": "single",
        "lesson": "first",
        "prompt": "誰最適合申請微貸？",
        "choices": "a: 沒有收入的人\nb: 擺攤三年的水果攤老闆\nc: 想炒股的上班族",
        "answer": "b",
        "explanation": "b 有穩定的營收可以還款。",
    }
    preview = trainer.post(url, data={**data, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "As the trainee sees it" in html
    assert 'type="radio"' in html and "誰最適合申請微貸？" in html and "Right answer" in html
    before = published_sources(db)[0][BANK]
    published = trainer.post(url, data={**data, "action": "publish", "note": "題目措辭"})
    assert published.status_code == 302
    after = _bank(db)
    assert after["questions"][0]["prompt"] == "誰最適合申請微貸？\n"
    text = published_sources(db)[0][BANK]
    assert text.replace("誰最適合申請微貸？", "哪一位最適合微貸？") == before  # nothing else moved


def test_an_answer_that_is_not_a_choice_is_refused_naming_the_field(
    trainer: FlaskClient, db: Session
):
    bank = doc_id(db, BANK)
    url = f"/author/banks/{bank}/questions/alpha-single"
    data = {
        **_form(trainer, url),
        "type": "single",
        "lesson": "first",
        "prompt": "p",
        "choices": "a: 一\nb: 二",
        "answer": "d",
        "explanation": "e",
        "action": "publish",
    }
    refused = trainer.post(url, data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert (
        "<strong>questions[0] (alpha-single).answer</strong>: d is not one of the choices" in page
    )
    assert 'id="answer-error"' in page  # shown at the field too
    db.rollback()
    count = db.scalar(
        select(ContentRevision.number)
        .where(ContentRevision.document_id == bank)
        .order_by(ContentRevision.number.desc())
        .limit(1)
    )
    assert count == 1


def test_a_new_question_is_added_and_ids_stay_unique(trainer: FlaskClient, db: Session):
    bank = doc_id(db, BETA)
    url = f"/author/banks/{bank}/new"
    data = {
        **_form(trainer, url),
        "id": "beta-four",
        "type": "numeric",
        "lesson": "only",
        "prompt": "本金 1,000 元、月利率 2%，一個月利息是多少元？",
        "answer": "20",
        "tolerance": "0.5",
        "unit": "元",
        "explanation": "1000 × 2% = 20。",
        "action": "publish",
    }
    assert trainer.post(url, data=data).status_code == 302
    added = _bank(db, BETA)["questions"][-1]
    assert (added["id"], added["answer"], added["tolerance"], added["unit"]) == (
        "beta-four",
        20,
        0.5,
        "元",
    )
    duplicate = trainer.post(
        url, data={**data, **_form(trainer, url), "id": "alpha-single", "action": "draft"}
    )
    assert duplicate.status_code == 400
    assert "the id alpha-single is already used in quizzes/alpha.yaml" in duplicate.get_data(
        as_text=True
    )


def test_retire_instead_of_delete(trainer: FlaskClient, db: Session):
    bank = doc_id(db, BETA)
    page = trainer.get(f"/author/banks/{bank}").get_data(as_text=True)
    token = {"csrf_token": hidden(page, "csrf_token"), "base": hidden(page, "base")}
    retired = trainer.post(
        f"/author/banks/{bank}/questions/beta-two/retire", data={**token, "retired": "1"}
    )
    assert retired.status_code == 302
    question = next(q for q in _bank(db, BETA)["questions"] if q["id"] == "beta-two")
    assert question["retired"] is True
    # Retiring one more would leave fewer usable questions than an attempt draws.
    page = trainer.get(f"/author/banks/{bank}").get_data(as_text=True)
    token = {"csrf_token": hidden(page, "csrf_token"), "base": hidden(page, "base")}
    refused = trainer.post(
        f"/author/banks/{bank}/questions/beta-one/retire", data={**token, "retired": "1"}
    )
    assert refused.status_code == 400 and "fewer than draw" in refused.get_data(as_text=True)


def test_deleting_a_question_in_the_file_text_is_refused(trainer: FlaskClient, db: Session):
    from tests.studio.helpers import editor_form

    bank = doc_id(db, BANK)
    form = editor_form(trainer, bank)
    start = form["text"].index("  - id: alpha-retired")
    form["text"] = form["text"][:start]
    refused = trainer.post(f"/author/content/{bank}", data={**form, "action": "publish"})
    assert refused.status_code == 400
    assert "question alpha-retired was removed: retire it instead" in refused.get_data(as_text=True)


def test_a_stale_question_form_is_refused_with_a_diff(app, trainer: FlaskClient, db: Session):
    from tests.conftest import make_user

    make_user(db, "second", role="trainer")
    other = sign_in(app.test_client(), "second")
    bank = doc_id(db, BANK)
    url = f"/author/banks/{bank}/questions/alpha-single"
    mine, theirs = _form(trainer, url), _form(other, url)
    base = {
        "type": "single",
        "lesson": "first",
        "choices": "a: 沒有收入的人\nb: 擺攤三年的水果攤老闆\nc: 想炒股的上班族",
        "answer": "b",
        "explanation": "b 有穩定的營收可以還款。",
    }
    assert (
        trainer.post(url, data={**mine, **base, "prompt": "甲版本", "action": "draft"}).status_code
        == 302
    )
    refused = other.post(url, data={**theirs, **base, "prompt": "乙版本", "action": "draft"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert (
        '<span class="diff-del">-      甲版本</span>' in page
        and '<span class="diff-add">+      乙版本</span>' in page
    )
    assert "乙版本</textarea>" in page
