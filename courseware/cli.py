"""The ``courseware`` command: run, import, validate, accounts, database."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import Engine, func, select

from courseware.certification.policy import load_policy
from courseware.content.catalogue import build_catalogue
from courseware.content.store import import_sources, read_sources
from courseware.core.translate import translator

DEMO_ACCOUNTS = (
    ("trainee", "demo-trainee", "示範學員", "台北分行"),
    ("trainer", "demo-trainer", "示範講師", "總行"),
    ("manager", "demo-manager", "示範分行經理", "台北分行"),
    ("hr", "demo-hr", "示範人資", "總行"),
    ("admin", "demo-admin", "示範管理員", "總行"),
)


@contextmanager
def _app() -> Iterator[Flask]:
    """The application for one command; its connections are closed afterwards."""
    from courseware import create_app

    app = create_app()
    try:
        yield app
    finally:
        app.extensions["courseware.core.db"].engine.dispose()


def _tr(message: str) -> str:
    return translator("zh_Hant")(message)


def content_dirs(app: Flask) -> dict[str, str]:
    return {
        "content": app.config["CONTENT_DIR"],
        "quizzes": app.config["QUIZ_DIR"],
        "case_studies": app.config["CASE_DIR"],
    }


def ensure_database(app: Flask, echo: Callable[[str], Any] = click.echo) -> None:
    """Create and migrate the embedded database; refuse to run on an old server schema."""
    from courseware.ops import migrate

    engine = database_engine(app)
    if not migrate.needs_upgrade(engine):
        return
    if migrate.is_embedded(app.config["DATABASE_URL"]):
        echo("正在建立／升級資料庫… (migrating the embedded database)")
        migrate.upgrade(engine)
        return
    raise click.ClickException(
        "資料庫結構不是最新版本，請先執行 courseware db upgrade "
        "(the database schema is not current: run 'courseware db upgrade')."
    )


def database_engine(app: Flask) -> Engine:
    return app.extensions["courseware.core.db"].engine


def import_course(app: Flask, echo: Callable[[str], Any] = click.echo) -> int:
    """Import new and changed course files; returns how many changed."""
    sources, read_errors = read_sources(content_dirs(app))
    for error in read_errors:
        click.echo(error.text(_tr), err=True)
    sessions = app.extensions["courseware.core.db"].sessions
    with sessions() as session:
        with click.progressbar(
            length=len(sources), label="匯入課程檔案 (importing course files)", file=sys.stderr
        ) as bar:
            report = import_sources(session, sources, progress=lambda _path: bar.update(1))
            bar.update(len(report.unchanged))
        session.commit()
    echo(
        f"新增 {len(report.added)}、更新 {len(report.updated)}、未變更 {len(report.unchanged)} "
        f"(added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)})"
    )
    for path in report.held:
        echo(
            f"有未發布的講師草稿，檔案未發布，請講師在編輯器中選擇：{path} "
            f"(a studio draft waits: the file was kept beside it, not published; "
            f"the trainer chooses in the editor)"
        )
    return len(report.added) + len(report.updated)


def create_demo_accounts(app: Flask) -> list[tuple[str, str, str]] | None:
    """One account per role with printed passwords, only on a database with no users."""
    from courseware.accounts import users as accounts
    from courseware.core.models import User

    sessions = app.extensions["courseware.core.db"].sessions
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        created = []
        for role, username, name, branch in DEMO_ACCOUNTS:
            password = f"{role}-{secrets.token_urlsafe(8)}"
            accounts.create_user(
                session,
                accounts.NewAccount(username, name, role, employee_id="", branch=branch),
                password,
            )
            created.append((role, username, password))
        session.commit()
    return created


@click.group()
def main() -> None:
    """微貸授信學院 Microloan Officer Academy."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Create one account per role (empty database only).")
def run(host: str, port: int, demo: bool) -> None:
    """Migrate, import the course files and serve the site."""
    with _app() as app:
        start_checks(app, host)
        ensure_database(app)
        import_course(app)
        if demo:
            created = create_demo_accounts(app)
            if created is None:
                click.echo("已有帳號，未建立示範帳號。(accounts exist: no demo accounts created)")
            else:
                click.echo("示範帳號 (demo accounts) — 使用者名稱 / 密碼:")
                for role, username, password in created:
                    click.echo(f"  {role:8} {username:14} {password}")
        sys.stdout.flush()
        click.echo(f"請開啟 http://{host}:{port}/ (open this address)", err=False)
        sys.stdout.flush()
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False)


LEVEL_LABELS = {
    "error": "錯誤 ERROR",
    "warning": "警告 WARNING",
    "note": "附註 NOTE",
    "ok": "正常 OK",
}


def _findings(app: Flask, host: str | None) -> list[Any]:
    from courseware.ops import check

    target = check.Target(app.config, database_engine(app), host, content_dirs(app))
    return check.run_checks(target)


def _finding_line(finding: Any) -> str:
    translated, english = finding.text(_tr), finding.text()
    words = translated if translated == english else f"{translated} ({english})"
    return f"{LEVEL_LABELS[finding.level]} {finding.topic}: {words}"


def start_checks(app: Flask, host: str) -> None:
    """The checks of `courseware check` before serving: warnings and errors are printed,
    and the site does not start on an error (a corrupt database above all)."""
    from courseware.ops import check

    findings = _findings(app, host)
    for finding in findings:
        if finding.level in ("error", "warning"):
            click.echo(_finding_line(finding), err=True)
    if check.corrupt(findings):
        raise click.ClickException(
            "資料庫檔案已損毀，網站不啟動。請先停止網站，再以最近的備份還原："
            "courseware restore 備份檔 "
            "(the database file is corrupt: the site will not start. "
            "Restore the latest backup with 'courseware restore BACKUP_FILE')."
        )
    if check.has_errors(findings):
        raise click.ClickException(
            "上述錯誤會讓網站無法服務或遺失資料，網站不啟動；修正後再試，"
            "courseware check 會列出全部檢查 "
            "(the errors above would stop the site serving or lose data: not starting; "
            "'courseware check' lists every check)."
        )


@main.command("check")
@click.option(
    "--host",
    default=None,
    help="The address the site listens on (default: GUNICORN_BIND's, else 127.0.0.1).",
)
def check_command(host: str | None) -> None:
    """Check the installation: database, disk, instance folder, font, mail, course files.

    One line per finding; exits 1 only for what stops the site serving or loses data."""
    from courseware.ops import check

    if host is None:
        bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
        host = bind.rsplit(":", 1)[0] if ":" in bind else bind
    try:
        with _app() as app:
            findings = _findings(app, host)
    except (OSError, RuntimeError) as exc:
        # The settings themselves stop the site (an instance folder that cannot hold the
        # secret key, a malformed setting): that is the one finding.
        click.echo(f"{LEVEL_LABELS['error']} settings: {exc}")
        sys.exit(1)
    for finding in findings:
        click.echo(_finding_line(finding))
    counts = {level: sum(1 for f in findings if f.level == level) for level in check.LEVELS}
    click.echo(
        f"錯誤 {counts['error']}、警告 {counts['warning']}、附註 {counts['note']}、"
        f"正常 {counts['ok']} (errors {counts['error']}, warnings {counts['warning']}, "
        f"notes {counts['note']}, ok {counts['ok']})"
    )
    if check.has_errors(findings):
        sys.exit(1)


@main.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["trainee", "trainer", "manager", "hr", "admin"]),
    required=True,
)
@click.option("--display-name", default=None, help="Name shown on pages and certificates.")
@click.option("--branch", default="")
@click.option("--employee-id", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    username: str,
    role: str,
    display_name: str | None,
    branch: str,
    employee_id: str,
    password_stdin: bool,
) -> None:
    """Create an account (the password is asked for, or read from stdin)."""
    from courseware.accounts import users as accounts

    with _app() as app:
        ensure_database(app)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        sessions = app.extensions["courseware.core.db"].sessions
        with sessions() as session:
            try:
                accounts.create_user(
                    session,
                    accounts.NewAccount(
                        username, display_name or username, role, employee_id, branch
                    ),
                    password,
                )
            except accounts.AccountError as exc:
                raise click.ClickException(
                    f"{exc.field}: {_tr(exc.message)} ({exc.message})"
                ) from exc
            session.commit()
        click.echo(f"已建立帳號 {username} ({role}). Account created.")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    from courseware.ops import migrate

    with _app() as app:
        migrate.upgrade(database_engine(app))
        click.echo(f"資料庫已是最新版本 (schema at {migrate.head_revision()}).")


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    from courseware.ops import migrate

    with _app() as app:
        click.echo(migrate.current_revision(database_engine(app)) or "(empty)")


STORAGE_CAUSES = {
    "disk full": "磁碟已滿",
    "storage read-only": "儲存空間唯讀",
    "database file corrupt": "資料庫檔案損毀",
}


@main.command("import")
def import_command() -> None:
    """Import new and changed course files into the database."""
    from courseware.web.common.errors import storage_fault

    with _app() as app:
        try:
            ensure_database(app)
            if import_course(app):
                rebuild_summary(app)
        except Exception as exc:
            fault = storage_fault(exc, app.config.get("DATABASE_URL"))
            if fault is None:
                raise
            raise click.ClickException(
                f"匯入中止，資料庫未變更：{STORAGE_CAUSES.get(fault.cause, fault.cause)}；"
                "釋出空間或恢復寫入權限後再執行一次 "
                f"(import stopped, nothing was changed: {fault.cause}; free space or make the "
                "storage writable, then run it again)."
            ) from exc


@main.command("export")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def export_command(directory: str | None) -> None:
    """Write the published course to files: DIRECTORY/content, /quizzes, /case_studies
    (by default over the configured folders). Text is written exactly as stored."""
    from courseware.content.store import FOLDERS
    from courseware.studio.export import export_documents, published_documents

    with _app() as app:
        ensure_database(app)
        configured = content_dirs(app)
        if directory:
            targets = {folder: str(Path(directory) / folder) for folder in FOLDERS}
        else:
            targets = configured
        same = all(Path(targets[f]).resolve() == Path(configured[f]).resolve() for f in FOLDERS)
        with app.extensions["courseware.core.db"].sessions() as session:
            total = len(published_documents(session))
            with click.progressbar(
                length=total, label="匯出課程檔案 (exporting course files)", file=sys.stderr
            ) as bar:
                report = export_documents(
                    session, targets, progress=lambda _path: bar.update(1), mark_imported=same
                )
            session.commit()
        for path in report.refused:
            click.echo(f"{path}: 路徑不安全，未寫出 (unsafe path, not written)", err=True)
        click.echo(
            f"寫出 {len(report.written)}、未變更 {len(report.unchanged)} "
            f"(written {len(report.written)}, unchanged {len(report.unchanged)}) → "
            + ", ".join(targets[f] for f in FOLDERS)
        )
        if report.refused:
            sys.exit(1)


@main.command()
@click.option("--content-dir", type=click.Path(file_okay=False), default=None)
@click.option("--quiz-dir", type=click.Path(file_okay=False), default=None)
@click.option("--case-dir", type=click.Path(file_okay=False), default=None)
def validate(content_dir: str | None, quiz_dir: str | None, case_dir: str | None) -> None:
    """Check every course file; exit 1 with a located message per error."""
    with _app() as app:
        dirs = content_dirs(app)
        for key, value in (
            ("content", content_dir),
            ("quizzes", quiz_dir),
            ("case_studies", case_dir),
        ):
            if value:
                dirs[key] = value
        sources, errors = read_sources(dirs)
        catalogue = build_catalogue(sources)
        policy_errors = load_policy(app.config.get("SETTINGS_FILE")).errors
        errors = errors + catalogue.errors + policy_errors
        for error in errors:
            click.echo(f"{error.text(_tr)}", err=True)
        lessons = sum(len(m.lessons) for m in catalogue.modules)
        cases = list(catalogue.cases.values())
        staged = sum(1 for c in cases if c.spec.stages)
        books = sum(1 for c in cases if c.spec.book is not None)
        summary = (
            f"{len(sources)} 個檔案：{len(catalogue.modules)} 個模組、{lessons} 堂課、"
            f"{len(catalogue.quizzes)} 份題庫、{len(cases)} 個案例"
            f"（多階段 {staged} 個、村落放款簿 {books} 本）；{len(errors)} 個錯誤"
        )
        click.echo(summary)
        if errors:
            sys.exit(1)


@main.command("seed-load")
@click.option("--learners", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed.")
@click.option("--force", is_flag=True, help="Add learners even if the database has some.")
def seed_load_command(learners: int, seed: int, force: bool) -> None:
    """Fill the database with synthetic learners and three years of activity (for testing)."""
    from courseware.accounts import users as accounts
    from courseware.core.models import User
    from courseware.ops import seed as seeding

    with _app() as app:
        ensure_database(app)
        import_course(app)
        sessions = app.extensions["courseware.core.db"].sessions
        with sessions() as session:
            existing = session.scalar(
                select(func.count()).select_from(User).where(User.role == "trainee")
            )
            if existing and not force:
                raise click.ClickException(
                    f"資料庫已有 {existing} 位學員，加上 --force 才會再加入 "
                    f"(the database already has {existing} learners: add --force to add more)."
                )
            catalogue = app.extensions["courseware.core.db"].catalogue.get(session)
            policy = load_policy(app.config.get("SETTINGS_FILE")).policy
            password = f"seed-{secrets.token_urlsafe(9)}"
            with click.progressbar(
                length=learners, label="建立學員資料 (seeding learners)", file=sys.stderr
            ) as bar:
                report = seeding.seed_load(
                    session,
                    catalogue,
                    policy,
                    learners,
                    password_hash=accounts.hash_password(password),
                    seed=seed,
                    progress=bar.update,
                )
    rows = "、".join(f"{table} {count:,}" for table, count in report.rows.items())
    click.echo(f"已建立 (rows added): {rows}")
    click.echo(f"可登入的帳號 (accounts to look at), 密碼 (password) {password}:")
    for role, username in report.accounts:
        click.echo(f"  {role:24} {username}")


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path: str) -> None:
    """Write a consistent backup of the database to PATH (safe while serving).

    \b
    The file is written all or nothing: to a hidden temporary file in PATH's
    folder, fsynced, then renamed to PATH. If the disk is full or read-only,
    nothing is left behind and an earlier backup at PATH stays as it was.
    The file ends with a manifest (JSON) recording the schema revision and
    the SHA-256 of the database copy, which restore checks.
    """
    from courseware.ops import backup

    with _app() as app:
        ensure_database(app)
        with click.progressbar(length=100, label="備份中 (backing up)", file=sys.stderr) as bar:
            done = [0]

            def step(copied: int, total: int) -> None:
                now = int(100 * copied / total) if total else 100
                bar.update(now - done[0])
                done[0] = now

            try:
                result = backup.backup(database_engine(app), Path(path), progress=step)
            except backup.BackupError as exc:
                raise click.ClickException(str(exc)) from exc
            bar.update(100 - done[0])
    click.echo(
        f"已備份至 {result.path} ({result.size_bytes:,} bytes, {result.method}, "
        f"schema {result.schema_revision}, sha256 {result.sha256})."
    )


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--without-manifest",
    is_flag=True,
    help="Accept a plain SQLite file or pg_dump archive written by an earlier version "
    "(it has no checksum to check).",
)
def restore_command(path: str, yes: bool, without_manifest: bool) -> None:
    """Replace the database's content with the backup at PATH.

    \b
    Refuses a damaged file (checksum mismatch, cut short) and a backup from a
    newer schema than this version knows; a backup from an older version is
    migrated forward. The restored copy is built and migrated beside the live
    database and swapped in at the end: on any failure the database is
    unchanged.
    """
    from courseware.content.store import touch_content_version
    from courseware.core.db import begin_write
    from courseware.ops import backup

    if not yes:
        click.confirm(
            "這會以備份覆蓋目前的資料庫 (this replaces the current data). 繼續?", abort=True
        )
    with _app() as app:
        try:
            result = backup.restore(
                database_engine(app), Path(path), without_manifest=without_manifest
            )
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        with app.extensions["courseware.core.db"].sessions() as session:
            begin_write(session)  # SQLite: wait for learners' writes instead of failing
            touch_content_version(session)  # every worker reloads the course
            session.commit()
    moved = (
        f", 結構版本 {result.from_revision} → {result.to_revision} (migrated forward)"
        if result.from_revision != result.to_revision
        else ""
    )
    for note in result.notes:
        click.echo(note, err=True)
    click.echo(f"已從 {path} 還原 (restored){moved}.")


def register(app: Flask) -> None:
    """Expose the same commands under ``flask --app courseware``."""
    for name, command in main.commands.items():
        if name != "run":
            app.cli.add_command(command, name)


@main.group()
def reminders() -> None:
    """Reminders to learners: due dates, overdue training, certificates to renew."""


@reminders.command("run")
def reminders_run() -> None:
    """Tell each learner what is due, once each: in the app, and by email when configured.

    Meant to run daily from cron or a systemd timer (see docs/operations.md).
    """
    from courseware.core.clock import utcnow
    from courseware.core.mail import Mailer
    from courseware.hr import notices

    with _app() as app:
        ensure_database(app)
        policy = load_policy(app.config.get("SETTINGS_FILE")).policy
        timezone = app.config.get("TIMEZONE") or "Asia/Taipei"
        gettext = translator(app.config.get("BABEL_DEFAULT_LOCALE") or "zh_Hant")
        base = (app.config.get("BASE_URL") or "").rstrip("/")
        link = f"{base}/notices" if base else ""

        def compose(item: notices.Due, address: str):
            return notices.compose_email(item, address, gettext, link)

        sessions = app.extensions["courseware.core.db"].sessions
        with sessions() as session:
            if app.config.get("SMTP_URL"):
                sender = app.config.get("MAIL_FROM") or "academy@localhost"
                with Mailer(app.config["SMTP_URL"], sender) as mailer:
                    outcome = notices.run_reminders(
                        session, policy, timezone, mailer, compose, utcnow()
                    )
            else:
                outcome = notices.run_reminders(session, policy, timezone, now=utcnow())
            # run_reminders committed: the notices, then the emails' outcomes in batches.
    kinds = ", ".join(f"{k} {outcome.by_kind.get(k, 0)}" for k in notices.KINDS)
    mail = (
        f"emailed {outcome.emailed}, failed {outcome.email_failed}, "
        f"no address {outcome.no_address}, retried {outcome.retried}"
        if app.config.get("SMTP_URL")
        else "email not configured"
    )
    click.echo(
        f"reminders: {outcome.notices} new notices ({kinds}), "
        f"{outcome.already} already sent; {mail}."
    )
    if outcome.error:
        click.echo(f"mail server error: {outcome.error}", err=True)


@main.group()
def credentials() -> None:
    """Verifiable credentials: the issuer's signing keys."""


@credentials.command("rotate-key")
def credentials_rotate_key() -> None:
    """Add a new signing key; credentials signed with the earlier keys still verify."""
    from pathlib import Path

    from courseware.certification.signing_keys import load_issuer, rotate_key

    with _app() as app:
        instance = Path(app.config["INSTANCE_PATH"])
        fresh = rotate_key(instance)
        found = load_issuer(instance, app.config.get("BASE_URL"))
    click.echo(f"new signing key: {found.method_id(fresh)}")
    click.echo(f"keys kept: {len(found.keys)} (earlier credentials still verify)")


@credentials.command("show")
def credentials_show() -> None:
    """Print the issuer's DID and its keys, the signing one last."""
    from pathlib import Path

    from courseware.certification.signing_keys import load_issuer

    with _app() as app:
        found = load_issuer(Path(app.config["INSTANCE_PATH"]), app.config.get("BASE_URL"))
    click.echo(f"issuer: {found.did}")
    for key in found.keys:
        click.echo(f"{key.created}  {found.method_id(key)}")


@main.group()
def outbox() -> None:
    """xAPI statements waiting for the learning record store (COURSEWARE_LRS_URL)."""


@outbox.command("run")
@click.option("--once", is_flag=True, help="One pass, then exit (1 if the LRS failed).")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=10.0,
    show_default=True,
    help="Seconds between passes when running as a worker.",
)
@click.option("--batch", type=click.IntRange(1, 500), default=50, show_default=True)
def outbox_run(once: bool, interval: float, batch: int) -> None:
    """Send queued statements to the LRS, retrying with back-off; without --once, a worker
    that keeps going (see docs/operations.md for its systemd unit and container command)."""
    from courseware.ops import outbox as sender

    with _app() as app:
        if not app.config.get("LRS_URL"):
            click.echo("COURSEWARE_LRS_URL is not set: no statements are queued or sent.", err=True)
            sys.exit(2)
        ensure_database(app)
        lrs = sender.Lrs(
            app.config["LRS_URL"], app.config.get("LRS_USER"), app.config.get("LRS_PASSWORD")
        )
        sessions = app.extensions["courseware.core.db"].sessions
        if not once:
            click.echo(f"outbox: sending to {lrs.statements_url} every {interval:g} s")
            sender.run_forever(sessions, lrs, interval=interval, batch=batch, echo=click.echo)
            return
        outcome = sender.run_once(sessions, lrs, batch=batch)
        with sessions() as session:
            left = sender.pending(session)
    click.echo(f"{sender.describe(outcome)}; {left} waiting.")
    if outcome.failed:
        sys.exit(1)


@main.group()
def hr() -> None:
    """HR's figures: the per-learner summary the HR pages read."""


def rebuild_summary(app: Flask) -> int:
    """Recount the HR summary of every account with the published course; the count."""
    from courseware.content.store import published_sources
    from courseware.core.db import begin_write
    from courseware.hr import summary
    from courseware.hr.keys import course_keys

    policy = load_policy(app.config.get("SETTINGS_FILE")).policy
    sessions = app.extensions["courseware.core.db"].sessions
    with sessions() as session:
        begin_write(session)
        keys = course_keys(build_catalogue(*published_sources(session)), policy)
        count = summary.rebuild(session, summary.SummaryKeys.of(keys))
        session.commit()
    summary.forget_checks()
    return count


@hr.command("rebuild-summary")
def hr_rebuild_summary() -> None:
    """Recount every learner's HR summary from the raw tables (after writing to the database
    behind the application's back; `import` does it, and the first HR page after a publish
    finds the course changed and does it too)."""
    with _app() as app:
        ensure_database(app)
        count = rebuild_summary(app)
    click.echo(f"HR 摘要已重算：{count} 個帳號 (HR summary recounted for {count} accounts).")


@main.group()
def cases() -> None:
    """Loan cases: check the rubric against gaming."""


@cases.command("audit")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON object on one line.")
@click.option("--variants", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--seeds", type=click.IntRange(10, 5_000), default=200, show_default=True)
@click.option("--case-dir", type=click.Path(file_okay=False), default=None)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option(
    "--check", is_flag=True, help="Exit 1 when a naive strategy passes or the expert fails."
)
def cases_audit(
    as_json: bool, variants: int, seeds: int, case_dir: str | None, workers: int, check: bool
) -> None:
    """Play naive strategies and the expert on every case template's variants."""
    import json

    from courseware.lending.cases import load_case_dir
    from courseware.lending.strategies import audit_cases, audit_failures

    with _app() as app:
        folder = case_dir or app.config["CASE_DIR"]
        rules = load_policy(app.config.get("SETTINGS_FILE")).policy.certification
    loaded, errors = load_case_dir(folder)
    for error in errors:
        click.echo(error.text(_tr), err=True)
    if errors:
        sys.exit(1)
    report = audit_cases(
        loaded,
        variants=variants,
        seeds=seeds,
        pass_mark=float(rules.case_average_min),
        cases_required=rules.cases_required,
        workers=workers,
        case_average=rules.case_average,
    )
    names = list(report.strategies)
    click.echo(f"{'case':30}" + "".join(f"{n[:12]:>13}" for n in names))
    for slug, means in report.per_case.items():
        click.echo(f"{slug:30}" + "".join(f"{means[n]:13.1f}" for n in names))
    click.echo("")
    click.echo(f"{'strategy':24}{'mean':>8}{'spread':>8}{'certified':>11}  certifies")
    for name, r in report.strategies.items():
        click.echo(f"{name:24}{r.mean:8.1f}{r.spread:8.1f}{r.certify_rate:11.1%}  {r.certifies}")
    click.echo(
        f"expert's book: PAR30 {report.expert_par30:.1%}, "
        f"written off {report.expert_write_off_rate:.1%} a year"
    )
    click.echo(
        f"cases whose best answer lends in most variants: {len(report.lending_cases)} "
        f"of {len(report.per_case)}"
    )
    for slug, counts in report.best_options.items():
        spread = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        click.echo(f"best options in {slug}: {spread}")
    problems = audit_failures(report)
    for problem in problems:
        click.echo(f"FAIL: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, sort_keys=True))
    if check and problems:
        sys.exit(1)
