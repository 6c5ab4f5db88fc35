"""A module's facilitator's guide as a PDF, set in the certificate's packaged font.

The guide's Markdown is laid out simply, for printing and handing round a classroom:
headings, paragraphs, lists and tables; inline marks (bold, links, code) are dropped
to their text. The font is loaded as for the certificate (``_load_fonts``), so the
text can be copied and searched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from courseware.certification.pdf import BRAND, FONT_FAMILY, PT, _load_fonts
from courseware.content.catalogue import Guide

if TYPE_CHECKING:
    from fpdf import FPDF  # imported when a guide is made (see certification.pdf)

LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
MARK_RE = re.compile(r"(\*\*|__|\*|`)")
LIST_RE = re.compile(r"^\s*(?:[-*+]|(\d+)\.)\s+(.*)$")
RULE_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def plain(text: str) -> str:
    """Inline Markdown to its text."""
    return MARK_RE.sub("", LINK_RE.sub(r"\1", text)).strip()


def _cells(line: str) -> list[str]:
    return [plain(cell) for cell in line.strip().strip("|").split("|")]


class _Writer:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def text(self, text: str, size: float = 11, colour=(0, 0, 0), indent: float = 0) -> None:
        pdf = self.pdf
        pdf.set_font(FONT_FAMILY, size=size)
        pdf.set_text_color(*colour)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(w=pdf.epw - indent, h=size * PT * 1.5, text=text, align="L")

    def gap(self, mm: float = 2) -> None:
        self.pdf.ln(mm)

    def table(self, rows: list[list[str]]) -> None:
        pdf = self.pdf
        pdf.set_font(FONT_FAMILY, size=10)
        pdf.set_text_color(0, 0, 0)
        columns = max(len(row) for row in rows)
        # The timing table (time, topic, how): the last column takes the room.
        widths = (2, 3, 8) if columns == 3 else None
        with pdf.table(
            first_row_as_headings=False,
            line_height=10 * PT * 1.5,
            text_align="LEFT",
            col_widths=widths,
        ) as table:
            for index, row in enumerate(rows):
                cells = row + [""] * (columns - len(row))
                pdf.set_text_color(*(BRAND if index == 0 else (0, 0, 0)))
                table_row = table.row()
                for cell in cells:
                    table_row.cell(cell)
        self.gap()


def _body(writer: _Writer, body: str) -> None:
    paragraph: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if paragraph:
            writer.text("".join(part.strip() for part in paragraph))
            writer.gap(1.5)
            paragraph.clear()
        if table:
            writer.table(list(table))
            table.clear()

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            if paragraph:
                flush()
            if not RULE_RE.match(stripped):
                table.append(_cells(stripped))
            continue
        if table:
            flush()
        if not stripped:
            flush()
            continue
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*$", stripped)
        if heading:
            flush()
            level = len(heading.group(1))
            writer.gap(3 if level <= 2 else 1.5)
            writer.text(plain(heading.group(2)), size=16 if level <= 2 else 13, colour=BRAND)
            writer.gap(1)
            continue
        item = LIST_RE.match(line)
        if item:
            flush()
            mark = f"{item.group(1)}." if item.group(1) else "•"
            writer.text(f"{mark} {plain(item.group(2))}", indent=4)
            continue
        if stripped.startswith(">"):
            flush()
            writer.text(plain(stripped.lstrip("> ")), colour=(60, 60, 60), indent=4)
            continue
        paragraph.append(plain(stripped))
    flush()


def render_guide_pdf(
    guide: Guide,
    module_title: str,
    case_titles: Sequence[tuple[str, str]],
    font_setting: str | None = None,
) -> bytes:
    """The guide as PDF bytes (A4 portrait); raises FontUnavailable on a broken install."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(guide.title)
    pdf.set_author("微貸授信學院 Microloan Officer Academy")
    pdf.set_lang("zh-Hant")
    _load_fonts(pdf, font_setting)
    pdf.add_page()
    writer = _Writer(pdf)
    writer.text("講師手冊 Facilitator's guide", size=10, colour=(90, 90, 90))
    writer.text(guide.title, size=20, colour=BRAND)
    writer.text(f"模組：{module_title}　課堂時間：{guide.minutes} 分鐘", size=11)
    if case_titles:
        listed = "、".join(f"{title}（{slug}）" for slug, title in case_titles)
        writer.text(f"案例：{listed}", size=11)
    writer.gap(4)
    _body(writer, guide.body)
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
