"""The ::: 練習 block: parsing, located validation errors, checking answers, rendering."""

from __future__ import annotations

import pytest

from courseware.content.catalogue import build_catalogue
from courseware.content.practice import check_answer, find_practice_blocks, parse_exercise
from courseware.content.render import fill_practice_slots, render_markdown
from courseware.lending.arithmetic import loan_summary
from tests.content.test_catalogue import LESSON, _sources

COMPUTATION = """::: 練習 算月付金
阿美借 60,000 元，每月要繳多少？

id: installment-ami
answer: installment
amount: 60000
rate: 1%
type: declining
term: 12
fee: 1%
unit: 元
explain: 遞減餘額法的月付金。
:::
"""
JUDGEMENT = """::: 練習 先看什麼
審核時先看哪一項？

a: 房子
b: 現金流量
answer: b
id: first-look
explain: 還款來自現金流量。
:::
"""


def _exercise(text: str):
    [block] = find_practice_blocks(text)
    assert not block.errors, block.errors
    return block.exercise


def test_a_computation_is_computed_with_the_loan_arithmetic():
    exercise = _exercise(COMPUTATION)
    summary = loan_summary(60000, 0.01, 12, "declining", 0.01)
    assert exercise.kind == "computation" and exercise.figure == "installment"
    assert exercise.expected == pytest.approx(summary.installment)
    assert exercise.title == "算月付金" and exercise.unit == "元"
    assert exercise.prompt == "阿美借 60,000 元，每月要繳多少？"


def test_a_rate_is_answered_in_percent():
    text = COMPUTATION.replace("answer: installment", "answer: effective_annual_rate").replace(
        "unit: 元\n", ""
    )
    exercise = _exercise(text)
    rate = loan_summary(60000, 0.01, 12, "declining", 0.01).effective_annual_rate * 100
    assert exercise.expected == pytest.approx(rate) and exercise.unit == "%"
    assert check_answer(exercise, f"{rate:.1f}").correct
    assert check_answer(exercise, f"{rate:.1f}%").correct
    assert not check_answer(exercise, f"{rate / 100:.4f}").correct  # a fraction is not a percent


@pytest.mark.parametrize(
    ("answer", "valid", "correct"),
    [
        ("5330.93", True, True),
        ("5,331", True, True),
        ("5331 元", True, True),
        ("５３３１", True, True),  # full-width digits from a Chinese keyboard
        ("5300", True, False),
        ("五千", False, False),
        ("", False, False),
    ],
)
def test_checking_a_computation(answer: str, valid: bool, correct: bool):
    checked = check_answer(_exercise(COMPUTATION), answer)
    assert (checked.valid, checked.correct) == (valid, correct)


def test_a_plain_number_with_a_tolerance():
    text = "::: 練習\n負債比是多少（%）？\n\nid: dti\nanswer: 35\ntolerance: 0.5\nexplain: 月負債除以月收入。\n:::\n"
    exercise = _exercise(text)
    assert exercise.expected == 35 and exercise.tolerance == 0.5
    assert check_answer(exercise, "35.4").correct and not check_answer(exercise, "36").correct


def test_a_judgement_with_an_explained_answer():
    exercise = _exercise(JUDGEMENT)
    assert exercise.kind == "judgement" and exercise.answer_key == "b"
    assert [c.key for c in exercise.choices] == ["a", "b"]
    assert check_answer(exercise, "b").correct and not check_answer(exercise, "a").correct
    assert not check_answer(exercise, "z").valid


BROKEN = [
    # (what is changed, the field named, words of the message)
    (("id: installment-ami\n", ""), "id", "required"),
    (("id: installment-ami", "id: Installment Ami"), "id", "lowercase"),
    (("explain: 遞減餘額法的月付金。\n", ""), "explain", "required"),
    (("answer: installment", "answer: monthly"), "answer", "must be a number"),
    (("rate: 1%", "rate: lots"), "rate", "monthly percentage"),
    (("term: 12", "term: 0"), "term", "whole number of months"),
    (("type: declining", "type: balloon"), "type", "must be one of"),
    (("rate: 1%", "rate: 2%"), "rate", "legal cap"),
    (("unit: 元", "unit: 元\nunit: NT$"), "unit", "twice"),
]


@pytest.mark.parametrize(("change", "field", "words"), BROKEN)
def test_a_malformed_block_names_the_lesson_file_the_line_and_the_field(change, field, words):
    old, new = change
    body = "## 學習目標\n\n" + COMPUTATION.replace(old, new, 1)
    lesson = LESSON.format(slug="good", order=1).replace("## 學習目標\n", "") + body
    catalogue = build_catalogue(_sources(a=lesson))
    found = [e for e in catalogue.errors if e.field.endswith(f"practice.{field}")]
    assert found, [str(e) for e in catalogue.errors]
    error = found[0]
    assert error.path == "content/01-m/a.md" and error.field.startswith("line ")
    assert words in error.text()
    # the lesson still serves
    assert [lesson.slug for lesson in catalogue.module("m").lessons] == ["good"]


def test_the_line_named_is_the_line_in_the_file():
    lesson = LESSON.format(slug="good", order=1) + "\n" + COMPUTATION.replace("term: 12", "term: x")
    line = lesson.split("\n").index("term: x") + 1
    [error] = build_catalogue(_sources(a=lesson)).errors
    assert error.field == f"line {line}: practice.term"


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (JUDGEMENT.replace("answer: b", "answer: c"), "answer", "one of the choices"),
        (JUDGEMENT.replace("b: 現金流量\n", ""), "a", "at least two"),
        (JUDGEMENT.replace("answer: b", "answer: b\nterm: 12"), "term", "not used"),
        (JUDGEMENT.replace("審核時先看哪一項？\n", ""), "", "needs a question"),
        (JUDGEMENT.replace(":::\n", "", 1), "", "not closed"),
        (JUDGEMENT + "\n" + JUDGEMENT, "id", "used twice"),
        (
            COMPUTATION.replace("answer: installment", "answer: 12"),
            "amount",
            "only when answer names a loan figure",
        ),
        (COMPUTATION.replace("unit: 元", "over_cap: yes"), "over_cap", "within the legal cap"),
    ],
)
def test_more_located_errors(text: str, field: str, words: str):
    blocks = find_practice_blocks(text)
    errors = [e for b in blocks for e in b.errors if e.field == field]
    assert errors, [e for b in blocks for e in b.errors]
    assert any(words in (e.message % e.params if e.params else e.message) for e in errors)


def test_an_unlawful_price_is_allowed_when_the_exercise_says_so():
    text = COMPUTATION.replace("rate: 1%", "rate: 2%").replace("unit: 元", "over_cap: yes")
    assert _exercise(text).over_cap


def test_fields_of_a_block_may_be_split_by_blank_lines():
    exercise, errors = parse_exercise(
        "", "題目\n\na: 甲\nb: 乙\n\nanswer: a\nid: x\nexplain: 因為。\n"
    )
    assert not errors and exercise is not None and len(exercise.choices) == 2


def test_rendering_sanitizes_the_question_and_leaves_a_slot_only_the_page_fills():
    hostile = COMPUTATION.replace(
        "每月要繳多少？", "每月要繳多少？<script>alert(1)</script><img src=x onerror=alert(2)>"
    ).replace("遞減餘額法的月付金。", '<a href="javascript:alert(3)">解說</a>')
    forged = '\n<div data-practice-slot="0"></div>\n\n'
    rendered = render_markdown(forged + hostile + "\n之後")
    [practice] = rendered.practices
    assert "<script" not in practice.prompt_html and "onerror" not in practice.prompt_html
    assert "javascript:" not in practice.explain_html
    assert rendered.html.count("data-practice-slot") == 1  # the trainer's copy is stripped
    assert "id: installment-ami" not in rendered.html and "之後" in rendered.html
    filled = fill_practice_slots(rendered, lambda p: f"[{p.block.exercise.id}]")
    assert "[installment-ami]" in filled and "data-practice-slot" not in filled


def test_a_practice_block_is_not_a_callout():
    html = render_markdown(JUDGEMENT).html
    assert "callout" not in html and "審核時先看哪一項" not in html
