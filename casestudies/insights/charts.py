"""Charts drawn on the server as SVG (templates/insights/_chart.html draws them): the
geometry is worked out here, so a template only places shapes. Every chart is shown
with a table of the same figures beside it, for screen readers and for reading off."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 220
BAR_HEIGHT = 20
BAR_GAP = 6
COLUMN_HEIGHT = 160
MAX_LABEL = 32


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= MAX_LABEL else self.label[: MAX_LABEL - 1] + "…"


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str  # "searches", "reads": in each bar's tooltip
    bars: tuple[Bar, ...]
    width: int
    height: int
    kind: str  # "bars" (horizontal, labelled) or "columns" (one a day, left to right)

    @property
    def maximum(self) -> int:
        return max((bar.value for bar in self.bars), default=0)


def bar_chart(title: str, unit: str, rows: list[tuple[str, int]]) -> Chart:
    """Horizontal bars, one a row, longest for the largest value."""
    top = max((value for _, value in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 50  # room for the value after the bar
    bars = tuple(
        Bar(label, value, LABEL_WIDTH, n * (BAR_HEIGHT + BAR_GAP), span * value / top, BAR_HEIGHT)
        for n, (label, value) in enumerate(rows)
    )
    return Chart(title, unit, bars, WIDTH, max(1, len(bars) * (BAR_HEIGHT + BAR_GAP)), "bars")


def column_chart(title: str, unit: str, rows: list[tuple[str, int]]) -> Chart:
    """A column a row (a day), left to right, tallest for the largest value."""
    top = max((value for _, value in rows), default=0) or 1
    step = WIDTH / max(1, len(rows))
    bars = tuple(
        Bar(
            label,
            value,
            n * step,
            COLUMN_HEIGHT - COLUMN_HEIGHT * value / top,
            max(1.0, step * 0.8),
            COLUMN_HEIGHT * value / top,
        )
        for n, (label, value) in enumerate(rows)
    )
    return Chart(title, unit, bars, WIDTH, COLUMN_HEIGHT, "columns")
