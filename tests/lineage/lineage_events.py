"""The events of one run of both reference products, built from their plans.

Statistics, quality results and published measures are what the jobs record after a run; here
they are written as files where the plan says the jobs write them, with figures that satisfy
the jobs' invariants (rows in = rows kept + sum of reasons), so the stats-reading path is the
real one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lodestar.lineage.emit import product_events, run_lineage
from lodestar.lineage.transport import serialize
from lodestar.manifest import load_folder
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import Settings, load_settings, with_overrides

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = REPO_ROOT / "manifests"
SOURCE = REPO_ROOT / "data" / "online-retail" / "online_retail.parquet"
PRODUCTS = ("retail-orders", "product-affinity")  # upstream first, as a run goes
LOGICAL_DATE = datetime(2011, 12, 1, tzinfo=UTC)
INGEST_OUTPUTS = ("order_lines", "orders", "products", "quarantine")

REASONS = {"cancellation": 9288, "non_product_code": 2917, "duplicate_line": 5268}
#: the shape the ingest job writes (lodestar.jobs.ingest); "outputs" are filled with locations
INGEST_STATS: dict[str, Any] = {
    "job": "ingest",
    "product": "retail-orders",
    "status": "succeeded",
    "interval": None,
    "rows_in": 541909,
    "rows_kept": 541909 - sum(REASONS.values()),
    "rows_quarantined": sum(REASONS.values()),
    "reasons": REASONS,
    "rejected_share": round(sum(REASONS.values()) / 541909, 6),
    "max_rejected_share": 0.1,
    "outputs": {},
    "products": 3931,
    "orders": 20541,
}
AFFINITY_STATS: dict[str, Any] = {
    "job": "affinity",
    "product": "product-affinity",
    "outputs": {
        "item_support": {"rows": 3931},
        "pair_rules": {"rows": 412},
        "period_rules": {"rows": 3518},
        "order_attach": {"rows": 20541},
    },
}
QUALITY: dict[str, list[dict[str, Any]]] = {
    "retail-orders": [
        {"name": "orders_present", "output": "orders", "success": True, "observed": 20541},
        {"name": "order_ids_unique", "output": "orders", "success": True, "observed": 0},
        {"name": "lines_have_products", "output": "order_lines", "success": True, "observed": 0},
        {"name": "quantities_positive", "output": "order_lines", "success": True, "observed": 0},
    ],
    "product-affinity": [
        {"name": "rules_present", "output": "pair_rules", "success": True, "observed": 412},
        {"name": "confidence_in_range", "output": "pair_rules", "success": True, "observed": 0},
        {"name": "nsm_in_range", "output": "nsm_history", "success": False, "observed": 1},
    ],
}
NSM_HISTORY = [
    {"period": "2011-01", "value": None},
    {"period": "2011-10", "value": 0.55},
    {"period": "2011-11", "value": 0.62},
]
#: the shape the measure step publishes (lodestar.measures.publish_measures)
PUBLISHED: dict[str, Any] = {
    "product": "product-affinity",
    "published_at": "2011-12-01T06:00:00+00:00",
    "measures": {
        "attach_rate": {"unit": "ratio", "history": NSM_HISTORY},
        "basket_breadth": {
            "unit": "products per order",
            "history": [{"period": "2011-10", "value": 23.5}, {"period": "2011-11", "value": 25.0}],
        },
        "revenue_per_order": {
            "unit": "GBP",
            "history": [
                {"period": "2011-10", "value": 470.0},
                {"period": "2011-11", "value": 560.0},
            ],
        },
    },
    "goals": [
        {"id": "raise-attach-rate", "measure": "attach_rate", "baseline": 0.5, "target": 0.6},
        {
            "id": "raise-basket-breadth",
            "measure": "basket_breadth",
            "baseline": 24.0,
            "target": 28.0,
        },
        {
            "id": "raise-revenue-per-order",
            "measure": "revenue_per_order",
            "baseline": 480.0,
            "target": 550.0,
        },
    ],
    "north_star": {
        "id": "cross-sell-attach-rate",
        "period": "2011-11",
        "value": 0.62,
        "target": 0.6,
        "gap": 0.02,
        "on_track": True,
        "history_length": 3,
        "history": NSM_HISTORY,
    },
}


def settings_under(home: Path) -> Settings:
    """Settings under ``home``, independent of the environment and of compiled dbt artifacts."""
    settings = load_settings(home=home, manifests_dir=MANIFESTS)
    return with_overrides(
        settings,
        lake_root=str(home / "lake"),
        warehouse=home / "warehouse.duckdb",
        lineage_file=home / "lineage" / "events.jsonl",
        lineage_url=None,
        lineage_namespace="lodestar",
        lineage_disabled=False,
        dbt_project_dir=home / "dbt_project",
        dbt_target="duckdb",
    )


def reference_plans(settings: Settings) -> dict[str, ProductPlan]:
    catalog = load_folder(settings.manifests_dir)
    assert not catalog.errors, catalog.errors
    return {
        name: plan_product(catalog.products[name], catalog.products, settings) for name in PRODUCTS
    }


def record_run(plans: dict[str, ProductPlan]) -> None:
    """Write the files the jobs and checks write after a run, where the plans say."""
    ingest = plans["retail-orders"]
    locations = {name: ingest.outputs[name].location for name in INGEST_OUTPUTS}
    files = {
        ("retail-orders", "ingest"): INGEST_STATS | {"outputs": locations},
        ("retail-orders", "checks"): QUALITY["retail-orders"],
        ("product-affinity", "affinity"): AFFINITY_STATS,
        ("product-affinity", "checks"): QUALITY["product-affinity"],
    }
    for (product, step), content in files.items():
        path = plans[product].stats_path(step)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")


def reference_events(settings: Settings) -> list[Any]:
    """RunEvents of one recorded run of both products (upstream first)."""
    plans = reference_plans(settings)
    record_run(plans)
    events: list[Any] = []
    for name in PRODUCTS:
        published = PUBLISHED if name == "product-affinity" else None
        lineage = run_lineage(plans[name], published)
        events += product_events(plans[name], lineage, logical_date=LOGICAL_DATE)
    return events


def as_dicts(events: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(serialize(e)) for e in events]
