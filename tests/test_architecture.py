"""The house rules of docs/architecture.md that lint-imports and mypy do not check."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "courseware"
LONG = 80  # lines; a longer function says why in its docstring ("Long because ...")


def test_nothing_stands_flat_in_the_package_but_the_entry_points() -> None:
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "bench.py", "cli.py", "loadtest.py"]


def test_every_code_package_has_its_test_folder() -> None:
    packages = sorted(
        p.name
        for p in PACKAGE.iterdir()
        if (p / "__init__.py").exists() and p.name not in {"web", "migrations"}
    )
    missing = [name for name in packages if not (ROOT / "tests" / name).is_dir()]
    assert not missing, f"packages without a tests/<package>/ folder: {missing}"
    audiences = sorted(p.name for p in (PACKAGE / "web").iterdir() if (p / "__init__.py").exists())
    assert audiences == ["admin", "common", "hr", "learner", "studio"]
    assert all((ROOT / "tests" / "web" / a).is_dir() for a in audiences)


def _long_functions() -> list[str]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > LONG and "Long because" not in (ast.get_docstring(node) or ""):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    return found


def test_a_function_over_80_lines_says_why() -> None:
    assert _long_functions() == []


@pytest.mark.parametrize("shim", ["courseware.bench", "courseware.loadtest"])
def test_the_flat_shims_still_run_the_tools(shim: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", shim, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_file_loaders_are_registered_whatever_is_imported_first() -> None:
    # A fresh interpreter that imports only the catalogue still reads quizzes and cases:
    # the package root imports their loaders (no module names in strings).
    code = (
        "from courseware.content.catalogue import build_catalogue\n"
        "c = build_catalogue({'quizzes/x.yaml': 'not: [valid', 'case_studies/y.yaml': ': :'})\n"
        "print(sorted({e.path for e in c.errors}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # each loader's own complaint: the case loader needs the shared model and red flags,
    # the quiz loader reads the bank
    paths = done.stdout.strip()
    assert "'case_studies/model.yaml'" in paths and "'quizzes/x.yaml'" in paths, paths
