"""Question banks: the course's banks load; a broken one is located and never takes others down."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from courseware import cli
from courseware.content.catalogue import build_catalogue
from courseware.content.store import read_sources
from courseware.core.config import REPO_ROOT
from tests.conftest import DATA

GOOD = """\
module: beta
title: 測驗
pass_mark: 0.5
draw: 2
questions:
  - id: {prefix}-1
    type: true_false
    lesson: only
    prompt: 對嗎？
    answer: true
    explanation: 對。
  - id: {prefix}-2
    type: single
    lesson: only
    prompt: 哪一個？
    choices: {{a: 甲, b: 乙}}
    answer: b
    explanation: 乙。
  - id: {prefix}-3
    type: numeric
    lesson: only
    prompt: 多少？
    answer: 3
    tolerance: 0.5
    explanation: 三。
"""


def _catalogue(**banks: str):
    sources, errors = read_sources({"content": DATA / "content"})
    assert not errors
    sources.update({f"quizzes/{name}.yaml": text for name, text in banks.items()})
    return build_catalogue(sources)


def test_the_course_banks_load_and_meet_the_brief():
    sources, errors = read_sources(
        {"content": REPO_ROOT / "content", "quizzes": REPO_ROOT / "quizzes"}
    )
    catalogue = build_catalogue(sources)
    assert not errors and not catalogue.errors_for("quizzes/")
    assert sorted(catalogue.quizzes) == sorted(m.slug for m in catalogue.modules)
    total = 0
    for module in catalogue.modules:
        bank = catalogue.quizzes[module.slug]
        assert len(bank.active) >= 15, module.slug
        assert {q.lesson for q in bank.active} == {lesson.slug for lesson in module.lessons}
        assert all(q.explanation and q.lesson for q in bank.questions)
        assert 0 < bank.pass_mark <= 1 and bank.draw <= len(bank.active)
        total += len(bank.active)
    assert total >= 90
    kinds = {q.type for bank in catalogue.quizzes.values() for q in bank.questions}
    assert kinds == {"single", "multiple", "true_false", "numeric", "ordering"}


def test_fixture_banks_load_with_revision_ids():
    sources, _ = read_sources({"content": DATA / "content", "quizzes": DATA / "quizzes"})
    revisions = {path: n for n, path in enumerate(sorted(sources), start=1)}
    catalogue = build_catalogue(sources, revisions)
    assert not catalogue.errors
    alpha = catalogue.quizzes["alpha"]
    assert alpha.revision_id == revisions["quizzes/alpha.yaml"]
    assert [q.id for q in alpha.active] == [
        "alpha-single",
        "alpha-multiple",
        "alpha-true-false",
        "alpha-numeric",
        "alpha-ordering",
    ]
    assert alpha.question("alpha-retired").retired
    assert alpha.lessons == ("first", "second")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("answer: b", "answer: z"), "questions[1] (q-2).answer", "not one of the choices"),
        (("type: single", "type: essay"), "questions[1] (q-2).type", "must be one of"),
        (
            ("lesson: only\n    prompt: 哪", "lesson: nope\n    prompt: 哪"),
            "questions[1] (q-2).lesson",
            "not a lesson of this module",
        ),
        (("answer: true", "answer: yes please"), "questions[0] (q-1).answer", "true or false"),
        (("answer: 3\n", "answer: three\n"), "questions[2] (q-3).answer", "must be a number"),
        (("    explanation: 乙。\n", ""), "questions[1] (q-2).explanation", "required"),
        (("tolerance: 0.5", "tolerance: -1"), "questions[2] (q-3).tolerance", "at least"),
        (("choices: {a: 甲, b: 乙}", "choices: {a: 甲}"), "questions[1] (q-2).choices", "at least"),
    ],
)
def test_a_broken_question_is_located_and_the_bank_serves_without_it(change, field, words):
    text = GOOD.format(prefix="q").replace(*change)
    catalogue = _catalogue(beta=text)
    [error] = catalogue.errors
    assert (error.path, error.field) == ("quizzes/beta.yaml", field)
    assert words in error.text()
    bank = catalogue.quizzes["beta"]  # two questions remain for draw: 2
    broken = field.split("(")[1].split(")")[0]
    assert len(bank.active) == 2 and broken not in {q.id for q in bank.active}


def test_a_bank_with_too_few_questions_left_is_not_served():
    text = GOOD.format(prefix="q").replace("draw: 2", "draw: 3").replace("answer: b", "answer: z")
    catalogue = _catalogue(beta=text)
    assert "beta" not in catalogue.quizzes
    fields = {e.field for e in catalogue.errors}
    assert fields == {"questions[1] (q-2).answer", "draw"}


def test_unknown_module_yaml_errors_and_duplicates_leave_the_others_serving():
    catalogue = _catalogue(
        a_good=GOOD.format(prefix="g"),
        b_nomodule=GOOD.format(prefix="n").replace("module: beta", "module: gamma"),
        c_syntax="module: [beta\n",
        d_dupid=GOOD.format(prefix="g")
        .replace("module: beta", "module: alpha")
        .replace("lesson: only", "lesson: first"),
        e_settings=GOOD.format(prefix="s").replace("pass_mark: 0.5", "pass_mark: 80"),
    )
    assert list(catalogue.quizzes) == ["beta"]
    found = {(e.path, e.field) for e in catalogue.errors}
    assert ("quizzes/b_nomodule.yaml", "module") in found
    assert ("quizzes/c_syntax.yaml", "line 2") in found
    assert ("quizzes/d_dupid.yaml", "questions[0] (g-1).id") in found
    assert ("quizzes/e_settings.yaml", "pass_mark") in found
    dup = next(e for e in catalogue.errors if e.field == "questions[0] (g-1).id")
    assert "already used in quizzes/a_good.yaml" in dup.text()


def test_a_second_bank_for_a_module_is_refused():
    catalogue = _catalogue(one=GOOD.format(prefix="x"), two=GOOD.format(prefix="y"))
    assert catalogue.quizzes["beta"].path == "quizzes/one.yaml"
    [error] = catalogue.errors
    assert (error.path, error.field) == ("quizzes/two.yaml", "module")


def test_ordering_items_and_choice_answers_are_checked():
    text = GOOD.format(prefix="q") + (
        "  - id: q-4\n    type: ordering\n    lesson: only\n    prompt: 排序\n"
        "    items: [甲, 乙, 甲]\n    explanation: 說明\n"
        "  - id: q-5\n    type: multiple\n    lesson: only\n    prompt: 多選\n"
        "    choices: {a: 甲, b: 乙}\n    answer: [a, a]\n    explanation: 說明\n"
    )
    catalogue = _catalogue(beta=text)
    found = {(e.field, e.message) for e in catalogue.errors}
    assert ("questions[3] (q-4).items", "an item is listed twice") in found
    assert ("questions[4] (q-5).answer", "a choice is listed twice") in found


def test_validate_command_names_file_question_and_problem(app, tmp_path: Path):
    quizzes = tmp_path / "quizzes"
    quizzes.mkdir()
    (quizzes / "beta.yaml").write_text(
        GOOD.format(prefix="b").replace("answer: b", "answer: z"), encoding="utf-8"
    )
    env = {
        "COURSEWARE_DATABASE_URL": app.config["DATABASE_URL"],
        "COURSEWARE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "COURSEWARE_SECRET_KEY": "x",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_CASE_DIR": str(tmp_path / "none"),
    }
    result = CliRunner().invoke(cli.main, ["validate", "--quiz-dir", str(quizzes)], env=env)
    assert result.exit_code == 1
    assert "quizzes/beta.yaml: questions[1] (b-2).answer:" in result.output
    assert "1 份題庫" in result.output  # the bank still serves without the broken question
