"""The lesson fast path's rows kept per worker, forgotten the moment anything in them changes.

On PostgreSQL the fast path's one statement is a round trip to another process: with two
workers on two cores it cost the lesson page a quarter of its requests per second. So a
worker keeps the row it read for a reader and a lesson, and serves the next reload from it,
for as long as nothing the row was read from has changed. What changed is told by the
database itself: the tables the row reads (accounts, notices, lesson progress, practice
answers, the course version) notify the channel ``CHANNEL`` after every statement that
changes them, with the accounts touched (migration 0022), whichever process wrote. A worker
listens on a connection of its own and reads what arrived before it uses any kept row (a
non-blocking read: no round trip), and a thread reads it as it arrives in between.

What keeps this safe:

- A commit by any engine in this process forgets every kept row at once (the same worker's
  own writes, and a test's, are seen without waiting for the notification).
- A row is kept only if no notification (and no commit here) came between the read and the
  keep (``generation``), and for at most ``MAX_AGE`` seconds.
- Without a working listener (SQLite, a lost connection, the database down) nothing is kept
  and every request reads its row, as before; a lost listener forgets everything, and a new
  one is tried at most every ``RETRY`` seconds.

A notification reaches the other workers a moment after the writer's commit returns: a
write by one worker is seen by another on the reader's next request unless that request
arrives within that moment (well under a millisecond on one machine).
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

from psycopg import pq
from sqlalchemy import Engine, event

from courseware.core.db import LEARNER_CHANGES

CHANNEL = LEARNER_CHANGES  # migration 0022's triggers notify it
KEEP_USERS = 4096  # accounts whose rows a worker keeps (least recently used go first)
MAX_AGE = 60.0  # seconds a kept row is used at most
RETRY = 5.0  # seconds between attempts to listen again
WAIT = 30.0  # the reading thread's longest wait, so it notices its listener was replaced

Row = tuple[Any, ...]
_WATCHES: weakref.WeakSet[StateWatch] = weakref.WeakSet()


class StateWatch:
    """Kept rows by account and lesson, and the listener that says which to forget."""

    def __init__(self, engine: Engine, enabled: bool = True) -> None:
        self.engine = engine
        self.enabled = enabled and engine.dialect.name == "postgresql"
        self.generation = 0  # moves on at every forgetting: a read older than it is not kept
        self.kept_hits = 0  # rows served from here (the tests look)
        self._rows: OrderedDict[int, dict[tuple[str, str], tuple[Row, float]]] = OrderedDict()
        self._lock = threading.RLock()
        self._listener: Any = None
        self._pid = 0
        self._retry_at = 0.0
        if self.enabled:  # a watch that keeps nothing has nothing for a commit to forget
            _WATCHES.add(self)

    def lookup(self, user_id: int, module: str, lesson: str) -> tuple[Row | None, int | None]:
        """The kept row (or None) and the generation to keep a new read under (None: do not
        keep), after reading every notification that has arrived."""
        if not self.enabled:
            return None, None
        with self._lock:
            if not self._listening():
                return None, None
            lessons = self._rows.get(user_id)
            entry = lessons.get((module, lesson)) if lessons is not None else None
            if entry is None:
                return None, self.generation
            row, kept_at = entry
            if time.monotonic() - kept_at > MAX_AGE:
                del lessons[(module, lesson)]  # type: ignore[index]
                return None, self.generation
            self._rows.move_to_end(user_id)
            self.kept_hits += 1
            return row, self.generation

    def keep(self, user_id: int, module: str, lesson: str, row: Row, generation: int) -> None:
        """Keep ``row``, read under ``generation``, unless something changed since."""
        with self._lock:
            if generation != self.generation or self._listener is None:
                return
            self._rows.setdefault(user_id, {})[(module, lesson)] = (row, time.monotonic())
            self._rows.move_to_end(user_id)
            while len(self._rows) > KEEP_USERS:
                self._rows.popitem(last=False)

    def forget(self, user_ids: list[int] | None = None) -> None:
        """Forget the rows of ``user_ids`` (None: every row)."""
        with self._lock:
            self.generation += 1
            if user_ids is None:
                self._rows.clear()
            else:
                for user_id in user_ids:
                    self._rows.pop(user_id, None)

    def close(self) -> None:
        """Stop listening and forget everything (the engine is disposed: a fork, a test)."""
        with self._lock:
            self._lose(retry=0.0)

    # ------------------------------------------------------------------ the listener

    def _listening(self) -> bool:
        """Read what the listener has received; open one if there is none (and it is time)."""
        if self._listener is not None and self._pid != os.getpid():
            self._listener = None  # a forked copy: the parent's connection is not ours
            self.forget()
        if self._listener is None:
            if time.monotonic() < self._retry_at:
                return False
            self._open()
            return self._listener is not None
        return self._drain()

    def _open(self) -> None:
        try:
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours alone, until we close it
            connection = fairy.dbapi_connection
            connection.rollback()  # type: ignore[union-attr]
            connection.autocommit = True  # type: ignore[union-attr]
            connection.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - no listener: nothing is kept, rows are read
            self._retry_at = time.monotonic() + RETRY
            return
        self._listener, self._pid = connection, os.getpid()
        self.forget()  # what changed before we listened was not heard
        threading.Thread(
            target=self._read_as_it_comes, args=(connection,), name="lesson-watch", daemon=True
        ).start()

    def _drain(self) -> bool:
        """Apply every notification received; False (and everything forgotten) if the
        listener is lost."""
        try:
            pgconn = self._listener.pgconn
            pgconn.consume_input()  # non-blocking: reads only what has arrived
            if pgconn.status != pq.ConnStatus.OK:
                raise ConnectionError("listener lost")
            while (notice := pgconn.notifies()) is not None:
                payload = notice.extra.decode()
                if payload == "*":
                    self.forget()
                else:
                    self.forget([int(part) for part in payload.split(",") if part.isdigit()])
        except Exception:  # noqa: BLE001 - a lost or broken listener: read rows again
            self._lose(retry=RETRY)
            return False
        return True

    def _lose(self, retry: float) -> None:
        listener, self._listener = self._listener, None
        self._retry_at = time.monotonic() + retry
        self.forget()
        if listener is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):
                listener.close()

    def _read_as_it_comes(self, connection: Any) -> None:
        """Between requests, read notifications as they arrive (so an idle worker never lets
        them pile up on the server), until this listener is replaced or lost."""
        while self._listener is connection:
            try:
                ready, _, _ = select.select([connection.pgconn.socket], [], [], WAIT)
            except Exception:  # noqa: BLE001 - closed under us
                return
            if ready:
                with self._lock:
                    if self._listener is connection:
                        self._drain()


@event.listens_for(Engine, "commit")
def _forget_on_commit(_connection: Any) -> None:
    """Any commit in this process may have changed a kept row: forget them all."""
    for watch in list(_WATCHES):
        watch.forget()
