"""The README's test command on a bare machine: no Chromium means one clear skip line.

Runs pytest on two browser test files in a subprocess with COURSEWARE_CHROMIUM pointing
nowhere: every browser test skips, the summary says once what was looked for and how to
install it, and with COURSEWARE_REQUIRE_BROWSER=1 (as CI sets) the same run fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["tests/browser/test_weight.py", "tests/browser/test_screenshots.py"]


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("COURSEWARE_", "PYTEST_"))
    }
    environment.update(COURSEWARE_CHROMIUM=str(tmp_path / "no-chromium"), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *FILES],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_chromium_browser_tests_skip_with_one_reason(tmp_path: Path) -> None:
    run = _pytest(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, run.stdout
    count = int(re.search(r"SKIPPED \[(\d+)\]", skipped[0]).group(1))
    assert count >= 4 and re.search(rf"\b{count} skipped\b", run.stdout), run.stdout
    line = skipped[0]
    assert str(tmp_path / "no-chromium") in line and "COURSEWARE_CHROMIUM" in line
    assert "apt-get install chromium" in line
    assert " passed" not in run.stdout and "failed" not in run.stdout


def test_with_require_browser_a_skipped_browser_test_fails(tmp_path: Path) -> None:
    run = _pytest(tmp_path, COURSEWARE_REQUIRE_BROWSER="1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert " skipped" not in run.stdout.splitlines()[-1], run.stdout
    assert "COURSEWARE_REQUIRE_BROWSER=1, yet this browser test skipped" in run.stdout
