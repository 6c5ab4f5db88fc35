"""One way to write numbers, amounts, shares and times on every page, in the reader's locale.

Templates use these filters and nothing else (``tests/web/common/test_formats.py`` scans the
templates for ad-hoc formatting): ``{{ n|number }}``, ``{{ n|number(1) }}``, ``{{ x|money }}``,
``{{ 0.25|percent }}`` (a fraction), ``{{ day|date }}``, ``{{ moment|datetime }}``. Times are
shown in the site's time zone (Flask-Babel's ``BABEL_DEFAULT_TIMEZONE``). A missing value is
written as an en dash. A part of a whole is written "3 / 10" everywhere (``fraction``).
"""

from __future__ import annotations

import math
from datetime import date as date_type
from datetime import datetime as datetime_type

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, format_percent

MISSING = "–"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def number(value: float | None, digits: int | None = None) -> str:
    """A count or measure with the locale's grouping: 1,234 or 72.5 (``digits`` fixed)."""
    if _missing(value):
        return MISSING
    if digits is None:
        return format_decimal(value, format="#,##0.##")
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(round(value, digits), format=pattern)


def money(value: float | None) -> str:
    """A whole amount, e.g. 24,000 (the currency is named beside the figure or column)."""
    return MISSING if _missing(value) else format_decimal(round(value), format="#,##0")


def percent(value: float | None, digits: int = 0) -> str:
    """A fraction as a percentage: 0.8 is 80%."""
    if _missing(value):
        return MISSING
    return format_percent(value, format="#,##0." + "0" * digits + "%" if digits else "#,##0%")


def fraction(part: float | None, whole: float | None) -> str:
    """A part of a whole, written the same way on every page: 3 / 10."""
    return f"{number(part)} / {number(whole)}"


def date(value: date_type | datetime_type | None, style: str = "medium") -> str:
    return MISSING if value is None else format_date(value, style)


def datetime(value: datetime_type | None, style: str = "short") -> str:
    return MISSING if value is None else format_datetime(value, style)


def warm() -> None:
    """Format one of each kind in the current locale, so its CLDR data is read and its
    patterns parsed (before gunicorn forks: not on each worker's first page)."""
    moment = datetime_type(2026, 1, 2, 3, 4)
    number(1234.5)
    number(72.5, 1)
    money(24000)
    percent(0.8)
    percent(0.825, 1)
    for style in ("short", "medium", "long"):
        date(moment.date(), style)
        datetime(moment, style)


def cell(value: object) -> str:
    """A table cell of a report on the page (the CSV keeps ISO dates): a naive datetime is
    already local time, as the reports write it for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, datetime_type):
        if value.tzinfo is None:
            return format_datetime(value, "short", rebase=False)
        return datetime(value)
    if isinstance(value, date_type):
        return date(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return number(value)
    return str(value)


FILTERS = {
    "cell": cell,
    "number": number,
    "money": money,
    "percent": percent,
    "fraction": fraction,
    "date": date,
    "datetime": datetime,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
