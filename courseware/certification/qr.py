"""The certificate's QR code (its verification link), for the PDF and the printable page.

segno encodes; both the PDF and the page draw the same modules, so the two certificates
carry the same code. The quiet zone (four modules round the symbol) is left to the caller.
"""

from __future__ import annotations

from html import escape

QUIET_ZONE = 4


def qr_rows(text: str) -> list[list[bool]]:
    """The QR code's modules, row by row from the top; True is dark."""
    import segno  # imported when a certificate is drawn

    symbol = segno.make(text, error="m", micro=False)
    return [[bool(module) for module in row] for row in symbol.matrix]


def dark_runs(rows: list[list[bool]]) -> list[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append((y, start, x - start))
    return runs


def qr_svg(text: str, label: str) -> str:
    """An inline SVG of the QR code with its quiet zone, named by ``label`` for screen readers."""
    rows = qr_rows(text)
    size = len(rows) + 2 * QUIET_ZONE
    path = "".join(
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h{length}v1h-{length}z"
        for y, x, length in dark_runs(rows)
    )
    return (
        f'<svg class="qr-code" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )
