"""``courseware outbox run``: send the queued xAPI statements to the learning record store.

Statements wait in ``xapi_outbox`` (written by ``courseware.core.xapi`` in the transaction of
each event). A pass claims a batch of due rows in a short transaction (their next try moved a
lease ahead, so a second worker skips them), POSTs them to ``<COURSEWARE_LRS_URL>/statements``
outside any transaction, then marks them sent or schedules a retry:

- 200 or 204: sent.
- 409 (the LRS holds a statement with one of these ids): a batch is split and sent one by one;
  one statement answered 409 is already there, so it is marked sent.
- 400 (a statement refused): a batch is split; the refused one alone backs off, so it never
  holds back the others.
- anything else (no connection, a time-out, 401, 5xx): the whole batch backs off and the pass
  stops there, since the LRS is out. Nothing is lost: the rows stay until sent.

A retry waits ``BACKOFF_BASE * 2**(attempts - 1)``, at most ``BACKOFF_MAX``.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from courseware.core.clock import utcnow
from courseware.core.db import begin_write
from courseware.core.models import XapiOutbox
from courseware.core.xapi import VERSION

log = logging.getLogger("courseware.outbox")

BATCH = 50
LEASE = timedelta(minutes=5)  # a claimed row is left alone this long by other workers
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
TIMEOUT_SECONDS = 30.0
MAX_ERROR = 500  # characters of an error kept in last_error
# A sent statement lives on in the LRS; our copy is kept this long (to answer "was it
# sent?"), then deleted by the pass, so the table holds what waits and a month of history.
KEEP_SENT = timedelta(days=30)


@dataclass(frozen=True)
class Lrs:
    """Where statements go: the xAPI endpoint (``…/xAPI``) and its basic-auth account."""

    url: str
    user: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT_SECONDS

    @property
    def statements_url(self) -> str:
        return self.url.rstrip("/") + "/statements"


@dataclass
class Pass:
    """What one pass did."""

    sent: int = 0
    retried: int = 0
    pruned: int = 0  # sent statements older than KEEP_SENT, deleted
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (connection refused, time-out)
    text: str


Post = Callable[[Lrs, Sequence[dict[str, Any]]], Answer]


def post_statements(lrs: Lrs, statements: Sequence[dict[str, Any]]) -> Answer:
    """POST the statements as one JSON array; the status, or 0 with the reason."""
    body = json.dumps(list(statements), ensure_ascii=False).encode()
    request = urllib.request.Request(lrs.statements_url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("X-Experience-API-Version", VERSION)
    if lrs.user is not None:
        token = base64.b64encode(f"{lrs.user}:{lrs.password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=lrs.timeout) as response:  # noqa: S310  # nosec B310
            return Answer(response.status, "")
    except urllib.error.HTTPError as exc:
        detail = exc.read(MAX_ERROR).decode("utf-8", "replace")
        return Answer(exc.code, f"HTTP {exc.code}: {detail}")
    except (OSError, ValueError) as exc:  # URLError, refused, time-out, a bad URL
        return Answer(0, f"{type(exc).__name__}: {exc}")


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones."""
    steps = max(0, attempts - 1)
    if steps > 20:
        return BACKOFF_MAX
    return min(BACKOFF_BASE * (2**steps), BACKOFF_MAX)


def pending(session: Session) -> int:
    """How many statements are not sent yet."""
    return int(session.scalar(select(func.count()).where(XapiOutbox.sent_at.is_(None))) or 0)


def _claim(sessions: sessionmaker[Session], now: datetime, limit: int) -> list[XapiOutbox]:
    """Take up to ``limit`` due rows for this pass (their next try moved ``LEASE`` ahead)."""
    with sessions() as session:
        begin_write(session)
        rows = list(
            session.scalars(
                select(XapiOutbox)
                .where(XapiOutbox.sent_at.is_(None), XapiOutbox.next_try_at <= now)
                .order_by(XapiOutbox.next_try_at, XapiOutbox.created_at, XapiOutbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if rows:
            session.execute(
                update(XapiOutbox)
                .where(XapiOutbox.id.in_([r.id for r in rows]))
                .values(next_try_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
        session.commit()
        return rows


def _mark_sent(sessions: sessionmaker[Session], ids: Sequence[str], now: datetime) -> None:
    with sessions() as session:
        begin_write(session)
        session.execute(
            update(XapiOutbox)
            .where(XapiOutbox.id.in_(list(ids)))
            .values(sent_at=now, next_try_at=now, last_error="")
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _retry_later(
    sessions: sessionmaker[Session], rows: Sequence[XapiOutbox], error: str, now: datetime
) -> None:
    with sessions() as session:
        begin_write(session)
        for row in rows:
            attempts = (row.attempts or 0) + 1
            session.execute(
                update(XapiOutbox)
                .where(XapiOutbox.id == row.id)
                .values(
                    attempts=attempts,
                    next_try_at=now + backoff(attempts),
                    last_error=error[:MAX_ERROR],
                )
                .execution_options(synchronize_session=False)
            )
        session.commit()


def _send(
    sessions: sessionmaker[Session],
    lrs: Lrs,
    rows: Sequence[XapiOutbox],
    post: Post,
    now: datetime,
    outcome: Pass,
) -> bool:
    """Send ``rows``; False when the LRS is out (the pass should stop)."""
    answer = post(lrs, [r.statement for r in rows])
    if answer.status in (200, 204) or (answer.status == 409 and len(rows) == 1):
        _mark_sent(sessions, [r.id for r in rows], now)
        outcome.sent += len(rows)
        return True
    if answer.status in (400, 409) and len(rows) > 1:
        return all(_send(sessions, lrs, [row], post, now, outcome) for row in rows)
    _retry_later(sessions, rows, answer.text, now)
    outcome.retried += len(rows)
    outcome.errors.append(answer.text)
    log.warning("xAPI statements not sent (%s): %s", len(rows), answer.text)
    return answer.status == 400  # one refused statement; the LRS itself is up


def run_once(
    sessions: sessionmaker[Session],
    lrs: Lrs,
    *,
    batch: int = BATCH,
    post: Post = post_statements,
    now: Callable[[], datetime] = utcnow,
) -> Pass:
    """Send every due statement, a batch at a time, until none is due or the LRS is out;
    then delete the statements sent more than ``KEEP_SENT`` ago."""
    outcome = Pass()
    while True:
        moment = now()
        rows = _claim(sessions, moment, batch)
        if not rows or not _send(sessions, lrs, rows, post, moment, outcome):
            break
    outcome.pruned = prune(sessions, now() - KEEP_SENT)
    return outcome


def prune(sessions: sessionmaker[Session], sent_before: datetime) -> int:
    """Delete the statements sent before ``sent_before`` (never one still waiting)."""
    with sessions() as session:
        begin_write(session)
        result = session.execute(
            delete(XapiOutbox)
            .where(XapiOutbox.sent_at.is_not(None), XapiOutbox.sent_at < sent_before)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def run_forever(
    sessions: sessionmaker[Session],
    lrs: Lrs,
    *,
    interval: float = 10.0,
    batch: int = BATCH,
    echo: Callable[[str], Any] = print,
) -> None:
    """Pass after pass, ``interval`` seconds apart (the worker under systemd or a container)."""
    while True:
        try:
            outcome = run_once(sessions, lrs, batch=batch)
        except Exception:  # the database away for a moment: log it, try again next round
            log.exception("outbox pass failed")
        else:
            if outcome.sent or outcome.failed:
                echo(describe(outcome))
        time.sleep(interval)


def describe(outcome: Pass) -> str:
    text = f"outbox: {outcome.sent} sent, {outcome.retried} to retry"
    if outcome.pruned:
        text += f", {outcome.pruned} sent over 30 days ago deleted"
    if outcome.errors:
        text += f"; LRS error: {outcome.errors[-1]}"
    return text
