"""Actions a learner took offline, sent later from the device's outbox: recorded once, in order.

The device queues each action with an id of its own (a uuid) and sends the queue to
``POST /offline/sync`` when it is back online. ``sync_actions`` records each action once
(``offline_actions`` keeps every id received; the same id again is a duplicate and writes
nothing) and in the order sent. The action types:

- ``lesson_read``: ``{"id", "type": "lesson_read", "lesson": "<module>/<lesson>", "seconds",
  "reached_end", "at", "revision"?}``: reading time and whether the end was reached.
- ``practice_answer``: ``{"id", "type": "practice_answer", "lesson": "<module>/<lesson>",
  "exercise": "<exercise id>", "answer", "at"}``: checked here, as online (ungraded).
- ``case_read``: ``{"id", "type": "case_read", "case": "<case slug>", "seconds", "at"}``:
  time spent reading a case dossier; kept as a record (a decision is never taken offline).

The rules (the README's "The course offline" says them for readers):

- Reading time. The reading rule of settings.yaml holds as online: a report counts at most
  ``MAX_SECONDS_PER_REPORT``, and a lesson's total never exceeds the time since it was first
  opened. Offline, "first opened" is the device's claim (``at`` less ``seconds``) but never
  before the learner first saved the course for offline (the server's clock), and ``at``
  itself never later than the sync: no report is credited more time than has passed.
  A lesson whose time and end now meet the rule is marked done (offline there is no
  button to press; reaching the end after the time is the same act).
- Lesson revised meanwhile: the reading counts, and a completion records the revision the
  device had (``revision``), so a material change since then shows as "updated since you
  finished" and asks for a reread, as it does online.
- Lesson or exercise no longer published, answer not valid, unknown case: the action is
  rejected with its reason and kept as received (the device drops it; a replay is a duplicate).
- Cohort changed since the course was saved: progress belongs to the learner, not the
  cohort, so everything is recorded; the answer asks the device to refresh its package.
- Account disabled: the web layer answers 401 before this runs; nothing is recorded and the
  device keeps its outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.content.catalogue import Catalogue, Lesson
from courseware.content.practice import find_practice_blocks
from courseware.core.activity import note_activity
from courseware.core.clock import utcnow
from courseware.core.models import (
    CohortMembership,
    LessonProgress,
    OfflineAction,
    OfflinePackage,
)
from courseware.learning import practice, progress

ACTION_TYPES = ("lesson_read", "practice_answer", "case_read")
MAX_ACTIONS = 500  # per sync; a device sends the rest in the next one


class SyncError(ValueError):
    """The request is not a list of well-formed actions: nothing of it is recorded."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(f"action {index}: {problem}")
        self.index = index
        self.problem = problem


@dataclass
class SyncOutcome:
    recorded: int = 0
    duplicates: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    refresh: bool = False  # the device should fetch its package again (cohort changed)
    lessons_done: int = 0  # lessons this sync marked done (the caller checks certification)

    def as_json(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "refresh": self.refresh,
        }


@dataclass(frozen=True)
class _Action:
    id: str
    type: str
    raw: Mapping[str, Any]
    at: datetime | None


def _uuid(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, min(int(value), progress.MAX_SECONDS_PER_REPORT))


def parse_actions(body: Any) -> list[_Action]:
    """The actions of a sync request, checked for shape; ``SyncError`` names the first bad one."""
    actions = body.get("actions") if isinstance(body, Mapping) else None
    if not isinstance(actions, list):
        raise SyncError(-1, "actions must be a list")
    if len(actions) > MAX_ACTIONS:
        raise SyncError(MAX_ACTIONS, f"at most {MAX_ACTIONS} actions per sync")
    parsed = []
    for index, raw in enumerate(actions):
        if not isinstance(raw, Mapping):
            raise SyncError(index, "an action is an object")
        action_id = _uuid(raw.get("id"))
        if action_id is None:
            raise SyncError(index, "id must be a uuid")
        if raw.get("type") not in ACTION_TYPES:
            raise SyncError(index, f"type must be one of {', '.join(ACTION_TYPES)}")
        at = _when(raw.get("at"))
        if at is None:
            raise SyncError(index, "at must be an ISO 8601 time")
        parsed.append(_Action(action_id, raw["type"], raw, at))
    return parsed


def current_cohort(session: Session, user_id: int) -> int | None:
    return session.scalar(
        select(CohortMembership.cohort_id).where(CohortMembership.current_key == str(user_id))
    )


def note_package_saved(
    session: Session, user_id: int, now: datetime | None = None
) -> OfflinePackage:
    """The learner saved (or updated) the course on a device: keep the first time and cohort."""
    now = now or utcnow()
    cohort = current_cohort(session, user_id)
    row = session.get(OfflinePackage, user_id)
    if row is None:
        row = OfflinePackage(user_id=user_id, first_saved_at=now, saved_at=now, cohort_id=cohort)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # saved from two tabs at once: keep the first
            found = session.get(OfflinePackage, user_id)
            assert found is not None
            row = found
    row.saved_at = now
    row.cohort_id = cohort
    return row


def _lesson(catalogue: Catalogue, path: Any) -> Lesson | None:
    if not isinstance(path, str) or path.count("/") != 1:
        return None
    module_slug, lesson_slug = path.split("/")
    module = catalogue.module(module_slug)
    return module.lesson(lesson_slug) if module is not None else None


def sync_actions(
    session: Session,
    user_id: int,
    catalogue: Catalogue,
    actions: Sequence[_Action],
    rule: progress.ReadingRule,
    now: datetime | None = None,
) -> SyncOutcome:
    """Record each action not received before, in the order given (see the module's rules)."""
    now = now or utcnow()
    outcome = SyncOutcome()
    package = session.get(OfflinePackage, user_id)
    if package is not None and package.cohort_id != current_cohort(session, user_id):
        outcome.refresh = True
    seen = set(
        session.scalars(
            select(OfflineAction.action_id).where(
                OfflineAction.user_id == user_id,
                OfflineAction.action_id.in_([a.id for a in actions]),
            )
        )
    )
    for action in actions:
        if action.id in seen:
            outcome.duplicates += 1
            continue
        seen.add(action.id)
        at = min(action.at or now, now)
        if package is not None:
            at = max(at, package.first_saved_at)
        row = OfflineAction(
            user_id=user_id,
            action_id=action.id,
            kind=action.type,
            target="",
            seconds=0,
            outcome="recorded",
            reason="",
            at=at,
            received_at=now,
        )
        reason = _apply(session, user_id, catalogue, action, at, package, rule, row, outcome)
        if reason:
            row.outcome = "rejected"
            row.reason = reason
            outcome.rejected.append({"id": action.id, "reason": reason})
        else:
            outcome.recorded += 1
        session.add(row)
    session.flush()
    if outcome.recorded:
        note_activity(session, user_id, now)
    return outcome


def _apply(
    session: Session,
    user_id: int,
    catalogue: Catalogue,
    action: _Action,
    at: datetime,
    package: OfflinePackage | None,
    rule: progress.ReadingRule,
    row: OfflineAction,
    outcome: SyncOutcome,
) -> str:
    """Carry out one action; the reason it was rejected, or "" when it was recorded."""
    raw = action.raw
    if action.type == "case_read":
        slug = raw.get("case")
        if not isinstance(slug, str) or slug not in catalogue.cases:
            return "unknown_case"
        row.target = slug[:200]
        # Never more than the time since the course was saved (nothing without a saved course).
        since_saved = int((at - package.first_saved_at).total_seconds()) if package else 0
        row.seconds = min(_seconds(raw.get("seconds")), since_saved)
        return ""
    lesson = _lesson(catalogue, raw.get("lesson"))
    if lesson is None:
        return "unpublished"
    row.target = f"{lesson.module_slug}/{lesson.slug}"
    if action.type == "practice_answer":
        exercise = next(
            (
                block.exercise
                for block in find_practice_blocks(lesson.body)
                if block.exercise is not None and block.exercise.id == raw.get("exercise")
            ),
            None,
        )
        if exercise is None:
            return "unpublished"
        answer = raw.get("answer")
        checked, _record = practice.record_answer(
            session, user_id, lesson, exercise, answer if isinstance(answer, str) else "", now=at
        )
        return "" if checked.valid else "invalid_answer"
    return _read(session, user_id, lesson, action, at, package, rule, row, outcome)


def _read(
    session: Session,
    user_id: int,
    lesson: Lesson,
    action: _Action,
    at: datetime,
    package: OfflinePackage | None,
    rule: progress.ReadingRule,
    row: OfflineAction,
    outcome: SyncOutcome,
) -> str:
    raw = action.raw
    seconds = _seconds(raw.get("seconds"))
    # First opened offline: the device's claim, never before the course was saved.
    opened = at - timedelta(seconds=seconds)
    if package is not None:
        opened = max(opened, package.first_saved_at)
    state = progress.lesson_row(session, user_id, lesson, now=at)
    if package is not None and state.first_viewed_at > opened:
        state.first_viewed_at = opened
    state.last_viewed_at = max(state.last_viewed_at, at)
    before = state.seconds_spent or 0
    progress.add_reading_time(session, user_id, lesson, seconds, now=at)
    row.seconds = max(0, state.seconds_spent - before)
    if raw.get("reached_end") is True:
        progress.note_end_reached(session, user_id, lesson, now=at)
    read_revision = raw.get("revision")
    revised = isinstance(read_revision, int) and read_revision != lesson.revision_id
    if revised:
        row.reason = "revised"
    if state.completed_at is None and _meets(state, lesson, rule):
        progress.mark_done(session, user_id, lesson, now=at)
        if revised and lesson.revision_id is not None and isinstance(read_revision, int):
            state.completed_revision_id = min(read_revision, lesson.revision_id)
        outcome.lessons_done += 1
    return ""


def _meets(state: LessonProgress, lesson: Lesson, rule: progress.ReadingRule) -> bool:
    if (state.seconds_spent or 0) < rule.seconds_for(lesson):
        return False
    return not rule.requires_end or state.reached_end_at is not None
