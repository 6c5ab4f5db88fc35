"""Loading course files: located errors, and a broken file never hides the rest."""

from __future__ import annotations

from courseware.content.catalogue import build_catalogue
from courseware.content.store import read_sources
from tests.conftest import DATA

MODULE = "---\nslug: m\norder: 1\ntitle: 模組\nsummary: 簡介\nobjectives: [目標]\nestimated_minutes: 5\n---\n"
LESSON = "---\nslug: {slug}\ntitle: 課\norder: {order}\nminutes: 5\n---\n## 學習目標\n"


def _sources(**lessons: str) -> dict[str, str]:
    files = {"content/01-m/module.md": MODULE}
    files.update({f"content/01-m/{name}.md": text for name, text in lessons.items()})
    return files


def test_fixture_course_loads_in_order():
    sources, errors = read_sources({"content": DATA / "content"})
    catalogue = build_catalogue(sources)
    assert not errors and not catalogue.errors
    assert [m.slug for m in catalogue.modules] == ["alpha", "beta"]
    assert [lesson.slug for lesson in catalogue.modules[0].lessons] == ["first", "second"]
    assert [t.anchor for t in catalogue.glossary_terms] == [
        "microloan",
        "repayment-capacity",
        "guarantor",
    ]


def test_unknown_field_is_located_and_other_lessons_still_serve():
    bad = "---\nslug: bad\ntitle: 壞\norder: 2\nminutes: 5\ncolour: red\n---\n"
    catalogue = build_catalogue(_sources(a=LESSON.format(slug="good", order=1), b=bad))
    assert [lesson.slug for lesson in catalogue.module("m").lessons] == ["good"]
    [error] = catalogue.errors
    assert (error.path, error.field) == ("content/01-m/b.md", "colour")
    assert "unknown field" in error.message


def test_malformed_front_matter_names_the_line():
    broken = "---\nslug: x\ntitle: [unclosed\n---\n"
    catalogue = build_catalogue(_sources(a=broken))
    [error] = catalogue.errors
    assert error.path == "content/01-m/a.md" and error.field.startswith("line ")
    assert "YAML" in error.message


def test_missing_front_matter_and_wrong_types():
    catalogue = build_catalogue(
        _sources(
            a="no front matter", b="---\nslug: Bad Slug\ntitle: t\norder: x\nminutes: 5\n---\n"
        )
    )
    fields = {(e.path.rsplit("/", 1)[1], e.field) for e in catalogue.errors}
    assert ("a.md", "front matter") in fields
    assert ("b.md", "slug") in fields and ("b.md", "order") in fields


def test_duplicate_lesson_slug_is_refused():
    catalogue = build_catalogue(
        _sources(a=LESSON.format(slug="same", order=1), b=LESSON.format(slug="same", order=2))
    )
    assert len(catalogue.module("m").lessons) == 1
    assert "already used" in catalogue.errors[0].message


def test_broken_module_file_leaves_other_modules_serving():
    sources = _sources(a=LESSON.format(slug="a", order=1))
    sources["content/02-n/module.md"] = "---\nslug: n\n---\n"
    catalogue = build_catalogue(sources)
    assert [m.slug for m in catalogue.modules] == ["m"]
    assert {e.field for e in catalogue.errors} >= {"title", "order"}


def test_bad_loan_block_is_a_located_error():
    body = (
        LESSON.format(slug="a", order=1)
        + "\n```loan\namount: 100\nrate: 3%\ntype: balloon\nterm: 12\n```\n"
    )
    catalogue = build_catalogue(_sources(a=body))
    [error] = catalogue.errors
    assert error.field == "line 12: loan.type"
