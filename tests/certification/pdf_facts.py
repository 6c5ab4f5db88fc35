"""What a PDF holds, read in pure Python (pypdf, fontTools): its text and its fonts.

The certificate tests use this where poppler (pdftotext, pdffonts) may be missing, as on
a bare machine; where poppler is installed they ask it as well.

The text is decoded here rather than by pypdf's extract_text: fpdf2 gives its CID fonts
an embedded encoding CMap (two-byte codes), which pypdf reads as one-byte codes. Each
shown string is split into two-byte codes and looked up in the font's ToUnicode map, as
a viewer does when text is copied.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from fontTools.cffLib import CFFFontSet
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject

SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


@dataclass(frozen=True)
class EmbeddedFont:
    base_font: str  # e.g. ABCDEF+NotoSansCJKTC: six capitals and + mark a subset
    file_key: str  # /FontFile (Type 1), /FontFile2 (TrueType) or /FontFile3 (CFF); '' if none
    program_names: tuple[str, ...]  # the font program's own names (CFF only)
    glyphs: int  # glyphs in the embedded program (CFF only; 0 otherwise)

    @property
    def is_subset(self) -> bool:
        return bool(SUBSET_PREFIX.match(self.base_font.lstrip("/")))


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    """The font's ToUnicode map (bfchar entries, as fpdf2 writes them): code -> text."""
    if "/ToUnicode" not in font:
        return {}
    data = font["/ToUnicode"].get_object().get_data()
    mapping: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in BFCHAR.findall(section):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return mapping


def pdf_text(data: bytes) -> str:
    """The text of every page, one line per text object, through each font's ToUnicode."""
    reader = PdfReader(io.BytesIO(data))
    lines: list[str] = []
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        maps = {name: _to_unicode(ref.get_object()) for name, ref in fonts.items()}
        current: dict[int, str] = {}
        line = ""
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = maps.get(operands[0], {})
            elif operator in (b"Tj", b"TJ"):
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for item in strings:
                    if isinstance(item, int | float):
                        continue
                    raw = bytes(item) if isinstance(item, bytes) else item.original_bytes
                    codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                    line += "".join(current.get(code, "\ufffd") for code in codes)
            elif operator == b"ET" and line:
                lines.append(line)
                line = ""
    return "\n".join(lines)


def pdf_fonts(data: bytes) -> list[EmbeddedFont]:
    """Every font the pages use, with the font program it embeds."""
    reader = PdfReader(io.BytesIO(data))
    found: list[EmbeddedFont] = []
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            described = font
            if font["/Subtype"] == "/Type0":
                described = font["/DescendantFonts"][0].get_object()
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            keys = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
            names: tuple[str, ...] = ()
            glyphs = 0
            if keys == ["/FontFile3"]:
                program = CFFFontSet()
                stream = descriptor["/FontFile3"].get_object().get_data()
                program.decompile(io.BytesIO(stream), None)
                names = tuple(program.fontNames)
                glyphs = len(program[program.fontNames[0]].charset)
            found.append(EmbeddedFont(str(font["/BaseFont"]), "".join(keys), names, glyphs))
    return found
