"""The certificate PDF works on every install: the font ships in the package.

No system font is needed (a bare machine has none): the packaged subset of Noto Sans CJK
TC covers Big5, Big5-HKSCS and rare name characters, the PDF embeds a subset of it with
extractable text, and a process whose fontconfig sees no fonts still gets a PDF from the
route with the learner's name in it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from courseware.certification.pdf import (
    PACKAGED_FONT,
    CertificateText,
    FontUnavailable,
    font_path,
    render_certificate_pdf,
)
from courseware.certification.qr import dark_runs, qr_rows
from tests.certification.pdf_facts import pdf_fonts, pdf_text

ROOT = Path(__file__).resolve().parents[2]
RARE_NAMES = ("林堃喆", "陳犇焜", "王瑄甯", "張翃堯", "黃姵妘", "李昇峯")


@pytest.fixture(scope="module")
def packaged_cmap() -> set[int]:
    return set(TTFont(PACKAGED_FONT).getBestCmap())


@pytest.fixture(scope="module")
def packaged_cff_names() -> tuple[str, ...]:
    return tuple(TTFont(PACKAGED_FONT)["CFF "].cff.fontNames)


def _text(holder: str = "林堃喆", **changes: object) -> CertificateText:
    values: dict[str, object] = {
        "holder": holder,
        "employee_id": "E-1024",
        "branch": "台北分行",
        "code": "MLA-2222-3333-4444-5555",
        "issued_on": date(2026, 1, 10),
        "expires_on": date(2027, 1, 10),
        "verify_url": "https://academy.example.tw/verify/MLA-2222-3333-4444-5555",
        "kind_label": "首次認證",
    }
    values.update(changes)
    return CertificateText(**values)  # type: ignore[arg-type]


def _big5(first: int, last: int, codec: str) -> set[str]:
    found: set[str] = set()
    for code in range(first, last + 1):
        if (code & 0xFF) < 0x40:
            continue
        try:
            found.update(code.to_bytes(2, "big").decode(codec))
        except UnicodeDecodeError:
            continue
    return found


def test_packaged_font_covers_every_big5_hanzi(packaged_cmap: set[int]) -> None:
    hanzi = _big5(0xA440, 0xF9D5, "big5")
    assert len(hanzi) > 13_000  # the codec really decoded Big5's two hanzi planes
    missing = sorted(ch for ch in hanzi if ord(ch) not in packaged_cmap)
    assert not missing, f"{len(missing)} Big5 hanzi missing, e.g. {''.join(missing[:20])}"


def test_packaged_font_covers_the_hkscs_hanzi_and_rare_names(packaged_cmap: set[int]) -> None:
    extras = _big5(0x8140, 0xFEFE, "big5hkscs") - _big5(0x8140, 0xFEFE, "big5")
    hanzi = {ch for ch in extras if 0x3400 <= ord(ch) <= 0x9FFF or 0x20000 <= ord(ch) <= 0x2FFFF}
    assert len(hanzi) > 4_000
    missing = sorted(ch for ch in hanzi if ord(ch) not in packaged_cmap)
    assert not missing, f"{len(missing)} HKSCS hanzi missing, e.g. {''.join(missing[:20])}"
    for name in RARE_NAMES:
        assert all(ord(ch) in packaged_cmap for ch in name), name


def test_the_font_and_its_license_ship_in_the_package() -> None:
    assert PACKAGED_FONT.parent.name == "fonts" and PACKAGED_FONT.parent.parent.name == "courseware"
    license_file = PACKAGED_FONT.parent / "OFL.txt"
    assert "SIL OPEN FONT LICENSE Version 1.1" in license_file.read_text(encoding="utf-8")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["courseware"]
    shipped = [p for p in patterns if Path(p).parent == Path("fonts")]
    for file in (PACKAGED_FONT, license_file):
        assert any(file.match(f"courseware/{p}") for p in shipped), (file, patterns)
    assert PACKAGED_FONT.stat().st_size < 12_000_000  # the wheel must stay under 25 MB


@pytest.mark.parametrize("holder", RARE_NAMES[:2])
def test_pdf_holds_the_facts_in_an_embedded_subset_of_the_packaged_font(
    holder: str, packaged_cff_names: tuple[str, ...]
) -> None:
    data = render_certificate_pdf(_text(holder))
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    for fact in (
        holder,
        "微貸授信人員結業證書",
        "微貸授信人員訓練課程",
        "員工編號 E-1024",
        "台北分行",
        "MLA-2222-3333-4444-5555",
        "2026 年 1 月 10 日",
        "2027 年 1 月 10 日",
        "https://academy.example.tw/verify/MLA-2222-3333-4444-5555",
        "首次認證",
    ):
        assert fact in text, (fact, text)
    fonts = pdf_fonts(data)
    assert fonts, "the PDF uses no font"
    for font in fonts:
        assert font.file_key == "/FontFile3", font  # embedded CFF: no viewer font needed
        assert font.is_subset, font
        assert font.program_names == packaged_cff_names, font
        assert 20 < font.glyphs < 400, font  # only the glyphs this certificate uses


def test_a_long_certificate_stays_small() -> None:
    """Every field long and full of distinct characters: still far under 500 KB."""
    many = "".join(chr(c) for c in range(0x5803, 0x5803 + 60))
    data = render_certificate_pdf(
        _text(
            "林堃喆" + many[:20],
            branch="高雄市苓雅區四維三路分行" + many[20:40],
            employee_id="E-" + "9" * 30,
            verify_url="https://academy.example.tw/verify/" + "MLA-2222-3333-4444-5555" * 3,
        )
    )
    assert len(data) < 500_000, len(data)


def test_the_qr_code_of_the_verification_link_is_drawn() -> None:
    """Every dark run of the link's QR modules is one filled rectangle (plus two borders)."""
    for link in ("https://a.tw/v/MLA-1", _text().verify_url):
        reader = PdfReader(io.BytesIO(render_certificate_pdf(_text(verify_url=link))))
        page = reader.pages[0]
        operations = ContentStream(page.get_contents(), reader).operations
        rectangles = sum(1 for _, operator in operations if operator == b"re")
        assert rectangles == 2 + len(dark_runs(qr_rows(link))), link


def test_a_bad_font_setting_falls_back_to_the_packaged_font(tmp_path: Path, caplog) -> None:
    assert font_path(None) == PACKAGED_FONT
    assert font_path(str(tmp_path / "missing.ttf")) == PACKAGED_FONT
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    data = render_certificate_pdf(_text(), str(broken))
    assert "林堃喆" in pdf_text(data)
    assert "cannot be embedded" in caplog.text


def test_a_configured_font_without_chinese_borrows_from_the_packaged_one(tmp_path: Path) -> None:
    latin = TTFont(PACKAGED_FONT)
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=range(0x20, 0x7F))
    subsetter.subset(latin)
    latin["name"].setName("Latin Only", 1, 3, 1, 0x409)
    latin["name"].setName("Latin Only", 4, 3, 1, 0x409)
    path = tmp_path / "latin.otf"
    latin.save(str(path))
    data = render_certificate_pdf(_text("陳犇焜"), str(path))
    assert "陳犇焜" in pdf_text(data) and "MLA-2222-3333-4444-5555" in pdf_text(data)
    fonts = pdf_fonts(data)
    assert len(fonts) == 2 and all(f.is_subset and f.file_key for f in fonts), fonts
    assert any("LatinOnly" in f.base_font for f in fonts), fonts


def test_a_missing_packaged_font_says_what_to_do(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr("courseware.certification.pdf.PACKAGED_FONT", tmp_path / "gone.otf")
    with pytest.raises(FontUnavailable, match="reinstall"):
        render_certificate_pdf(_text())


# The bare machine: a process whose fontconfig knows no font at all, and no
# COURSEWARE_PDF_FONT. It signs in as a certified learner named 林堃喆 and downloads the
# PDF through the route; this process then reads what came back.
FRESH_MACHINE = r"""
import json, sys
from datetime import timedelta
from pathlib import Path

from courseware import certification, create_app
from courseware.core import clock
from courseware.ops import migrate
from courseware.core.db import make_engine
from courseware.core.models import Certificate
from tests.conftest import login, make_user

folder = Path(sys.argv[1])
url = f"sqlite:///{folder / 'fresh.db'}"
engine = make_engine(url)
migrate.upgrade(engine)
engine.dispose()
app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "fresh",
                  "INSTANCE_PATH": str(folder / "instance")})
with app.extensions["courseware.core.db"].sessions() as session:
    user = make_user(session, "rare", display_name="林堃喆")
    now = clock.utcnow()
    code = certification.new_code()
    session.add(Certificate(user_id=user.id, cycle=1, code=code, kind="earned",
                            issued_at=now, expires_at=now + timedelta(days=365)))
    session.commit()
client = app.test_client()
login(client, "rare")
response = client.get(f"/certificate/{code}/pdf")
(folder / "certificate.pdf").write_bytes(response.data)
print(json.dumps({"status": response.status_code, "mimetype": response.mimetype,
                  "code": code, "pdf_font": app.config.get("PDF_FONT")}))
"""


def _no_font_environment(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEWARE_")}
    env.update(FONTCONFIG_FILE=str(config), FONTCONFIG_PATH=str(tmp_path), HOME=str(tmp_path))
    return env


def test_fresh_machine_route_gives_the_pdf_without_any_system_font(
    tmp_path: Path, packaged_cff_names: tuple[str, ...]
) -> None:
    env = _no_font_environment(tmp_path)
    if shutil.which("fc-list"):
        seen = subprocess.run(["fc-list"], env=env, capture_output=True, text=True, check=True)
        assert seen.stdout.strip() == "", "the empty fontconfig still lists fonts"
    run = subprocess.run(
        [sys.executable, "-c", FRESH_MACHINE, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["pdf_font"] is None
    assert result["status"] == 200 and result["mimetype"] == "application/pdf", result
    data = (tmp_path / "certificate.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and len(data) < 500_000
    text = pdf_text(data)
    assert "林堃喆" in text and "微貸授信人員結業證書" in text and result["code"] in text
    fonts = pdf_fonts(data)
    assert fonts and all(
        f.is_subset and f.file_key == "/FontFile3" and f.program_names == packaged_cff_names
        for f in fonts
    ), fonts


@pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdffonts, pdftotext) not installed: apt-get install poppler-utils "
    "(.ci/run does); the pure-Python checks above ran",
)
def test_poppler_sees_embedded_subsets_and_the_name_without_system_fonts(tmp_path: Path) -> None:
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(render_certificate_pdf(_text("陳犇焜")))
    env = _no_font_environment(tmp_path)
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], env=env, capture_output=True, text=True, check=True
    ).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    for row in rows:
        name, rest = row.split(None, 1)
        assert name.split("+")[0].isupper() and "+" in name, fonts
        assert " yes yes yes " in f" {rest} ", fonts  # embedded, subset, with ToUnicode
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "陳犇焜" in text and "微貸授信人員結業證書" in text
