"""The certificate as a PDF in zh-Hant, with its font embedded and a QR code.

The font ships inside the package (courseware/fonts/: a subset of Noto Sans CJK TC
covering Big5, Big5-HKSCS and the CJK Unified Ideographs, made by
scripts/make_certificate_font.py), so the PDF works on every install, with no system
font. fpdf2 embeds its CFF outlines as they are, as a subset per PDF (only the glyphs
the certificate uses), with a ToUnicode map so the text can be copied and searched.
``COURSEWARE_PDF_FONT`` may name another TrueType/OpenType font (.ttf, .otf, .ttc; the
first face of a collection); the packaged font then supplies any glyph it lacks, and a
file that cannot be read is reported in the log and the packaged font used instead.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from courseware.certification.qr import QUIET_ZONE, dark_runs, qr_rows

if TYPE_CHECKING:
    from fpdf import FPDF

# fpdf2 and fontTools (with Pillow and NumPy, about 45 MB in every worker) are imported
# when a PDF is made, not when the site starts: few requests make one.

PACKAGED_FONT = Path(__file__).resolve().parents[1] / "fonts" / "NotoSansCJKtc-Regular-subset.otf"
FONT_FAMILY = "CertificateFont"
FALLBACK_FAMILY = "PackagedFont"
BRAND = (11, 85, 99)  # #0b5563, the site's colour
PT = 25.4 / 72  # one point in millimetres
log = logging.getLogger(__name__)


class FontUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class CertificateText:
    holder: str
    employee_id: str
    branch: str
    code: str
    issued_on: date
    expires_on: date
    verify_url: str
    kind_label: str


def font_path(setting: str | None = None) -> Path:
    """The font the PDF is set in: the file COURSEWARE_PDF_FONT names, else the packaged one."""
    if setting:
        chosen = Path(setting)
        if chosen.is_file():
            return chosen
        log.warning("COURSEWARE_PDF_FONT=%s is not a file; using the packaged font", setting)
    if not PACKAGED_FONT.is_file():
        raise FontUnavailable(
            f"The certificate font {PACKAGED_FONT} is missing from this installation: "
            "reinstall the package, or set COURSEWARE_PDF_FONT to a .ttf/.otf file."
        )
    return PACKAGED_FONT


def _readable(path: Path) -> str | None:
    """None when fontTools reads the font's character map, else what went wrong."""
    stat = path.stat()
    return _read_once(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_once(path: Path, _mtime_ns: int, _size: int) -> str | None:
    try:
        with path.open("rb") as handle:  # our own handle: closed even when parsing fails
            from fontTools.ttLib import TTFont

            if not TTFont(handle, fontNumber=0).getBestCmap():
                return "it maps no characters"
    except Exception as exc:  # noqa: BLE001 - fontTools raises many kinds for a non-font
        return str(exc) or type(exc).__name__
    return None


def _load_fonts(pdf: FPDF, setting: str | None) -> None:
    """The chosen font, with the packaged one as fallback for any glyph it lacks."""
    path = font_path(setting)
    problem = _readable(path)
    if problem is not None and path != PACKAGED_FONT:
        log.warning(
            "COURSEWARE_PDF_FONT=%s cannot be embedded (%s); using the packaged font", path, problem
        )
        path = font_path(None)
        problem = _readable(path)
    if problem is not None:
        raise FontUnavailable(f"{path} cannot be embedded: {problem}")
    pdf.add_font(FONT_FAMILY, fname=path)
    if path != PACKAGED_FONT and PACKAGED_FONT.is_file() and _readable(PACKAGED_FONT) is None:
        pdf.add_font(FALLBACK_FAMILY, fname=PACKAGED_FONT)
        pdf.set_fallback_fonts([FALLBACK_FAMILY])


def _zh_date(day: date) -> str:
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def _line(pdf: FPDF, baseline: float, size: float, text: str, left: float | None = None) -> None:
    """One line of text, centred on the page or from ``left``; its baseline near ``baseline``.

    A cell rather than FPDF.text: only cells draw a glyph the font lacks from the fallback."""
    pdf.set_font(FONT_FAMILY, size=size)
    height = size * PT * 1.25
    pdf.set_xy(left or 0, baseline - height * 0.7)
    if left is None:
        pdf.cell(w=pdf.w, h=height, text=text, align="C")
    else:
        pdf.cell(w=pdf.w - 2 * left, h=height, text=text)


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The verification link as a QR code of filled rectangles, quiet zone included."""
    rows = qr_rows(url)
    module = size / (len(rows) + 2 * QUIET_ZONE)
    pdf.set_fill_color(0, 0, 0)
    for row, column, length in dark_runs(rows):
        pdf.rect(
            x + (column + QUIET_ZONE) * module,
            y + (row + QUIET_ZONE) * module,
            length * module,
            module,
            style="F",
        )


def render_certificate_pdf(text: CertificateText, font_setting: str | None = None) -> bytes:
    """The certificate as PDF bytes (A4 landscape); raises FontUnavailable on a broken install."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_title(f"微貸授信人員結業證書 {text.code}")
    pdf.set_author("微貸授信學院 Microloan Officer Academy")
    pdf.set_lang("zh-Hant")
    _load_fonts(pdf, font_setting)
    pdf.add_page()
    width, height = pdf.w, pdf.h

    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(3 * PT)
    pdf.rect(12, 12, width - 24, height - 24)
    pdf.set_line_width(0.8 * PT)
    pdf.rect(16, 16, width - 32, height - 32)

    pdf.set_text_color(*BRAND)
    _line(pdf, 48, 30, "微貸授信人員結業證書")
    _line(pdf, 58, 13, "Certificate · Microloan Officer Training")

    pdf.set_text_color(0, 0, 0)
    _line(pdf, 82, 24, text.holder)
    details = "　".join(
        part
        for part in (f"員工編號 {text.employee_id}" if text.employee_id else "", text.branch)
        if part
    )
    if details:
        _line(pdf, 91, 12, details)
    lines = (
        "已完成微貸授信人員訓練課程全部六個模組、各模組測驗及貸款案例實作，",
        f"成績合格，特發此證（{text.kind_label}）。",
    )
    for index, line in enumerate(lines):
        _line(pdf, 106 + 9 * index, 14, line)

    left, base = 30, height - 52
    _line(pdf, base - 14, 12, f"發證日期 Issued: {_zh_date(text.issued_on)}", left)
    _line(pdf, base - 7, 12, f"有效期限 Valid until: {_zh_date(text.expires_on)}", left)
    _line(pdf, base, 12, f"證書編號 Code: {text.code}", left)
    _line(pdf, base + 8, 10, f"線上驗證 Verify: {text.verify_url}", left)

    size = 38
    _qr(pdf, text.verify_url, width - 30 - size, base + 12 - size, size)

    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
