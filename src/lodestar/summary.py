"""What a finished run of the reference products produced, for people: the demo's summary.

Reads only what the run left behind: the Spark jobs' statistics, the published measures, the
warehouse tables, and the lineage file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lodestar.measures import read_published
from lodestar.plan import ProductPlan
from lodestar.warehouse import connect, query, readable, relation_sql


@dataclass(frozen=True)
class Oversize:
    """Baskets over the affinity job's maxBasketSize, as its statistics report them."""

    baskets: int
    policy: str
    max_basket_size: int
    largest_order: str | None
    largest_items: int | None

    @classmethod
    def from_stats(cls, report: dict[str, Any]) -> Oversize:
        largest = report.get("largest") or [{}]
        return cls(
            baskets=int(report["baskets"]),
            policy=str(report["policy"]),
            max_basket_size=int(report["max_basket_size"]),
            largest_order=largest[0].get("order_id"),
            largest_items=largest[0].get("distinct_items"),
        )


@dataclass
class RunSummary:
    rows_in: int | None = None
    rows_kept: int | None = None
    quarantined: dict[str, int] = field(default_factory=dict)
    orders: int | None = None  # orders the ingest wrote
    baskets: int | None = None  # baskets the affinity job counted, after any oversize exclusion
    oversize: Oversize | None = None
    pairs: int | None = None
    rules: int | None = None
    top_recommendations: list[dict[str, Any]] = field(default_factory=list)
    north_star: dict[str, Any] | None = None
    lineage_target: str = ""
    lineage_events: int | None = None


def _stats(plan: ProductPlan, step: str) -> dict[str, Any]:
    path = plan.stats_path(step)
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def summarise(orders_plan: ProductPlan, affinity_plan: ProductPlan, top: int = 5) -> RunSummary:
    """Summary of one run of an ingest product and an affinity product."""
    summary = RunSummary()
    for step in orders_plan.product.build.steps:
        if step.type == "spark":
            stats = _stats(orders_plan, step.name)
            summary.rows_in = stats.get("rows_in")
            summary.rows_kept = stats.get("rows_kept")
            summary.quarantined = dict(stats.get("reasons", {}))
            summary.orders = stats.get("orders")
    for step in affinity_plan.product.build.steps:
        if step.type == "spark":
            stats = _stats(affinity_plan, step.name)
            summary.baskets = stats.get("total_baskets")
            summary.pairs = stats.get("pairs_counted")
            summary.rules = stats.get("pair_rules")
            if stats.get("oversize"):
                summary.oversize = Oversize.from_stats(stats["oversize"])
    recommendations = affinity_plan.outputs.get("cross_sell_recommendations")
    products = orders_plan.outputs.get("products")
    if recommendations and products and readable(affinity_plan, recommendations):
        with connect(affinity_plan) as con:
            rows = query(
                con,
                f"SELECT r.product_id, a.description, r.recommended_product_id, b.description, "
                f"r.lift, r.confidence FROM {relation_sql(recommendations)} r "
                f"LEFT JOIN {relation_sql(products)} a ON a.product_id = r.product_id "
                f"LEFT JOIN {relation_sql(products)} b ON b.product_id = r.recommended_product_id "
                "WHERE r.rank = 1 ORDER BY r.lift DESC, r.confidence DESC, r.product_id "
                f"LIMIT {top}",
            )
        summary.top_recommendations = [
            {
                "product": p,
                "description": d,
                "recommended": rp,
                "recommended_description": rd,
                "lift": lift,
                "confidence": conf,
            }
            for p, d, rp, rd, lift, conf in rows
        ]
    published = read_published(affinity_plan) or {}
    summary.north_star = published.get("north_star")
    settings = affinity_plan.settings
    if settings.lineage_url:
        summary.lineage_target = f"{settings.lineage_url} (spool: {settings.spool_dir})"
    elif settings.lineage_file is not None:
        summary.lineage_target = str(settings.lineage_file)
        summary.lineage_events = _count_lines(settings.lineage_file)
    return summary


def _count_lines(path: Path) -> int | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())
