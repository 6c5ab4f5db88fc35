"""The course saved on the learner's device: the app manifest, the service worker, the
"save for offline" page, the package list and the outbox's sync.

What the device keeps is the learner's own pages (lessons with their own practice answers,
their dashboard) and the site's static files; signing out clears it (``auth.logout`` answers
``Clear-Site-Data`` and the page's script empties its stores first). The rules of a sync are
in ``courseware.learning.offline``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from courseware.core.db import begin_write
from courseware.learning import offline, progress
from courseware.learning import practice as practice_answers
from courseware.web.common.access import public
from courseware.web.common.assets import quiet_session
from courseware.web.common.certify import certify_if_earned
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.page_cache import personal
from courseware.web.learner import learn

bp = Blueprint("offline", __name__)

# The static files every saved page needs (the fingerprinted address of each is listed).
STATIC_FILES = (
    "css/site.css",
    "js/site.js",
    "js/offline.js",
    "favicon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)
SERVICE_WORKER = Path(__file__).resolve().parents[2] / "static" / "js" / "sw.js"


@bp.get("/manifest.webmanifest")
def manifest():
    """The installable app's description (public: browsers fetch it without the cookie)."""
    body = {
        "name": _("Microloan Officer Academy"),
        "short_name": _("Academy"),
        "lang": "en" if str(get_locale()) == "en" else "zh-Hant",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5563",
        "icons": [
            {
                "src": url_for("static", filename=f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in (192, 512)
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        mimetype="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so that it may control every page."""
    return Response(
        SERVICE_WORKER.read_bytes(),
        mimetype="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


public("offline.manifest")
public("offline.service_worker")


@bp.get("/offline")
def index():
    return render_template("learner/offline/index.html")


@bp.get("/offline/online-only")
def online_only():
    """What the device shows for a page it has not saved: quizzes and case decisions."""
    return render_template("learner/offline/online_only.html")


def _home_url() -> str:
    return url_for("learn.dashboard" if current_user.role == "trainee" else "learn.course")


def _size(body: str | bytes) -> int:
    return len(body.encode("utf-8") if isinstance(body, str) else body)


def _static_entry(filename: str) -> dict[str, Any]:
    folder = Path(current_app.static_folder or "")
    return {
        "url": url_for("static", filename=filename),
        "bytes": (folder / filename).stat().st_size,
        "kind": "static",
    }


def package_entries() -> list[dict[str, Any]]:
    """Every address of the learner's offline package with its size now (uncompressed)
    and, for lessons, the revision: what the device saves, updates and removes."""
    cat = catalogue()
    session = db_session()
    entries: list[dict[str, Any]] = [
        {"url": _home_url(), "bytes": _size(learn._learner_dashboard()), "kind": "page"},
        {"url": url_for("offline.index"), "bytes": _size(index()), "kind": "page"},
        {"url": url_for("offline.online_only"), "bytes": _size(online_only()), "kind": "page"},
    ]
    if cat.glossary is not None:
        entries.append(
            {"url": url_for("learn.glossary"), "bytes": _size(learn.glossary()), "kind": "page"}
        )
    updates = progress.material_updates(session, cat)
    for module in cat.modules:
        entries.append(
            {
                "url": url_for("learn.module", slug=module.slug),
                "bytes": _size(learn.module(module.slug)),
                "kind": "page",
            }
        )
        statuses = {
            s.slug: s for s in progress.lesson_statuses(session, current_user.id, module, updates)
        }
        for lesson in module.lessons:
            status = statuses[lesson.slug]
            shell = learn._lesson_shell(module, lesson, status.done, status.updated_since_done)
            page = shell.blank
            if shell.practices:
                records = practice_answers.last_answers(session, current_user.id, lesson)
                if records:
                    page = learn._with_answers(shell, lesson, records)
            entries.append(
                {
                    "url": url_for("learn.lesson", slug=module.slug, lesson_slug=lesson.slug),
                    "bytes": _size(personal(page)),
                    "kind": "lesson",
                    "lesson": f"{module.slug}/{lesson.slug}",
                    "revision": lesson.revision_id,
                }
            )
    entries.append(
        {
            "url": url_for("offline.manifest"),
            "bytes": _size(manifest().get_data()),
            "kind": "static",
        }
    )
    entries.extend(_static_entry(name) for name in STATIC_FILES)
    return entries


@bp.get("/offline/package.json")
def package():
    """The learner's offline package: every address with its size in bytes, and a version
    that changes when any of it does. ``?save=1`` (the device is saving it now) notes the
    time, the start of the reading time a device may report."""
    pending = session.get("_flashes")  # rendering the pages to measure them reads the messages
    entries = package_entries()
    if pending:
        session["_flashes"] = pending  # kept for the next page the learner opens
    fixed = [(e["url"], e.get("revision")) for e in entries if e["kind"] != "page"]
    version = hashlib.sha256(
        json.dumps([str(get_locale()), fixed], sort_keys=True).encode()
    ).hexdigest()[:16]
    if request.args.get("save") == "1":
        db = db_session()
        db.commit()
        begin_write(db)
        offline.note_package_saved(db, current_user.id)
        db.commit()
    body = {
        "version": version,
        "bytes": sum(e["bytes"] for e in entries),
        "entries": entries,
        "sync_url": url_for("offline.sync"),
        "online_only_url": url_for("offline.online_only"),
    }
    return jsonify(body)


@bp.post("/offline/sync")
@quiet_session
def sync():
    """Record the device's outbox: ``{"actions": [...]}`` answered ``{"recorded": n,
    "duplicates": m, "rejected": [...], "refresh": bool}``. The same action id twice is
    recorded once; a malformed request (400) records nothing."""
    try:
        actions = offline.parse_actions(request.get_json(silent=True))
    except offline.SyncError as error:
        return jsonify(error=str(error), index=error.index), 400
    session = db_session()
    for attempt in (1, 2):
        session.commit()
        begin_write(session)
        try:
            outcome = offline.sync_actions(
                session, current_user.id, catalogue(), actions, learn.reading_rule()
            )
            if outcome.lessons_done:
                certify_if_earned(current_user.id)  # in the same transaction, and commits it
            else:
                session.commit()
        except IntegrityError:
            # The same actions arrived from another request at the same moment: once that
            # one has committed, they are duplicates here.
            session.rollback()
            if attempt == 2:
                raise
            continue
        return jsonify(outcome.as_json())
    raise AssertionError("unreachable")
