"""`courseware outbox run` against a fake LRS (a local HTTP server thread): batches with the
xAPI version header and basic auth, retries with exponential back-off, an outage that loses
nothing, a duplicate (409) taken as sent, one refused statement that holds back no other."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from courseware import cli
from courseware.core import clock
from courseware.core.models import XapiOutbox
from courseware.core.xapi import lesson_statement
from courseware.ops import outbox
from tests.conftest import DATA, empty_all_tables, free_port, make_user
from tests.xapi_path import BASE_URL, lrs_app

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class FakeLrs:
    """Stores statements by id; answers 409 to a batch holding an id it has with other
    content, 400 to one holding an id in ``refuse``."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    def answer(self, headers: Any, statements: list[dict[str, Any]]) -> int:
        with self.lock:
            self.requests.append(
                {
                    "headers": {k.lower(): v for k, v in headers.items()},
                    "ids": [s["id"] for s in statements],
                }
            )
            if any(s["id"] in self.refuse for s in statements):
                return 400
            if any(self.stored.get(s["id"], s) != s for s in statements):
                return 409
            for statement in statements:
                self.stored[statement["id"]] = statement
            return 200


@contextmanager
def fake_lrs(lrs: FakeLrs, port: int | None = None) -> Iterator[str]:
    """Serve ``lrs`` on a local port while the block runs; its xAPI endpoint's URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path != "/xAPI/statements":
                status = 404
            else:
                status = lrs.answer(self.headers, json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/xAPI"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def app(database_url: str, tmp_path: Path):
    application = lrs_app(database_url, tmp_path, "http://127.0.0.1:9/xAPI")
    engine = application.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    clock.set_time(START)
    yield application
    clock.set_time(None)
    engine.dispose()


@pytest.fixture
def sessions(app):
    return app.extensions["courseware.core.db"].sessions


def _queue(db, count: int) -> list[str]:
    """``count`` lesson statements of one learner, committed; their ids in order."""
    user = make_user(db, "learner")
    ids = []
    for number in range(count):
        row = lesson_statement(db, user.id, "experienced", "alpha", f"l{number}", clock.utcnow())
        assert row is not None
        ids.append(row.id)
        clock.advance(timedelta(seconds=1))
    db.commit()
    return ids


def _rows(db) -> dict[str, XapiOutbox]:
    db.rollback()
    return {row.id: row for row in db.scalars(select(XapiOutbox))}


def test_statements_go_in_batches_with_the_version_and_basic_auth(db, sessions):
    ids = _queue(db, 5)
    lrs = FakeLrs()
    with fake_lrs(lrs) as url:
        done = outbox.run_once(sessions, outbox.Lrs(url, "academy", "pw"), batch=2)
        again = outbox.run_once(sessions, outbox.Lrs(url, "academy", "pw"), batch=2)
    assert (done.sent, done.retried, done.failed) == (5, 0, False)
    assert [r["ids"] for r in lrs.requests] == [ids[0:2], ids[2:4], ids[4:5]]
    headers = lrs.requests[0]["headers"]
    assert headers["x-experience-api-version"] == "1.0.3"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"academy:pw").decode()
    assert headers["content-type"].startswith("application/json")
    assert again.sent == 0 and len(lrs.requests) == 3  # sent ones are not sent again
    assert all(row.sent_at == START + timedelta(seconds=5) for row in _rows(db).values())


def test_an_outage_loses_nothing_and_retries_back_off(db, sessions):
    ids = _queue(db, 3)
    port = free_port()  # nothing listens there yet: the LRS is down
    lrs_at = outbox.Lrs(f"http://127.0.0.1:{port}/xAPI", "academy", "pw", timeout=5)
    down = outbox.run_once(sessions, lrs_at)
    assert down.failed and down.sent == 0 and down.retried == 3
    rows = _rows(db)
    assert {r.attempts for r in rows.values()} == {1}
    assert all(r.sent_at is None and r.last_error for r in rows.values())
    assert {r.next_try_at for r in rows.values()} == {clock.utcnow() + timedelta(seconds=30)}
    # Before the back-off is over nothing is tried.
    clock.advance(timedelta(seconds=29))
    assert outbox.run_once(sessions, lrs_at).retried == 0
    clock.advance(timedelta(seconds=1))
    assert outbox.run_once(sessions, lrs_at).retried == 3
    rows = _rows(db)
    assert {r.attempts for r in rows.values()} == {2}
    assert {r.next_try_at for r in rows.values()} == {clock.utcnow() + timedelta(seconds=60)}
    # The LRS is back: after the wait, every statement arrives, once.
    lrs = FakeLrs()
    with fake_lrs(lrs, port):
        clock.advance(timedelta(seconds=59))
        assert outbox.run_once(sessions, lrs_at).sent == 0
        clock.advance(timedelta(seconds=1))
        back = outbox.run_once(sessions, lrs_at)
    assert (back.sent, back.failed) == (3, False)
    assert sorted(lrs.stored) == sorted(ids)
    assert sum(len(r["ids"]) for r in lrs.requests) == 3
    assert all(r.sent_at and not r.last_error for r in _rows(db).values())


def test_back_off_doubles_up_to_an_hour():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.backoff(8) == timedelta(hours=1)
    assert outbox.backoff(500) == timedelta(hours=1)


def test_a_duplicate_is_taken_as_sent(db, sessions):
    ids = _queue(db, 3)
    lrs = FakeLrs()
    lrs.stored[ids[1]] = {"id": ids[1], "note": "stored before, say by a pass that lost its answer"}
    with fake_lrs(lrs) as url:
        done = outbox.run_once(sessions, outbox.Lrs(url))
    assert (done.sent, done.failed) == (3, False)
    # The batch was split; the one the LRS already had is sent, the others arrived.
    assert [r["ids"] for r in lrs.requests] == [ids, [ids[0]], [ids[1]], [ids[2]]]
    assert set(lrs.stored) == set(ids)
    assert all(r.sent_at for r in _rows(db).values())


def test_a_refused_statement_holds_back_no_other(db, sessions):
    ids = _queue(db, 3)
    lrs = FakeLrs()
    lrs.refuse = {ids[0]}
    with fake_lrs(lrs) as url:
        done = outbox.run_once(sessions, outbox.Lrs(url))
    assert (done.sent, done.retried) == (2, 1)
    rows = _rows(db)
    assert rows[ids[0]].sent_at is None and rows[ids[0]].attempts == 1
    assert "HTTP 400" in rows[ids[0]].last_error
    assert rows[ids[1]].sent_at and rows[ids[2]].sent_at


def test_a_claimed_row_whose_worker_died_is_sent_after_the_lease(db, sessions):
    ids = _queue(db, 1)
    claimed = outbox._claim(sessions, clock.utcnow(), 10)  # a worker took it, then died
    assert [r.id for r in claimed] == ids
    lrs = FakeLrs()
    with fake_lrs(lrs) as url:
        assert outbox.run_once(sessions, outbox.Lrs(url)).sent == 0
        clock.advance(outbox.LEASE)
        assert outbox.run_once(sessions, outbox.Lrs(url)).sent == 1


def _env(app, lrs_url: str | None) -> dict[str, str | None]:
    return {
        "COURSEWARE_DATABASE_URL": app.config["DATABASE_URL"],
        "COURSEWARE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "COURSEWARE_SECRET_KEY": "cli-test",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
        "COURSEWARE_BASE_URL": BASE_URL,
        "COURSEWARE_LRS_URL": lrs_url,
        "COURSEWARE_LRS_USER": "academy",
        "COURSEWARE_LRS_PASSWORD": "pw",
    }


def test_the_command_sends_once_and_says_what_it_did(app, db):
    _queue(db, 2)
    no_lrs = CliRunner().invoke(cli.main, ["outbox", "run", "--once"], env=_env(app, None))
    assert no_lrs.exit_code == 2 and "COURSEWARE_LRS_URL" in no_lrs.output
    down_url = f"http://127.0.0.1:{free_port()}/xAPI"
    down = CliRunner().invoke(cli.main, ["outbox", "run", "--once"], env=_env(app, down_url))
    assert down.exit_code == 1 and "0 sent, 2 to retry" in down.output
    assert "2 waiting" in down.output
    clock.advance(timedelta(minutes=1))
    lrs = FakeLrs()
    with fake_lrs(lrs) as url:
        result = CliRunner().invoke(cli.main, ["outbox", "run", "--once"], env=_env(app, url))
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 to retry; 0 waiting." in result.output
    assert len(lrs.stored) == 2


def test_sent_statements_are_deleted_after_thirty_days_waiting_ones_never(db, sessions):
    ids = _queue(db, 3)
    lrs = FakeLrs()
    with fake_lrs(lrs) as url:
        assert outbox.run_once(sessions, outbox.Lrs(url), batch=2).sent == 3
    # Two more wait: the LRS is down when they are queued and for the next month.
    waiting = _queue_more(db, 2)
    down = outbox.Lrs(f"http://127.0.0.1:{free_port()}/xAPI", timeout=5)
    clock.advance(timedelta(days=29))
    assert outbox.run_once(sessions, down).pruned == 0
    assert set(_rows(db)) == {*ids, *waiting}
    clock.advance(timedelta(days=2))
    later = outbox.run_once(sessions, down)
    assert later.pruned == 3 and later.failed
    assert set(_rows(db)) == set(waiting)  # the unsent ones stay, however old


def _queue_more(db, count: int) -> list[str]:
    user = make_user(db, f"learner-{count}-more")
    ids = []
    for number in range(count):
        row = lesson_statement(db, user.id, "experienced", "alpha", f"m{number}", clock.utcnow())
        assert row is not None
        ids.append(row.id)
    db.commit()
    return ids
