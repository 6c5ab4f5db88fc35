"""Calibrate a case file's unpublished text: each option simulated before publishing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from courseware import casework
from courseware.casework import CalibrationRow
from courseware.core.errors import N_, ContentError
from courseware.lending.cases import MODEL_FILE, RED_FLAGS_FILE, Case, load_case_sources


@dataclass(frozen=True)
class Calibrated:
    case: Case | None
    rows: list[CalibrationRow]
    errors: list[ContentError]
    seeds: int


def is_case_file(path: str) -> bool:
    name = PurePosixPath(path).name
    return path.startswith("case_studies/") and name not in (MODEL_FILE, RED_FLAGS_FILE)


def calibrate_text(
    sources: Mapping[str, str], path: str, text: str, seeds: int = casework.SEEDS
) -> Calibrated:
    """Parse ``text`` as the case at ``path`` (with the published red flags and model) and
    simulate every option on the same seeds the published calibration uses."""
    files = {p: t for p, t in sources.items() if p.startswith("case_studies/")}
    files[path] = text
    cases, _flags, _model, errors = load_case_sources(files)
    own = [e for e in errors if e.path == path]
    case = cases.get(PurePosixPath(path).stem)
    if own or case is None:
        return Calibrated(
            None, [], own or [ContentError(path, "", N_("the case could not be loaded"))], seeds
        )
    return Calibrated(case, casework.calibration(case, seeds), [], seeds)
