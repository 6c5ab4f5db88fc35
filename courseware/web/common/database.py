"""One database session per request, closed at teardown."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import force_locale, get_translations
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from courseware.content.catalogue import Catalogue
from courseware.content.render import render_markdown
from courseware.content.store import CatalogueCache, content_version
from courseware.core.db import begin_write, make_engine, make_session_factory
from courseware.core.xapi import SESSION_KEY, site_from_settings
from courseware.web.common import formats

log = logging.getLogger("courseware.web")


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    catalogue: CatalogueCache


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"],
        busy_timeout_ms=int(app.config.get("DB_BUSY_TIMEOUT_MS") or 5000),
    )
    # With an LRS configured, every request's session queues xAPI statements.
    site = site_from_settings(app.config)
    info = {SESSION_KEY: site} if site is not None else None
    app.extensions["courseware.core.db"] = Database(
        engine, make_session_factory(engine, info), CatalogueCache()
    )
    app.before_request(_begin_writes)
    app.teardown_appcontext(_close_session)


F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def writes(view: F) -> F:
    """Mark a GET view that writes (e.g. records a lesson view)."""
    view._courseware_writes = True  # type: ignore[attr-defined]
    return view


def reads(view: F) -> F:
    """Mark a POST view that changes nothing (e.g. a preview): its transaction is a reader's.

    On SQLite a writer's transaction holds the database's one write lock until it ends; a
    view that only reads, and may work for a while, would make every other request that
    writes wait, and answer 503 once its busy timeout ran out.
    """
    view._courseware_reads = True  # type: ignore[attr-defined]
    return view


def reading_from_here() -> None:
    """This request writes nothing more: end its writer's transaction now (committing what it
    wrote, if anything), so what it still does (a preview, a page) reads without holding
    SQLite's write lock. For a view whose form may save or only show (the studio's Preview
    button): call it once the view knows it will not save."""
    session = db_session()
    if session.in_transaction():
        session.commit()


def _begin_writes() -> None:
    """Requests that change data start their transaction as writers."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_courseware_reads", False):
        return
    if request.method not in SAFE_METHODS or getattr(view, "_courseware_writes", False):
        begin_write(db_session())


def database() -> Database:
    return current_app.extensions["courseware.core.db"]


def db_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session


def catalogue() -> Catalogue:
    """The course as published now (one version query per request, none more when the
    signed-in user's was read: ``extensions.load_user`` reads the version with the user)."""
    if "catalogue" not in g:
        # The version read with the signed-in user, in this transaction, if there is one and
        # the request changes nothing (a publish in this request would have moved it on).
        known = g.pop("content_version", None)
        if not has_request_context() or request.method not in SAFE_METHODS:
            known = None
        g.catalogue = database().catalogue.get(db_session(), known)
    return g.catalogue


def current_content_version() -> int:
    """The published course's version: the one read with the signed-in user when the
    request changes nothing, else read now."""
    known = g.get("content_version")
    if known is not None and has_request_context() and request.method in SAFE_METHODS:
        return int(known)
    return content_version(db_session())


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def warm_before_fork(
    app: Flask,
    locales: tuple[str, ...],
    also: Iterable[Callable[[Flask, Catalogue], None]] = (),
) -> None:
    """Under gunicorn (which loads the app once, then forks its workers), build the
    catalogue, render every lesson in each locale, compile every template and read every
    message catalogue before the fork, so every worker,
    and every worker started later to replace one, serves its first page at full speed.

    Elsewhere (tests, the command line) it does nothing; a database that cannot answer
    yet (not migrated) leaves the work to the first request, as before.
    """
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        return
    db: Database = app.extensions["courseware.core.db"]
    try:
        with db.sessions() as session:
            cat = db.catalogue.get(session)
    except Exception:
        log.warning("the course could not be loaded before the workers started", exc_info=True)
        return
    finally:
        db.engine.dispose()
    terms = cat.glossary_terms
    for module in cat.modules:
        for lesson in module.lessons:
            for locale in locales:
                render_markdown(lesson.body, terms, locale)
    # Every page template compiled once here, with the parts it includes and extends
    # (a page's first render would otherwise compile them all, in every worker).
    for template in app.jinja_env.list_templates(extensions=("html",)):
        app.jinja_env.get_template(template)
    # And each language's message catalogue parsed (flask_babel keeps them per process).
    # And each language's message catalogue parsed and its CLDR data (dates, numbers) read
    # (flask_babel and Babel keep them per process).
    with app.test_request_context():
        for locale in locales:
            with force_locale(locale):
                get_translations()
                formats.warm()
        for warm in also:  # what other parts keep of the published course (HR's course keys)
            warm(app, cat)
