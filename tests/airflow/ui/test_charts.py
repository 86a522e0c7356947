"""Line charts as SVG: scales with round ticks, the target line, points coloured by direction."""

from __future__ import annotations

import re

import pytest

from lodestar.airflow.ui.charts import (
    BOTTOM,
    HEIGHT,
    TOP,
    line_chart,
    nice_step,
    value_scale,
    x_positions,
)
from lodestar.airflow.ui.models import Point
from lodestar.manifest.model import Direction

pytestmark = pytest.mark.unit

ATTACH = [0.512, 0.547, 0.561, 0.538, 0.574, 0.596, 0.611, 0.627, 0.605]


def points(values: list[float | None]) -> list[Point]:
    return [Point(period=f"2011-{i + 4:02d}", value=v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("span", "step"), [(0.15, 0.05), (1.0, 0.25), (7.0, 2.0), (95.0, 25.0), (400.0, 100.0)]
)
def test_steps_are_round(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_scale_covers_values_and_target_with_round_ticks() -> None:
    scale = value_scale([*ATTACH, 0.6])

    assert scale.ticks == (0.5, 0.55, 0.6, 0.65)
    assert scale.y(0.5) == HEIGHT - BOTTOM
    assert scale.y(0.65) == TOP
    # pixels are rounded to 1/100: 200 - (0.1 / 0.15) * 184 = 77.333...
    assert scale.y(0.6) == round(HEIGHT - BOTTOM - (0.1 / 0.15) * (HEIGHT - TOP - BOTTOM), 2)
    assert scale.y(0.6) == 77.33


def test_a_flat_series_still_gets_a_range() -> None:
    assert value_scale([5.0, 5.0]).ticks == (4.5, 4.75, 5.0, 5.25, 5.5)


def test_periods_are_spread_evenly() -> None:
    assert x_positions(1) == [304.0]
    assert x_positions(3) == [56.0, 304.0, 552.0]


def test_points_meeting_the_target_are_ok_in_the_metrics_direction() -> None:
    up = line_chart(points(ATTACH), title="attach", target=0.6)
    down = line_chart(points(ATTACH), title="attach", target=0.6, direction=Direction.DECREASE)

    assert (up.count('class="point ok"'), up.count('class="point off"')) == (3, 6)
    assert (down.count('class="point ok"'), down.count('class="point off"')) == (6, 3)
    assert 'class="target"' in up
    assert ">target 0.6</text>" in up


def test_the_line_breaks_where_a_period_has_no_value() -> None:
    svg = line_chart(points([0.5, 0.6, None, 0.7]), title="gap")

    lines = re.findall(r'<polyline class="series" points="([^"]+)"/>', svg)
    assert [len(line.split()) for line in lines] == [2, 1]
    assert svg.count("<circle") == 3
    assert 'class="point neutral"' in svg


def test_an_empty_history_says_so() -> None:
    svg = line_chart([], title="nothing yet", target=0.6)

    assert "no values published yet" in svg
    assert "<polyline" not in svg


def test_texts_are_escaped() -> None:
    svg = line_chart(
        [Point(period="<b>", value=1.0)], title='<script>alert("x")</script>', unit="<i>"
    )

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg and "<i>" not in svg
