"""Editing one question keeps the rest of the bank file as written; the loader checks it."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from courseware.assessment.pages import attempt_page, review_page
from courseware.content.store import published_sources
from courseware.studio import documents as docs
from courseware.studio import questions as qedit
from tests.conftest import DATA
from tests.studio.conftest import BANK, BETA_BANK, save

ROOT = Path(__file__).resolve().parents[2]
BANKS = sorted((ROOT / "quizzes").glob("*.yaml")) + sorted((DATA / "quizzes").glob("*.yaml"))


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


def _changed_lines(old: str, new: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize("bank", BANKS, ids=lambda p: p.name)
def test_every_question_of_every_bank_survives_an_unchanged_edit(bank: Path):
    text = _read(bank)
    _settings, rows = qedit.bank_rows(text)
    for row in rows:
        form = qedit.question_form(text, row.id)
        data, problems = qedit.question_data(form)
        assert not problems, (row.id, problems)
        new, index = qedit.put_question(text, row.id, data)
        assert new == text, row.id
        assert index == row.index


@pytest.mark.parametrize("bank", BANKS, ids=lambda p: p.name)
def test_changing_one_prompt_changes_only_its_lines(bank: Path):
    text = _read(bank)
    _settings, rows = qedit.bank_rows(text)
    form = qedit.question_form(text, rows[-1].id)
    form.prompt += "（修訂）"
    data, _problems = qedit.question_data(form)
    new, _index = qedit.put_question(text, rows[-1].id, data)
    changed = _changed_lines(text, new)
    assert len(changed) == 2 and changed[1].endswith("（修訂）")
    assert yaml.safe_load(new)["questions"][-1]["prompt"].rstrip("\n").endswith("（修訂）")


def test_a_new_question_is_appended_in_the_banks_style():
    text = _read(DATA / "quizzes" / "beta.yaml")
    form = qedit.QuestionForm(
        id="beta-new",
        type="multiple",
        lesson="only",
        prompt="哪些正確？\n請全選。",
        choices="a: 是\nb: yes\nc: 100\nd: a: b",
        answer="a, c",
        explanation="因為 a 與 c。",
    )
    data, problems = qedit.question_data(form)
    assert not problems
    new, index = qedit.put_question(text, None, data)
    assert new.startswith(text)
    assert new[len(text) :] == (
        "  - id: beta-new\n"
        "    type: multiple\n"
        "    lesson: only\n"
        "    prompt: |\n"
        "      哪些正確？\n"
        "      請全選。\n"
        "    choices:\n"
        "      a: 是\n"
        '      b: "yes"\n'
        '      c: "100"\n'
        '      d: "a: b"\n'
        "    answer: [a, c]\n"
        "    explanation: |\n"
        "      因為 a 與 c。\n"
    )
    question = yaml.safe_load(new)["questions"][index]
    assert question["choices"] == {"a": "是", "b": "yes", "c": "100", "d": "a: b"}


def test_changing_the_type_drops_the_fields_of_the_old_type():
    text = _read(DATA / "quizzes" / "alpha.yaml")
    form = qedit.question_form(text, "alpha-single")
    form.type, form.answer, form.tolerance, form.unit = "numeric", "1,250.5", "0.5", "元"
    data, _problems = qedit.question_data(form)
    new, index = qedit.put_question(text, "alpha-single", data)
    question = yaml.safe_load(new)["questions"][index]
    assert "choices" not in question
    assert (question["answer"], question["tolerance"], question["unit"]) == (1250.5, 0.5, "元")


def test_retire_and_bring_back():
    text = _read(DATA / "quizzes" / "beta.yaml")
    retired, index = qedit.set_retired(text, "beta-two", True)
    assert _changed_lines(text, retired) == ["+    retired: true"]
    assert yaml.safe_load(retired)["questions"][index]["retired"] is True
    back, _index = qedit.set_retired(retired, "beta-two", False)
    assert back == text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"type": "single", "choices": "a: 一\nb: 二", "answer": "c"}, "answer", None),
        ({"type": "single", "choices": "a 一"}, "choices", "write each choice as key: text"),
        ({"type": "numeric", "answer": "很多"}, "answer", "must be a number"),
        ({"type": "true_false", "answer": "maybe"}, "answer", "must be true or false"),
    ],
)
def test_form_problems_are_named_by_field(change, field, message):
    form = qedit.QuestionForm(id="x-1", lesson="only", prompt="p", explanation="e", **change)
    data, problems = qedit.question_data(form)
    if message:
        assert any(f == field and message in m for f, m, _p in problems), problems
    else:
        assert not problems
        _served, errors = qedit.preview(BETA_BANK, "beta", data, {"only"})
        assert [qedit.form_field(e, 0) for e in errors] == ["answer"]
        assert errors[0].message == "%(key)s is not one of the choices"


def test_preview_serves_the_question_as_a_trainee_sees_it():
    form = qedit.QuestionForm(
        id="x-2",
        type="single",
        lesson="only",
        prompt="哪一個？",
        choices="a: 甲\nb: 乙",
        answer="b",
        explanation="乙。",
    )
    data, _problems = qedit.question_data(form)
    served, errors = qedit.preview(BETA_BANK, "beta", data, {"only"})
    assert not errors
    page = attempt_page([served])
    assert page[0].template == "learner/quiz/types/single.html"
    assert sorted(o["text"] for o in page[0].state["options"]) == ["乙", "甲"]
    review = review_page([served])
    assert [o["right"] for o in review[0].state["options"]] == [False, True]


def test_a_bank_whose_layout_cannot_be_kept_is_refused():
    odd = "module: beta\ntitle: t\npass_mark: 0.8\ndraw: 1\nquestions:\n-   id: a\n    type: true_false\n    lesson: only\n    prompt:    p\n    explanation: e\n    answer: true\n"
    with pytest.raises(qedit.QuestionEditError):
        qedit.put_question(odd, "a", {"id": "a"})


def test_a_question_edit_is_checked_by_the_bank_loader(db: Session, trainers):
    author, _other = trainers
    text = published_sources(db)[0][BANK]
    form = qedit.question_form(text, "alpha-single")
    form.answer = "z"
    data, _problems = qedit.question_data(form)
    new, index = qedit.put_question(text, "alpha-single", data)
    with pytest.raises(docs.EditInvalid) as refused:
        save(db, BANK, new, author, exact=True)
    db.rollback()
    fields = [e.field for e in refused.value.errors]
    assert "questions[0] (alpha-single).answer" in fields  # and the bank is now short: draw
    error = next(e for e in refused.value.errors if e.field.endswith(".answer"))
    assert qedit.form_field(error, index) == "answer"
    assert published_sources(db)[0][BANK] == text
