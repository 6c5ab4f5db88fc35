"""What a trainee sits: a module's quiz (one bank) or the renewal assessment (all banks).

Both run on the same engine; a ``Quiz`` carries the settings the engine needs, so the
attempt, autosave, submit and review work the same for either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from courseware.core.errors import N_

from .bank import Bank

RENEWAL = "renewal"
RENEWAL_TITLE = N_("Renewal assessment")


@dataclass(frozen=True)
class Quiz:
    kind: str  # "module" | "renewal"
    key: str  # the module slug, or "renewal"
    title: str
    banks: tuple[Bank, ...]
    draw: int
    pass_mark: float
    max_attempts: int | None
    cooldown_minutes: int
    time_limit_minutes: int | None
    module_slug: str | None  # the module a module quiz belongs to


def module_quiz(bank: Bank, retake_wait_minutes: int = 0) -> Quiz:
    """A module's quiz; a failed attempt is followed by the longer of the bank's cooldown and
    the institution's ``retake_wait_minutes`` (settings.yaml) before the next one."""
    return Quiz(
        kind="module",
        key=bank.module,
        title=bank.title,
        banks=(bank,),
        draw=bank.draw,
        pass_mark=bank.pass_mark,
        max_attempts=bank.max_attempts,
        cooldown_minutes=max(bank.cooldown_minutes, retake_wait_minutes),
        time_limit_minutes=bank.time_limit_minutes,
        module_slug=bank.module,
    )


def renewal_quiz(
    banks: Sequence[Bank], questions: int, pass_mark: float, cooldown_minutes: int = 10
) -> Quiz:
    """Questions from every bank, spread over all lessons; no attempt limit."""
    ordered = tuple(sorted(banks, key=lambda b: b.module))
    return Quiz(
        kind=RENEWAL,
        key=RENEWAL,
        title=RENEWAL_TITLE,
        banks=ordered,
        draw=questions,
        pass_mark=pass_mark,
        max_attempts=None,
        cooldown_minutes=cooldown_minutes,
        time_limit_minutes=None,
        module_slug=None,
    )
