"""What a web worker carries: the libraries only a few requests need (PDF, XLSX, JSON-LD,
QR) or only a migration needs (Alembic, Mako) are imported by those, not by every worker
at start (about 90 MB of the worker's memory, issue 26's worker figure)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from courseware.core.db import make_engine
from courseware.ops import migrate

# fontTools is not among them: the start checks read the certificate font with it (1 MB).
HEAVY_AND_RARE = ("fpdf", "PIL", "openpyxl", "pyld", "segno", "alembic", "mako")


def test_starting_the_site_imports_none_of_the_rarely_needed_libraries(tmp_path):
    # A migrated database; then a fresh interpreter, as gunicorn's master: create the app
    # with its start-up work and run the start checks (gunicorn.conf.py's on_starting).
    # What creating the app does read: each language's CLDR data (dates and numbers), which
    # every worker would otherwise read on its first page.
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    program = (
        "import json, sys\n"
        "from courseware import create_app\n"
        "from courseware.cli import start_checks\n"
        f"app = create_app({{'DATABASE_URL': '{url}', "
        f"'SECRET_KEY': 'x', 'INSTANCE_PATH': '{tmp_path}'}})\n"
        "from babel import localedata\n"
        "locale_data = sorted(localedata._cache)\n"
        "start_checks(app, '127.0.0.1')\n"
        f"print(json.dumps([[m for m in {HEAVY_AND_RARE!r} if m in sys.modules], locale_data]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env={"SERVER_SOFTWARE": "gunicorn/23.0.0", "PATH": ""},
    ).stdout
    imported, locale_data = json.loads(out.strip().splitlines()[-1])
    assert imported == []
    assert {"zh_Hant", "en"} <= set(locale_data)


def test_the_xlsx_cleaner_drops_what_openpyxl_refuses():
    openpyxl_cell = pytest.importorskip("openpyxl.cell.cell")
    from courseware.hr.exports import ILLEGAL_CHARACTERS_RE

    assert ILLEGAL_CHARACTERS_RE.pattern == openpyxl_cell.ILLEGAL_CHARACTERS_RE.pattern
    every = "".join(chr(n) for n in range(0x80))
    assert ILLEGAL_CHARACTERS_RE.sub("", every) == openpyxl_cell.ILLEGAL_CHARACTERS_RE.sub(
        "", every
    )
