"""`courseware check`: is this installation fit to serve? One finding per line.

Each finding has a level: ``error`` for what stops the site serving or loses data (the
database unreachable, corrupt or on a schema this version cannot serve, a full disk, an
instance folder that cannot be written), ``warning`` for what serves but wrongly (a font or
mail setting that does not work, course files with errors, cookies sent without Secure on a
public address), ``note`` for optional settings left unset and an empty course, ``ok`` for
each check passed. The command exits non-zero only on errors; the start command runs the
same checks and refuses to start on an error.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from courseware.certification.policy import load_policy
from courseware.content.catalogue import build_catalogue
from courseware.content.store import read_sources
from courseware.core import revisions
from courseware.core.errors import N_, ContentError
from courseware.ops import migrate

Level = Literal["error", "warning", "note", "ok"]
LEVELS: tuple[Level, ...] = ("error", "warning", "note", "ok")

# Free space below which writes (an attempt, a decision, a backup) are about to fail ...
DISK_ERROR_BYTES = 64 * 1024 * 1024
# ... and below which the operator should make room soon.
DISK_WARNING_BYTES = 1024 * 1024 * 1024

RESTORE_HINT = N_(
    "Stop the site and restore the latest backup with: courseware restore BACKUP_FILE "
    "(then courseware check again)."
)


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str  # a message id, translated when printed
    params: Mapping[str, Any] = field(default_factory=dict)
    # A course or settings file's own located error, shown as the file, field and problem.
    error: ContentError | None = None

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        template = gettext(self.message) if gettext else self.message
        message = template % dict(self.params) if self.params else template
        if self.error is not None:
            return (
                f"{self.error.text(gettext)} ({message})" if message else self.error.text(gettext)
            )
        return message


@dataclass(frozen=True)
class Target:
    """What the checks look at: the settings, and where the site will listen."""

    config: Mapping[str, Any]
    engine: Engine
    host: str | None = None
    content_dirs: Mapping[str, str] = field(default_factory=dict)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _quick_check(path: Path) -> list[str]:
    """PRAGMA quick_check on a read-only connection: [] when the file is sound."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    finally:
        connection.close()
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def check_database(target: Target) -> Iterator[Finding]:
    """Reachable, sound (SQLite quick_check) and at the schema this version serves."""
    url = str(target.config["DATABASE_URL"])
    embedded = migrate.is_embedded(url)
    path = _sqlite_file(url)
    if path is not None:
        if not path.exists():
            yield Finding(
                "note",
                "database",
                N_("The database file %(path)s does not exist yet; the start command creates it."),
                {"path": str(path)},
            )
            return
        if path.is_file() and path.stat().st_size == 0:
            # A new database is created and migrated in one go: an empty file is one that
            # was truncated (or a start that died at once). Serving it would hide the loss.
            yield Finding(
                "error",
                "integrity",
                N_(
                    "The database file %(path)s is empty (0 bytes). If this site had data, "
                    "it was truncated; if the site is new, delete the file and start again."
                ),
                {"path": str(path)},
            )
            yield Finding("error", "integrity", RESTORE_HINT)
            return
        try:
            problems = _quick_check(path)
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems:
            yield Finding(
                "error",
                "integrity",
                N_("The database file %(path)s is corrupt (%(problem)s)."),
                {"path": str(path), "problem": "; ".join(problems[:3])},
            )
            yield Finding("error", "integrity", RESTORE_HINT)
            return
        yield Finding(
            "ok",
            "integrity",
            N_("The database file passed PRAGMA quick_check."),
        )
    try:
        with target.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.current_revision(target.engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        yield Finding(
            "error",
            "database",
            N_("The database cannot be reached: %(reason)s"),
            {"reason": reason},
        )
        return
    yield from _schema(current, embedded)


def _schema(current: str | None, embedded: bool) -> Iterator[Finding]:
    head = migrate.head_revision()
    known = set(revisions.revisions())
    if current == head:
        yield Finding(
            "ok", "schema", N_("The database schema is current (%(rev)s)."), {"rev": head}
        )
    elif current is not None and current not in known:
        yield Finding(
            "error",
            "schema",
            N_(
                "The database schema (%(rev)s) is newer than this version of the site "
                "(%(head)s): install the version that wrote it, or restore a backup taken "
                "by this one."
            ),
            {"rev": current, "head": head},
        )
    elif embedded:
        yield Finding(
            "note",
            "schema",
            N_("The database schema (%(rev)s) will be brought up to %(head)s at start."),
            {"rev": current or "-", "head": head},
        )
    else:
        yield Finding(
            "error",
            "schema",
            N_(
                "The database schema (%(rev)s) is older than this version (%(head)s): "
                "run courseware db upgrade."
            ),
            {"rev": current or "-", "head": head},
        )


def _probe_write(folder: Path) -> str | None:
    """None when a file can be created in ``folder`` (made if missing), else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-", delete=True) as handle:
            handle.write(b"courseware check")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_folders(target: Target) -> Iterator[Finding]:
    """The instance folder (and the SQLite file's) can be written and has room."""
    instance = Path(str(target.config["INSTANCE_PATH"]))
    database_file = _sqlite_file(str(target.config["DATABASE_URL"]))
    folders = [instance]
    if database_file is not None and database_file.parent.resolve() != instance.resolve():
        folders.append(database_file.parent)
    for folder in folders:
        problem = _probe_write(folder)
        if problem is not None:
            yield Finding(
                "error",
                "instance",
                N_("Nothing can be written in %(path)s (%(problem)s)."),
                {"path": str(folder), "problem": problem},
            )
            continue
        yield Finding("ok", "instance", N_("%(path)s can be written."), {"path": str(folder)})
        yield _disk(folder)
    if database_file is not None and database_file.exists():
        try:
            with database_file.open("ab"):
                pass
        except OSError as exc:
            yield Finding(
                "error",
                "instance",
                N_("The database file %(path)s cannot be written (%(problem)s)."),
                {"path": str(database_file), "problem": exc.strerror or str(exc)},
            )


def _disk(folder: Path) -> Finding:
    free = shutil.disk_usage(folder).free
    params = {"path": str(folder), "free": f"{free / 1024 / 1024:,.0f} MB"}
    if free < DISK_ERROR_BYTES:
        return Finding(
            "error",
            "disk",
            N_("Only %(free)s free where %(path)s is: make room before anything is lost."),
            params,
        )
    if free < DISK_WARNING_BYTES:
        return Finding(
            "warning", "disk", N_("Only %(free)s free where %(path)s is: make room soon."), params
        )
    return Finding("ok", "disk", N_("%(free)s free where %(path)s is."), params)


def _font_problem(path: Path) -> str | None:
    from fontTools.ttLib import TTFont

    try:
        with path.open("rb") as handle:
            if not TTFont(handle, fontNumber=0).getBestCmap():
                return "it maps no characters"
    except Exception as exc:  # noqa: BLE001 - fontTools raises many kinds for a non-font
        return str(exc) or type(exc).__name__
    return None


def check_font(target: Target) -> Iterator[Finding]:
    from courseware.certification.pdf import PACKAGED_FONT

    setting = target.config.get("PDF_FONT")
    if not setting:
        yield Finding(
            "note",
            "font",
            N_("COURSEWARE_PDF_FONT is not set: certificates use the packaged font."),
        )
    else:
        chosen = Path(str(setting))
        problem = "not a file" if not chosen.is_file() else _font_problem(chosen)
        if problem:
            yield Finding(
                "warning",
                "font",
                N_(
                    "COURSEWARE_PDF_FONT=%(path)s cannot be used (%(problem)s): certificates "
                    "use the packaged font."
                ),
                {"path": str(chosen), "problem": problem},
            )
        else:
            yield Finding("ok", "font", N_("Certificates use %(path)s."), {"path": str(chosen)})
    packaged = "missing" if not PACKAGED_FONT.is_file() else _font_problem(PACKAGED_FONT)
    if packaged:
        yield Finding(
            "warning",
            "font",
            N_("The packaged certificate font %(path)s cannot be read (%(problem)s)."),
            {"path": str(PACKAGED_FONT), "problem": packaged},
        )


def check_mail(target: Target) -> Iterator[Finding]:
    smtp = target.config.get("SMTP_URL")
    if not smtp:
        yield Finding(
            "note",
            "mail",
            N_(
                "COURSEWARE_SMTP_URL is not set: reminders reach learners only in the app, "
                "and an administrator resets forgotten passwords."
            ),
        )
    else:
        parts = urlsplit(str(smtp))
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            yield Finding(
                "warning",
                "mail",
                N_(
                    "COURSEWARE_SMTP_URL is not an smtp:// or smtps:// address with a host: "
                    "no email will be sent."
                ),
            )
        else:
            yield Finding(
                "ok", "mail", N_("Email goes through %(host)s."), {"host": parts.hostname}
            )
            sender = str(target.config.get("MAIL_FROM") or "")
            if sender.endswith("@localhost") or "@" not in sender:
                yield Finding(
                    "warning",
                    "mail",
                    N_("COURSEWARE_MAIL_FROM (%(sender)s) is not an address mail servers accept."),
                    {"sender": sender},
                )
    if not target.config.get("BASE_URL"):
        yield Finding(
            "note",
            "mail",
            N_(
                "COURSEWARE_BASE_URL is not set: reminder emails carry no link, and "
                "certificates print the address they were downloaded from."
            ),
        )


def check_content(target: Target) -> Iterator[Finding]:
    sources, errors = read_sources(dict(target.content_dirs))
    catalogue = build_catalogue(sources)
    for error in [*errors, *catalogue.errors]:
        yield Finding("warning", "content", "", error=error)
    for error in load_policy(target.config.get("SETTINGS_FILE")).errors:
        yield Finding("warning", "settings", N_("the defaults apply instead"), error=error)
    if not catalogue.modules:
        yield Finding("note", "content", N_("The course has no modules yet."))
    elif not errors and not catalogue.errors:
        lessons = sum(len(module.lessons) for module in catalogue.modules)
        yield Finding(
            "ok",
            "content",
            N_("The course files are valid: %(modules)s modules, %(lessons)s lessons."),
            {"modules": len(catalogue.modules), "lessons": lessons},
        )


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_https(target: Target) -> Iterator[Finding]:
    """Cookies without Secure are a warning once the site is reachable from elsewhere."""
    if target.config.get("HTTPS"):
        yield Finding("ok", "https", N_("Cookies are sent only over HTTPS (Secure)."))
        return
    public = []
    if target.host and not is_loopback(target.host):
        public.append(target.host)
    base = urlsplit(str(target.config.get("BASE_URL") or ""))
    if base.hostname and not is_loopback(base.hostname):
        public.append(base.hostname)
    if public:
        yield Finding(
            "warning",
            "https",
            N_(
                "The site is reachable at %(where)s but COURSEWARE_HTTPS is not set: "
                "sign-in cookies are sent without Secure and can be read on the network. "
                "Serve it over HTTPS and set COURSEWARE_HTTPS=true."
            ),
            {"where": ", ".join(public)},
        )


def check_sign_in(target: Target) -> Iterator[Finding]:
    """Single sign-on's settings, and password sign-in switched off without it."""
    config = target.config
    issuer = str(config.get("OIDC_ISSUER") or "")
    local = config.get("LOCAL_PASSWORDS", True)
    if not issuer:
        if not local:
            yield Finding(
                "warning",
                "sign-in",
                N_(
                    "COURSEWARE_LOCAL_PASSWORDS=0 without COURSEWARE_OIDC_ISSUER: only "
                    "administrators can sign in."
                ),
            )
        return
    # An issuer without a client id stops the site at start (web.common.sso): the
    # "settings" error line says so.
    parts = urlsplit(issuer)
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        yield Finding(
            "warning",
            "sign-in",
            N_(
                "COURSEWARE_OIDC_ISSUER (%(issuer)s) is not an https:// address: sign-in "
                "codes and tokens would cross the network unencrypted."
            ),
            {"issuer": issuer},
        )
    else:
        yield Finding("ok", "sign-in", N_("Staff sign in through %(issuer)s."), {"issuer": issuer})


CHECKS: tuple[Callable[[Target], Iterator[Finding]], ...] = (
    check_database,
    check_folders,
    check_font,
    check_mail,
    check_content,
    check_https,
    check_sign_in,
)


def run_checks(target: Target) -> list[Finding]:
    """Every finding, in the order the checks run."""
    return [finding for check in CHECKS for finding in check(target)]


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.level == "error" for finding in findings)


def corrupt(findings: list[Finding]) -> bool:
    return any(f.level == "error" and f.topic == "integrity" for f in findings)
