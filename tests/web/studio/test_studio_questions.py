"""The question editor: form, preview as the trainee sees it, the loader's checks with the
question and field named, retire instead of delete."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from courseware.content.store import published_sources
from courseware.core.models import ContentRevision
from tests.conftest import csrf_token, login
from tests.studio.helpers import doc_id, hidden, sign_in

BANK = "quizzes/alpha.yaml"
BETA = "quizzes/beta.yaml"


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainer")


def _form(client: FlaskClient, url: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    return {"csrf_token": hidden(page, "csrf_token"), "base": hidden(page, "base")}


def _rows(choices: dict[str, str], *right: str) -> dict[str, list[str]]:
    """The choice rows as the form posts them: ids, keys, texts and the ticked ids."""
    ids = [f"c{i}" for i in range(len(choices))]
    return {
        "choice_id": ids,
        "choice_key": list(choices),
        "choice_text": list(choices.values()),
        "choice_right": [rid for rid, key in zip(ids, choices, strict=True) if key in right],
    }


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
        **_rows({"a": "沒有收入的人", "b": "擺攤三年的水果攤老闆", "c": "想炒股的上班族"}, "b"),
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


def _revisions(db: Session, bank: int) -> int:
    db.rollback()
    return db.scalar(
        select(ContentRevision.number)
        .where(ContentRevision.document_id == bank)
        .order_by(ContentRevision.number.desc())
        .limit(1)
    )


def test_the_loaders_errors_are_shown_at_their_fields_and_the_input_is_kept(
    trainer: FlaskClient, db: Session
):
    bank = doc_id(db, BANK)
    url = f"/author/banks/{bank}/questions/alpha-single"
    data = {
        **_form(trainer, url),
        "type": "single",
        "lesson": "first",
        "prompt": "只剩一個選項的題目",
        **_rows({"a": "唯一的選項"}, "a"),
        "explanation": "",
        "action": "publish",
    }
    refused = trainer.post(url, data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    # The list names the location; the form shows each problem beside its field.
    assert "<strong>questions[0] (alpha-single).choices</strong>" in page
    assert "<strong>questions[0] (alpha-single).explanation</strong>" in page
    assert re.search(
        r'<fieldset id="choices"[^>]*aria-describedby="choices-hint choices-error"[^>]*'
        r'aria-invalid="true"',
        page,
    )
    assert '<p class="field-error" id="choices-error" role="alert">' in page
    assert re.search(
        r'<textarea[^>]*aria-describedby="explanation-error"[^>]*aria-invalid="true"'
        r'|<textarea[^>]*aria-invalid="true"[^>]*aria-describedby="explanation-error"',
        page,
    )
    assert 'id="explanation-error"' in page
    # What the trainer typed is still in the form.
    assert "只剩一個選項的題目</textarea>" in page and 'value="唯一的選項"' in page
    assert _revisions(db, bank) == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (_rows({"a": "一", "b": "二"}), "mark exactly one choice as the right answer"),
        (_rows({"a": "一", "b": "二"}, "a", "b"), "mark exactly one choice as the right answer"),
        (
            {
                "choice_id": ["c0", "c1"],
                "choice_key": ["a", "a"],
                "choice_text": ["一", "二"],
                "choice_right": ["c0"],
            },
            "row 2: the key a is used twice",
        ),
    ],
)
def test_the_choice_rows_problems_are_shown_at_the_choices(
    trainer: FlaskClient, db: Session, rows, message
):
    url = f"/author/banks/{doc_id(db, BANK)}/questions/alpha-single"
    data = {
        **_form(trainer, url),
        "type": "single",
        "lesson": "first",
        "prompt": "p",
        "explanation": "e",
        "action": "draft",
        **rows,
    }
    refused = trainer.post(url, data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    error = re.search(r'<p class="field-error" id="choices-error" role="alert">(.*?)</p>', page)
    assert error and message in error.group(1)


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
        **_rows({"a": "沒有收入的人", "b": "擺攤三年的水果攤老闆", "c": "想炒股的上班族"}, "b"),
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


class _FormReader(HTMLParser):
    """The fields a browser would send for the page's question form (outside <template>)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._in_template = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "data-question-form" in a:
            self._in_form = True
        if not self._in_form or self._in_template:
            self._in_template = self._in_template or tag == "template"
            return
        if tag == "template":
            self._in_template = True
        elif tag == "input" and a.get("name"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template = False
        elif tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea and not self._in_template:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)


def _page_form(page: str) -> MultiDict:
    reader = _FormReader()
    reader.feed(page)
    fields = MultiDict()
    for name, value in reader.fields:
        fields.add(name, value.removeprefix("\n") if name in ("prompt", "explanation") else value)
    return fields


@pytest.mark.parametrize(
    "question",
    ["alpha-single", "alpha-multiple", "alpha-true-false", "alpha-numeric", "alpha-ordering"],
)
def test_a_question_saved_unchanged_from_its_form_stays_the_same(
    trainer: FlaskClient, db: Session, question: str
):
    before = published_sources(db)[0][BANK]
    url = f"/author/banks/{doc_id(db, BANK)}/questions/{question}"
    fields = _page_form(trainer.get(url).get_data(as_text=True))
    fields["action"] = "publish"
    saved = trainer.post(url, data=fields)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert "Nothing changed" in trainer.get(saved.location).get_data(as_text=True)
    db.rollback()
    assert published_sources(db)[0][BANK] == before
    # And once changed through the form, the YAML parses to the question with that change.
    fields = _page_form(trainer.get(url).get_data(as_text=True))
    fields["explanation"] = fields["explanation"] + "（補充）"
    fields["action"] = "publish"
    assert trainer.post(url, data=fields).status_code == 302
    old = next(q for q in yaml.safe_load(before)["questions"] if q["id"] == question)
    new = next(q for q in _bank(db)["questions"] if q["id"] == question)
    assert new == {**old, "explanation": old["explanation"].rstrip("\n") + "（補充）\n"}


def test_a_choice_row_is_added_and_removed_without_the_script(trainer: FlaskClient, db: Session):
    url = f"/author/banks/{doc_id(db, BANK)}/questions/alpha-single"
    fields = _page_form(trainer.get(url).get_data(as_text=True))
    keys = fields.getlist("choice_key")
    fields["action"] = "add_choice"
    added = trainer.post(url, data=fields)
    page = added.get_data(as_text=True)
    assert added.status_code == 200
    more = _page_form(page)
    assert more.getlist("choice_key") == [*keys, "d"] and more.getlist("choice_text")[-1] == ""
    first = more.getlist("choice_id")[0]
    more["action"] = f"remove_choice:{first}"
    removed = _page_form(trainer.post(url, data=more).get_data(as_text=True))
    assert removed.getlist("choice_key") == [*keys[1:], "d"]


def test_the_question_form_needs_csrf_and_a_trainer(
    client: FlaskClient, db: Session, users, course
):
    url = f"/author/banks/{doc_id(db, BANK)}/questions/alpha-single"
    sign_in(client, "trainer")
    fields = _page_form(client.get(url).get_data(as_text=True))
    fields["action"] = "publish"
    del fields["csrf_token"]
    assert client.post(url, data=fields).status_code == 400
    client.post(
        "/logout",
        data={"csrf_token": hidden(client.get("/author").get_data(as_text=True), "csrf_token")},
    )
    login(client, "trainee")
    assert client.get(url).status_code == 403
    assert client.post(url, data={"csrf_token": csrf_token(client, "/")}).status_code == 403
