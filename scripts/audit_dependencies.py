"""Audit the installed dependencies for known vulnerabilities (pip-audit).

Exit 1 when a vulnerability is found that security/audit-exceptions.toml does not
excuse with a written, dated, unexpired reason. When the vulnerability data cannot
be fetched (a closed network), say so plainly: nothing was audited.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS = ROOT / "security" / "audit-exceptions.toml"


def load_exceptions() -> dict[tuple[str, str], dict]:
    data = tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8")) if EXCEPTIONS.exists() else {}
    found = {}
    for entry in data.get("exception", []):
        missing = {"id", "package", "reason", "decided", "expires"} - set(entry)
        if missing:
            raise SystemExit(f"{EXCEPTIONS}: an exception lacks {sorted(missing)}")
        found[(entry["package"].lower(), entry["id"])] = entry
    return found


def run_pip_audit() -> dict | None:
    """pip-audit's JSON report of the installed packages, or None when it gave none."""
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "-f", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout, result.stderr, sep="\n")
        return None


def main() -> int:
    report = run_pip_audit()
    if report is None:
        print("pip-audit did not produce a report.")
        return 1
    return judge(report, load_exceptions(), date.today())


def judge(report: dict, exceptions: dict[tuple[str, str], dict], today: date) -> int:
    """Print what the report found; 1 when a vulnerability is not excused."""
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    failures = []
    for dependency in audited:
        for vuln in dependency.get("vulns", []):
            excuse = exceptions.get((dependency["name"].lower(), vuln["id"]))
            if excuse and excuse["expires"] >= today:
                print(f"excused until {excuse['expires']}: {dependency['name']} {vuln['id']}: "
                      f"{excuse['reason']}")  # fmt: skip
                continue
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no release"
            failures.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})"
            )
    print(f"pip-audit: {len(audited)} of {len(dependencies)} installed packages audited.")
    if dependencies and not audited:
        print(
            "NOTICE: the vulnerability data could not be fetched from this machine "
            "(per-release PyPI JSON and OSV are not reachable), so nothing was audited. "
            "Run this script where PyPI's JSON API is reachable."
        )
    for failure in failures:
        print(f"VULNERABLE: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
