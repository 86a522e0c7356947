"""The NSM's and goals' values per period, against their targets, as lineage facets.

The measure step publishes what the dbt models computed; this module turns that into the
``lodestar_measures`` facet (one series per NSM or goal, with value, target, gap and whether it
is on track in each period) and the standard ``dataQualityMetrics`` input facet of each measure
dataset. ``gap`` is value minus target (negative: below target), as the nsm_history model
computes it, unless the published data carries its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from openlineage.client.event_v2 import InputDataset
from openlineage.client.facet_v2 import InputDatasetFacet, data_quality_metrics_input_dataset

from lodestar.lineage.business import Products
from lodestar.lineage.datasets import input_dataset
from lodestar.lineage.facets import (
    MEASURES,
    PRODUCER,
    MeasuresDatasetFacet,
    MeasureSeries,
    PeriodValue,
)
from lodestar.manifest.model import Direction, Measure
from lodestar.plan import ProductPlan

Row = Mapping[str, Any]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _rows(entry: Any) -> list[Row]:
    """A published entry as a list of per-period rows."""
    if isinstance(entry, Mapping):
        for key in ("history", "values", "rows"):
            if isinstance(entry.get(key), Sequence):
                return [r for r in entry[key] if isinstance(r, Mapping)]
        return [entry] if "period" in entry else []
    if isinstance(entry, Sequence) and not isinstance(entry, str):
        return [r for r in entry if isinstance(r, Mapping)]
    return []


def _entry(published: Mapping[str, Any], key: str, wanted: str) -> Any:
    """``published[key]`` entry with id ``wanted``: a dict keyed by id or a list of dicts."""
    section = published.get(key)
    if isinstance(section, Mapping):
        if wanted in section:
            return section[wanted]
        return section if section.get("id") == wanted else None
    if isinstance(section, Sequence):
        return next((e for e in section if isinstance(e, Mapping) and e.get("id") == wanted), None)
    return None


def _series_rows(
    published: Mapping[str, Any],
    measure: Measure,
    series: list[tuple[str, str]],
) -> tuple[list[Row], str]:
    """The rows of one series and the key holding its value in them.

    ``series`` lists (kind, id) pairs to look for, most specific first: the series itself, then
    any other series of the same measure (a goal on the NSM's measure shares its history).
    """
    for kind, series_id in series:
        section = "north_star" if kind == "north-star" else "goals"
        explicit = _entry(published, section, series_id)
        if explicit is not None and _rows(explicit):
            return _rows(explicit), "value"
    by_measure = published.get("measures")
    if isinstance(by_measure, Mapping) and measure.name in by_measure:
        return _rows(by_measure[measure.name]), "value"
    return _rows(published.get(measure.output)), measure.column


def _on_track(value: float | None, target: float | None, direction: Direction) -> bool | None:
    if value is None or target is None or direction is Direction.MAINTAIN:
        return None
    return value >= target if direction is Direction.INCREASE else value <= target


def _period_values(
    rows: list[Row], column: str, target: float | None, direction: Direction
) -> list[PeriodValue]:
    values = []
    for row in rows:
        if row.get("period") is None or column not in row:
            continue  # NOTE: a row without the column says nothing of this measure
        value = _number(row.get(column))
        row_target = _number(row.get("target"))
        goal = row_target if row_target is not None else target
        gap = _number(row.get("gap"))
        if gap is None and value is not None and goal is not None:
            gap = round(value - goal, 12)  # NOTE: no binary noise such as -0.04999999999999993
        on_track = row.get("on_track", row.get("onTrack"))
        values.append(
            PeriodValue(
                period=str(row["period"]),
                value=value,
                target=goal,
                gap=gap,
                onTrack=on_track
                if isinstance(on_track, bool)
                else _on_track(value, goal, direction),
            )
        )
    return sorted(values, key=lambda v: v.period)


def measure_series(
    plan: ProductPlan, published: Mapping[str, Any] | None
) -> dict[str, list[MeasureSeries]]:
    """Series per measure dataset (output name): the NSM and each goal of the manifest.

    ``published`` may give a series as ``north_star`` / ``goals[id]`` entries (``history`` or
    ``values`` lists of ``{period, value, target?, gap?, on_track?}`` rows, or one such row),
    as ``measures[<measure name>]`` rows, or as the rows of the measure's output table
    (``published[<output>]``, e.g. ``nsm_history`` rows keyed by the measure's column).
    """
    business = plan.product.business
    found: dict[str, list[MeasureSeries]] = {}
    published = published or {}
    for measure in business.measures:
        wanted: list[tuple[str, str, str, Direction, float, float | None]] = []
        nsm = business.north_star
        if nsm is not None and nsm.measure == measure.name:
            wanted.append(("north-star", nsm.id, nsm.name, nsm.direction, nsm.target, None))
        for goal in business.goals:
            if goal.measure == measure.name:
                wanted.append(
                    ("goal", goal.id, goal.name, goal.direction, goal.target, goal.baseline)
                )
        for kind, series_id, name, direction, target, baseline in wanted:
            others = [(k, i) for k, i, *_ in wanted if (k, i) != (kind, series_id)]
            rows, column = _series_rows(published, measure, [(kind, series_id), *others])
            values = _period_values(rows, column, target, direction)
            measured = [v for v in values if v.value is not None]
            found.setdefault(measure.output, []).append(
                MeasureSeries(
                    measure=measure.name,
                    kind=kind,
                    id=series_id,
                    values=values,
                    column=measure.column,
                    unit=measure.unit,
                    name=name,
                    direction=direction.value,
                    baseline=baseline,
                    target=target,
                    latest=measured[-1] if measured else None,
                )
            )
    return found


def quality_metrics(
    series: list[MeasureSeries],
) -> data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet | None:
    """Standard metrics of the measure columns over the published periods."""
    columns: dict[str, data_quality_metrics_input_dataset.ColumnMetrics] = {}
    periods: set[str] = set()
    for item in series:
        if item.column is None or item.column in columns or not item.values:
            continue
        periods.update(v.period for v in item.values)
        present = [v.value for v in item.values if v.value is not None]
        columns[item.column] = data_quality_metrics_input_dataset.ColumnMetrics(
            nullCount=len(item.values) - len(present),
            count=float(len(present)),
            min=min(present) if present else None,
            max=max(present) if present else None,
        )
    if not columns:
        return None
    return data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
        columnMetrics=columns, rowCount=len(periods), producer=PRODUCER
    )


def measures_inputs(
    plan: ProductPlan, products: Products, published: Mapping[str, Any] | None
) -> list[InputDataset]:
    """The measure datasets read by the publication step, with their values as facets."""
    by_output = measure_series(plan, published)
    outputs = dict.fromkeys(m.output for m in plan.product.business.measures)
    inputs = []
    for name in outputs:
        if name not in plan.outputs:
            continue
        series = by_output.get(name, [])
        extra = {MEASURES: MeasuresDatasetFacet(measures=series, producer=PRODUCER)}
        input_facets: dict[str, InputDatasetFacet] = {}
        metrics = quality_metrics(series) if published else None
        if metrics is not None:
            input_facets["dataQualityMetrics"] = metrics
        inputs.append(
            input_dataset(
                plan,
                products,
                name,
                input_facets=input_facets,
                extra=extra if series and published else None,
            )
        )
    return inputs
