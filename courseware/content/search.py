"""Search over lesson text and the glossary, made for Chinese.

Chinese has no spaces between words, and many key terms have two characters
(微貸, 還款, 擔保), below what a trigram index can match. The course is small
(tens of lessons) and every worker already holds it parsed in memory, so the
index is the normalised plain text of each lesson, searched by substring:
every word of the query must appear. Results are identical on SQLite and
PostgreSQL, and the index is rebuilt whenever the published course changes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from courseware.content.catalogue import Catalogue
from courseware.content.loanblock import FENCE_RE
from courseware.content.practice import without_practice_fields

MAX_QUERY_LENGTH = 100
SNIPPET_RADIUS = 36


@dataclass(frozen=True)
class Document:
    kind: str  # "lesson" | "glossary"
    module_slug: str
    lesson_slug: str
    title: str
    module_title: str
    text: str  # plain text as shown
    folded: str  # normalised for matching, same length as text
    anchor: str = ""
    english: str = ""  # a glossary term's English name: searched, shown beside the title


@dataclass(frozen=True)
class Hit:
    document: Document
    score: int
    snippet: tuple[tuple[str, bool], ...]  # (text, is_match) parts


def fold(text: str) -> str:
    """Normalise for matching: full-width to half-width, case folded.

    Done per character so positions in the folded text match the original.
    """
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).casefold()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


_MARKUP = [
    (re.compile(r"^---\n.*?\n---\n", re.S), ""),
    (re.compile(r"^:::.*$", re.M), ""),
    (re.compile(r"^```.*?^```", re.S | re.M), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>]+>"), ""),
    # A site path written out in the text (/cases/bar-owner) says nothing in a snippet.
    (re.compile(r"(?<![\w/])/(?:cases|modules|quiz|glossary|certificate|transcript)\b[\w/-]*"), ""),
    (re.compile(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+", re.M), ""),
    (re.compile(r"^\|?[\s:|-]+\|?$", re.M), ""),
    (re.compile(r"[*_`|]+"), " "),
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\n{2,}"), "\n"),
]


def plain_text(markdown_text: str) -> str:
    text = FENCE_RE.sub("", without_practice_fields(markdown_text))
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return text.strip()


class SearchIndex:
    def __init__(self, documents: list[Document]):
        self.documents = documents

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> SearchIndex:
        documents: list[Document] = []
        for module in catalogue.modules:
            for lesson in module.lessons:
                text = plain_text(lesson.body)
                documents.append(
                    Document(
                        "lesson",
                        module.slug,
                        lesson.slug,
                        lesson.title,
                        module.title,
                        text,
                        fold(text),
                    )
                )
        if catalogue.glossary:
            for term in catalogue.glossary.terms:
                text = f"{term.term}：{term.definition}"
                documents.append(
                    Document(
                        "glossary",
                        "",
                        "",
                        term.term,
                        catalogue.glossary.title,
                        text,
                        fold(text),
                        term.anchor,
                        term.english,
                    )
                )
        return cls(documents)

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        words = [w for w in fold(query[:MAX_QUERY_LENGTH]).split() if w]
        if not words:
            return []
        hits: list[Hit] = []
        for doc in self.documents:
            folded_title = fold(f"{doc.title} {doc.english}")
            if not all(w in doc.folded or w in folded_title for w in words):
                continue
            score = sum(doc.folded.count(w) + 5 * folded_title.count(w) for w in words)
            if doc.kind == "glossary":
                score += 3
            hits.append(Hit(doc, score, _snippet(doc, words)))
        hits.sort(key=lambda h: (-h.score, h.document.kind, h.document.title))
        return hits[:limit]


def _snippet(doc: Document, words: list[str]) -> tuple[tuple[str, bool], ...]:
    positions = [doc.folded.find(w) for w in words if doc.folded.find(w) >= 0]
    if not positions:
        return ((doc.text[: SNIPPET_RADIUS * 2], False),)
    first = min(positions)
    start = max(0, first - SNIPPET_RADIUS)
    end = min(len(doc.text), first + SNIPPET_RADIUS * 2)
    window_folded = doc.folded[start:end]
    window = doc.text[start:end]
    marks = [False] * len(window)
    for word in words:
        for match in re.finditer(re.escape(word), window_folded):
            for i in range(match.start(), match.end()):
                marks[i] = True
    parts: list[tuple[str, bool]] = []
    for ch, marked in zip(window.replace("\n", " "), marks, strict=True):
        if parts and parts[-1][1] == marked:
            parts[-1] = (parts[-1][0] + ch, marked)
        else:
            parts.append((ch, marked))
    if start > 0:
        parts.insert(0, ("…", False))
    if end < len(doc.text):
        parts.append(("…", False))
    return tuple(parts)


def index_for(catalogue: Catalogue) -> SearchIndex:
    """The catalogue's search index, built once per published version."""
    index = catalogue.extras.get("search_index")
    if index is None:
        index = SearchIndex.from_catalogue(catalogue)
        catalogue.extras["search_index"] = index
    return index
