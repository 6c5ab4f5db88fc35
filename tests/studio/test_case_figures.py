"""A case's figures read into form values and written back: the rest of the file is kept."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from courseware.studio import case_figures as cf
from courseware.studio.cases import is_case_file
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    p
    for p in sorted((ROOT / "case_studies").glob("*.yaml"))
    + sorted((DATA / "case_studies").glob("*.yaml"))
    if is_case_file(f"case_studies/{p.name}")
]


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_case_survives_an_unchanged_save_and_one_change_moves_one_line(case: Path):
    text = _read(case)
    found = cf.figures(text)
    unchanged, problems = cf.put_figures(text, {f.key: f.value for f in found})
    assert (unchanged, problems) == (text, [])
    if not found:  # a village book: its loans are edited as YAML
        assert "book:" in text
        return
    figure = found[-1]
    new, _problems = cf.put_figures(text, {figure.key: "1234"})
    changed = [
        line
        for line in difflib.unified_diff(text.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert len(changed) == 2 and "1234" in changed[1] and "1234" not in changed[0]
    data = yaml.safe_load(new)
    for part in figure.path:
        data = data[part]
    assert data == 1234


def test_the_figures_are_named_as_the_loader_names_their_errors():
    found = {f.key: f for f in cf.figures(_read(DATA / "case_studies" / "grocery-kiosk.yaml"))}
    assert found["dossier.business.sales.good_day"].value == "6500"
    assert found["dossier.request.monthly_rate"].value == "0.0105"
    lines = found["dossier.business.fixed_costs[0].amount"]
    assert (lines.line, lines.legend, lines.value) == ("店面租金", "Fixed costs a month", "6000")
    assert "allowed.amount.max" in found and "params.margin" not in found  # hidden stays YAML


@pytest.mark.parametrize(
    ("typed", "value"),
    [("24,000", 24000), ("２４０００", 24000), ("0.0105", 0.0105), (" 12 ", 12), ("1e3", 1000.0)],
)
def test_figures_are_read_as_people_type_them(typed: str, value: float):
    parsed = cf.parse_figure(typed)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("typed", ["", "十二", "12元", "nan", "inf"])
def test_what_is_not_a_number_is_a_problem_of_its_figure(typed: str):
    text = _read(DATA / "case_studies" / "grocery-kiosk.yaml")
    new, problems = cf.put_figures(text, {"dossier.request.term": typed})
    assert new == text
    assert problems == [("dossier.request.term", "must be a number", {})]


def test_a_file_whose_layout_cannot_be_kept_is_refused():
    with pytest.raises(cf.FiguresError):
        cf.figures("slug: x\ndossier:\n    request:\n      amount:   24000\n")
