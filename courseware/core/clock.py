"""The one place the application asks for the time.

Every service takes ``now`` as an argument or calls ``utcnow()``, never
``datetime.now`` directly, so tests can set the clock with ``travel_to``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_fixed: datetime | None = None


def utcnow() -> datetime:
    """The current time in UTC, or the time a test has set."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def set_time(at: datetime | None) -> None:
    """Fix the clock at ``at`` (aware); ``None`` returns to the real clock."""
    global _fixed
    if at is not None and at.tzinfo is None:
        raise ValueError("the clock takes timezone-aware datetimes")
    _fixed = at


def advance(delta: timedelta) -> datetime:
    """Move a fixed clock forward (tests)."""
    set_time(utcnow() + delta)
    return utcnow()


@contextmanager
def travel_to(at: datetime) -> Iterator[None]:
    previous = _fixed
    set_time(at)
    try:
        yield
    finally:
        set_time(previous)
