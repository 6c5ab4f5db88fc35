"""The course as a value: modules, lessons, glossary, question banks, cases.

``build_catalogue`` turns a mapping of logical paths to file text (from disk
or from published database revisions) into a ``Catalogue``. A broken file
becomes a located error and is left out; everything else keeps serving.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from courseware.content.loanblock import find_loan_blocks
from courseware.content.practice import find_practice_blocks
from courseware.content.render import GlossaryTerm
from courseware.content.schemas import (
    GlossaryMeta,
    GuideMeta,
    LessonMeta,
    ModuleMeta,
    split_front_matter,
)
from courseware.core.errors import N_, ContentError, validate_model

GLOSSARY_PATH = "content/glossary.md"
# A module folder's facilitator's guide: not a lesson, shown to trainers only.
GUIDE_FILE = "guide.md"
# The level-2 headings every guide has, in the course's language.
GUIDE_SECTIONS = ("時間安排", "課堂活動", "討論問題", "常見誤解", "案例演練")


@dataclass(frozen=True)
class Lesson:
    module_slug: str
    slug: str
    title: str
    order: int
    minutes: int
    body: str
    path: str
    revision_id: int | None = None


@dataclass(frozen=True)
class Guide:
    module_slug: str
    title: str
    minutes: int
    cases: tuple[str, ...]
    body: str
    path: str
    revision_id: int | None = None


@dataclass
class Module:
    slug: str
    order: int
    title: str
    summary: str
    objectives: list[str]
    estimated_minutes: int
    intro: str
    path: str
    lessons: list[Lesson] = field(default_factory=list)
    revision_id: int | None = None

    def lesson(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        slugs = [lesson.slug for lesson in self.lessons]
        index = slugs.index(slug)
        before = self.lessons[index - 1] if index > 0 else None
        after = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return before, after


@dataclass
class Glossary:
    title: str
    intro: str
    terms: list[GlossaryTerm]
    path: str = GLOSSARY_PATH


@dataclass
class Catalogue:
    modules: list[Module] = field(default_factory=list)
    glossary: Glossary | None = None
    errors: list[ContentError] = field(default_factory=list)
    quizzes: dict[str, Any] = field(default_factory=dict)
    cases: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    guides: dict[str, Guide] = field(default_factory=dict)
    version: int = 0

    def module(self, slug: str) -> Module | None:
        return next((m for m in self.modules if m.slug == slug), None)

    @property
    def glossary_terms(self) -> tuple[GlossaryTerm, ...]:
        return tuple(self.glossary.terms) if self.glossary else ()

    def errors_for(self, prefix: str) -> list[ContentError]:
        return [e for e in self.errors if e.path.startswith(prefix)]


# Folder name -> loader(sources of that folder, catalogue). Quizzes and cases
# register theirs when their module is imported (the package root, courseware/__init__.py,
# imports both), so the catalogue knows nothing of their formats.
Loader = Callable[[Mapping[str, str], Catalogue, Mapping[str, int]], None]
LOADERS: dict[str, Loader] = {}


def register_loader(folder: str) -> Callable[[Loader], Loader]:
    def decorate(loader: Loader) -> Loader:
        LOADERS[folder] = loader
        return loader

    return decorate


def anchor_for(english: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", english.lower()).strip("-")


def _parse_glossary(path: str, text: str, errors: list[ContentError]) -> Glossary | None:
    meta, body, body_line, found = split_front_matter(path, text)
    if found:
        errors.extend(found)
        return None
    meta_obj, found = validate_model(GlossaryMeta, path, meta)
    if found or meta_obj is None:
        errors.extend(found)
        return None
    terms: list[GlossaryTerm] = []
    intro_lines: list[str] = []
    seen: set[str] = set()
    in_table = False
    for offset, line in enumerate(body.splitlines()):
        stripped = line.strip()
        if not stripped.startswith("|"):
            if not in_table:
                intro_lines.append(line)
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if not in_table:
            in_table = True  # the header row
            continue
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue
        where = f"line {body_line + offset}"
        if len(cells) != 3 or not all(cells):
            errors.append(
                ContentError(path, where, N_("a glossary row needs term, English and definition"))
            )
            continue
        anchor = anchor_for(cells[1])
        if not anchor or anchor in seen or cells[0] in {t.term for t in terms}:
            errors.append(ContentError(path, where, N_("this term appears twice")))
            continue
        seen.add(anchor)
        terms.append(GlossaryTerm(cells[0], cells[1], cells[2], anchor))
    if not terms:
        errors.append(ContentError(path, "", N_("the glossary has no table of terms")))
    return Glossary(meta_obj.title, "\n".join(intro_lines).strip(), terms, path)


def _check_loan_blocks(path: str, body: str, body_line: int, errors: list[ContentError]) -> None:
    for _line, _spec, found in find_loan_blocks(body):
        for err in found:
            where = f"line {body_line + err.line - 1}: loan"
            if err.field:
                where += f".{err.field}"
            errors.append(ContentError(path, where, err.message, err.params))


def _check_practice_blocks(
    path: str, body: str, body_line: int, errors: list[ContentError]
) -> None:
    for block in find_practice_blocks(body):
        for err in block.errors:
            where = f"line {body_line + err.line - 1}: practice"
            if err.field:
                where += f".{err.field}"
            errors.append(ContentError(path, where, err.message, err.params))


def _parse_module_folder(
    folder: str,
    files: dict[str, str],
    revisions: Mapping[str, int],
    errors: list[ContentError],
) -> Module | None:
    module_path = f"{folder}/module.md"
    if module_path not in files:
        errors.append(ContentError(module_path, "", N_("the module folder has no module.md")))
        return None
    meta, intro, _line, found = split_front_matter(module_path, files[module_path])
    module_meta, more = (None, []) if found else validate_model(ModuleMeta, module_path, meta)
    if found or more or module_meta is None:
        errors.extend(found or more)
        return None
    module = Module(
        slug=module_meta.slug,
        order=module_meta.order,
        title=module_meta.title,
        summary=module_meta.summary,
        objectives=list(module_meta.objectives),
        estimated_minutes=module_meta.estimated_minutes,
        intro=intro.strip(),
        path=module_path,
        revision_id=revisions.get(module_path),
    )
    seen: dict[str, str] = {}
    for path in sorted(files):
        if path == module_path or path == f"{folder}/{GUIDE_FILE}":
            continue
        meta, body, body_line, found = split_front_matter(path, files[path])
        lesson_meta, more = (None, []) if found else validate_model(LessonMeta, path, meta)
        if found or more or lesson_meta is None:
            errors.extend(found or more)
            continue
        if lesson_meta.slug in seen:
            errors.append(
                ContentError(
                    path,
                    "slug",
                    N_("the slug %(slug)s is already used by %(other)s"),
                    {"slug": lesson_meta.slug, "other": seen[lesson_meta.slug]},
                )
            )
            continue
        seen[lesson_meta.slug] = path
        _check_loan_blocks(path, body, body_line, errors)
        _check_practice_blocks(path, body, body_line, errors)
        module.lessons.append(
            Lesson(
                module_slug=module.slug,
                slug=lesson_meta.slug,
                title=lesson_meta.title,
                order=lesson_meta.order,
                minutes=lesson_meta.minutes,
                body=body,
                path=path,
                revision_id=revisions.get(path),
            )
        )
    module.lessons.sort(key=lambda lesson: (lesson.order, lesson.slug))
    return module


def _load_content(
    sources: Mapping[str, str], catalogue: Catalogue, revisions: Mapping[str, int]
) -> None:
    folders: dict[str, dict[str, str]] = {}
    for path, text in sources.items():
        parts = path.split("/")
        if path == GLOSSARY_PATH:
            catalogue.glossary = _parse_glossary(path, text, catalogue.errors)
        elif len(parts) == 3 and parts[2].endswith(".md"):
            folders.setdefault(f"{parts[0]}/{parts[1]}", {})[path] = text
        else:
            catalogue.errors.append(
                ContentError(path, "", N_("unexpected file: lessons live in a module folder"))
            )
    seen: dict[str, str] = {}
    for folder in sorted(folders):
        module = _parse_module_folder(folder, folders[folder], revisions, catalogue.errors)
        if module is None:
            continue
        if module.slug in seen:
            catalogue.errors.append(
                ContentError(
                    module.path,
                    "slug",
                    N_("the slug %(slug)s is already used by %(other)s"),
                    {"slug": module.slug, "other": seen[module.slug]},
                )
            )
            continue
        seen[module.slug] = module.path
        catalogue.modules.append(module)
    catalogue.modules.sort(key=lambda m: (m.order, m.slug))
    for folder in sorted(folders):
        path = f"{folder}/{GUIDE_FILE}"
        if path in folders[folder]:
            _parse_guide(path, folders[folder][path], catalogue, revisions)


def _parse_guide(path: str, text: str, catalogue: Catalogue, revisions: Mapping[str, int]) -> None:
    meta, body, _line, found = split_front_matter(path, text)
    guide_meta, more = (None, []) if found else validate_model(GuideMeta, path, meta)
    if found or more or guide_meta is None:
        catalogue.errors.extend(found or more)
        return
    module = catalogue.module(guide_meta.module)
    folder = path.rsplit("/", 1)[0]
    if module is None:
        catalogue.errors.append(
            ContentError(
                path, "module", N_("there is no module %(slug)s"), {"slug": guide_meta.module}
            )
        )
        return
    if module.path != f"{folder}/module.md":
        catalogue.errors.append(
            ContentError(
                path,
                "module",
                N_("the guide belongs to the module of its folder, not %(slug)s"),
                {"slug": guide_meta.module},
            )
        )
        return
    headings = {m.group(1).strip() for m in re.finditer(r"^##[ \t]+(.+?)[ \t#]*$", body, re.M)}
    missing = [name for name in GUIDE_SECTIONS if name not in headings]
    if missing:
        catalogue.errors.append(
            ContentError(
                path,
                "sections",
                N_("the guide has no section headed '## %(name)s'"),
                {"name": missing[0]},
            )
        )
        return
    catalogue.guides[module.slug] = Guide(
        module_slug=module.slug,
        title=guide_meta.title,
        minutes=guide_meta.minutes,
        cases=tuple(guide_meta.cases),
        body=body,
        path=path,
        revision_id=revisions.get(path),
    )


def _check_guide_cases(catalogue: Catalogue, case_files: Mapping[str, str]) -> None:
    """Every case a guide names is a case file; checked once the cases are loaded."""
    named = {path.rsplit("/", 1)[-1].rsplit(".", 1)[0] for path in case_files}
    named -= {"model", "red_flags"}  # the files every case shares, not cases
    for slug, guide in list(catalogue.guides.items()):
        unknown = [case for case in guide.cases if case not in named]
        if unknown:
            catalogue.errors.append(
                ContentError(
                    guide.path, "cases", N_("there is no case %(slug)s"), {"slug": unknown[0]}
                )
            )
            del catalogue.guides[slug]


def build_catalogue(
    sources: Mapping[str, str],
    revisions: Mapping[str, int] | None = None,
    version: int = 0,
) -> Catalogue:
    """Parse every source file; the result lists what serves and what is broken."""
    revisions = revisions or {}
    catalogue = Catalogue(version=version)
    by_folder: dict[str, dict[str, str]] = {}
    for path, text in sources.items():
        by_folder.setdefault(path.split("/", 1)[0], {})[path] = text
    _load_content(by_folder.pop("content", {}), catalogue, revisions)
    for folder, files in sorted(by_folder.items()):
        loader = LOADERS.get(folder)
        if loader is None:
            for path in files:
                catalogue.errors.append(ContentError(path, "", N_("unexpected file")))
            continue
        loader(files, catalogue, revisions)
    if "case_studies" in by_folder:  # a check of the content folder alone has no cases
        _check_guide_cases(catalogue, by_folder["case_studies"])
    catalogue.errors.sort(key=lambda e: (e.path, e.field))
    return catalogue
