"""The affinity job against the Groceries oracle and a brute force over real months."""

from __future__ import annotations

from collections import Counter
from itertools import combinations, permutations
from pathlib import Path
from typing import Any

import pytest

from lodestar.errors import JobError
from lodestar.jobs import affinity, schemas
from lodestar.jobs.params import Thresholds, parse_affinity
from lodestar.naming import output_location

from .conftest import PANDAS_WARNING, affinity_params

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]

Rule = tuple[int, int, int, int, float, float, float]


# -- brute force: plain Python sets and itertools ---------------------------------------------


def brute_rules(
    baskets: list[frozenset[str]], thresholds: Thresholds
) -> tuple[Counter[str], dict[tuple[str, str], Rule]]:
    """Item counts and every rule a -> b passing the thresholds, computed naively."""
    total = len(baskets)
    items: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for basket in baskets:
        items.update(basket)
        pairs.update(combinations(sorted(basket), 2))
    min_count = thresholds.min_count(total)
    rules: dict[tuple[str, str], Rule] = {}
    for (a, b), count in pairs.items():
        if count < min_count:
            continue
        lift = count * total / (items[a] * items[b])
        for x, y in ((a, b), (b, a)):
            confidence = count / items[x]
            if confidence >= thresholds.min_confidence and lift >= thresholds.min_lift:
                rules[(x, y)] = (count, items[x], items[y], total, count / total, confidence, lift)
    return items, rules


def written_rules(
    spark: Any, location: str, period: str | None = None
) -> dict[tuple[str, str], Rule]:
    schema = schemas.PAIR_RULES if period is None else schemas.PERIOD_RULES
    frame = spark.read.schema(schema).parquet(location)
    rows = (frame if period is None else frame.filter(frame.period == period)).collect()
    found = {
        (r["antecedent"], r["consequent"]): (
            r["pair_count"],
            r["antecedent_count"],
            r["consequent_count"],
            r["total_baskets"],
            r["support"],
            r["confidence"],
            r["lift"],
        )
        for r in rows
    }
    assert len(found) == len(rows), "a rule is written twice"
    return found


def order_baskets(spark: Any, order_lines: str) -> dict[str, tuple[str, frozenset[str]]]:
    """order id -> (period, set of products), read back plainly from the order lines."""
    sets: dict[str, set[str]] = {}
    periods: dict[str, str] = {}
    for row in spark.read.parquet(order_lines).select("order_id", "product_id", "period").collect():
        sets.setdefault(row["order_id"], set()).add(row["product_id"])
        periods[row["order_id"]] = row["period"]
    return {order: (periods[order], frozenset(items)) for order, items in sets.items()}


def run_affinity(spark: Any, params: dict[str, Any]) -> dict[str, Any]:
    return affinity.run(spark, parse_affinity(params))


def write_lines(
    spark: Any, path: Path, orders: dict[str, list[str]], period: str = "2011-01"
) -> str:
    """Order lines of the ingest schema, one line per listed product (repeats allowed)."""
    rows = [
        (order, number, product, period)
        for order, products in orders.items()
        for number, product in enumerate(products, start=1)
    ]
    frame = spark.createDataFrame(
        rows, "order_id string, line_number long, product_id string, period string"
    )
    from pyspark.sql import functions as F

    complete = frame.select(
        *[
            F.col(f.name) if f.name in frame.columns else F.lit(None).cast(f.dataType).alias(f.name)
            for f in schemas.ORDER_LINES.fields
        ]
    )
    location = str(path / "order_lines")
    complete.write.partitionBy("period").parquet(location)
    return location


# -- Groceries: the published oracle ----------------------------------------------------------


def test_groceries_oracle(spark: Any, groceries_lake: Path, tmp_path: Path) -> None:
    lines = output_location(str(groceries_lake), "groceries", "order_lines")
    thresholds = {"min_support": 0.006, "min_confidence": 0.25}

    stats = run_affinity(spark, affinity_params(tmp_path, lines, thresholds))

    location = output_location(str(tmp_path), "product-affinity", "pair_rules")
    rules = written_rules(spark, location)
    assert stats["pair_rules"] == len(rules) == 150
    assert stats["total_baskets"] == 9_835 and stats["single_item_baskets"] == 2_159
    count, n_a, n_b, total, support, confidence, lift = rules[("herbs", "root vegetables")]
    assert (count, n_a, n_b, total) == (69, 160, 1_072, 9_835)
    assert support == pytest.approx(0.0070158, abs=5e-8)
    assert confidence == 0.43125
    assert lift == pytest.approx(3.95648, abs=5e-6)
    _, _, _, _, support, confidence, lift = rules[("whole milk", "other vegetables")]
    assert support == pytest.approx(0.0748348, abs=5e-8)
    assert confidence == pytest.approx(0.292877, abs=5e-7)
    assert lift == pytest.approx(1.51363, abs=5e-6)

    baskets = [items for _, items in order_baskets(spark, lines).values()]
    items, expected = brute_rules(baskets, Thresholds(min_support=0.006, min_confidence=0.25))
    assert rules == expected
    support_rows = spark.read.parquet(
        output_location(str(tmp_path), "product-affinity", "item_support")
    )
    whole_milk = support_rows.filter("product_id = 'whole milk'").first()
    assert (whole_milk["basket_count"], whole_milk["support"]) == (2_513, 2_513 / 9_835)
    assert support_rows.count() == len(items) == 169
    # no timestamps: no period, so no trailing windows and nothing to attach
    assert stats["periods"] == {}


# -- Online Retail: three real months, every output against a brute force --------------------

RETAIL_THRESHOLDS = {"min_support": 0.01, "min_confidence": 0.2, "min_lift": 2.0}


def test_online_retail_months_match_a_brute_force(
    spark: Any, retail_lake: Path, tmp_path: Path
) -> None:
    lines = output_location(str(retail_lake), "retail-orders", "order_lines")
    params = affinity_params(tmp_path, lines, RETAIL_THRESHOLDS, trailing_periods=2)
    thresholds = parse_affinity(params).thresholds

    stats = run_affinity(spark, params)

    orders = {
        order: (period, items)
        for order, (period, items) in order_baskets(spark, lines).items()
        if len(items) <= 500
    }
    out = {
        name: output_location(str(tmp_path), "product-affinity", name) for name in params["outputs"]
    }
    items, expected = brute_rules([items for _, items in orders.values()], thresholds)
    assert written_rules(spark, out["pair_rules"]) == expected
    assert {
        r["product_id"]: r["basket_count"]
        for r in spark.read.parquet(out["item_support"]).collect()
    } == dict(items)
    assert stats["oversize"]["baskets"] == len(order_baskets(spark, lines)) - len(orders)

    windows = {"2011-01": ("2010-11", "2010-12"), "2011-02": ("2010-12", "2011-01")}
    attach = {r["order_id"]: r for r in spark.read.parquet(out["order_attach"]).collect()}
    assert set(attach) == set(orders)
    for period in ("2010-12", "2011-01", "2011-02"):
        window = [items for p, items in orders.values() if p in windows.get(period, ())]
        _, period_expected = brute_rules(window, thresholds) if window else (None, {})
        found = written_rules(spark, out["period_rules"], period)
        assert found == period_expected, period
        for order, (p, basket) in orders.items():
            if p != period:
                continue
            pairs = sum(1 for pair in permutations(basket, 2) if pair in period_expected)
            row = attach[order]
            assert (row["period"], row["distinct_items"]) == (period, len(basket))
            assert (row["recommended_pairs"], row["attached"]) == (pairs, pairs > 0), order
            assert row["has_history"] == bool(window)
        assert stats["periods"][period]["orders"] == sum(
            1 for p, _ in orders.values() if p == period
        )
    assert stats["periods"]["2011-02"]["window_start"] == "2010-12"
    assert stats["periods"]["2010-12"]["rules"] == 0
    assert all(v == 0 for checks in stats["invariant_violations"].values() for v in checks.values())


def test_rerunning_an_interval_replaces_only_its_periods(
    spark: Any, retail_lake: Path, tmp_path: Path
) -> None:
    lines = output_location(str(retail_lake), "retail-orders", "order_lines")
    february = {"start": "2011-02-01", "end": "2011-03-01"}
    run_affinity(spark, affinity_params(tmp_path, lines, RETAIL_THRESHOLDS))
    lake = tmp_path / "product-affinity"
    before = {name: snapshot(spark, lake / name) for name in ("period_rules", "order_attach")}
    january_files = sorted((lake / "period_rules" / "period=2011-01").iterdir())

    # nothing passes a lift of 1000: the February partition of period_rules must go away
    strict = {**RETAIL_THRESHOLDS, "min_lift": 1000.0}
    stats = run_affinity(spark, affinity_params(tmp_path, lines, strict, interval=february))
    assert list(stats["periods"]) == ["2011-02"]
    assert not (lake / "period_rules" / "period=2011-02").exists()
    attach = spark.read.parquet(str(lake / "order_attach")).filter("period = '2011-02'")
    assert attach.filter("attached").count() == 0

    run_affinity(spark, affinity_params(tmp_path, lines, RETAIL_THRESHOLDS, interval=february))

    assert {name: snapshot(spark, lake / name) for name in before} == before
    assert sorted((lake / "period_rules" / "period=2011-01").iterdir()) == january_files


def snapshot(spark: Any, location: Path) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in spark.read.parquet(str(location)).collect())


# -- edge cases on small synthetic order lines -------------------------------------------------


def test_repeated_items_do_not_inflate_counts(spark: Any, tmp_path: Path) -> None:
    lines = write_lines(
        spark, tmp_path, {"o1": ["a", "a", "a", "b", "b"], "o2": ["a", "b"], "o3": ["a"]}
    )

    stats = run_affinity(spark, affinity_params(tmp_path, lines, {"min_support_count": 1}))

    rules = written_rules(spark, output_location(str(tmp_path), "product-affinity", "pair_rules"))
    assert rules == {
        ("a", "b"): (2, 3, 2, 3, 2 / 3, 2 / 3, 1.0),
        ("b", "a"): (2, 2, 3, 3, 2 / 3, 1.0, 1.0),
    }
    assert stats["total_baskets"] == 3


def test_single_item_baskets_give_an_empty_pair_table_with_its_schema(
    spark: Any, tmp_path: Path
) -> None:
    lines = write_lines(spark, tmp_path, {"o1": ["a"], "o2": ["b"], "o3": ["a", "a"]})

    stats = run_affinity(spark, affinity_params(tmp_path, lines, {"min_support_count": 1}))

    pair_rules = spark.read.parquet(
        output_location(str(tmp_path), "product-affinity", "pair_rules")
    )
    assert pair_rules.count() == 0
    assert pair_rules.schema == schemas.PAIR_RULES
    assert (stats["pair_rules"], stats["single_item_baskets"], stats["items"]) == (0, 3, 2)


@pytest.mark.parametrize(("policy", "baskets"), [("exclude", 2), ("keep", 3)])
def test_oversize_policies(spark: Any, tmp_path: Path, policy: str, baskets: int) -> None:
    big = ["a", "b", "c", "d", "e", "f"]
    lines = write_lines(spark, tmp_path, {"small1": ["a", "b"], "small2": ["a", "b"], "big": big})
    params = affinity_params(
        tmp_path, lines, {"min_support_count": 1}, max_basket_size=5, oversize_policy=policy
    )

    stats = run_affinity(spark, params)

    assert stats["total_baskets"] == baskets
    assert stats["oversize"]["largest"] == [{"order_id": "big", "distinct_items": 6}]
    assert stats["pairs_counted"] == (1 if policy == "exclude" else 15)


def test_oversize_policy_fail_names_the_baskets(spark: Any, tmp_path: Path) -> None:
    lines = write_lines(spark, tmp_path, {"small": ["a", "b"], "big": ["a", "b", "c"]})
    params = affinity_params(
        tmp_path, lines, {"min_support_count": 1}, max_basket_size=2, oversize_policy="fail"
    )

    with pytest.raises(JobError, match=r"1 baskets have more than max_basket_size=2 .*big \(3\)"):
        run_affinity(spark, params)


def test_empty_input_writes_empty_outputs(spark: Any, tmp_path: Path) -> None:
    lines = write_lines(spark, tmp_path, {})

    stats = run_affinity(spark, affinity_params(tmp_path, lines, {"min_support": 0.01}))

    assert (stats["status"], stats["total_baskets"], stats["empty_input"]) == ("succeeded", 0, True)
    assert stats["pair_rules"] == 0 and stats["periods"] == {}
    for name, schema in (
        ("item_support", schemas.ITEM_SUPPORT),
        ("pair_rules", schemas.PAIR_RULES),
    ):
        frame = spark.read.parquet(output_location(str(tmp_path), "product-affinity", name))
        assert (frame.count(), frame.schema) == (0, schema)


def test_missing_input_is_named(spark: Any, tmp_path: Path) -> None:
    params = affinity_params(tmp_path, str(tmp_path / "nothing"), {"min_support": 0.01})

    with pytest.raises(JobError, match=r"inputs.order_lines at .*nothing does not exist"):
        run_affinity(spark, params)


def test_the_brute_force_applies_thresholds_per_direction() -> None:
    baskets = [frozenset({"a", "b"}), frozenset({"a"}), frozenset({"a", "c"})]

    _, rules = brute_rules(baskets, Thresholds(min_support_count=1, min_confidence=0.5))

    assert set(rules) == {("b", "a"), ("c", "a")}
