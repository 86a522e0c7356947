"""What the product_affinity models must hold, computed in plain Python from the lake's rows.

Written apart from the SQL, from the definitions in the manifest and the issue, so that a
model and this oracle agree only when both say the same thing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

Row = dict[str, Any]


def is_month(period: str) -> bool:
    """Measures are per month; orders without a usable time (period 'unknown') count in none."""
    return re.fullmatch(r"\d{4}-\d{2}", period) is not None


def recommendations(pair_rules: list[Row], params: dict[str, Any]) -> list[Row]:
    """Top-N partners by lift, then confidence, then partner id, above the thresholds."""
    t = params["thresholds"]
    by_product: dict[str, list[Row]] = defaultdict(list)
    for rule in pair_rules:
        passes = (
            rule["antecedent"] != rule["consequent"]
            and rule["confidence"] >= t["min_confidence"]
            and rule["lift"] >= t["min_lift"]
            and (t["min_support"] is None or rule["support"] >= t["min_support"])
            and (t["min_support_count"] is None or rule["pair_count"] >= t["min_support_count"])
        )
        if passes:
            by_product[rule["antecedent"]].append(rule)
    out = []
    for product, rules in by_product.items():
        rules.sort(key=lambda r: (-r["lift"], -r["confidence"], r["consequent"]))
        for rank, rule in enumerate(rules[: params["recommendations_per_product"]], start=1):
            out.append(
                {
                    "product_id": product,
                    "recommended_product_id": rule["consequent"],
                    "rank": rank,
                    "lift": rule["lift"],
                    "confidence": rule["confidence"],
                }
            )
    return out


def attach_by_period(orders: list[Row], order_attach: list[Row]) -> dict[str, Row]:
    """NSM per month of the orders: attached over measured orders (the rows of order_attach);
    None when the month had no trailing window."""
    measured: dict[str, int] = defaultdict(int)
    attached: dict[str, int] = defaultdict(int)
    history: dict[str, bool] = defaultdict(bool)
    for row in order_attach:
        measured[row["period"]] += 1
        attached[row["period"]] += int(row["attached"])
        history[row["period"]] |= row["has_history"]
    months = {o["period"] for o in orders if is_month(o["period"])}
    out = {}
    for period in months:
        counted = history[period] and measured[period] > 0
        out[period] = {
            "period": period,
            "measured_orders": measured[period],
            "attached_orders": attached[period],
            "value": attached[period] / measured[period] if counted else None,
            "status": "measured" if counted else "no_history",
        }
    return out


def goal_measures(orders: list[Row], order_attach: list[Row]) -> dict[str, Row]:
    by_period: dict[str, list[Row]] = defaultdict(list)
    for order in orders:
        if is_month(order["period"]):
            by_period[order["period"]].append(order)
    nsm = attach_by_period(orders, order_attach)
    return {
        period: {
            "period": period,
            "order_count": len(rows),
            "basket_breadth": sum(r["distinct_items"] for r in rows) / len(rows),
            "revenue_per_order": sum(r["revenue"] for r in rows) / len(rows),
            "attach_rate": nsm[period]["value"],
        }
        for period, rows in by_period.items()
    }


def audiences(order_lines: list[Row], recs: list[Row], window_days: int) -> list[Row]:
    """Known customers who bought A in the window but not its recommended B, offered B."""
    timed = [line for line in order_lines if line["ordered_at"] is not None]
    end = max(line["ordered_at"] for line in timed)
    start = end - timedelta(days=window_days)
    bought: dict[str, set[str]] = defaultdict(set)
    for line in timed:
        if line["customer_id"] is not None and start < line["ordered_at"] <= end:
            bought[line["customer_id"]].add(line["product_id"])
    best: dict[tuple[str, str], tuple[Any, ...]] = {}
    for customer, products in bought.items():
        for rec in recs:
            offer = rec["recommended_product_id"]
            if rec["product_id"] not in products or offer in products:
                continue
            key = (rec["rank"], -rec["lift"], -rec["confidence"], rec["product_id"])
            if (customer, offer) not in best or key < best[(customer, offer)]:
                best[(customer, offer)] = key
    return [
        {
            "customer_id": customer,
            "offer_product_id": offer,
            "product_id": key[3],
            "recommendation_rank": key[0],
        }
        for (customer, offer), key in best.items()
    ]


def hypothesis_status(
    params: dict[str, Any], measures: dict[str, Row], nsm: dict[str, Row]
) -> dict[str, Row]:
    series = {
        "basket_breadth": {p: r["basket_breadth"] for p, r in measures.items()},
        "revenue_per_order": {p: r["revenue_per_order"] for p, r in measures.items()},
        "attach_rate": {p: r["value"] for p, r in nsm.items()},
    }
    out = {}
    for h in params["hypotheses"]:
        values = {p: v for p, v in series[h["measure"]].items() if v is not None}
        period = max(values) if values else None
        value = values[period] if period else None
        if value is None:
            moved = None
        elif h["expected_direction"] == "increase":
            moved = value > h["baseline"]
        elif h["expected_direction"] == "decrease":
            moved = value < h["baseline"]
        else:
            moved = abs(value - h["baseline"]) <= abs(h["baseline"]) * 0.05
        out[h["id"]] = {
            "latest_period": period,
            "latest_value": value,
            "change": None if value is None else value - h["baseline"],
            "moved_as_predicted": moved,
        }
    return out
