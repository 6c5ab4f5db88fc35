"""Flask extensions: CSRF, sign-in, translations, throttling."""

from __future__ import annotations

import logging

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from courseware.core.config import PACKAGE_DIR
from courseware.core.errors import ContentError
from courseware.core.models import ContentState, User
from courseware.hr import notices
from courseware.web.common.database import db_session

SUPPORTED_LOCALES = ("zh_Hant", "en")
LANGUAGE_NAMES = {"zh_Hant": "繁體中文", "en": "English"}

csrf = CSRFProtect()
log = logging.getLogger("courseware.web")
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def best_locale(accept: list[tuple[str, float]] | None) -> str:
    """Map Accept-Language to our locales; zh-TW, zh-HK, zh-MO and zh-Hant mean zh_Hant."""
    for language, _quality in accept or []:
        tag = language.lower().replace("_", "-")
        if tag.startswith("zh"):
            return "zh_Hant"
        if tag.startswith("en"):
            return "en"
    return "zh_Hant"


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return best_locale(list(request.accept_languages))


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Load the user named in the cookie, if its session version is still current."""
    user_id, _, version = user_key.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    try:
        found = db_session().execute(_USER_AND_COURSE, {"user_id": int(user_id)}).first()
    except SQLAlchemyError:
        # The database is down: say so (security's guard answers 503), rather
        # than treat the visitor as signed out.
        g.database_unavailable = True
        return None
    if found is None:
        return None
    user, g.content_version, g.unread_notices = found
    if not user.active or user.session_version != int(version):
        return None
    return user


# The user and the course version in one statement: nearly every signed-in page needs both
# (``database.catalogue`` compares the version with its worker's catalogue),
# and the unread notices ride along for the header's count (trainees).
_USER_AND_COURSE = select(
    User,
    select(ContentState.version).where(ContentState.id == 1).scalar_subquery(),
    notices.unread_of(User.id),
).where(User.id == bindparam("user_id"))


def compile_user_statement(app: Flask, _published: object = None) -> None:
    """Before gunicorn forks its workers: have the signed-in user's statement compiled (it
    runs on nearly every page), by asking for an account that cannot exist."""
    database = app.extensions["courseware.core.db"]
    try:
        with database.sessions() as session:
            session.execute(_USER_AND_COURSE, {"user_id": 0}).first()
    except SQLAlchemyError:
        log.warning("the user statement was not compiled before the fork", exc_info=True)
    finally:
        database.engine.dispose()


def error_message(error: ContentError) -> str:
    """A located course-file error's message in the reader's language."""
    return gettext(error.message, **dict(error.params))


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PACKAGE_DIR / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    app.jinja_env.globals.update(
        get_locale=get_locale,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        has_endpoint=lambda endpoint: endpoint in app.view_functions,
    )
    app.jinja_env.filters["error_message"] = error_message
