"""One locale-aware way to write numbers, amounts, shares, dates and times.

Templates write figures only through the filters of ``web/common/formats.py``; a scan of the
templates fails on ad-hoc formatting (strftime, isoformat, Python's % or str.format, rounding
to text, a literal % after a figure, Babel called directly).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask

from courseware.core.config import PACKAGE_DIR
from courseware.web.common import formats

TEMPLATES = PACKAGE_DIR / "templates"
AD_HOC = {
    "strftime": re.compile(r"strftime"),
    "isoformat": re.compile(r"isoformat\(\)"),
    "Babel directly": re.compile(r"format_(?:date|datetime|decimal|percent|number)\("),
    "format filter": re.compile(r"\|\s*format\("),
    "str.format": re.compile(r"\.format\("),
    "round": re.compile(r"\|\s*round\b"),
    "int to text": re.compile(r"\|\s*int\b"),
    "literal % after a figure": re.compile(r"\}\}\s*%|~\s*'%'"),
}
# Machine values in attributes (an <input type=date>'s value, data-* for scripts) are not
# read by people and keep ISO form.
MACHINE_ATTRIBUTE = re.compile(r'\b(?:value|data-[\w-]+|datetime)="\{\{[^"]*\}\}"')
NOT_SCANNED: set[str] = set()  # every template is scanned


def _offences(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = MACHINE_ATTRIBUTE.sub("", line)
        for name, pattern in AD_HOC.items():
            if pattern.search(text):
                found.append(f"{path.relative_to(TEMPLATES)}:{number}: {name}")
    return found


def test_templates_format_figures_only_through_the_shared_filters():
    offences = [
        offence
        for path in sorted(TEMPLATES.rglob("*.html"))
        if str(path.relative_to(TEMPLATES)) not in NOT_SCANNED
        for offence in _offences(path)
    ]
    assert offences == []


def test_the_scan_catches_ad_hoc_formatting(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text(
        "{{ x.isoformat() }}\n{{ '%.2f'|format(y) }}\n{{ n|round|int }}%\n"
        '<input value="{{ d.isoformat() }}">\n',
        encoding="utf-8",
    )
    found = [o.split(": ", 1)[1] for o in _offences_in(tmp_path, page)]
    assert found == [
        "isoformat",
        "format filter",
        "round",
        "int to text",
        "literal % after a figure",
    ]


def _offences_in(root: Path, path: Path) -> list[str]:
    global TEMPLATES
    saved, TEMPLATES = TEMPLATES, root
    try:
        return _offences(path)
    finally:
        TEMPLATES = saved


def test_the_filters_write_zh_hant_and_english(app: Flask):
    moment = datetime(2026, 3, 2, 1, 5, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        assert formats.number(1234.5) == "1,234.5"
        assert formats.number(72.456, 1) == "72.5"
        assert formats.money(24000.4) == "24,000"
        assert formats.percent(0.8) == "80%"
        assert formats.fraction(3, 10) == "3 / 10"
        assert formats.date(date(2026, 3, 2)) == "2026年3月2日"
        assert formats.datetime(moment) == "2026/3/2\u2009上午9:05"  # Asia/Taipei
        assert formats.number(None) == formats.date(None) == "–"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert formats.date(date(2026, 3, 2)) == "Mar 2, 2026"
        assert formats.percent(0.255, 1) == "25.5%"


def test_pages_use_the_filters(app: Flask):
    with app.test_request_context():
        render = app.jinja_env.from_string(
            "{{ 0.5|percent }} {{ 12345|number }} {{ 3|fraction(4) }} {{ d|date }}"
        ).render
        assert render(d=date(2026, 1, 10)) == "50% 12,345 3 / 4 2026年1月10日"
