"""Fixtures for the quiz engine: the fixture course's banks as published in the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from courseware.assessment.bank import Bank
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def banks(db: Session, course: None) -> dict[str, Bank]:
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    assert not catalogue.errors
    return dict(catalogue.quizzes)


@pytest.fixture
def fixed_clock():
    clock.set_time(START)
    yield START
    clock.set_time(None)
