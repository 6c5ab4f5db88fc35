"""File texts and paths for a lesson or a module added in the browser.

A new module is a folder ``content/NN-slug/`` with ``module.md`` and a first lesson
``01-slug.md``; a new lesson is ``NN-slug.md`` in its module's folder, NN being its order.
The front matter is written with PyYAML (safe_dump), so any title is quoted correctly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from courseware.content.catalogue import Catalogue
from courseware.content.schemas import ModuleMeta, split_front_matter
from courseware.core.errors import validate_model


@dataclass(frozen=True)
class NewLesson:
    slug: str
    title: str
    order: int
    minutes: int


@dataclass(frozen=True)
class NewModule:
    slug: str
    title: str
    order: int
    summary: str
    objectives: Sequence[str]
    estimated_minutes: int
    first_lesson: NewLesson


def _front_matter(meta: dict[str, Any]) -> str:
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=4096)
    return f"---\n{dumped}---\n"


def lesson_text(lesson: NewLesson) -> str:
    meta = {
        "slug": lesson.slug,
        "title": lesson.title,
        "order": lesson.order,
        "minutes": lesson.minutes,
    }
    return _front_matter(meta) + f"\n## {lesson.title}\n\n"


def module_text(module: NewModule) -> str:
    meta = {
        "slug": module.slug,
        "order": module.order,
        "title": module.title,
        "summary": module.summary,
        "objectives": list(module.objectives),
        "estimated_minutes": module.estimated_minutes,
    }
    return _front_matter(meta) + "\n" + module.summary + "\n"


@dataclass(frozen=True)
class ModuleChoice:
    """A module a new lesson can join: published, or still a draft from the browser."""

    slug: str
    title: str
    folder: str
    draft: bool


def module_choices(catalogue: Catalogue, drafts: Mapping[str, str]) -> list[ModuleChoice]:
    """The published modules in course order, then the draft ones (``drafts``: the path of
    each unpublished module.md -> its newest text), so a trainer can write every lesson of
    a new module before learners see any of it. A draft that does not parse, or whose slug
    a published module already uses, is left out."""
    choices = [
        ModuleChoice(m.slug, m.title, m.path.rsplit("/", 1)[0], draft=False)
        for m in catalogue.modules
    ]
    taken = {choice.slug for choice in choices}
    for path, text in sorted(drafts.items()):
        meta, _body, _line, errors = split_front_matter(path, text)
        module, invalid = (None, []) if errors else validate_model(ModuleMeta, path, meta)
        if module is None or invalid or module.slug in taken:
            continue
        taken.add(module.slug)
        choices.append(ModuleChoice(module.slug, module.title, path.rsplit("/", 1)[0], True))
    return choices


def lesson_path(folder: str, lesson: NewLesson) -> str:
    return f"{folder}/{lesson.order:02d}-{lesson.slug}.md"


def new_lesson_texts(module: ModuleChoice, lesson: NewLesson) -> dict[str, str]:
    return {lesson_path(module.folder, lesson): lesson_text(lesson)}


def new_module_texts(module: NewModule) -> dict[str, str]:
    folder = f"content/{module.order:02d}-{module.slug}"
    return {
        f"{folder}/module.md": module_text(module),
        lesson_path(folder, module.first_lesson): lesson_text(module.first_lesson),
    }
