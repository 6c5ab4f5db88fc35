"""Markdown to safe HTML: tables, heading anchors, a table of contents,
callouts (注意 / 提示 / 範例), fenced code, live loan blocks, practice
exercises (練習) and glossary links.

Everything a trainer writes passes through nh3 before it reaches a page; the
only HTML added after sanitizing is what this module builds from numbers
(the loan widgets), with every piece of text escaped, and an empty
``<div data-practice-slot="N">`` per practice exercise. nh3 drops ``data-``
attributes from trainer text, so a slot cannot be forged; the page fills each
slot with the exercise's form (``fill_practice_slots``), whose question and
explanation were sanitized here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import xml.etree.ElementTree as etree
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import markdown
import nh3
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.preprocessors import Preprocessor

from courseware.content.loanblock import FENCE_RE, parse_loan_spec
from courseware.content.loanwidget import render_loan_widget
from courseware.content.practice import PRACTICE_RE, PracticeBlock, find_practice_blocks

RENDER_VERSION = "5"

CALLOUT_KINDS = {
    "注意": "warning",
    "提示": "tip",
    "範例": "example",
    "warning": "warning",
    "tip": "tip",
    "example": "example",
    "note": "tip",
}
CALLOUT_OPEN = re.compile(r"^:::[ \t]*(?P<kind>\S+)[ \t]*(?P<title>[^\n]*)$")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start"},
}
LINK_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class RenderedPractice:
    """A practice block with its question and explanation rendered and sanitized."""

    block: PracticeBlock
    prompt_html: str
    explain_html: str


@dataclass(frozen=True)
class Rendered:
    html: str
    toc: tuple[TocEntry, ...]
    practices: tuple[RenderedPractice, ...] = ()


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    english: str
    definition: str
    anchor: str


class _LoanPreprocessor(Preprocessor):
    """Swap each ```loan block for a marker before fenced_code sees it."""

    def __init__(self, md: markdown.Markdown, marker: str, specs: list[Any]):
        super().__init__(md)
        self.marker = marker
        self.specs = specs

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)

        def replace(match: re.Match[str]) -> str:
            spec, errors = parse_loan_spec(match.group("body"))
            self.specs.append((spec, errors))
            return f"\n{self.marker}{len(self.specs) - 1}X\n"

        return FENCE_RE.sub(replace, text).split("\n")


class _PracticePreprocessor(Preprocessor):
    """Swap each ``::: 練習`` block for a marker before the callouts see it."""

    def __init__(self, md: markdown.Markdown, marker: str, practices: list[RenderedPractice]):
        super().__init__(md)
        self.marker = marker
        self.practices = practices

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if PRACTICE_RE.search(text) is None:
            return lines
        blocks = {block.start: block for block in find_practice_blocks(text)}

        def replace(match: re.Match[str]) -> str:
            block = blocks[match.start()]
            exercise = block.exercise
            self.practices.append(
                RenderedPractice(
                    block,
                    render_plain(exercise.prompt) if exercise else "",
                    render_plain(exercise.explain) if exercise else "",
                )
            )
            return f"\n\n{self.marker}{len(self.practices) - 1}X\n\n"

        return PRACTICE_RE.sub(replace, text).split("\n")


class _CalloutProcessor(BlockProcessor):
    """``::: 注意`` ... ``:::`` becomes a titled box whose inside is Markdown."""

    def test(self, parent: etree.Element, block: str) -> bool:
        first = block.split("\n", 1)[0]
        match = CALLOUT_OPEN.match(first)
        return match is not None and match.group("kind") != ":::"

    def run(self, parent: etree.Element, blocks: list[str]) -> bool:
        lines = blocks.pop(0).split("\n")
        match = CALLOUT_OPEN.match(lines[0])
        if match is None:  # pragma: no cover - test() guarantees a match
            return False
        kind_word = match.group("kind")
        inner: list[str] = []
        rest: list[str] = []
        closed = False
        pending = lines[1:]
        while True:
            for index, line in enumerate(pending):
                if line.strip() == ":::":
                    closed = True
                    rest = pending[index + 1 :]
                    break
                inner.append(line)
            if closed or not blocks:
                break
            inner.append("")
            pending = blocks.pop(0).split("\n")
        if rest:
            blocks.insert(0, "\n".join(rest))
        kind = CALLOUT_KINDS.get(kind_word, "tip")
        box = etree.SubElement(parent, "div")
        box.set("class", f"callout callout-{kind}")
        title = etree.SubElement(box, "p")
        title.set("class", "callout-title")
        title.text = match.group("title").strip() or kind_word
        self.parser.parseChunk(box, "\n".join(inner))
        return True


class CoursewareExtension(Extension):
    def __init__(
        self,
        marker: str,
        specs: list[Any],
        practice_marker: str = "",
        practices: list[RenderedPractice] | None = None,
    ):
        super().__init__()
        self.marker = marker
        self.specs = specs
        self.practice_marker = practice_marker
        self.practices = practices if practices is not None else []

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.register(_LoanPreprocessor(md, self.marker, self.specs), "loan", 30)
        if self.practice_marker:
            md.preprocessors.register(
                _PracticePreprocessor(md, self.practice_marker, self.practices), "practice", 29
            )
        md.parser.blockprocessors.register(_CalloutProcessor(md.parser), "callout", 105)


def _sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_SKIP_TAGS = ("a", "code", "pre", "h2", "h3", "h4", "h5", "h6", "summary", "script", "style")
_TAG_RE = re.compile(r"<(/?)([a-zA-Z0-9]+)[^>]*>")


def link_glossary(html: str, terms: Sequence[GlossaryTerm], href: str = "/glossary") -> str:
    """Link the first occurrence of each glossary term in running text."""
    if not terms:
        return html
    by_term = {t.term: t for t in terms}
    pattern = re.compile("|".join(re.escape(t) for t in sorted(by_term, key=len, reverse=True)))
    linked: set[str] = set()
    out: list[str] = []
    depth = 0
    pos = 0

    def link_text(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            if word in linked:
                return word
            linked.add(word)
            term = by_term[word]
            title = term.definition.replace('"', "&quot;")
            return f'<a class="term" href="{href}#{term.anchor}" title="{title}">{word}</a>'

        return pattern.sub(replace, text)

    for match in _TAG_RE.finditer(html):
        text = html[pos : match.start()]
        out.append(link_text(text) if depth == 0 and text else text)
        out.append(match.group(0))
        name = match.group(2).lower()
        if name in _SKIP_TAGS:
            depth += -1 if match.group(1) else 1
            depth = max(depth, 0)
        pos = match.end()
    tail = html[pos:]
    out.append(link_text(tail) if depth == 0 else tail)
    return "".join(out)


def _toc(tokens: list[dict[str, Any]]) -> tuple[TocEntry, ...]:
    entries: list[TocEntry] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item["level"] in (2, 3):
                entries.append(TocEntry(item["level"], item["id"], item["name"]))
            walk(item.get("children", []))

    walk(tokens)
    return tuple(entries)


@lru_cache(maxsize=1024)
def _render_cached(
    text: str, terms: tuple[GlossaryTerm, ...], locale: str, version: str
) -> Rendered:
    del version  # part of the cache key only
    from courseware.core.translate import translator

    gettext = translator(locale)
    marker = f"LOANBLOCK{secrets.token_hex(6)}N"
    practice_marker = f"PRACTICE{secrets.token_hex(6)}N"
    specs: list[Any] = []
    practices: list[RenderedPractice] = []
    md = markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "sane_lists",
            "toc",
            CoursewareExtension(marker, specs, practice_marker, practices),
        ],
        extension_configs={
            "toc": {"slugify": slugify_unicode, "permalink": "#", "permalink_title": ""},
        },
        output_format="html",
    )
    raw = md.convert(text)
    toc = _toc(getattr(md, "toc_tokens", []))
    clean = _sanitize(raw)
    clean = link_glossary(clean, terms)
    # A wide table scrolls sideways on a phone (.prose table): keyboard users must reach it.
    clean = clean.replace("<table>", '<table tabindex="0">')

    def widget(match: re.Match[str]) -> str:
        spec, errors = specs[int(match.group(1))]
        return render_loan_widget(spec, errors, gettext, locale)

    clean = re.sub(rf"(?:<p>)?{marker}(\d+)X(?:</p>)?", widget, clean)
    clean = re.sub(
        rf"(?:<p>)?{practice_marker}(\d+)X(?:</p>)?", r'<div data-practice-slot="\1"></div>', clean
    )
    return Rendered(html=clean, toc=toc, practices=tuple(practices))


def render_markdown(
    text: str,
    glossary: Sequence[GlossaryTerm] = (),
    locale: str = "zh_Hant",
) -> Rendered:
    """Render course Markdown to sanitized HTML plus its table of contents."""
    return _render_cached(text, tuple(glossary), locale, RENDER_VERSION)


PRACTICE_SLOT_RE = re.compile(r'<div data-practice-slot="(\d+)"></div>')


def fill_practice_slots(rendered: Rendered, fill: Callable[[RenderedPractice], str]) -> str:
    """The page's HTML with each practice slot filled by ``fill`` (which escapes its text)."""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(rendered.practices):
            return ""
        return fill(rendered.practices[index])

    return PRACTICE_SLOT_RE.sub(replace, rendered.html)


def render_plain(text: str) -> str:
    """Render short trainer text (an explanation, a summary) with no widgets."""
    return _sanitize(markdown.markdown(text, extensions=["tables", "sane_lists"]))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


GettextFn = Callable[[str], str]
