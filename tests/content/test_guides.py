"""Facilitator's guides: one per module beside its lessons, never taken for a lesson."""

from __future__ import annotations

import pytest

from courseware.content.catalogue import GUIDE_SECTIONS, Catalogue, build_catalogue
from courseware.content.store import read_sources
from courseware.core.config import REPO_ROOT
from tests.conftest import DATA

GUIDE = "content/01-alpha/guide.md"
SECTIONS = "\n\n".join(f"## {name}\n\n內容。" for name in GUIDE_SECTIONS)


def guide_text(
    module: str = "alpha", cases: str = "[grocery-kiosk]", title: str = "講師手冊：甲"
) -> str:
    return (
        f"---\nmodule: {module}\ntitle: {title}\nminutes: 90\ncases: {cases}\n---\n\n{SECTIONS}\n"
    )


def fixture_sources() -> dict[str, str]:
    sources, errors = read_sources(
        {
            "content": DATA / "content",
            "quizzes": DATA / "quizzes",
            "case_studies": DATA / "case_studies",
        }
    )
    assert not errors
    return sources


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    sources, errors = read_sources(
        {
            "content": REPO_ROOT / "content",
            "quizzes": REPO_ROOT / "quizzes",
            "case_studies": REPO_ROOT / "case_studies",
        }
    )
    assert not errors
    return build_catalogue(sources)


def test_every_shipped_module_has_a_valid_guide(shipped: Catalogue):
    assert not [e for e in shipped.errors if e.path.endswith("/guide.md")]
    assert set(shipped.guides) == {m.slug for m in shipped.modules}
    for guide in shipped.guides.values():
        assert guide.cases and set(guide.cases) <= set(shipped.cases)
        assert 600 <= sum("\u4e00" <= ch <= "\u9fff" for ch in guide.body) <= 1300, guide.path


def test_a_guide_is_not_a_lesson(shipped: Catalogue):
    lessons = [lesson.path for m in shipped.modules for lesson in m.lessons]
    assert not [path for path in lessons if path.endswith("/guide.md")]
    sources = fixture_sources()
    without = build_catalogue(sources)
    with_guide = build_catalogue({**sources, GUIDE: guide_text()})
    assert not with_guide.errors
    assert [len(m.lessons) for m in with_guide.modules] == [len(m.lessons) for m in without.modules]
    assert with_guide.guides["alpha"].title == "講師手冊：甲"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (guide_text().replace("title: 講師手冊：甲\n", ""), "title"),
        (guide_text().replace("minutes: 90", "minutes: lots"), "minutes"),
        (guide_text(module="nowhere"), "module"),
        (guide_text(module="beta"), "module"),
        (guide_text(cases="[no-such-case]"), "cases"),
        (guide_text(cases="[]"), "cases"),
        (guide_text().replace("## 常見誤解", "## 其他"), "sections"),
        ("沒有前置資料", "front matter"),
    ],
)
def test_a_malformed_guide_is_reported_with_file_and_field(text: str, field: str):
    catalogue = build_catalogue({**fixture_sources(), GUIDE: text})
    found = [e for e in catalogue.errors if e.path == GUIDE]
    assert found and found[0].field == field, found
    assert "alpha" not in catalogue.guides
    assert catalogue.module("alpha") is not None  # the module and its lessons still serve
