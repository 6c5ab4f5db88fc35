"""Every red flag and every reason a case grades names the lesson section that teaches it."""

from __future__ import annotations

from pathlib import Path

from courseware.content.case_files import lesson_anchors
from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.core.config import REPO_ROOT
from tests.conftest import DATA


def _sources(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for folder in ("content", "case_studies")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file() and path.suffix in (".md", ".yaml")
    }


def _link_errors(catalogue: Catalogue) -> list[tuple[str, str, str]]:
    return [(e.path, e.field, str(e)) for e in catalogue.errors if e.field.endswith(".lesson")]


def test_the_fixture_course_links_everything():
    catalogue = build_catalogue(_sources(DATA))
    assert catalogue.errors == []


def test_a_missing_link_is_an_error_naming_file_and_field():
    sources = _sources(DATA)
    path = "case_studies/grocery-kiosk.yaml"
    text = sources[path]
    first = "    lesson: alpha/first#什麼是微貸\n"
    assert first in text
    sources[path] = text.replace(first, "", 1)  # reasons[0] loses its link
    toggle_reason = "          lesson: alpha/first#什麼是微貸\n"
    sources[path] = sources[path].replace(toggle_reason, "", 1)  # the first toggle's reason
    flags = "case_studies/red_flags.yaml"
    sources[flags] = sources[flags].replace(first, "", 1)
    catalogue = build_catalogue(sources)
    errors = _link_errors(catalogue)
    assert (path, "reasons[0].lesson") in [e[:2] for e in errors]
    assert (path, "variation.toggles[0].reasons[0].lesson") in [e[:2] for e in errors]
    assert (flags, "flags[0].lesson") in [e[:2] for e in errors]
    assert len(errors) == 3
    assert all("name the lesson section that teaches this" in e[2] for e in errors)
    assert "grocery-kiosk" in catalogue.cases  # the case keeps serving


def test_a_broken_link_is_an_error_and_the_case_keeps_serving():
    sources = _sources(DATA)
    path = "case_studies/grocery-kiosk.yaml"
    link = "lesson: alpha/first#什麼是微貸"
    text = sources[path]
    for broken in ("gamma/first#什麼是微貸", "alpha/third#什麼是微貸", "alpha/first#沒有這節"):
        text = text.replace(link, f"lesson: {broken}", 1)
    sources[path] = text
    catalogue = build_catalogue(sources)
    errors = _link_errors(catalogue)
    assert [e[:2] for e in errors] == [
        (path, "reasons[0].lesson"),
        (path, "reasons[1].lesson"),
        (path, "reasons[2].lesson"),
    ]
    assert "no module gamma" in errors[0][2]
    assert "the module alpha has no lesson third" in errors[1][2]
    assert "the lesson alpha/first has no section #沒有這節" in errors[2][2]
    assert "grocery-kiosk" in catalogue.cases


def test_a_malformed_link_is_a_located_format_error():
    sources = _sources(DATA)
    path = "case_studies/grocery-kiosk.yaml"
    sources[path] = sources[path].replace(
        "lesson: alpha/first#什麼是微貸", "lesson: alpha first", 1
    )
    catalogue = build_catalogue(sources)
    found = [e for e in catalogue.errors if e.path == path]
    assert [e.field for e in found] == ["reasons[0].lesson"]
    assert "module/lesson#anchor" in str(found[0])


def test_every_flag_and_reason_of_the_course_links_to_a_section_that_exists():
    catalogue = build_catalogue(_sources(REPO_ROOT))
    assert _link_errors(catalogue) == []
    anchors = lesson_anchors(catalogue)
    flags = catalogue.extras["red_flags"].flags
    links = [f.lesson for f in flags]
    for case in catalogue.cases.values():
        links += [r.lesson for r in case.spec.reasons]
        for toggle in case.spec.variation.toggles if case.spec.variation else []:
            links += [r.lesson for r in toggle.reasons]
    assert len(flags) >= 24 and len(catalogue.cases) >= 12 and len(links) > 150
    for link in links:
        assert link, "a flag or reason without a lesson"
        where, anchor = link.split("#")
        module_slug, lesson_slug = where.split("/")
        assert anchor in anchors[module_slug][lesson_slug], link
        assert anchor not in ("學習目標", "重點回顧", "課後自我檢查"), link  # a teaching section


def test_stage_and_book_loan_reasons_are_checked_where_they_are_written():
    sources = _sources(DATA)
    visits, book = "case_studies/kiosk-visits.yaml", "case_studies/lane-book.yaml"
    text = sources[visits]
    head, stages = text.split("\nstages:\n", 1)
    stages = stages.replace("lesson: alpha/first#", "lesson: alpha/first#沒有這節", 1)
    sources[visits] = head + "\nstages:\n" + stages
    text = sources[book]
    first, rest = text.split("\n  - id: lin\n", 1)
    rest = rest.replace("lesson: alpha/first#", "lesson: alpha/first#沒有這節", 1)
    sources[book] = first + "\n  - id: lin\n" + rest
    fields = [e[:2] for e in _link_errors(build_catalogue(sources))]
    assert (visits, "stages[0].reasons[0].lesson") in fields
    assert any(path == book and field.startswith("book.loans[1].") for path, field in fields)
    assert len(fields) == 2
