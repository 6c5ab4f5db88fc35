"""The shipped course keeps its shape: it cannot silently shrink or lose its parts."""

from __future__ import annotations

import re

import pytest

from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.content.loanblock import find_loan_blocks
from courseware.content.practice import LEGAL_CAP, find_practice_blocks
from courseware.content.search import SearchIndex
from courseware.content.store import read_sources
from courseware.core.config import REPO_ROOT
from courseware.lending.arithmetic import loan_summary

TITLES = [
    "微貸基礎知識",
    "微貸業務流程",
    "微貸風險管理",
    "微貸營銷策略",
    "微貸法律法規",
    "微貸案例分析",
]
CALLOUT = re.compile(r"^::: ?(注意|提示|範例)", re.M)


@pytest.fixture(scope="module")
def course() -> Catalogue:
    sources, errors = read_sources({"content": REPO_ROOT / "content"})
    assert not errors
    catalogue = build_catalogue(sources)
    assert not catalogue.errors, [str(e) for e in catalogue.errors]
    return catalogue


def _length(body: str) -> int:
    return len(re.sub(r"\s", "", body))


def test_six_modules_with_the_outline_titles(course: Catalogue):
    assert [m.title for m in course.modules] == TITLES
    for module in course.modules:
        assert 3 <= len(module.lessons) <= 7, module.slug
        assert module.summary and module.objectives and module.estimated_minutes > 0


def test_every_lesson_has_objectives_example_callout_and_review(course: Catalogue):
    for module in course.modules:
        for lesson in module.lessons:
            where = f"{module.slug}/{lesson.slug}"
            headings = re.findall(r"^## (.+)$", lesson.body, re.M)
            assert headings[0].strip() == "學習目標", where
            assert headings[-1].strip() == "重點回顧", where
            # Course v2 (issue 22) teaches the core skills at depth: several thousand characters.
            assert 1200 <= _length(lesson.body) <= 12000, (where, _length(lesson.body))
            has_table = re.search(r"^\|.*\|\s*$", lesson.body, re.M) is not None
            assert has_table or find_loan_blocks(lesson.body), where
            assert CALLOUT.search(lesson.body), where


def test_at_least_six_loan_blocks_and_all_valid(course: Catalogue):
    blocks = [
        spec
        for module in course.modules
        for lesson in module.lessons
        for _line, spec, _errors in find_loan_blocks(lesson.body)
    ]
    assert len(blocks) >= 6
    assert all(spec is not None for spec in blocks)


def test_every_lesson_ends_with_practice_and_every_price_in_it_is_lawful(course: Catalogue):
    kinds = set()
    for module in course.modules:
        for lesson in module.lessons:
            where = f"{module.slug}/{lesson.slug}"
            blocks = find_practice_blocks(lesson.body)
            assert blocks, f"{where} has no ::: 練習 block"
            assert all(b.exercise is not None for b in blocks), where
            # The practice comes after the last section's heading: the lesson ends with it.
            assert lesson.body.rindex("::: 練習") > lesson.body.rindex("\n## "), where
            for block in blocks:
                exercise = block.exercise
                kinds.add(exercise.kind)
                if exercise.loan is None:
                    continue
                loan = exercise.loan
                rate = loan_summary(
                    loan.amount, loan.monthly_rate, loan.term, loan.rate_type, loan.fee_rate
                ).effective_annual_rate
                # Above the cap only where the exercise is about spotting an unlawful price.
                assert (rate > LEGAL_CAP) == exercise.over_cap, (where, exercise.id, rate)
    assert kinds == {"computation", "judgement"}


# Course v2 (issue 22): the core skills taught to depth.
CORE_LESSONS = {
    ("process", "interview-site-visit"),
    ("process", "cash-flow-analysis"),
    ("process", "monitoring-collection"),
    ("risk", "repayment-capacity"),
    ("risk", "fraud-red-flags"),
    ("risk", "loan-restructuring"),
    ("law", "pricing-disclosure"),
}
HANZI = re.compile(r"[\u4e00-\u9fff]")


def test_core_lessons_have_3000_hanzi_and_every_other_1500(course: Catalogue):
    found = set()
    for module in course.modules:
        for lesson in module.lessons:
            count = len(HANZI.findall(lesson.body))
            if (module.slug, lesson.slug) in CORE_LESSONS:
                found.add((module.slug, lesson.slug))
                assert count >= 3000, (module.slug, lesson.slug, count)
            else:
                assert count >= 1500, (module.slug, lesson.slug, count)
    assert found == CORE_LESSONS


def test_glossary_has_at_least_eighty_terms(course: Catalogue):
    assert course.glossary is not None
    assert len(course.glossary.terms) >= 80


@pytest.mark.parametrize("term", ["微貸", "還款", "擔保", "過度負債", "PAR30"])
def test_search_finds_key_terms_in_the_course(course: Catalogue, term: str):
    hits = SearchIndex.from_catalogue(course).search(term)
    assert any(h.document.kind == "lesson" for h in hits), term
