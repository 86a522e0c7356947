"""Line charts of measure histories as inline SVG, drawn on the server: no script, no CDN.

One chart: values by period (categories, evenly spaced), the target as a dashed line, each
point coloured by whether it meets the target in the measure's direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lodestar.airflow.ui.models import Point
from lodestar.manifest.model import Direction
from lodestar.measures import on_track

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 88, 16, 40
#: room one period label needs, in SVG units (a label like 2011-04 at 11px is about 45 wide)
X_LABEL_ROOM = 64


@dataclass(frozen=True)
class Scale:
    """A linear map from ``[low, high]`` to pixels ``[bottom, top]`` (SVG y grows downwards)."""

    low: float
    high: float
    ticks: tuple[float, ...]
    height: int = HEIGHT

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return round(self.height - BOTTOM - share * (self.height - TOP - BOTTOM), 2)


def nice_step(span: float, count: int = 4) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten giving about ``count`` intervals."""
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power  # NOTE: unreachable, the loop ends at 10


def value_scale(values: Sequence[float], height: int = HEIGHT) -> Scale:
    """Round bounds around all ``values`` (measures and target) with ticks at nice steps."""
    low, high = min(values), max(values)
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step(high - low)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    count = round((end - start) / step)
    ticks = tuple(_round(start + i * step) for i in range(count + 1))
    return Scale(ticks[0], ticks[-1], ticks, height)


def _round(value: float) -> float:
    return float(f"{value:.10g}")


def fmt(value: float) -> str:
    """Up to four significant digits: 0.6, 0.5833, 24.25, 512.3."""
    return f"{value:.4g}"


def x_positions(count: int, width: int = WIDTH) -> list[float]:
    width = width - LEFT - RIGHT
    if count == 1:
        return [LEFT + width / 2]
    return [round(LEFT + i * width / (count - 1), 2) for i in range(count)]


def _segments(xs: list[float], points: Sequence[Point], scale: Scale) -> list[str]:
    """Polyline point lists, broken where a period has no value."""
    segments: list[str] = []
    current: list[str] = []
    for x, point in zip(xs, points, strict=True):
        if point.value is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        current.append(f"{x},{scale.y(point.value)}")
    if current:
        segments.append(" ".join(current))
    return segments


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    target: float | None = None,
    direction: Direction = Direction.INCREASE,
    unit: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """The SVG markup of one chart; an empty history gives a chart saying so."""
    label = escape(title)
    head = (
        f'<svg class="lodestar-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
    )
    known = [p.value for p in points if p.value is not None]
    if not known:
        return (
            f'{head}<text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle">'
            "no values published yet</text></svg>"
        )

    scale = value_scale(known + ([target] if target is not None else []), height)
    xs = x_positions(len(points), width)
    right = width - RIGHT
    parts = [head]
    for tick in scale.ticks:
        y = scale.y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{fmt(tick)}</text>'
        )
    every = math.ceil(len(points) / max(2, (width - LEFT - RIGHT) // X_LABEL_ROOM))
    for index, (x, point) in enumerate(zip(xs, points, strict=True)):
        if index % every == 0 or index == len(points) - 1:
            text = escape(point.period or "")
            parts.append(
                f'<text class="tick" x="{x}" y="{height - BOTTOM + 16}" '
                f'text-anchor="middle">{text}</text>'
            )
    if target is not None:
        y = scale.y(target)
        parts.append(
            f'<line class="target" x1="{LEFT}" x2="{right}" y1="{y}" y2="{y}"/>'
            f'<text class="target-label" x="{right + 6}" y="{y + 4}">'
            f"target {fmt(target)}</text>"
        )
    for segment in _segments(xs, points, scale):
        parts.append(f'<polyline class="series" points="{segment}"/>')
    for x, point in zip(xs, points, strict=True):
        if point.value is None:
            continue
        met = None if target is None else on_track(point.value, target, direction)
        state = "neutral" if met is None else ("ok" if met else "off")
        tip = escape(f"{point.period or ''}: {fmt(point.value)} {unit}".strip())
        parts.append(
            f'<circle class="point {state}" cx="{x}" cy="{scale.y(point.value)}" r="4">'
            f"<title>{tip}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
