"""The ```loan fenced block: a worked loan example computed, never hand-typed.

Trainers write the terms; the platform computes installment, interest,
effective rate and the schedule with ``courseware.lending.arithmetic``, so a
figure in the course text cannot be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from courseware.core.errors import N_

FENCE_RE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*loan[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
ALLOWED_KEYS = ("amount", "rate", "type", "term", "fee", "title")
RATE_TYPES = ("declining", "flat")


@dataclass(frozen=True)
class LoanSpec:
    amount: float
    monthly_rate: float
    rate_type: str
    term: int
    fee_rate: float
    title: str


@dataclass(frozen=True)
class LoanBlockError:
    line: int
    field: str
    message: str
    params: dict[str, Any]


def _percent(raw: str) -> float:
    text = raw.strip().rstrip("%").strip()
    return float(text.replace(",", "")) / 100.0


def parse_loan_spec(body: str, first_line: int = 1) -> tuple[LoanSpec | None, list[LoanBlockError]]:
    """Parse the ``key: value`` lines of a loan block into a spec or errors."""
    values, lines, errors = _key_values(body, first_line)
    if errors:
        return None, errors
    return _loan_spec(values, lines, first_line)


def _key_values(
    body: str, first_line: int
) -> tuple[dict[str, str], dict[str, int], list[LoanBlockError]]:
    """The block's known keys with their values and line numbers; unknown or missing keys
    and lines that are not ``key: value`` are errors."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    errors: list[LoanBlockError] = []
    for offset, raw_line in enumerate(body.splitlines()):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep:
            errors.append(
                LoanBlockError(first_line + offset, "", N_("each line must be 'key: value'"), {})
            )
            continue
        if key not in ALLOWED_KEYS:
            errors.append(
                LoanBlockError(
                    first_line + offset,
                    key,
                    N_("unknown key; allowed: %(allowed)s"),
                    {"allowed": ", ".join(ALLOWED_KEYS)},
                )
            )
            continue
        values[key] = value.strip()
        lines[key] = first_line + offset
    for required in ("amount", "rate", "type", "term"):
        if required not in values:
            errors.append(LoanBlockError(first_line, required, N_("this field is required"), {}))
    return values, lines, errors


def _loan_spec(
    values: dict[str, str], lines: dict[str, int], first_line: int
) -> tuple[LoanSpec | None, list[LoanBlockError]]:
    """Each value read as its type and range (every bad one is an error)."""
    errors: list[LoanBlockError] = []
    spec_values: dict[str, Any] = {}
    try:
        spec_values["amount"] = float(values["amount"].replace(",", ""))
        if not 0 < spec_values["amount"] <= 1e9:
            raise ValueError
    except ValueError:
        errors.append(
            LoanBlockError(
                lines.get("amount", first_line), "amount", N_("must be a positive number"), {}
            )
        )
    try:
        spec_values["monthly_rate"] = _percent(values["rate"])
        if not 0 <= spec_values["monthly_rate"] <= 1:
            raise ValueError
    except ValueError:
        errors.append(
            LoanBlockError(
                lines.get("rate", first_line),
                "rate",
                N_("must be a monthly percentage such as 1.5%"),
                {},
            )
        )
    rate_type = values["type"].lower()
    if rate_type not in RATE_TYPES:
        errors.append(
            LoanBlockError(
                lines.get("type", first_line),
                "type",
                N_("must be one of: %(expected)s"),
                {"expected": ", ".join(RATE_TYPES)},
            )
        )
    try:
        term = int(values["term"])
        if not 1 <= term <= 360:
            raise ValueError
        spec_values["term"] = term
    except ValueError:
        errors.append(
            LoanBlockError(
                lines.get("term", first_line),
                "term",
                N_("must be a whole number of months (1-360)"),
                {},
            )
        )
    try:
        fee = _percent(values.get("fee", "0"))
        if not 0 <= fee < 1:
            raise ValueError
        spec_values["fee_rate"] = fee
    except ValueError:
        errors.append(
            LoanBlockError(
                lines.get("fee", first_line), "fee", N_("must be a percentage such as 2%"), {}
            )
        )
    if errors:
        return None, errors
    return (
        LoanSpec(
            amount=spec_values["amount"],
            monthly_rate=spec_values["monthly_rate"],
            rate_type=rate_type,
            term=spec_values["term"],
            fee_rate=spec_values["fee_rate"],
            title=values.get("title", "")[:80],
        ),
        [],
    )


def find_loan_blocks(markdown_text: str) -> list[tuple[int, LoanSpec | None, list[LoanBlockError]]]:
    """Every loan block in a Markdown text with its line number and parse result."""
    found = []
    for match in FENCE_RE.finditer(markdown_text):
        line = markdown_text.count("\n", 0, match.start()) + 1
        spec, errors = parse_loan_spec(match.group("body"), first_line=line + 1)
        found.append((line, spec, errors))
    return found
