"""Cases as part of the published course: the loader for case_studies/."""

from __future__ import annotations

from collections.abc import Mapping

from courseware.content.catalogue import Catalogue, register_loader
from courseware.lending.cases import load_case_sources


@register_loader("case_studies")
def load_cases(
    files: Mapping[str, str], catalogue: Catalogue, revisions: Mapping[str, int]
) -> None:
    cases, red_flags, model, errors = load_case_sources(files)
    catalogue.errors.extend(errors)
    catalogue.cases.update(cases)
    catalogue.extras["red_flags"] = red_flags
    catalogue.extras["case_model"] = model
    catalogue.extras["case_revisions"] = {
        case.slug: revisions.get(f"case_studies/{case.slug}.yaml") for case in cases.values()
    }
