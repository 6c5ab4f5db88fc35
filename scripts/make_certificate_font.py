"""Build the certificate font that ships inside the package: courseware/fonts/.

Run by hand when the font should change (the result is committed, so neither an install
nor CI runs this):

    apt-get install -y fonts-noto-cjk          # Debian's Noto Sans CJK (CFF OpenType, OFL)
    .venv/bin/pip install fonttools            # also installed with fpdf2
    .venv/bin/python scripts/make_certificate_font.py

It takes the Traditional Chinese face (Noto Sans CJK TC Regular) out of Debian's
collection and keeps the characters a certificate can need: every character of Big5 and
of Big5-HKSCS (so names such as 林堃喆 or 陳犇焜 print), the whole CJK Unified Ideographs
block, ASCII and Latin-1, general punctuation, CJK symbols and full-width forms. Outlines
stay CFF: fpdf2 embeds them as they are (a subset per PDF). Layout tables, hinting and
vertical metrics are dropped; a certificate sets horizontal text and needs none of them.
The SIL Open Font License is written beside the font, as the license requires.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "courseware" / "fonts"
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
FACE = "Noto Sans CJK TC"
TARGET = "NotoSansCJKtc-Regular-subset.otf"
# Noto CJK is derived from Adobe's Source Han; upstream's LICENSE reserves the name "Source".
NOTICE = "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'."

RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1
    (0x2000, 0x206F),  # general punctuation
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3100, 0x312F),  # bopomofo
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xFF00, 0xFFEF),  # full-width forms
)


def double_byte_characters(codec: str) -> set[str]:
    """Every character a two-byte Big5-family codec decodes."""
    found: set[str] = set()
    for lead in range(0x81, 0xFF):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            try:
                found.update(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                continue
    return found


def wanted_codepoints() -> set[int]:
    big5 = double_byte_characters("big5") | double_byte_characters("big5hkscs")
    points = {ord(ch) for ch in big5}
    for first, last in RANGES:
        points.update(range(first, last + 1))
    return points


def traditional_face(path: Path) -> TTFont:
    for font in TTCollection(str(path)).fonts:
        if font["name"].getDebugName(1) == FACE:
            return font
    raise SystemExit(f"{path} holds no face named {FACE!r}")


def license_text(copyright_file: Path) -> str:
    """The OFL 1.1 text from Debian's copyright file, preceded by the font's notice."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    # The last "License: SIL-1.1" line opens the stand-alone paragraph with the text.
    start = max(i for i, line in enumerate(lines) if line == "License: SIL-1.1") + 1
    body: list[str] = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line == " ." else line[1:])
    intro = "This Font Software is licensed under the SIL Open Font License, Version 1.1."
    return f"{NOTICE}\n\n{intro}\n\n" + "\n".join(body).strip() + "\n"


def build(source: Path, target: Path) -> tuple[int, int]:
    font = traditional_face(source)
    wanted = wanted_codepoints()
    covered = wanted & set(font.getBestCmap())
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=covered)
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(target))
    return len(wanted), len(covered)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="Noto Sans CJK .ttc")
    parser.add_argument("--out", type=Path, default=FONTS / TARGET)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source} not found: apt-get install -y fonts-noto-cjk", file=sys.stderr)
        return 1
    wanted, covered = build(args.source, args.out)
    (args.out.parent / "OFL.txt").write_text(license_text(COPYRIGHT), encoding="utf-8")
    size = args.out.stat().st_size / 1_000_000
    print(f"{args.out}: {covered} of {wanted} wanted characters, {size:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
