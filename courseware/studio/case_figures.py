"""A case file's figures as form fields: the business, the household budget, the request.

The figures are read from the case's YAML text and written back into it with ruamel.yaml's
round-trip mode, like one question of a bank (``courseware.studio.questions``): a figure
left as it was keeps its node, so the rest of the file stays byte for byte as written. The
form edits only the figures the file already has; anything else is edited as YAML.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from courseware.core.errors import N_, ContentError
from courseware.studio.roundtrip import dump_yaml, load_exact

Path = tuple[str | int, ...]
Problem = tuple[str, str, dict[str, Any]]  # (figure key, message id, params)

# The groups of the form, each with its fixed figures: (path under the group, label).
GROUPS: tuple[tuple[str, Path, tuple[tuple[Path, str], ...]], ...] = (
    (
        "business",
        ("dossier", "business"),
        (
            (("years",), N_("Years in business")),
            (("sales", "good_day"), N_("Sales on a good day")),
            (("sales", "normal_day"), N_("Sales on a normal day")),
            (("sales", "slow_day"), N_("Sales on a slow day")),
            (("sales_days", "good"), N_("Good days a month")),
            (("sales_days", "normal"), N_("Normal days a month")),
            (("sales_days", "slow"), N_("Slow days a month")),
            (("margin",), N_("Gross margin (0.18 = 18%)")),
        ),
    ),
    (
        "request",
        ("dossier", "request"),
        (
            (("amount",), N_("Amount")),
            (("term",), N_("Term (months)")),
            (("monthly_rate",), N_("Monthly rate (0.0105 = 1.05%)")),
            (("fee_rate",), N_("Fee (share of the amount)")),
        ),
    ),
    (
        "allowed",
        ("allowed",),
        (
            (("amount", "min"), N_("Smallest amount")),
            (("amount", "max"), N_("Largest amount")),
            (("term", "min"), N_("Shortest term (months)")),
            (("term", "max"), N_("Longest term (months)")),
        ),
    ),
)
# Lists of {label, amount} lines: (group, path, legend).
LINES: tuple[tuple[str, Path, str], ...] = (
    ("business", ("dossier", "business", "fixed_costs"), N_("Fixed costs a month")),
    ("household", ("dossier", "household_budget", "income"), N_("Household income a month")),
    ("household", ("dossier", "household_budget", "expenses"), N_("Household expenses a month")),
)
GROUP_LABELS = {
    "business": N_("The business"),
    "household": N_("The household budget"),
    "request": N_("The loan request"),
    "allowed": N_("What the trainee may change"),
}


class FiguresError(Exception):
    """The case text cannot be edited through the form; ``message`` is a message id."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Figure:
    """One number of the case file. ``key`` is its location as the loader's errors name it
    (``dossier.business.fixed_costs[0].amount``); ``label`` a message id, or ``line`` the
    file's own label of a budget line."""

    key: str
    path: Path
    group: str
    label: str
    value: str
    line: str = ""
    legend: str = ""


def key_of(path: Path) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
    return key


def _get(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return None
            data = data[part]
        else:
            if not isinstance(data, dict) or part not in data:
                return None
            data = data[part]
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.10g}" if "e" not in f"{value:.10g}" else repr(value)
    return str(int(value)) if isinstance(value, float) else str(value)


def _load(text: str) -> tuple[Any, CommentedMap]:
    try:
        loaded = load_exact(text)
    except YAMLError:
        raise FiguresError(N_("The case file is not valid YAML: edit its YAML.")) from None
    if loaded is None:
        raise FiguresError(
            N_("This case file's layout cannot be kept by the form: edit its YAML instead.")
        )
    if not isinstance(loaded[1], CommentedMap):
        raise FiguresError(N_("The case file is not a mapping: edit its YAML."))
    return loaded


def figures(text: str) -> list[Figure]:
    """The numbers of the case the form can edit, group by group, in the form's order."""
    _handler, data = _load(text)
    found: list[Figure] = []
    for group, base, items in GROUPS:
        for sub, label in items:
            path = base + sub
            value = _get(data, path)
            if _is_number(value):
                found.append(Figure(key_of(path), path, group, label, _shown(value)))
    for group, base, legend in LINES:
        lines = _get(data, base)
        for index, line in enumerate(lines if isinstance(lines, list) else []):
            value = _get(line, ("amount",))
            if isinstance(line, dict) and _is_number(value):
                path = (*base, index, "amount")
                found.append(
                    Figure(
                        key_of(path),
                        path,
                        group,
                        N_("Amount"),
                        _shown(value),
                        line=str(line.get("label", "")),
                        legend=legend,
                    )
                )
    order = list(GROUP_LABELS)
    return sorted(found, key=lambda f: order.index(f.group))


def parse_figure(text: str) -> int | float | None:
    """A figure as typed: full-width digits and thousands commas allowed."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    if not cleaned or len(cleaned) > 32:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return (
        int(value)
        if value.is_integer() and "." not in cleaned and "e" not in cleaned.lower()
        else value
    )


def put_figures(text: str, typed: dict[str, str]) -> tuple[str, list[Problem]]:
    """The case text with the typed figures written in (the rest kept as written), and the
    figures that are not numbers."""
    handler, data = _load(text)
    problems: list[Problem] = []
    for figure in figures(text):
        if figure.key not in typed:
            continue
        value = parse_figure(typed[figure.key])
        if value is None:
            problems.append((figure.key, N_("must be a number"), {}))
            continue
        parent = _get(data, figure.path[:-1])
        last = figure.path[-1]
        if not isinstance(parent, CommentedMap | CommentedSeq) or isinstance(last, int):
            continue
        if float(parent[last]) != float(value):  # the same figure keeps how the file says it
            parent[last] = value
    return dump_yaml(handler, data), problems


def figure_errors(errors: list[ContentError], keys: set[str]) -> dict[str, list[ContentError]]:
    """The loader's errors by the figure they are about."""
    found: dict[str, list[ContentError]] = {}
    for error in errors:
        if error.field in keys:
            found.setdefault(error.field, []).append(error)
    return found
