"""A small lake with the exact schemas the Spark jobs write, for the dbt tests.

Baskets are drawn at random (fixed seed) with planted associations: P01 with P02, and P04
always together with P05, both often with P03, so that P03's two best partners tie on lift
and confidence and only the partner id can order them. The affinity outputs are counted by
brute force over the baskets, the way the job defines them (sets of distinct products, all
valid baskets as the denominator, period rules learned from the trailing periods before).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import permutations
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lodestar import naming
from lodestar.manifest import load_folder
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import Settings, load_settings

PERIODS = ("2011-01", "2011-02", "2011-03", "2011-04", "2011-05")
ORDERS_PER_PERIOD = 24
TRAILING = 3
THRESHOLDS = {"min_support": 0.015, "min_confidence": 0.4, "min_lift": 4.0}
DESCRIPTIONS = {
    "P01": "RED MUG",
    "P02": "RED SAUCER",
    "P03": "GLASS LANTERN",
    "P04": "LANTERN WICK",
    "P05": "LAMP OIL",
    "P06": "PAPER NAPKINS",
    "P07": "TEA TOWEL",
    "P08": "GIFT BAG",
    "P09": "CANDLE",
    "P10": "WRAPPING PAPER",
    "P11": "BIRTHDAY CARD",
    "P12": "RIBBON",
}
PRICES = {pid: round(0.85 + 0.6 * i, 2) for i, pid in enumerate(DESCRIPTIONS)}
UNKNOWN_PERIOD = "unknown"
OVERSIZE_ORDER = "X0001"
FILLERS = ("P06", "P07", "P08", "P09", "P10", "P11", "P12")

STRING, LONG, DOUBLE, BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
TIMESTAMP = pa.timestamp("us")

SCHEMAS: dict[tuple[str, str], pa.Schema] = {
    ("retail-orders", "order_lines"): pa.schema(
        [
            ("order_id", STRING),
            ("line_number", LONG),
            ("product_id", STRING),
            ("description", STRING),
            ("quantity", LONG),
            ("unit_price", DOUBLE),
            ("line_revenue", DOUBLE),
            ("ordered_at", TIMESTAMP),
            ("customer_id", STRING),
            ("country", STRING),
            ("period", STRING),
        ]
    ),
    ("retail-orders", "orders"): pa.schema(
        [
            ("order_id", STRING),
            ("customer_id", STRING),
            ("country", STRING),
            ("ordered_at", TIMESTAMP),
            ("revenue", DOUBLE),
            ("line_count", LONG),
            ("distinct_items", LONG),
            ("period", STRING),
        ]
    ),
    ("retail-orders", "products"): pa.schema(
        [
            ("product_id", STRING),
            ("description", STRING),
            ("first_ordered_at", TIMESTAMP),
            ("last_ordered_at", TIMESTAMP),
            ("order_count", LONG),
        ]
    ),
    ("retail-orders", "quarantine"): pa.schema(
        [
            ("line_number", LONG),
            ("reason", STRING),
            ("detail", STRING),
            ("order_id", STRING),
            ("product_id", STRING),
            ("period", STRING),
        ]
    ),
    ("product-affinity", "item_support"): pa.schema(
        [
            ("product_id", STRING),
            ("basket_count", LONG),
            ("support", DOUBLE),
            ("total_baskets", LONG),
        ]
    ),
    ("product-affinity", "pair_rules"): pa.schema(
        [
            ("antecedent", STRING),
            ("consequent", STRING),
            ("pair_count", LONG),
            ("antecedent_count", LONG),
            ("consequent_count", LONG),
            ("total_baskets", LONG),
            ("support", DOUBLE),
            ("confidence", DOUBLE),
            ("lift", DOUBLE),
        ]
    ),
    ("product-affinity", "period_rules"): pa.schema(
        [
            ("antecedent", STRING),
            ("consequent", STRING),
            ("pair_count", LONG),
            ("antecedent_count", LONG),
            ("consequent_count", LONG),
            ("total_baskets", LONG),
            ("support", DOUBLE),
            ("confidence", DOUBLE),
            ("lift", DOUBLE),
            ("period", STRING),
            ("window_start", STRING),
            ("window_end", STRING),
        ]
    ),
    ("product-affinity", "order_attach"): pa.schema(
        [
            ("order_id", STRING),
            ("period", STRING),
            ("distinct_items", LONG),
            ("recommended_pairs", LONG),
            ("attached", BOOL),
            ("has_history", BOOL),
        ]
    ),
}
PARTITIONED = {"order_lines", "orders", "quarantine", "period_rules", "order_attach"}


@dataclass
class Lake:
    """The rows of every output, by (product, output)."""

    tables: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self, product: str, output: str) -> list[dict[str, Any]]:
        return self.tables[(product, output)]

    def write(self, lake_root: Path) -> None:
        """Parquet folders laid out as Spark writes them (hive partitions, no period column)."""
        for (product, output), rows in self.tables.items():
            schema = SCHEMAS[(product, output)]
            folder = Path(naming.output_location(str(lake_root), product, output))
            if output not in PARTITIONED:
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.Table.from_pylist(rows, schema), folder / "part-00000.parquet")
                continue
            stored = pa.schema([f for f in schema if f.name != naming.PERIOD_COLUMN])
            for period in sorted({r["period"] for r in rows}):
                part = [
                    {k: v for k, v in r.items() if k != naming.PERIOD_COLUMN}
                    for r in rows
                    if r["period"] == period
                ]
                target = folder / f"{naming.PERIOD_COLUMN}={period}"
                target.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.Table.from_pylist(part, stored), target / "part-00000.parquet")


def build_lake(periods: tuple[str, ...] = PERIODS, seed: int = 20111) -> Lake:
    rng = random.Random(seed)
    lines: list[dict[str, Any]] = []
    for p_index, period in enumerate(periods):
        year, month = (int(x) for x in period.split("-"))
        for n in range(ORDERS_PER_PERIOD):
            order_id = f"{5 + p_index}{n:04d}"
            basket = _draw_basket(rng)
            ordered_at = datetime(year, month, 1 + rng.randrange(27), 8 + rng.randrange(10))
            customer = None if rng.random() < 0.2 else f"C{rng.randrange(1, 13):02d}"
            items = sorted(basket)
            if n == 3:
                items.append(items[0])  # the same product on two lines of one order
            for product_id in items:
                quantity = 1 + rng.randrange(6)
                lines.append(
                    {
                        "order_id": order_id,
                        "line_number": len(lines) + 1,
                        "product_id": product_id,
                        "description": DESCRIPTIONS[product_id],
                        "quantity": quantity,
                        "unit_price": PRICES[product_id],
                        "line_revenue": round(quantity * PRICES[product_id], 2),
                        "ordered_at": ordered_at,
                        "customer_id": customer,
                        "country": "United Kingdom",
                        "period": period,
                    }
                )
    for product_id in ("P01", "P02"):
        # an order without a usable time: the ingest job files it under period 'unknown'
        lines.append(
            {
                "order_id": "U0001",
                "line_number": len(lines) + 1,
                "product_id": product_id,
                "description": DESCRIPTIONS[product_id],
                "quantity": 1,
                "unit_price": PRICES[product_id],
                "line_revenue": PRICES[product_id],
                "ordered_at": None,
                "customer_id": "C01",
                "country": "United Kingdom",
                "period": UNKNOWN_PERIOD,
            }
        )
    for product_id in DESCRIPTIONS:
        # an oversize basket: a valid order that the affinity job's policy leaves out
        lines.append(
            {
                "order_id": OVERSIZE_ORDER,
                "line_number": len(lines) + 1,
                "product_id": product_id,
                "description": DESCRIPTIONS[product_id],
                "quantity": 1,
                "unit_price": PRICES[product_id],
                "line_revenue": PRICES[product_id],
                "ordered_at": datetime(2011, 3, 15, 12),
                "customer_id": None,
                "country": "United Kingdom",
                "period": "2011-03",
            }
        )
    lake = Lake()
    lake.tables[("retail-orders", "order_lines")] = lines
    _retail_outputs(lake, lines)
    _affinity_outputs(lake, lines, periods)
    return lake


def _draw_basket(rng: random.Random) -> set[str]:
    basket: set[str] = set()
    roll = rng.random()
    if roll < 0.12:
        basket |= {"P01", "P02"}
    elif roll < 0.15:
        basket.add("P01")
    elif roll < 0.18:
        basket.add("P02")
    roll = rng.random()
    if roll < 0.15:
        basket |= {"P03", "P04", "P05"}
    elif roll < 0.22:
        basket.add("P03")
    basket |= set(rng.sample(FILLERS, 1 + rng.randrange(3)))
    return basket


def _retail_outputs(lake: Lake, lines: list[dict[str, Any]]) -> None:
    orders: dict[str, dict[str, Any]] = {}
    for line in lines:
        order = orders.setdefault(
            line["order_id"],
            {
                "order_id": line["order_id"],
                "customer_id": line["customer_id"],
                "country": line["country"],
                "ordered_at": line["ordered_at"],
                "revenue": 0.0,
                "line_count": 0,
                "items": set(),
                "period": line["period"],
            },
        )
        order["revenue"] += line["line_revenue"]
        order["line_count"] += 1
        order["items"].add(line["product_id"])
    lake.tables[("retail-orders", "orders")] = [
        {**{k: v for k, v in o.items() if k != "items"}, "distinct_items": len(o["items"])}
        for o in orders.values()
    ]
    products = []
    for pid in sorted({line["product_id"] for line in lines}):
        times = [
            line["ordered_at"]
            for line in lines
            if line["product_id"] == pid and line["ordered_at"] is not None
        ]
        products.append(
            {
                "product_id": pid,
                "description": DESCRIPTIONS[pid],
                "first_ordered_at": min(times),
                "last_ordered_at": max(times),
                "order_count": len({o for o in orders if pid in orders[o]["items"]}),
            }
        )
    lake.tables[("retail-orders", "products")] = products
    lake.tables[("retail-orders", "quarantine")] = [
        {
            "line_number": 900001,
            "reason": "cancellation",
            "detail": "order id starts with C",
            "order_id": "C50001",
            "product_id": "P01",
            "period": lines[0]["period"],
        }
    ]


def _baskets(lines: list[dict[str, Any]]) -> dict[str, set[str]]:
    baskets: dict[str, set[str]] = {}
    for line in lines:
        baskets.setdefault(line["order_id"], set()).add(line["product_id"])
    return baskets


def _rules(baskets: list[set[str]], min_pairs: int) -> list[dict[str, Any]]:
    total = len(baskets)
    items = Counter(p for b in baskets for p in b)
    pairs = Counter(pair for b in baskets for pair in permutations(sorted(b), 2))
    rules = []
    for (a, b), count in sorted(pairs.items()):
        if count < min_pairs:
            continue
        confidence = count / items[a]
        rules.append(
            {
                "antecedent": a,
                "consequent": b,
                "pair_count": count,
                "antecedent_count": items[a],
                "consequent_count": items[b],
                "total_baskets": total,
                "support": count / total,
                "confidence": confidence,
                "lift": confidence / (items[b] / total),
            }
        )
    return rules


def _affinity_outputs(lake: Lake, lines: list[dict[str, Any]], periods: tuple[str, ...]) -> None:
    baskets = {o: b for o, b in _baskets(lines).items() if o != OVERSIZE_ORDER}
    total = len(baskets)
    counts = Counter(p for b in baskets.values() for p in b)
    lake.tables[("product-affinity", "item_support")] = [
        {"product_id": p, "basket_count": c, "support": c / total, "total_baskets": total}
        for p, c in sorted(counts.items())
    ]
    lake.tables[("product-affinity", "pair_rules")] = _rules(list(baskets.values()), 2)

    period_of = {line["order_id"]: line["period"] for line in lines}
    period_rules: list[dict[str, Any]] = []
    attach: list[dict[str, Any]] = []
    for index, period in enumerate(periods):
        window = periods[max(0, index - TRAILING) : index]
        learned = [b for o, b in baskets.items() if period_of[o] in window]
        rules = [
            r
            for r in _rules(learned, 1)
            if r["support"] >= THRESHOLDS["min_support"]
            and r["confidence"] >= THRESHOLDS["min_confidence"]
            and r["lift"] >= THRESHOLDS["min_lift"]
        ]
        for rule in rules:
            period_rules.append(
                {**rule, "period": period, "window_start": window[0], "window_end": window[-1]}
            )
        recommended = {frozenset((r["antecedent"], r["consequent"])) for r in rules}
        for order_id, basket in baskets.items():
            if period_of[order_id] != period:
                continue
            held = sum(1 for pair in recommended if pair <= basket)
            attach.append(
                {
                    "order_id": order_id,
                    "period": period,
                    "distinct_items": len(basket),
                    "recommended_pairs": held,
                    "attached": held > 0,
                    "has_history": bool(learned),
                }
            )
    for order_id, basket in baskets.items():
        if period_of[order_id] == UNKNOWN_PERIOD:
            attach.append(
                {
                    "order_id": order_id,
                    "period": UNKNOWN_PERIOD,
                    "distinct_items": len(basket),
                    "recommended_pairs": 0,
                    "attached": False,
                    "has_history": False,
                }
            )
    lake.tables[("product-affinity", "period_rules")] = period_rules
    lake.tables[("product-affinity", "order_attach")] = attach


def settings_for(home: Path, target: str = "duckdb") -> Settings:
    """Settings of a test run: everything under ``home``, the repository's manifests."""
    return load_settings(
        home=home,
        lake_root=str(home / "lake"),
        warehouse=home / "warehouse.duckdb",
        dbt_target=target,
        manifests_dir=Path(__file__).resolve().parents[2] / "manifests",
        dbt_project_dir=Path(__file__).resolve().parents[2] / "dbt_project",
    )


def affinity_plan(settings: Settings) -> ProductPlan:
    catalog = load_folder(settings.manifests_dir)
    return plan_product(catalog.products["product-affinity"], catalog.products, settings)
