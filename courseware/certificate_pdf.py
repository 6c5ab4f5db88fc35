"""The certificate as a PDF in zh-Hant, with its font embedded and a QR code.

reportlab embeds TrueType fonts (Debian's fonts-arphic-uming is one); its
built-in CID fonts are not embedded and Noto CJK's CFF outlines cannot be, so
the font comes from a setting or a known system path. Without one the PDF is
refused with a message naming what to install; the HTML certificate works.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FONT_HELP = (
    "No TrueType font with Chinese characters was found for the PDF. Install one "
    "(Debian: apt-get install fonts-arphic-uming) or set COURSEWARE_PDF_FONT to a .ttf/.ttc file."
)


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


def find_font(setting: str | None = None) -> Path | None:
    candidates = [setting] if setting else list(KNOWN_FONTS)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _register(path: Path) -> str:
    name = f"CW-{path.stem}"
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    try:
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    except (TTFError, OSError) as exc:
        raise FontUnavailable(f"{path} cannot be embedded: {exc}. {FONT_HELP}") from exc
    return name


def _zh_date(day: date) -> str:
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def render_certificate_pdf(text: CertificateText, font_setting: str | None = None) -> bytes:
    """The certificate as PDF bytes; raises FontUnavailable with what to install."""
    font_path = find_font(font_setting)
    if font_path is None:
        raise FontUnavailable(FONT_HELP)
    font = _register(font_path)
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=font)
    pdf.setTitle(f"微貸授信人員結業證書 {text.code}")
    pdf.setAuthor("微貸授信學院 Microloan Officer Academy")

    brand = colors.HexColor("#0b5563")
    pdf.setStrokeColor(brand)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(0.8)
    pdf.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    pdf.setFillColor(brand)
    pdf.setFont(font, 30)
    pdf.drawCentredString(width / 2, height - 48 * mm, "微貸授信人員結業證書")
    pdf.setFont(font, 13)
    pdf.drawCentredString(width / 2, height - 58 * mm, "Certificate · Microloan Officer Training")

    pdf.setFillColor(colors.black)
    pdf.setFont(font, 24)
    pdf.drawCentredString(width / 2, height - 82 * mm, text.holder)
    pdf.setFont(font, 12)
    details = "　".join(
        part
        for part in (
            f"員工編號 {text.employee_id}" if text.employee_id else "",
            text.branch,
        )
        if part
    )
    if details:
        pdf.drawCentredString(width / 2, height - 91 * mm, details)
    pdf.setFont(font, 14)
    lines = [
        "已完成微貸授信人員訓練課程全部六個模組、各模組測驗及貸款案例實作，",
        f"成績合格，特發此證（{text.kind_label}）。",
    ]
    for index, line in enumerate(lines):
        pdf.drawCentredString(width / 2, height - (106 + 9 * index) * mm, line)

    pdf.setFont(font, 12)
    left = 30 * mm
    base = 52 * mm
    pdf.drawString(left, base + 14 * mm, f"發證日期 Issued: {_zh_date(text.issued_on)}")
    pdf.drawString(left, base + 7 * mm, f"有效期限 Valid until: {_zh_date(text.expires_on)}")
    pdf.drawString(left, base, f"證書編號 Code: {text.code}")
    pdf.setFont(font, 10)
    pdf.drawString(left, base - 8 * mm, f"線上驗證 Verify: {text.verify_url}")

    widget = QrCodeWidget(text.verify_url)
    x0, y0, x1, y1 = widget.getBounds()
    size = 38 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - 30 * mm - size, base - 12 * mm)

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
