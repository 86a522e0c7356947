"""Publication of a product's measures and North Star Metric after a run.

The values are read from the outputs the manifest names for each measure, recorded in
``<home>/measures/<product>.json`` (read by the CLI summary and the UI page) and reported to
lineage. The NSM's target and direction come from the manifest that declares it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.manifest.model import Direction
from lodestar.warehouse import connect, query, quote, readable, relation_sql

if TYPE_CHECKING:
    from lodestar.manifest.model import Measure, NorthStarMetric
    from lodestar.plan import ProductPlan

log = logging.getLogger(__name__)


def published_path(plan: ProductPlan) -> Path:
    return plan.settings.home / "measures" / f"{plan.name}.json"


def gap(value: float | None, target: float) -> float | None:
    """Signed distance to target: positive means ahead of it in the metric's direction."""
    return None if value is None else value - target


def on_track(value: float | None, target: float, direction: Direction) -> bool | None:
    if value is None:
        return None
    if direction is Direction.DECREASE:
        return value <= target
    if direction is Direction.MAINTAIN:
        return abs(value - target) <= abs(target) * 0.05
    return value >= target


def _history(con: Any, plan: ProductPlan, measure: Measure) -> list[dict[str, Any]] | None:
    output = plan.outputs.get(measure.output)
    if output is not None and output.output.role == "quarantine":
        # NOTE: a share of the rows read needs the rows read, which only the job's stats hold
        return _rejected_share(plan)
    if output is None or not readable(plan, output):
        return None
    columns = {c.name for c in output.output.columns}
    source = relation_sql(output)
    value = quote(measure.column)
    if "period" in columns:
        rows = query(con, f"SELECT period, {value} FROM {source} ORDER BY period")
        return [{"period": str(p), "value": _num(v)} for p, v in rows]
    rows = query(con, f"SELECT {value} FROM {source} LIMIT 1")
    return [{"period": None, "value": _num(rows[0][0])}] if rows else []


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _rejected_share(plan: ProductPlan) -> list[dict[str, Any]] | None:
    for step in plan.product.build.steps:
        stats_file = plan.stats_path(step.name)
        if step.type == "spark" and stats_file.exists():
            stats = json.loads(stats_file.read_text(encoding="utf-8"))
            rows_in = stats.get("rows_in")
            rejected = stats.get("rows_quarantined")
            if rows_in:
                return [{"period": None, "value": rejected / rows_in}]
    return None


def _north_star(nsm: NorthStarMetric, history: list[dict[str, Any]]) -> dict[str, Any]:
    known = [h for h in history if h["value"] is not None]
    latest = known[-1] if known else {"period": None, "value": None}
    return {
        "id": nsm.id,
        "name": nsm.name,
        "unit": nsm.unit,
        "direction": nsm.direction.value,
        "target": nsm.target,
        "period": latest["period"],
        "value": latest["value"],
        "gap": gap(latest["value"], nsm.target),
        "on_track": on_track(latest["value"], nsm.target, nsm.direction),
        "history_length": len(history),
        "history": history,
    }


def publish_measures(plan: ProductPlan) -> dict[str, Any]:
    """Read every measure of the product (and its NSM) and record them."""
    business = plan.product.business
    measures: dict[str, Any] = {}
    with connect(plan) as con:
        for measure in business.measures:
            history = _history(con, plan, measure)
            if history is None:
                log.info("measure %s not readable here; left out of the publication", measure.name)
                continue
            measures[measure.name] = {"unit": measure.unit, "history": history}
    published: dict[str, Any] = {
        "product": plan.name,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "measures": measures,
        "goals": [
            {
                "id": goal.id,
                "measure": goal.measure,
                "baseline": goal.baseline,
                "target": goal.target,
                "direction": goal.direction.value,
            }
            for goal in business.goals
        ],
    }
    nsm = business.north_star
    if nsm is not None and nsm.measure in measures:
        published["north_star"] = _north_star(nsm, measures[nsm.measure]["history"])
    path = published_path(plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(published, indent=2), encoding="utf-8")
    log.info("published %d measures of %s to %s", len(measures), plan.name, path)
    return published


def read_published(plan: ProductPlan) -> dict[str, Any] | None:
    path = published_path(plan)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
