"""The README shows screenshots the browser tests took: at least eight pages, both sizes."""

from __future__ import annotations

import re

from tests.browser.conftest import ROOT, SCREENSHOTS


def test_readme_shows_the_screenshots_of_both_sizes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(
        r"!\[[^\]]*\]\((docs/screenshots/([a-z0-9-]+)-(desktop|phone)\.png)\)", readme
    )
    pages = {page for _path, page, _size in shown}
    assert len(pages) >= 8, pages
    for page in pages:
        for size in ("desktop", "phone"):
            image = SCREENSHOTS / f"{page}-{size}.png"
            assert image.is_file(), (
                f"{image} is missing: python -m pytest tests/browser --update-screenshots"
            )
            assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
