"""The signed-in lesson page's common case, answered without Flask's per-request machinery.

Most lesson requests are a reader reloading or reading on: a GET with no query string, a
session cookie that has not changed since the last answer, a lesson whose shell
(``page_cache``) is rendered already and a view that needs no write. ``LessonFastPath``
wraps the application's WSGI callable and answers exactly that case with:

- the session cookie verified once per worker and kept by its exact value (it is signed:
  the same value is the same content; its age is checked again on each use);
- ONE database statement (SQLAlchemy Core, no ORM): the account (active, session version,
  role, name, must it change its password), the course version, the unread notices, the
  recent view of this lesson (the same rule as ``progress.recent_view``) and whether the
  reader answered its exercises; on PostgreSQL, the row is kept by the worker and used again
  until anything in it changes (``lesson_watch``: the database notifies every change);
- the reader's CSRF token signed once per raw token (tokens have no time limit here:
  ``WTF_CSRF_TIME_LIMIT`` is None), and no re-sent session cookie (its expiry moves when
  the guard renews ``seen``, every 30 seconds, on the full path);
- no limiter work (the page has no limit) and the same headers and log line as the full path.

Every other request, and every request where any of these does not hold (a flashed message,
a session key it does not know, ``seen`` due for renewal, another browser or address than
the session's, a disabled or signed-out account, a role that must change its password, a
first view to record, a shell not rendered yet, answered exercises, a database error), goes
to the application unchanged, which answers it as before. So nothing here decides who may
read: a disabled account, a changed session version or a changed role is seen by the one
statement on the very next request.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import threading
import time
from collections.abc import Callable, Iterable
from hashlib import sha512
from typing import Any

from flask import Flask
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import escape
from sqlalchemy import Engine, bindparam, event, exists, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from courseware.core.clock import utcnow
from courseware.core.db import UTCDateTime
from courseware.core.models import ContentState, LessonProgress, PracticeAnswer, User
from courseware.hr import compliance, notices
from courseware.learning.progress import VIEW_REFRESH, recent_view_condition
from courseware.web.common import assets
from courseware.web.common.database import Database
from courseware.web.common.errors import choose_request_id
from courseware.web.common.extensions import SUPPORTED_LOCALES, best_locale
from courseware.web.common.page_cache import CSRF_SLOT, LRU, NAME_SLOT
from courseware.web.common.policy import KEY as POLICY_KEY
from courseware.web.common.requestlog import write_line
from courseware.web.common.security import HSTS, PAGE_HEADERS
from courseware.web.learner.learn import cached_shell, reading_rule, shell_key
from courseware.web.learner.lesson_watch import StateWatch

LESSON_PATH = re.compile(r"/modules/([^/]+)/([^/]+)")
ROUTE = "/modules/<slug>/<lesson_slug>"
# The session keys a steady signed-in session holds; any other (a flashed message, the
# remember-me cookie's instruction) is the full path's to handle.
KNOWN_KEYS = frozenset({"_user_id", "_fresh", "_id", "_permanent", "csrf_token", "seen", "lang"})
SEEN_RENEWAL = 30  # seconds: security._guard renews "seen" (and so the cookie) after this

_STATE = (
    select(
        User.active,
        User.session_version,
        User.role,
        User.display_name,
        User.must_change_password,
        select(ContentState.version).where(ContentState.id == 1).scalar_subquery(),
        notices.unread_of(User.id),
        LessonProgress.id,
        LessonProgress.completed_at,
        LessonProgress.completed_revision_id,
        exists()
        .where(
            PracticeAnswer.user_id == User.id,
            PracticeAnswer.module_slug == bindparam("module_slug"),
            PracticeAnswer.lesson_slug == bindparam("lesson_slug"),
        )
        .label("answered"),
        LessonProgress.last_viewed_at,  # how long a kept row's view stays recent
    )
    .select_from(User)
    .outerjoin(LessonProgress, recent_view_condition(User.id))
    .where(User.id == bindparam("user_id"))
)

PARAMS = ("user_id", "module_slug", "lesson_slug", "since", "now")  # what each call gives

StartResponse = Callable[..., Any]


class LessonFastPath:
    """WSGI middleware: the lesson page's common case here, everything else to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: Callable[[dict, StartResponse], Iterable[bytes]]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.served = 0  # pages answered here
        self._sessions: LRU[tuple[dict[str, Any], float]] = LRU(2048)
        self._tokens: LRU[str] = LRU(2048)
        self._locales: LRU[str] = LRU(64)
        self._reader: StateReader | None = None

    @property
    def statements(self) -> int:
        """Statements this fast path sent to the database (outside SQLAlchemy's events)."""
        return self._reader.statements if self._reader is not None else 0

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or not self.app.config.get("LESSON_FAST_PATH", True)
        ):
            return self.wsgi_app(environ, start_response)
        match = LESSON_PATH.fullmatch(environ.get("PATH_INFO", ""))
        answer = self._answer(environ, match.group(1), match.group(2)) if match else None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        body, headers, user_id, rid = answer
        start_response("200 OK", headers)
        self.served += 1
        write_line(
            "GET",
            environ.get("PATH_INFO", ""),
            200,
            request_id=rid,
            user_id=user_id,
            route=ROUTE,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return [body]

    # Long because it is the one place that checks, in order, every condition under which
    # the full path would answer differently; each failed check returns None (full path).
    def _answer(
        self, environ: dict, module_slug: str, lesson_slug: str
    ) -> tuple[bytes, list[tuple[str, str]], int, str] | None:
        app = self.app
        data = self._session(environ.get("HTTP_COOKIE", ""))
        if data is None or not data.keys() <= KNOWN_KEYS or "csrf_token" not in data:
            return None
        seen, raw_token = data.get("seen"), data["csrf_token"]
        if not isinstance(seen, int) or not 0 <= int(time.time()) - seen <= SEEN_RENEWAL:
            return None
        if not isinstance(raw_token, str) or data.get("_id") != _identifier(environ):
            return None
        user_id, _, version = str(data.get("_user_id", "")).partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        db: Database = app.extensions["courseware.core.db"]
        reader = self._reader
        if reader is None or reader.engine is not db.engine:
            reader = self._reader = StateReader(db.engine, app.config.get("LESSON_KEEP_ROWS", True))
        now = utcnow()
        row = reader.row(
            {
                "user_id": int(user_id),
                "module_slug": module_slug,
                "lesson_slug": lesson_slug,
                "since": now - VIEW_REFRESH,
                "now": now,
            }
        )
        if row is None:  # no such account, or the database failed: the full path says so
            return None
        (active, session_version, role, name, must_change, course, unread, viewed) = row[:8]
        completed_at, completed_revision, answered = row[8:11]
        if not active or session_version != int(version) or must_change or viewed is None:
            return None
        cat = db.catalogue.current(course)
        if cat is None:
            return None
        module = cat.module(module_slug)
        les = module.lesson(lesson_slug) if module is not None else None
        if les is None:
            return None
        done = completed_at is not None
        updated = False
        if done:  # was the lesson changed materially since? (the full path's set, kept)
            updates = cat.extras.get("material_updates")
            if updates is None:
                return None
            updated = (les.path, completed_revision) in updates
        locale = data.get("lang")
        if locale not in SUPPORTED_LOCALES:
            locale = self._locale(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        rule = reading_rule(app.extensions[POLICY_KEY].policy.learning)
        unread = int(unread or 0) if role == compliance.LEARNER_ROLE else 0
        shell = cached_shell(cat, shell_key(les, locale, role, done, updated, rule, unread))
        if shell is None or (shell.practices and answered):
            return None
        page = shell.blank.replace(CSRF_SLOT, self._token(raw_token)).replace(
            NAME_SLOT, str(escape(name))
        )
        body = page.encode()
        rid = choose_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if (
            app.config.get("COMPRESS", True)
            and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower()
            and len(body) >= assets.MIN_SIZE
        ):
            body = gzip.compress(body, compresslevel=assets.PAGE_LEVEL, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        headers.extend(PAGE_HEADERS)
        if app.config.get("HTTPS"):
            headers.append(HSTS)
        headers += [
            ("Cache-Control", "private, no-store"),
            ("X-Request-ID", rid),
            ("Vary", "Accept-Encoding, Cookie"),
        ]
        return body, headers, int(user_id), rid

    def _session(self, cookie_header: str) -> dict[str, Any] | None:
        """The session cookie's content, verified (once per value) and not too old."""
        value = _cookie(cookie_header, self.app.config["SESSION_COOKIE_NAME"])
        if not value:
            return None
        max_age = int(self.app.permanent_session_lifetime.total_seconds())
        known = self._sessions.get(value)
        if known is None:
            serializer = self.app.session_interface.get_signing_serializer(  # type: ignore[attr-defined]
                self.app
            )
            if serializer is None:
                return None
            try:
                data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return None
            if not isinstance(data, dict):
                return None
            known = self._sessions.put(value, (data, signed.timestamp()))
        data, signed_at = known
        if time.time() - signed_at > max_age:
            return None
        return data

    def _token(self, raw: str) -> str:
        """The form token Flask-WTF's ``generate_csrf`` makes of ``raw``, signed once."""
        token = self._tokens.get(raw)
        if token is None:
            config = self.app.config
            secret = config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key
            signer = URLSafeTimedSerializer(secret, salt="wtf-csrf-token")
            token = self._tokens.put(raw, str(signer.dumps(raw)))
        return token

    def _locale(self, accept_language: str) -> str:
        locale = self._locales.get(accept_language)
        if locale is None:
            accept = parse_accept_header(accept_language, LanguageAccept)
            locale = self._locales.put(accept_language, best_locale(list(accept)))
        return locale


class StateReader:
    """The fast path's one statement, run on a DBAPI connection of each thread's own.

    Outside the pool, in autocommit (the statement is its own snapshot): so one round trip,
    without the pool's liveness ping and closing rollback that a checkout costs. A failed
    statement closes the connection (the next request opens another); the connections are
    closed when the engine is disposed (gunicorn's fork, tests).
    """

    def __init__(self, engine: Engine, keep: bool = True) -> None:
        self.engine = engine
        compiled = _STATE.compile(dialect=engine.dialect)
        self._compiled = compiled
        self._sql = str(compiled)
        self._positions = compiled.positiontup
        # The statement's fixed values (the course version's row id); the rest come with
        # each call.
        self._defaults = compiled.construct_params(dict.fromkeys(PARAMS))
        self._postgres = engine.dialect.name == "postgresql"
        self._time = UTCDateTime().bind_processor(engine.dialect)
        self._errors: tuple[type[BaseException], ...] = (engine.dialect.loaded_dbapi.Error,)
        self.statements = 0  # run by this reader (the query-count pins add them)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Any] = []
        self.watch = StateWatch(engine, enabled=keep)
        event.listen(engine, "engine_disposed", self._close_all)

    def row(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The statement's row for ``params`` (kept, on PostgreSQL, while nothing in it
        changed: ``lesson_watch``); None when there is none or on any error."""
        key = (params["user_id"], params["module_slug"], params["lesson_slug"])
        kept, generation = self.watch.lookup(*key)
        if kept is not None and params["since"] <= kept[-1] <= params["now"]:
            return kept
        found = self._read(params)
        # Kept only with a recent view: without one, the full path writes it (and so
        # forgets), and its next read is the one to keep.
        if found is not None and generation is not None and found[-1] is not None:
            self.watch.keep(*key, found, generation)
        return found

    def _read(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        values = {**self._defaults, **params}
        if self._time is not None:
            values["since"] = self._time(values["since"])
            values["now"] = self._time(values["now"])
        bound: Any = values
        if self._positions is not None:
            bound = tuple(values[name] for name in self._positions)
        try:
            cursor = self._cursor()
            self.statements += 1
            if self._postgres:  # a server-side prepared statement from the first run on
                cursor.execute(self._sql, bound, prepare=True)
            else:
                cursor.execute(self._sql, bound)
            found = cursor.fetchone()
        except (SQLAlchemyError, *self._errors):
            self._discard()
            return None
        return tuple(found) if found is not None else None

    def _cursor(self) -> Any:
        """This thread's cursor on its own connection (one cursor, reused: a statement
        costs no cursor made and closed)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours alone, until we close it
            connection = fairy.dbapi_connection
            if self._postgres:
                connection.rollback()  # the checkout's ping may have opened a transaction
                connection.autocommit = True
            with self._lock:
                self._open.append(connection)
            self._local.connection = connection
            self._local.cursor = cursor = connection.cursor()
        return cursor

    def _discard(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = self._local.cursor = None
        if connection is not None:
            with self._lock:
                if connection in self._open:
                    self._open.remove(connection)
            with contextlib.suppress(Exception):
                connection.close()

    def _close_all(self, _engine: Engine) -> None:
        self.watch.close()
        with self._lock:
            connections, self._open = self._open, []
        self._local = threading.local()
        for connection in connections:
            with contextlib.suppress(Exception):
                connection.close()


def _cookie(header: str, name: str) -> str | None:
    """The first value of cookie ``name`` in a Cookie header (as Flask's ``request.cookies``)."""
    prefix = name + "="
    for part in header.split(";"):
        part = part.strip()
        if part.startswith(prefix):
            value = part[len(prefix) :]
            return None if value.startswith('"') else value  # quoted: the full path parses it
    return None


def _identifier(environ: dict) -> str:
    """Flask-Login's session-protection identifier (``utils._create_identifier``)."""
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    agent = environ.get("HTTP_USER_AGENT")
    base = f"{address}|{agent.encode('utf-8') if agent is not None else None}"
    return sha512(base.encode("utf8")).hexdigest()


EXTENSION = "courseware.lesson_fast"


def install(app: Flask) -> None:
    """Put the fast path in front of the application (inside any proxy fix added later)."""
    fast = LessonFastPath(app, app.wsgi_app)
    app.extensions[EXTENSION] = fast
    app.wsgi_app = fast  # type: ignore[method-assign]


def fast_path(app: Flask) -> LessonFastPath:
    """The application's fast path (tests count what it served and ran)."""
    return app.extensions[EXTENSION]
