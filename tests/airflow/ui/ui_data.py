"""The state the UI tests put behind the page: manifests, runs, published measures, statuses.

Until a full DAG run feeds the page, the tests write what a run would leave: the measures JSON
that ``publish_measures`` writes, the dbt table of hypothesis statuses, and the task states.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[3]

PERIODS = [f"2011-{m:02d}" for m in range(4, 13)]
ATTACH_RATE = [0.512, 0.547, 0.561, 0.538, 0.574, 0.596, 0.611, 0.627, 0.605]
BASKET_BREADTH = [21.2, 22.0, 22.4, 21.9, 23.1, 24.6, 25.3, 26.8, 25.9]
REVENUE_PER_ORDER = [455.1, 470.3, 468.0, 480.2, 497.5, 512.3, 530.8, 548.1, 541.0]
PUBLISHED_AT = "2026-12-04T12:00:00+00:00"

#: rows of product_affinity.hypothesis_status; emails-raise-breadth has no row (unknown)
STATUS_ROWS = [("fbt-raises-attach", 0.605, True), ("bundles-raise-revenue", 541.0, False)]

AFFINITY_RUN = "ui-affinity-run"
ORDERS_RUN = "ui-orders-run"
LOGICAL_DATE = "2024-07-01T00:00:00Z"

#: a credential written into an input URI of the test copy of retail-orders: it must never show
ARCHIVE_USER, ARCHIVE_PASSWORD = "archive-reader", "archive-pass-9"
ARCHIVE_URI = f"s3a://{ARCHIVE_USER}:{ARCHIVE_PASSWORD}@retail-archive/online_retail.parquet"
#: markup written into a manifest text: the page must show it as text
MARKUP = "<script>alert('lodestar')</script>"
#: Marquez web address given to the server, with a credential that must never be shown
MARQUEZ_USER, MARQUEZ_PASSWORD = "marquez-user", "marquez-pass-7"
MARQUEZ_WEB = f"http://{MARQUEZ_USER}:{MARQUEZ_PASSWORD}@127.0.0.1:3000"
#: a broken manifest: line 8 misspells ``domain``
BROKEN_FILE, BROKEN_LINE = "retail-returns.yaml", 8


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def write_manifests(folder: Path) -> Path:
    """The reference manifests (retail-orders reading from a URI with a credential and with
    markup in its purpose) and one broken manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "manifests" / "product-affinity.yaml", folder)
    orders = (REPO / "manifests" / "retail-orders.yaml").read_text(encoding="utf-8")
    changed = _replace_once(orders, "uri: data/online-retail/online_retail.parquet", "uri: X")
    changed = _replace_once(changed, "    Clean, deduplicated", f"    {MARKUP} Clean, deduplicated")
    (folder / "retail-orders.yaml").write_text(
        changed.replace("uri: X", f"uri: {ARCHIVE_URI}"), encoding="utf-8"
    )
    broken = _replace_once(orders, "name: retail-orders", "name: retail-returns")
    broken = _replace_once(broken, "\n  domain: sales", "\n  domian: sales")
    assert broken.splitlines()[BROKEN_LINE - 1] == "  domian: sales"
    (folder / BROKEN_FILE).write_text(broken, encoding="utf-8")
    return folder


def history(values: list[float]) -> list[dict[str, Any]]:
    return [{"period": p, "value": v} for p, v in zip(PERIODS, values, strict=True)]


def write_measures(home: Path) -> Path:
    """``<home>/measures/product-affinity.json`` as ``publish_measures`` writes it."""
    published = {
        "product": "product-affinity",
        "published_at": PUBLISHED_AT,
        "measures": {
            "attach_rate": {"unit": "ratio", "history": history(ATTACH_RATE)},
            "basket_breadth": {"unit": "products per order", "history": history(BASKET_BREADTH)},
            "revenue_per_order": {"unit": "GBP", "history": history(REVENUE_PER_ORDER)},
        },
        "goals": [],
        "north_star": {
            "id": "cross-sell-attach-rate",
            "name": "Cross-sell attach rate",
            "unit": "ratio",
            "direction": "increase",
            "target": 0.6,
            "period": PERIODS[-1],
            "value": ATTACH_RATE[-1],
            "gap": ATTACH_RATE[-1] - 0.6,
            "on_track": True,
            "history_length": len(PERIODS),
            "history": history(ATTACH_RATE),
        },
    }
    path = home / "measures" / "product-affinity.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(published, indent=2), encoding="utf-8")
    return path


def write_statuses(warehouse: Path) -> None:
    """The dbt table ``product_affinity.hypothesis_status`` in the DuckDB warehouse."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS product_affinity")
        con.execute(
            "CREATE OR REPLACE TABLE product_affinity.hypothesis_status "
            "(hypothesis_id VARCHAR, latest_value DOUBLE, moved_as_predicted BOOLEAN)"
        )
        con.executemany(
            "INSERT INTO product_affinity.hypothesis_status VALUES (?, ?, ?)", STATUS_ROWS
        )
    finally:
        con.close()
