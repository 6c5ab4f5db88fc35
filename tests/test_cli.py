"""The courseware command: validate, import, create-user, demo accounts, run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from courseware import cli
from courseware.accounts import users as accounts
from courseware.content.store import read_sources
from courseware.core.config import load_secret_key
from courseware.core.models import User
from tests.conftest import DATA


def _env(app) -> dict[str, str]:
    return {
        "COURSEWARE_DATABASE_URL": app.config["DATABASE_URL"],
        "COURSEWARE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "COURSEWARE_SECRET_KEY": "cli-test",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
    }


def test_validate_passes_on_good_files(app):
    result = CliRunner().invoke(cli.main, ["validate"], env=_env(app))
    assert result.exit_code == 0, result.output


def test_validate_names_file_field_and_problem(app, tmp_path: Path):
    module = tmp_path / "content" / "01-x"
    module.mkdir(parents=True)
    (module / "module.md").write_text(
        "---\nslug: x\norder: one\ntitle: t\nsummary: s\n"
        "objectives: [o]\nestimated_minutes: 5\n---\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli.main, ["validate", "--content-dir", str(tmp_path / "content")], env=_env(app)
    )
    assert result.exit_code == 1
    assert "content/01-x/module.md: order:" in result.output


def test_import_then_reimport(app, db):
    env = _env(app)
    first = CliRunner().invoke(cli.main, ["import"], env=env)
    assert first.exit_code == 0, first.output
    # Every fixture file: lessons, glossary, question banks, cases.
    files = len(read_sources(cli.content_dirs(app))[0])
    assert f"added {files}," in first.output and files >= 8
    second = CliRunner().invoke(cli.main, ["import"], env=env)
    assert f"added 0, updated 0, unchanged {files}" in second.output


def test_create_user_from_stdin(app, db):
    result = CliRunner().invoke(
        cli.main,
        ["create-user", "chen", "--role", "hr", "--password-stdin"],
        input="a sensible passphrase\n",
        env=_env(app),
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "chen"))
    assert user.role == "hr" and not user.must_change_password


def test_create_user_refuses_a_weak_password(app, db):
    result = CliRunner().invoke(
        cli.main,
        ["create-user", "lin", "--role", "trainee", "--password-stdin"],
        input="123456\n",
        env=_env(app),
    )
    assert result.exit_code != 0 and "password" in result.output


def test_run_demo_creates_one_account_per_role_and_prints_them(app, db, monkeypatch):
    served = {}
    monkeypatch.setattr(
        "werkzeug.serving.run_simple",
        lambda host, port, application, **kw: served.update(host=host, port=port),
    )
    result = CliRunner().invoke(cli.main, ["run", "--demo"], env=_env(app))
    assert result.exit_code == 0, result.output
    assert served == {"host": "127.0.0.1", "port": 5000}
    assert "http://127.0.0.1:5000/" in result.output
    roles = dict(db.execute(select(User.role, User.username)).all())
    assert set(roles) == {"trainee", "trainer", "manager", "hr", "admin"}
    line = next(line for line in result.output.splitlines() if "demo-trainee" in line)
    password = line.split()[-1]
    assert accounts.authenticate(db, "demo-trainee", password) is not None
    again = CliRunner().invoke(cli.main, ["run", "--demo"], env=_env(app))
    assert "no demo accounts created" in again.output
    assert db.scalar(select(func.count()).select_from(User)) == 5


def test_secret_key_is_generated_once_with_mode_600(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("COURSEWARE_SECRET_KEY", raising=False)
    key = load_secret_key(tmp_path)
    assert load_secret_key(tmp_path) == key and len(key) > 40
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_validate_checks_the_settings_file(app, tmp_path: Path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("certification:\n  validity_months: 0\n  colour: red\n", encoding="utf-8")
    env = {**_env(app), "COURSEWARE_SETTINGS_FILE": str(settings)}
    result = CliRunner().invoke(cli.main, ["validate"], env=env)
    assert result.exit_code == 1
    assert "settings.yaml: certification.validity_months:" in result.output
    assert "settings.yaml: certification.colour:" in result.output
