"""Search works for Chinese: two-character terms, no word breaks, context shown."""

from __future__ import annotations

from courseware.content.catalogue import build_catalogue
from courseware.content.search import SearchIndex, fold, plain_text
from courseware.content.store import read_sources
from tests.conftest import DATA


def _index() -> SearchIndex:
    sources, _ = read_sources({"content": DATA / "content"})
    return SearchIndex.from_catalogue(build_catalogue(sources))


def test_two_character_chinese_term_is_found_in_context():
    hits = _index().search("擔保")
    [hit] = [h for h in hits if h.document.kind == "lesson"]
    assert (hit.document.module_slug, hit.document.lesson_slug) == ("beta", "only")
    marked = [text for text, is_match in hit.snippet if is_match]
    assert marked == ["擔保"]
    assert "擔保品與保證人" in "".join(text for text, _ in hit.snippet)


def test_longer_query_and_glossary_hits():
    hits = _index().search("還款能力")
    kinds = {h.document.kind for h in hits}
    assert kinds == {"lesson", "glossary"}
    glossary = next(h for h in hits if h.document.kind == "glossary")
    assert glossary.document.anchor == "repayment-capacity"


def test_every_word_must_appear():
    index = _index()
    assert index.search("微貸 擔保") == []
    hits = index.search("微貸 小額")
    assert [(h.document.kind, h.document.lesson_slug or h.document.anchor) for h in hits] == [
        ("glossary", "microloan"),
        ("lesson", "first"),
    ]


def test_full_width_and_case_are_folded():
    assert fold("ＰＡＲ３０") == "par30"
    assert len(fold("ＰＡＲ３０ 微貸")) == len("ＰＡＲ３０ 微貸")


def test_markup_and_loan_blocks_are_not_searched():
    text = plain_text(
        "## 標題\n\n```loan\namount: 1000\n```\n\n| a | b |\n|---|---|\n| 甲 | 乙 |\n"
    )
    assert "amount" not in text and "標題" in text and "甲" in text


def test_empty_query_finds_nothing():
    assert _index().search("   ") == []


def test_snippets_carry_link_text_not_addresses():
    text = plain_text(
        "可在案例模擬「[巷口雜貨店](/cases/grocery-kiosk)」實際做決策。"
        "也可以到 /cases/bar-owner 練習，或複習 /modules/alpha/first。"
    )
    assert text == "可在案例模擬「巷口雜貨店」實際做決策。也可以到 練習，或複習 。"


def test_the_shipped_course_has_no_address_in_its_search_text():
    from courseware.core.config import REPO_ROOT

    sources, _errors = read_sources({"content": REPO_ROOT / "content"})
    index = SearchIndex.from_catalogue(build_catalogue(sources))
    assert not [d.title for d in index.documents if "/cases/" in d.text or "](" in d.text]


def test_a_glossary_term_is_found_by_its_english_name_and_shown_beside_it():
    [hit] = [h for h in _index().search("Repayment") if h.document.kind == "glossary"]
    assert hit.document.english == "repayment capacity"
    assert "repayment" not in "".join(text for text, _ in hit.snippet)
