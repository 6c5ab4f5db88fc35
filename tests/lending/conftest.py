"""Fixtures shared by the lending tests: the real case library, loaded once."""

from __future__ import annotations

import pytest

from courseware.lending.cases import Case, load_case_dir
from courseware.lending.params import ModelParams, RedFlagCatalogue
from tests.lending.synthetic import CASE_DIR, shared


@pytest.fixture(scope="session")
def library() -> dict[str, Case]:
    cases, errors = load_case_dir(CASE_DIR)
    assert not errors, [str(e) for e in errors]
    return cases


@pytest.fixture(scope="session")
def catalogue_and_model() -> tuple[RedFlagCatalogue, ModelParams]:
    return shared()
