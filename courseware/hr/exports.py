"""Tables out as CSV (streamed) and XLSX (written row by row to a temporary file).

Both formats get a header row and the same cells. Text that a spreadsheet would
run as a formula (starting with = + - @, a tab or a carriage return) gets a leading
apostrophe. CSV starts with a byte-order mark so Excel reads the UTF-8 (Chinese)
correctly. Times arrive already converted to the site's zone.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, Any

Cell = str | int | float | date | datetime | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CSV_BATCH = 200
# The control characters an XLSX cell cannot hold (openpyxl refuses them; the same set as its
# ILLEGAL_CHARACTERS_RE). openpyxl itself (about 24 MB) is imported when a workbook is made.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would evaluate becomes plain text (OWASP's CSV-injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def cell_text(value: Cell) -> str:
    """How a cell reads on the page and in CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_stream(rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The rows as CSV text, a batch of lines at a time, the BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    for count, row in enumerate(rows, 1):
        writer.writerow([neutralise(cell_text(value)) for value in row])
        if count % CSV_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def xlsx_file(rows: Iterable[Sequence[Cell]], title: str) -> IO[bytes]:
    """The rows as an XLSX workbook in a temporary file, rewound; close it when sent.

    openpyxl's write-only mode keeps memory flat: each row goes to disk as it is added.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    target = tempfile.TemporaryFile()  # noqa: SIM115 - the caller sends and closes it
    workbook.save(target)
    target.seek(0)
    return target


def file_size(handle: IO[bytes]) -> int:
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def file_chunks(handle: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """A file's bytes in chunks, closing it once sent (or once the client goes away)."""
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()


FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
