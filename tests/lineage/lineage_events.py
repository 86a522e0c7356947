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

REASONS = {"cancellation": 9288, "non_product_code": 2917, "duplicate_line": 5268}
INGEST_STATS: dict[str, Any] = {
    "rows_in": 541909,
    "rows_kept": 541909 - sum(REASONS.values()),
    "reasons": REASONS,
    "outputs": {
        "order_lines": {"rows": 541909 - sum(REASONS.values()), "files": 13},
        "orders": {"rows": 20541, "files": 13},
        "products": {"rows": 3931, "files": 1},
        "quarantine": {"rows": sum(REASONS.values()), "files": 14},
    },
}
AFFINITY_STATS: dict[str, Any] = {
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
PUBLISHED: dict[str, Any] = {
    "north_star": {"id": "cross-sell-attach-rate", "history": NSM_HISTORY},
    "goal_measures": [
        {"period": "2011-10", "basket_breadth": 23.5, "revenue_per_order": 470.0},
        {"period": "2011-11", "basket_breadth": 25.0, "revenue_per_order": 560.0},
    ],
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
    files = {
        ("retail-orders", "ingest"): INGEST_STATS,
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
