"""Cases as part of the published course: the loader for case_studies/.

Besides loading the cases, the loader ties them to the lessons: every red flag of the
catalogue and every reason a case can grade names the lesson section that teaches it
(``lesson: module/lesson#anchor``). A flag or reason without one, or a link to a module,
lesson or heading that does not exist, is a located error like any other content error:
``courseware validate`` fails and trainers see it, while the case keeps serving.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from courseware.content.catalogue import Catalogue, register_loader
from courseware.content.render import render_markdown
from courseware.core.errors import N_, ContentError
from courseware.lending.cases import RED_FLAGS_FILE, Case, load_case_sources
from courseware.lending.params import RedFlagCatalogue


def lesson_anchors(catalogue: Catalogue) -> dict[str, dict[str, set[str]]]:
    """module slug -> lesson slug -> the ids of its ## and ### headings."""
    return {
        module.slug: {
            lesson.slug: {entry.anchor for entry in render_markdown(lesson.body).toc}
            for lesson in module.lessons
        }
        for module in catalogue.modules
    }


def _links(
    flags: RedFlagCatalogue | None, flags_path: str, cases: Mapping[str, Case]
) -> Iterator[tuple[str, str, str | None]]:
    """(file, field, link) for every flag and every reason a case can grade."""
    if flags is not None:
        for i, flag in enumerate(flags.flags):
            yield flags_path, f"flags[{i}].lesson", flag.lesson
    for case in cases.values():
        path = f"case_studies/{case.slug}.yaml"
        bodies: list[tuple[str, Any]] = [("", case.spec)]
        if case.spec.book is not None:  # the book's case is its first loan: check each loan
            bodies = [(f"book.loans[{i}].", loan) for i, loan in enumerate(case.spec.book.loans)]
        bodies += [(f"stages[{i}].", stage) for i, stage in enumerate(case.spec.stages or [])]
        for prefix, body in bodies:
            for i, reason in enumerate(body.reasons):
                yield path, f"{prefix}reasons[{i}].lesson", reason.lesson
            variation = getattr(body, "variation", None)
            for i, toggle in enumerate(variation.toggles if variation else []):
                for j, reason in enumerate(toggle.reasons):
                    field = f"{prefix}variation.toggles[{i}].reasons[{j}].lesson"
                    yield path, field, reason.lesson


def check_lesson_links(
    catalogue: Catalogue,
    flags: RedFlagCatalogue | None,
    flags_path: str,
    cases: Mapping[str, Case],
) -> list[ContentError]:
    """A located error for each flag or reason without a lesson link or with a broken one."""
    anchors = lesson_anchors(catalogue)
    errors: list[ContentError] = []
    for path, field, link in _links(flags, flags_path, cases):
        if not link:
            errors.append(
                ContentError(path, field, N_("name the lesson section that teaches this"))
            )
            continue
        where, _, anchor = link.partition("#")
        module_slug, _, lesson_slug = where.partition("/")
        if module_slug not in anchors:
            message, params = N_("no module %(module)s"), {"module": module_slug}
        elif lesson_slug not in anchors[module_slug]:
            message = N_("the module %(module)s has no lesson %(lesson)s")
            params = {"module": module_slug, "lesson": lesson_slug}
        elif anchor not in anchors[module_slug][lesson_slug]:
            message = N_("the lesson %(lesson)s has no section #%(anchor)s")
            params = {"lesson": where, "anchor": anchor}
        else:
            continue
        errors.append(ContentError(path, field, message, params))
    return errors


@register_loader("case_studies")
def load_cases(
    files: Mapping[str, str], catalogue: Catalogue, revisions: Mapping[str, int]
) -> None:
    cases, red_flags, model, errors = load_case_sources(files)
    catalogue.errors.extend(errors)
    flags_path = next(
        (path for path in files if path.rsplit("/", 1)[-1] == RED_FLAGS_FILE),
        f"case_studies/{RED_FLAGS_FILE}",
    )
    catalogue.errors.extend(check_lesson_links(catalogue, red_flags, flags_path, cases))
    catalogue.cases.update(cases)
    catalogue.extras["red_flags"] = red_flags
    catalogue.extras["case_model"] = model
    catalogue.extras["case_revisions"] = {
        case.slug: revisions.get(f"case_studies/{case.slug}.yaml") for case in cases.values()
    }
