"""`courseware check` and the start command's checks, through the command line."""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from courseware import cli
from courseware.core.db import make_engine
from tests.conftest import DATA

EVERYWHERE = "0.0.0.0"  # noqa: S104 - the public binding being warned of
LEVELS = ("錯誤 ERROR ", "警告 WARNING ", "附註 NOTE ", "正常 OK ")


def _env(instance: Path, **extra: str) -> dict[str, str]:
    env = {
        "COURSEWARE_INSTANCE_PATH": str(instance),
        "COURSEWARE_DATABASE_URL": f"sqlite:///{instance / 'courseware.db'}",
        "COURSEWARE_SECRET_KEY": "check-test",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
        "COURSEWARE_HTTPS": "",
        "COURSEWARE_SMTP_URL": "",
        "COURSEWARE_PDF_FONT": "",
        "COURSEWARE_BASE_URL": "",
        "GUNICORN_BIND": "",
        "COURSEWARE_OIDC_ISSUER": "",
        "COURSEWARE_OIDC_CLIENT_ID": "",
        "COURSEWARE_LOCAL_PASSWORDS": "",
    }
    env.update(extra)
    return env


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), env=env)


@pytest.fixture
def site(tmp_path: Path) -> dict[str, str]:
    """A migrated embedded database in its own instance folder."""
    env = _env(tmp_path / "instance")
    result = _invoke(env, "db", "upgrade")
    assert result.exit_code == 0, result.output
    return env


def _lines(result: Result, level: str, topic: str) -> list[str]:
    prefix = next(label for label in LEVELS if label.split()[1].lower() == level)
    return [line for line in result.output.splitlines() if line.startswith(f"{prefix}{topic}:")]


def _served(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    served: dict[str, object] = {}
    monkeypatch.setattr(
        "werkzeug.serving.run_simple",
        lambda host, port, application, **kw: served.update(host=host, port=port),
    )
    return served


def test_a_healthy_site_passes_with_notes_for_optional_settings(site):
    result = _invoke(site, "check")
    assert result.exit_code == 0, result.output
    findings = result.output.splitlines()[:-1]
    assert findings and all(line.startswith(LEVELS) for line in findings)
    for topic in ("integrity", "schema", "instance", "disk", "content"):
        assert _lines(result, "ok", topic), topic
    assert any("COURSEWARE_SMTP_URL" in line for line in _lines(result, "note", "mail"))
    assert any("COURSEWARE_PDF_FONT" in line for line in _lines(result, "note", "font"))
    assert "資料庫結構已是最新" in result.output  # in the site's language, English beside
    assert not _lines(result, "error", "") and "errors 0" in result.output


def test_the_server_database_is_checked_too(app):
    env = _env(
        Path(app.config["INSTANCE_PATH"]), COURSEWARE_DATABASE_URL=app.config["DATABASE_URL"]
    )
    result = _invoke(env, "check")
    assert result.exit_code == 0, result.output
    assert _lines(result, "ok", "schema")


def test_an_unreachable_database_is_an_error(tmp_path: Path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = _invoke(_env(tmp_path, COURSEWARE_DATABASE_URL=url), "check")
    assert result.exit_code == 1
    assert _lines(result, "error", "database")


def _corrupt(path: Path, how: str) -> None:
    for sidecar in path.parent.glob(path.name + "-*"):
        sidecar.unlink()
    if how == "truncated":
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(os.urandom(40_000))


@pytest.mark.parametrize("how", ["truncated", "empty", "overwritten"])
def test_a_corrupt_sqlite_file_fails_the_check_and_refuses_to_start(site, monkeypatch, how):
    database = Path(site["COURSEWARE_INSTANCE_PATH"]) / "courseware.db"
    _corrupt(database, how)
    damaged = database.read_bytes()
    result = _invoke(site, "check")
    assert result.exit_code == 1
    assert _lines(result, "error", "integrity")
    assert "courseware restore" in result.output
    served = _served(monkeypatch)
    start = _invoke(site, "run")
    assert start.exit_code != 0
    assert served == {}
    assert "corrupt" in start.output and "courseware restore" in start.output
    assert database.read_bytes() == damaged  # nothing migrated or imported over it


def test_a_sound_database_starts(site, monkeypatch):
    served = _served(monkeypatch)
    result = _invoke(site, "run")
    assert result.exit_code == 0, result.output
    assert served == {"host": "127.0.0.1", "port": 5000}
    assert "WARNING https" not in result.output


def test_a_schema_newer_than_this_version_is_an_error(site):
    engine = make_engine(site["COURSEWARE_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    result = _invoke(site, "check")
    assert result.exit_code == 1
    assert any("9999" in line for line in _lines(result, "error", "schema"))


def test_a_new_embedded_database_is_a_note(tmp_path: Path):
    result = _invoke(_env(tmp_path / "new"), "check")
    assert result.exit_code == 0, result.output
    assert _lines(result, "note", "database")
    assert not (tmp_path / "new" / "courseware.db").exists()  # the check creates nothing


def test_an_instance_folder_that_cannot_be_written_is_an_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = _env(
        blocker / "instance",
        COURSEWARE_DATABASE_URL=f"sqlite:///{tmp_path / 'elsewhere.db'}",
    )
    result = _invoke(env, "check")
    assert result.exit_code == 1
    assert _lines(result, "error", "instance")


Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize(
    ("free_mb", "level", "code"), [(10, "error", 1), (300, "warning", 0), (50_000, "ok", 0)]
)
def test_disk_space_where_the_instance_lives(site, monkeypatch, free_mb, level, code):
    free = free_mb * 1024 * 1024
    monkeypatch.setattr(
        "courseware.ops.check.shutil.disk_usage", lambda _path: Usage(10**12, 10**12 - free, free)
    )
    result = _invoke(site, "check")
    assert result.exit_code == code, result.output
    assert _lines(result, level, "disk")


def test_broken_font_and_mail_settings_are_warnings(site, tmp_path: Path):
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_text("this is not a font")
    env = dict(
        site,
        COURSEWARE_PDF_FONT=str(not_a_font),
        COURSEWARE_SMTP_URL="mail.example.org:587",
    )
    result = _invoke(env, "check")
    assert result.exit_code == 0, result.output
    assert _lines(result, "warning", "font") and _lines(result, "warning", "mail")


def test_working_mail_settings_pass(site):
    env = dict(
        site,
        COURSEWARE_SMTP_URL="smtp://mailer@mail.example.org:587",
        COURSEWARE_MAIL_FROM="academy@example.org",
        COURSEWARE_BASE_URL="https://academy.example.org",
        COURSEWARE_HTTPS="true",
    )
    result = _invoke(env, "check")
    assert result.exit_code == 0, result.output
    assert _lines(result, "ok", "mail") and not _lines(result, "note", "mail")
    assert _lines(result, "ok", "https")


def test_an_empty_course_is_a_note_and_invalid_files_are_warnings(site, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    dirs = {
        "COURSEWARE_CONTENT_DIR": str(empty),
        "COURSEWARE_QUIZ_DIR": str(empty),
        "COURSEWARE_CASE_DIR": str(empty),
    }
    result = _invoke(dict(site, **dirs), "check")
    assert result.exit_code == 0, result.output
    assert _lines(result, "note", "content")
    module = tmp_path / "broken" / "01-x"
    module.mkdir(parents=True)
    (module / "module.md").write_text("---\nslug: x\norder: one\n---\n", encoding="utf-8")
    broken = dict(site, COURSEWARE_CONTENT_DIR=str(tmp_path / "broken"))
    result = _invoke(broken, "check")
    assert result.exit_code == 0, result.output
    assert any("01-x/module.md" in line for line in _lines(result, "warning", "content"))


def test_cookies_without_secure_on_a_public_address_are_warned_of(site, monkeypatch):
    public = _invoke(site, "check", "--host", EVERYWHERE)
    assert public.exit_code == 0
    assert any("COURSEWARE_HTTPS" in line for line in _lines(public, "warning", "https"))
    assert not _lines(_invoke(site, "check"), "warning", "https")  # loopback: fine
    behind = _invoke(dict(site, GUNICORN_BIND="10.1.2.3:8000"), "check")
    assert _lines(behind, "warning", "https")
    secure = _invoke(dict(site, COURSEWARE_HTTPS="true"), "check", "--host", EVERYWHERE)
    assert not _lines(secure, "warning", "https")
    served = _served(monkeypatch)
    start = _invoke(site, "run", "--host", EVERYWHERE)
    assert start.exit_code == 0, start.output
    assert served["host"] == EVERYWHERE
    assert "WARNING https" in start.output


def test_settings_that_stop_the_site_are_one_error_line(site):
    result = _invoke(dict(site, COURSEWARE_TRUSTED_PROXIES="10.0.0.300"), "check")
    assert result.exit_code == 1
    assert _lines(result, "error", "settings")
    assert "COURSEWARE_TRUSTED_PROXIES" in result.output


def test_gunicorn_refuses_to_start_on_a_corrupt_database(site, tmp_path: Path):
    """The production start (gunicorn with the repository's settings) runs the same checks."""
    import subprocess
    import sys

    from courseware.ops.harness import ROOT, free_port

    database = Path(site["COURSEWARE_DATABASE_URL"].removeprefix("sqlite:///"))
    _corrupt(database, "overwritten")
    env = {**os.environ, **site}
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    command += ["-w", "1", "-b", f"127.0.0.1:{free_port()}", "courseware:create_app()"]
    started = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode != 0
    assert "courseware restore" in started.stderr
    assert "Booting worker" not in started.stderr  # refused before any worker served


def test_gunicorn_serves_another_application_under_the_same_settings(tmp_path: Path):
    """The start checks are the academy's: the benchmark's bare Flask floor still starts."""
    import http.client

    from courseware.ops.harness import free_port, gunicorn

    port = free_port()
    with gunicorn("courseware.ops.bench:floor_app()", port, dict(os.environ), tmp_path / "log"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200


def test_single_sign_on_settings_are_checked(site):
    assert not [line for line in _invoke(site, "check").output.splitlines() if "sign-in:" in line]
    off = _invoke(dict(site, COURSEWARE_LOCAL_PASSWORDS="0"), "check")
    assert _lines(off, "warning", "sign-in")  # nobody but administrators could sign in
    env = dict(site, COURSEWARE_OIDC_ISSUER="https://login.bank.example")
    no_client = _invoke(env, "check")
    assert no_client.exit_code == 1
    assert any(
        "COURSEWARE_OIDC_CLIENT_ID" in line for line in _lines(no_client, "error", "settings")
    )
    good = _invoke(dict(env, COURSEWARE_OIDC_CLIENT_ID="academy"), "check")
    assert _lines(good, "ok", "sign-in") and good.exit_code == 0, good.output
    plain = dict(env, COURSEWARE_OIDC_CLIENT_ID="academy", COURSEWARE_OIDC_ISSUER="http://idp.lan")
    assert _lines(_invoke(plain, "check"), "warning", "sign-in")
