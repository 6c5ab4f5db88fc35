"""The microloan officer academy: a Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from courseware.core.config import (
    PACKAGE_DIR,
    flask_settings,
    load_secret_key,
    settings_from_env,
    trusted_networks,
)
from courseware.core.db import default_sqlite_url


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings, database, sign-in, i18n, blueprints, CLI."""
    settings = settings_from_env()
    settings.update(config or {})
    instance_path = Path(settings["INSTANCE_PATH"])
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        static_folder=str(PACKAGE_DIR / "static"),
        template_folder=str(PACKAGE_DIR / "templates"),
    )
    app.config.update(flask_settings(settings))
    app.config.update(settings)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(instance_path)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = default_sqlite_url(instance_path)
    if app.config.get("LRS_URL") and not app.config.get("LRS_ACTOR_KEY"):
        app.config["LRS_ACTOR_KEY"] = load_secret_key(
            instance_path, "COURSEWARE_LRS_ACTOR_KEY", "lrs_actor_key"
        )

    from courseware import cli
    from courseware.web import init_web

    init_web(app)
    networks = trusted_networks(app.config.get("TRUSTED_PROXIES"))
    if networks:
        from courseware.web.common.proxies import TrustedProxies

        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)  # type: ignore[method-assign]
    cli.register(app)
    return app


# The course's other file formats register their loaders with the catalogue when imported
# (courseware.content.catalogue reads lessons and the glossary and knows no other format).
# Importing them here, in the package root, registers them before anything can build a
# catalogue, whichever module is imported first.
from courseware.assessment import bank as _quiz_files  # noqa: E402, F401
from courseware.content import case_files as _case_files  # noqa: E402, F401

# The HR summary is kept by every session's commits (courseware.core.learner_marks calls it).
from courseware.hr import summary as _hr_summary  # noqa: E402, F401
