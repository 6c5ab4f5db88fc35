"""File texts and paths for a lesson or a module added in the browser.

A new module is a folder ``content/NN-slug/`` with ``module.md`` and a first lesson
``01-slug.md``; a new lesson is ``NN-slug.md`` in its module's folder, NN being its order.
The front matter is written with PyYAML (safe_dump), so any title is quoted correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from courseware.content.catalogue import Catalogue


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


def module_folder(catalogue: Catalogue, module_slug: str) -> str | None:
    module = catalogue.module(module_slug)
    return module.path.rsplit("/", 1)[0] if module else None


def lesson_path(folder: str, lesson: NewLesson) -> str:
    return f"{folder}/{lesson.order:02d}-{lesson.slug}.md"


def new_lesson_texts(catalogue: Catalogue, module_slug: str, lesson: NewLesson) -> dict[str, str]:
    folder = module_folder(catalogue, module_slug)
    if folder is None:
        raise LookupError(module_slug)
    return {lesson_path(folder, lesson): lesson_text(lesson)}


def new_module_texts(module: NewModule) -> dict[str, str]:
    folder = f"content/{module.order:02d}-{module.slug}"
    return {
        f"{folder}/module.md": module_text(module),
        lesson_path(folder, module.first_lesson): lesson_text(module.first_lesson),
    }
