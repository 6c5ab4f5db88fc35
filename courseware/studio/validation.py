"""Check a trainer's text the way the site will load it, before anything is saved.

A catalogue is built from the published sources with the edited documents replaced.
The edit is refused when an edited document gets an error, when another document gets
an error it did not have before (a lesson slug a quiz refers to, say), or when a studio
rule is broken: slugs never change once published, and questions are retired rather
than removed, so learners' progress, attempts and statistics stay whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.core.errors import N_, ContentError


@dataclass(frozen=True)
class Checked:
    errors: list[ContentError]
    catalogue: Catalogue  # the course as it would be with the edited texts

    @property
    def ok(self) -> bool:
        return not self.errors


def error_key(error: ContentError) -> tuple[str, str, str, str]:
    return (error.path, error.field, error.message, repr(sorted(dict(error.params).items())))


def check_texts(
    sources: Mapping[str, str], texts: Mapping[str, str], baseline: Catalogue
) -> Checked:
    """Errors the edited ``texts`` (path -> file text) would bring to the published course."""
    replaced = {**sources, **texts}
    catalogue = build_catalogue(replaced)
    own = [e for e in catalogue.errors if e.path in texts]
    known = {error_key(e) for e in baseline.errors}
    others = [e for e in catalogue.errors if e.path not in texts and error_key(e) not in known]
    rules: list[ContentError] = []
    for path, text in texts.items():
        rules += _stable_slugs(path, baseline, catalogue)
        rules += _questions_kept(path, text, baseline)
    return Checked(own + rules + others, catalogue)


def preview_errors(sources: Mapping[str, str], path: str, text: str) -> list[ContentError]:
    """A quick check of one lesson, module or glossary text (for the live preview)."""
    folder = path.split("/", 1)[0]
    subset = {p: t for p, t in sources.items() if p.split("/", 1)[0] == folder}
    subset[path] = text
    return [e for e in build_catalogue(subset).errors if e.path == path]


def _slug_changed(path: str, old: str, new: str) -> ContentError:
    return ContentError(
        path,
        "slug",
        N_(
            "the slug cannot change once published: learners' progress refers to it "
            "(it was %(old)s). Add a new lesson instead."
        ),
        {"old": old, "new": new},
    )


def _stable_slugs(path: str, baseline: Catalogue, catalogue: Catalogue) -> list[ContentError]:
    old_module = next((m for m in baseline.modules if m.path == path), None)
    new_module = next((m for m in catalogue.modules if m.path == path), None)
    if old_module and new_module and old_module.slug != new_module.slug:
        return [_slug_changed(path, old_module.slug, new_module.slug)]
    old_lessons = {le.path: le.slug for m in baseline.modules for le in m.lessons}
    new_lessons = {le.path: le.slug for m in catalogue.modules for le in m.lessons}
    if path in old_lessons and path in new_lessons and old_lessons[path] != new_lessons[path]:
        return [_slug_changed(path, old_lessons[path], new_lessons[path])]
    return []


def _question_ids(text: str) -> tuple[str | None, set[str]] | None:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        return None
    ids = {
        q["id"] for q in data["questions"] if isinstance(q, dict) and isinstance(q.get("id"), str)
    }
    module = data.get("module")
    return (module if isinstance(module, str) else None), ids


def _questions_kept(path: str, text: str, baseline: Catalogue) -> list[ContentError]:
    bank = next((b for b in baseline.quizzes.values() if b.path == path), None)
    found = _question_ids(text) if bank is not None else None
    if bank is None or found is None:
        return []
    module, ids = found
    errors: list[ContentError] = []
    if module is not None and module != bank.module:
        errors.append(
            ContentError(
                path,
                "module",
                N_("a question bank's module cannot change once published (it was %(old)s)"),
                {"old": bank.module},
            )
        )
    for question in bank.questions:
        if question.id not in ids:
            errors.append(
                ContentError(
                    path,
                    "questions",
                    N_(
                        "question %(id)s was removed: retire it instead (retired: true), "
                        "so past attempts and statistics stay whole"
                    ),
                    {"id": question.id},
                )
            )
    return errors


def module_of(path: str, catalogue: Catalogue) -> str | None:
    """The module a document belongs to: its folder's module, or the module of its bank."""
    parts = path.split("/")
    if parts[0] == "content" and len(parts) == 3:
        folder = f"{parts[0]}/{parts[1]}/"
        return next((m.slug for m in catalogue.modules if m.path.startswith(folder)), None)
    if parts[0] == "quizzes":
        return next((b.module for b in catalogue.quizzes.values() if b.path == path), None)
    return None


def lesson_paths(catalogue: Catalogue) -> set[str]:
    return {lesson.path for module in catalogue.modules for lesson in module.lessons}
