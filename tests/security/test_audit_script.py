"""The dependency audit fails on a vulnerability unless a dated, unexpired exception
excuses it (scripts/audit_dependencies.py; CI runs it)."""

from __future__ import annotations

import importlib.util
from datetime import date

from courseware.core.config import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "audit_dependencies", REPO_ROOT / "scripts" / "audit_dependencies.py"
)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

REPORT = {
    "dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "Example", "version": "1.0", "vulns": [{"id": "GHSA-1", "fix_versions": ["1.1"]}]},
    ]
}
EXCUSE = {
    ("example", "GHSA-1"): {
        "id": "GHSA-1", "package": "example", "reason": "not reachable from our code",
        "decided": date(2026, 11, 1), "expires": date(2027, 1, 1),
    }
}  # fmt: skip


def test_a_vulnerability_fails(capsys):
    assert audit.judge(REPORT, {}, date(2026, 11, 28)) == 1
    assert "VULNERABLE: Example 1.0: GHSA-1 (fixed in 1.1)" in capsys.readouterr().out


def test_an_exception_excuses_it_until_it_expires(capsys):
    assert audit.judge(REPORT, EXCUSE, date(2026, 11, 28)) == 0
    assert "excused until 2027-01-01" in capsys.readouterr().out
    assert audit.judge(REPORT, EXCUSE, date(2027, 1, 2)) == 1


def test_unreachable_data_is_said_plainly(capsys):
    skipped = {"dependencies": [{"name": "flask", "version": "3.1.3", "skip_reason": "offline"}]}
    assert audit.judge(skipped, {}, date(2026, 11, 28)) == 0
    assert "nothing was audited" in capsys.readouterr().out


def test_the_shipped_exception_file_reads():
    assert audit.load_exceptions() == {}
