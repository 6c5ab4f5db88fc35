"""Server-side SVG charts: no script, no inline styles; CSS classes carry the look.

The loan path chart draws, month by month, the household's cash (a line), the
amount due and the amount paid (bars) and, in a lower panel, the days past due;
numbered markers show the months where something happened. The page lists the
same data as a table below the chart, so nothing depends on seeing it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 400  # the viewBox is small so the text stays readable on a 375 px phone
HEIGHT = 380
LEFT, RIGHT = 50, 8
MARKER_ROWS = (10, 28)  # events in neighbouring months alternate between two rows
PAYMENTS = (62, 142)  # top and bottom of each panel
CASH = (172, 247)
DPD = (277, 335)
AXIS_Y = 352


@dataclass(frozen=True)
class ChartText:
    """The chart's translated words."""

    title: str
    description: str
    payments: str  # the panels' labels
    cash: str
    dpd: str
    month: str  # the x axis label
    never_late: str = ""  # written in the days-past-due panel when it would stay empty


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 3) -> list[float]:
    """Round tick values covering [low, high] in about ``count`` steps (0 included)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [k * step for k in range(first, last + 1)]


def event_markers(months: Sequence[int]) -> dict[int, int]:
    """Month -> marker number (1, 2, ...) for the months that have events, in order."""
    return {month: i for i, month in enumerate(sorted(set(months)), start=1)}


class _Panel:
    """One horizontal band of the chart with its own vertical scale."""

    def __init__(self, band: tuple[int, int], ticks: list[float]):
        self.top, self.bottom = band
        self.ticks = ticks
        self.low, self.high = ticks[0], ticks[-1]

    def y(self, value: float) -> float:
        share = (value - self.low) / ((self.high - self.low) or 1)
        return self.bottom - share * (self.bottom - self.top)

    def axis(self, label: str, fmt: Callable[[float], str]) -> list[str]:
        parts = [
            f'<text class="chart-label chart-label-panel" x="{LEFT}" y="{self.top - 10}">'
            f"{escape(label)}</text>"
        ]
        for tick in self.ticks:
            ty = _fmt(self.y(tick))
            kind = "chart-zero" if tick == 0 else "chart-grid"
            parts.append(
                f'<line class="{kind}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty}" y2="{ty}"/>'
            )
            parts.append(
                f'<text class="chart-label chart-label-y" x="{LEFT - 4}" y="{ty}">'
                f"{escape(fmt(tick))}</text>"
            )
        return parts


def _never_late(text: ChartText, dpd: Sequence[int]) -> list[str]:
    """A note in the days-past-due panel when the loan was never late (else it looks empty)."""
    if not text.never_late or max(dpd, default=0) > 0:
        return []
    return [
        f'<text class="chart-label chart-note" x="{_fmt((LEFT + WIDTH - RIGHT) / 2)}" '
        f'y="{_fmt((DPD[0] + DPD[1]) / 2)}">{escape(text.never_late)}</text>'
    ]


def path_chart(
    cash: Sequence[float],
    due: Sequence[float],
    paid: Sequence[float],
    dpd: Sequence[int],
    event_months: Sequence[int],
    text: ChartText,
    money: Callable[[float], str],
    chart_id: str = "path-chart",
) -> Markup:
    """The month-by-month path of one loan as an accessible SVG."""
    months = len(cash)
    span = max(months, 1)
    step = (WIDTH - LEFT - RIGHT) / (span + 1)  # month 0 (disbursement) sits at the left

    def x(month: float) -> float:
        return LEFT + step * (month + 0.5)

    payments = _Panel(PAYMENTS, nice_ticks(0, max([1.0, *due, *paid])))
    wealth = _Panel(CASH, nice_ticks(min([0.0, *cash]), max([1.0, *cash])))
    days = _Panel(DPD, [0, 90] if max(dpd, default=0) <= 90 else [0, 90, max(dpd)])
    parts: list[str] = [
        f'<svg class="chart path-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" focusable="false">',
        f'<title id="{chart_id}-title">{escape(text.title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(text.description)}</desc>',
    ]
    parts += payments.axis(text.payments, money) + wealth.axis(text.cash, money)
    parts += days.axis(text.dpd, lambda v: str(int(v))) + _never_late(text, dpd)
    bar = max(step * 0.38, 1.0)
    for m in range(1, months + 1):
        for series, left, kind in ((due, x(m) - bar, "chart-due"), (paid, x(m), "chart-paid")):
            value = series[m - 1]
            if value > 0:
                top = payments.y(value)
                parts.append(
                    f'<rect class="{kind}" x="{_fmt(left)}" y="{_fmt(top)}" width="{_fmt(bar)}" '
                    f'height="{_fmt(max(payments.y(0) - top, 0.5))}"/>'
                )
        if dpd[m - 1] > 0:
            top = days.y(dpd[m - 1])
            parts.append(
                f'<rect class="chart-dpd" x="{_fmt(x(m) - bar)}" y="{_fmt(top)}" '
                f'width="{_fmt(2 * bar)}" height="{_fmt(days.y(0) - top)}"/>'
            )
    points = " ".join(f"{_fmt(x(m))},{_fmt(wealth.y(cash[m - 1]))}" for m in range(1, months + 1))
    if points:
        parts.append(f'<polyline class="chart-cash" points="{points}"/>')
        parts += [
            f'<circle class="chart-cash-point" cx="{_fmt(x(m))}" '
            f'cy="{_fmt(wealth.y(cash[m - 1]))}" r="1.8"/>'
            for m in range(1, months + 1)
        ]
    every = max(1, math.ceil(span / 8))
    for m in range(0, months + 1):
        if m % every == 0 or m == months:
            parts.append(
                f'<text class="chart-label chart-label-x" x="{_fmt(x(m))}" y="{AXIS_Y}">{m}</text>'
            )
    parts.append(
        f'<text class="chart-label chart-label-axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 4}">'
        f"{escape(text.month)}</text>"
    )
    # Event markers: numbered flags at the top, a dashed line down through the panels.
    previous, row = -10.0, 1
    for month, number in event_markers(event_months).items():
        row = 1 - row if x(month) - previous < 20 else 0
        previous = x(month)
        mx, my = _fmt(x(month)), MARKER_ROWS[row]
        parts.append(
            f'<g class="chart-event"><line class="chart-event-line" x1="{mx}" x2="{mx}" '
            f'y1="{my + 8}" y2="{DPD[1]}"/>'
            f'<circle class="chart-event-dot" cx="{mx}" cy="{my}" r="8"/>'
            f'<text class="chart-event-number" x="{mx}" y="{my}">{number}</text></g>'
        )
    parts.append("</svg>")
    # Built from numbers and escaped text only.
    return Markup("".join(parts))  # noqa: S704  # nosec B704
