"""The ``affinity`` Spark application: clean order lines in; item support, pair rules, the
rules of each period learned from its trailing window, and per-order attach out.

    spark-submit --master local[*] src/lodestar/jobs/affinity.py --params params.json

Baskets are the *sets* of distinct product ids of each order; every denominator is the
number of valid baskets (after the oversize policy, which the statistics report).

- ``item_support`` and ``pair_rules`` use every basket of the input.
- ``period_rules``: for each period P with orders, the rules learned only from the baskets of
  the ``trailing_periods`` calendar months before P (window_start..window_end); a period
  whose window holds no basket gets no rules.
- ``order_attach``: each order of each period P, with the number of ordered pairs (a, b) of
  its items that are rules of P. This is the out-of-sample attach rate of the NSM.

With an ``interval`` only the periods inside it are recomputed and their partitions of
``period_rules`` and ``order_attach`` replaced (their windows may reach before it).
Invariants are asserted on every run, on the rules of every group before thresholds.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __name__ == "__main__" and not __package__:
    # spark-submit runs this file as a script: import Lodestar from the tree that holds it
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [str(_HERE.parents[1])] + [
        p for p in sys.path if Path(p or ".").resolve() != _HERE
    ]

from lodestar.errors import JobError
from lodestar.jobs import schemas
from lodestar.jobs.params import AffinityParams, Thresholds, load_affinity
from lodestar.jobs.runtime import (
    Timings,
    read_parquet,
    run_main,
    spark_facts,
    write_parquet,
    write_stats,
)
from lodestar.naming import PERIOD_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lodestar.jobs.pairs import PairStats

log = logging.getLogger(__name__)

#: oversize baskets listed by id in the statistics and error messages
EXAMPLES = 5


def run(spark: SparkSession, params: AffinityParams) -> dict[str, Any]:
    """Run the job in ``spark``; returns the statistics it also writes to ``stats_path``."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    timings = Timings()
    lines = read_parquet(spark, params.order_lines, schemas.ORDER_LINES, "inputs.order_lines")

    with timings.phase("baskets"):
        every = basket_sets(lines).persist(StorageLevel.MEMORY_AND_DISK)
        oversize = _oversize(every, params)
        baskets = every
        if oversize["baskets"] and params.oversize_policy == "exclude":
            baskets = every.filter(F.col("distinct_items") <= F.lit(params.max_basket_size))
        overview = baskets.agg(
            F.count(F.lit(1)).alias("baskets"),
            F.sum((F.col("distinct_items") == 1).cast("int")).alias("single"),
        ).first()
    assert overview is not None
    total = int(overview["baskets"])
    stats: dict[str, Any] = {
        "job": "affinity",
        "product": params.product,
        "status": "succeeded",
        "input": params.order_lines,
        "interval": None if params.interval is None else params.interval.as_dict(),
        "thresholds": {
            "min_support": params.thresholds.min_support,
            "min_support_count": params.thresholds.min_support_count,
            "min_confidence": params.thresholds.min_confidence,
            "min_lift": params.thresholds.min_lift,
        },
        "total_baskets": total,
        "single_item_baskets": int(overview["single"] or 0),
        "oversize": oversize,
        "outputs": dict(params.outputs),
        "spark": spark_facts(spark),
    }
    log.info(
        "affinity %s: %d baskets (%d with one item); %d over %s items, policy %s",
        params.product,
        total,
        stats["single_item_baskets"],
        oversize["baskets"],
        params.max_basket_size,
        params.oversize_policy,
    )
    if total == 0:
        log.warning("affinity %s: %s holds no order lines", params.product, params.order_lines)
        stats["empty_input"] = True

    with timings.phase("pair_rules"):
        global_stats, global_checks = _global_rules(spark, baskets, total, params)
    with timings.phase("period_rules_and_attach"):
        stats["periods"], period_checks = _period_outputs(spark, baskets, params)
    every.unpersist()

    stats.update(global_stats)
    stats["invariant_violations"] = {"pair_rules": global_checks, "period_rules": period_checks}
    stats["timings"] = timings.as_dict()
    write_stats(params.stats_path, stats)
    return stats


def basket_sets(lines: DataFrame) -> DataFrame:
    """(order_id, period, items, distinct_items): one row per order, items a sorted set."""
    from pyspark.sql import functions as F

    return (
        lines.filter(F.col("order_id").isNotNull() & F.col("product_id").isNotNull())
        .groupBy("order_id")
        .agg(
            F.array_sort(F.collect_set("product_id")).alias("items"),
            F.min(PERIOD_COLUMN).alias(PERIOD_COLUMN),
        )
        .withColumn("distinct_items", F.size("items").cast("long"))
    )


def global_pair_stats(
    spark: SparkSession, baskets: DataFrame, total: int, thresholds: Thresholds
) -> PairStats:
    """The counted pairs over every basket (group 0): what ``pair_rules`` is made of."""
    from pyspark.sql import functions as F

    from lodestar.jobs.pairs import GROUP, count_pairs

    members = baskets.select(F.lit(0).alias(GROUP), F.col("order_id").alias("basket"), "items")
    return count_pairs(spark, members, {0: total} if total else {}, thresholds)


def _global_rules(
    spark: SparkSession, baskets: DataFrame, total: int, params: AffinityParams
) -> tuple[dict[str, Any], dict[str, int]]:
    """Write ``item_support`` and ``pair_rules``; their statistics and invariant checks."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from lodestar.jobs import pairs

    counted = global_pair_stats(spark, baskets, total, params.thresholds)
    support = counted.items.select(
        F.col("item").alias("product_id"),
        "basket_count",
        (F.col("basket_count") / F.lit(max(total, 1))).alias("support"),
        F.lit(total).cast("long").alias("total_baskets"),
    )
    write_parquet(schemas.conform(support, schemas.ITEM_SUPPORT), params.outputs["item_support"])

    every_rule = pairs.directions(counted.pairs).persist(StorageLevel.MEMORY_AND_DISK)
    violations = _assert_invariants(every_rule, "pair_rules")
    kept = pairs.apply_thresholds(every_rule, params.thresholds)
    write_parquet(schemas.conform(kept, schemas.PAIR_RULES), params.outputs["pair_rules"])
    written = read_parquet(spark, params.outputs["pair_rules"], schemas.PAIR_RULES, "pair_rules")
    items = read_parquet(
        spark, params.outputs["item_support"], schemas.ITEM_SUPPORT, "item_support"
    )
    result = {
        "items": items.count(),
        "frequent_items": counted.id_count,
        "min_pair_count": counted.min_counts.get(0),
        "pairs_counted": violations.pop("pairs"),
        "pair_rules": written.count(),
    }
    every_rule.unpersist()
    counted.frequent.unpersist()
    log.info(
        "affinity %s: %d pair rules from %d pairs at or above %s baskets",
        params.product,
        result["pair_rules"],
        result["pairs_counted"],
        result["min_pair_count"],
    )
    return result, violations


def _period_outputs(
    spark: SparkSession, baskets: DataFrame, params: AffinityParams
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Write ``period_rules`` and ``order_attach`` for the target periods; their statistics
    per period and the invariant checks of all windows."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from lodestar.jobs import pairs

    present = sorted(
        row[PERIOD_COLUMN]
        for row in baskets.select(PERIOD_COLUMN).distinct().collect()
        if row[PERIOD_COLUMN] not in (None, schemas.UNKNOWN_PERIOD)
    )
    wanted = set(params.interval.periods()) if params.interval is not None else None
    targets = [p for p in present if wanted is None or p in wanted]
    k = params.trailing_periods
    windows = {
        group: (period, shift_month(period, -k), shift_month(period, -1))
        for group, period in enumerate(targets, start=1)
    }
    target_table = spark.createDataFrame(
        [(g, p, start, end) for g, (p, start, end) in windows.items()],
        f"{pairs.GROUP} int, {PERIOD_COLUMN} string, window_start string, window_end string",
    )
    membership = spark.createDataFrame(
        [
            (shift_month(period, -back), group)
            for group, (period, _, _) in windows.items()
            for back in range(1, k + 1)
        ],
        f"_month string, {pairs.GROUP} int",
    )
    members = baskets.join(
        F.broadcast(membership), baskets[PERIOD_COLUMN] == membership["_month"]
    ).select(pairs.GROUP, F.col("order_id").alias("basket"), "items")
    totals = {
        int(row[pairs.GROUP]): int(row["count"])
        for row in members.groupBy(pairs.GROUP).count().collect()
    }
    counted = pairs.count_pairs(spark, members, totals, params.thresholds)
    every_rule = pairs.directions(counted.pairs).persist(StorageLevel.MEMORY_AND_DISK)
    violations = _assert_invariants(every_rule, "period_rules")
    violations.pop("pairs")
    rules = (
        pairs.apply_thresholds(every_rule, params.thresholds)
        .join(F.broadcast(target_table), pairs.GROUP)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    partial = None if params.interval is None else list(params.interval.periods())
    shaped = schemas.conform(rules, schemas.PERIOD_RULES).repartition(F.col(PERIOD_COLUMN))
    write_parquet(
        shaped,
        params.outputs["period_rules"],
        partition_by=PERIOD_COLUMN,
        replace_partitions=partial,
    )

    attach = order_attach(spark, baskets, rules, counted, target_table, totals)
    shaped = schemas.conform(attach, schemas.ORDER_ATTACH).repartition(F.col(PERIOD_COLUMN))
    write_parquet(
        shaped,
        params.outputs["order_attach"],
        partition_by=PERIOD_COLUMN,
        replace_partitions=partial,
    )

    rule_counts = {
        int(row[pairs.GROUP]): int(row["count"])
        for row in rules.groupBy(pairs.GROUP).count().collect()
    }
    written = read_parquet(
        spark, params.outputs["order_attach"], schemas.ORDER_ATTACH, "order_attach"
    )
    attached = {
        row[PERIOD_COLUMN]: (int(row["orders"]), int(row["attached"]))
        for row in written.filter(F.col(PERIOD_COLUMN).isin(targets) if targets else F.lit(False))
        .groupBy(PERIOD_COLUMN)
        .agg(
            F.count(F.lit(1)).alias("orders"),
            F.sum(F.col("attached").cast("int")).alias("attached"),
        )
        .collect()
    }
    rules.unpersist()
    every_rule.unpersist()
    counted.frequent.unpersist()

    report: dict[str, dict[str, Any]] = {}
    for group, (period, start, end) in windows.items():
        orders, hits = attached.get(period, (0, 0))
        report[period] = {
            "window_start": start,
            "window_end": end,
            "window_baskets": totals.get(group, 0),
            "min_pair_count": counted.min_counts.get(group),
            "rules": rule_counts.get(group, 0),
            "orders": orders,
            "attached_orders": hits,
            "attach_rate": round(hits / orders, 6) if orders else None,
        }
    log.info(
        "affinity %s: period rules and attach for %d periods (%s)",
        params.product,
        len(report),
        ", ".join(f"{p} {r['attached_orders']}/{r['orders']}" for p, r in report.items()),
    )
    return report, violations


def order_attach(
    spark: SparkSession,
    baskets: DataFrame,
    rules: DataFrame,
    counted: PairStats,
    target_table: DataFrame,
    totals: dict[int, int],
) -> DataFrame:
    """Per order of each target period: how many of its ordered pairs are rules there."""
    from pyspark.sql import functions as F

    from lodestar.jobs import pairs

    history = spark.createDataFrame(
        [(group, total > 0) for group, total in totals.items()],
        f"{pairs.GROUP} int, has_history boolean",
    )
    orders = baskets.join(
        F.broadcast(target_table.select(pairs.GROUP, PERIOD_COLUMN)), PERIOD_COLUMN
    )
    ids = counted.frequent.select(pairs.GROUP, "item", "iid")
    rule_ids = (
        rules.select(pairs.GROUP, "antecedent", "consequent")
        .join(
            F.broadcast(ids.withColumnRenamed("item", "antecedent").withColumnRenamed("iid", "_a")),
            [pairs.GROUP, "antecedent"],
        )
        .join(
            F.broadcast(ids.withColumnRenamed("item", "consequent").withColumnRenamed("iid", "_c")),
            [pairs.GROUP, "consequent"],
        )
    )
    size = counted.id_count
    # NOTE: each unordered pair holds 1 or 2 directed rules; both count as recommended pairs
    rule_pairs = rule_ids.groupBy(
        pairs.pair_key(F.col(pairs.GROUP), F.least("_a", "_c"), F.greatest("_a", "_c"), size).alias(
            "_key"
        )
    ).agg(F.count(F.lit(1)).alias("_directions"))
    rule_items = (
        rule_ids.select(pairs.GROUP, F.col("antecedent").alias("item"), F.col("_a").alias("iid"))
        .unionByName(
            rule_ids.select(
                pairs.GROUP, F.col("consequent").alias("item"), F.col("_c").alias("iid")
            )
        )
        .distinct()
    )
    members = orders.select(pairs.GROUP, F.col("order_id").alias("basket"), "items")
    hits = spark.createDataFrame([], "basket string, grp int, recommended_pairs long")
    if size >= 2:
        encoded = pairs.encode(members, rule_items)
        buckets = pairs.choose_buckets(spark, size, max(1, len(totals)))
        exploded = pairs.explode_pairs(spark, encoded, size, buckets, keep=("basket",))
        hits = (
            exploded.join(rule_pairs, "_key")
            .select(
                F.expr(f"CAST(_key DIV {size * size} AS INT)").alias(pairs.GROUP),
                "basket",
                "_directions",
            )
            .groupBy("basket", pairs.GROUP)
            .agg(F.sum("_directions").cast("long").alias("recommended_pairs"))
        )
    counted_orders = orders.join(
        hits.withColumnRenamed("basket", "order_id"), ["order_id", pairs.GROUP], "left"
    ).join(F.broadcast(history), pairs.GROUP, "left")
    recommended = F.coalesce(F.col("recommended_pairs"), F.lit(0)).cast("long")
    return counted_orders.select(
        "order_id",
        PERIOD_COLUMN,
        "distinct_items",
        recommended.alias("recommended_pairs"),
        (recommended > 0).alias("attached"),
        F.coalesce(F.col("has_history"), F.lit(False)).alias("has_history"),
    )


def shift_month(period: str, months: int) -> str:
    """``YYYY-MM`` moved by ``months`` (negative: back)."""
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _oversize(baskets: DataFrame, params: AffinityParams) -> dict[str, Any]:
    """Count (and, under policy 'fail', refuse) the baskets above max_basket_size."""
    from pyspark.sql import functions as F

    limit = params.max_basket_size
    report: dict[str, Any] = {
        "policy": params.oversize_policy,
        "max_basket_size": limit,
        "baskets": 0,
        "largest": [],
    }
    if limit is None:
        return report
    over = baskets.filter(F.col("distinct_items") > F.lit(limit))
    report["baskets"] = over.count()
    report["largest"] = [
        {"order_id": row["order_id"], "distinct_items": int(row["distinct_items"])}
        for row in over.orderBy(F.desc("distinct_items"), "order_id").limit(EXAMPLES).collect()
    ]
    if report["baskets"] and params.oversize_policy == "fail":
        largest = ", ".join(f"{b['order_id']} ({b['distinct_items']})" for b in report["largest"])
        raise JobError(
            f"{report['baskets']} baskets have more than max_basket_size={limit} distinct "
            f"items (largest: {largest}); set oversize_policy to 'exclude' or 'keep', or "
            "raise max_basket_size"
        )
    return report


def _assert_invariants(rules: DataFrame, what: str) -> dict[str, int]:
    from lodestar.jobs.pairs import invariant_violations

    violations = invariant_violations(rules)
    broken = {name: n for name, n in violations.items() if n and name != "pairs"}
    if broken:
        raise JobError(
            f"{what}: invariants broken ({broken} rules); this is a bug in the affinity job"
        )
    return violations


def main(argv: list[str] | None = None) -> int:
    return run_main("affinity", argv, load_affinity, run)


if __name__ == "__main__":
    sys.exit(main())
