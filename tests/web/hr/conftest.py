"""What the HR page tests share: the clock held at ``NOW`` (10:00 in Taipei, 1 March 2026)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from courseware.core import clock
from tests.hr.test_reports import NOW


@pytest.fixture
def fixed_clock() -> Iterator[None]:
    """Hold the clock at ``NOW`` for the test; a module opts in with
    ``pytestmark = pytest.mark.usefixtures("fixed_clock")``."""
    clock.set_time(NOW)
    yield
    clock.set_time(None)
