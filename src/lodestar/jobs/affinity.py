"""The ``affinity`` Spark application: clean order lines in; item support, pair rules, the
rules of each period learned from its trailing window, and per-order attach out.

    spark-submit --master local[*] src/lodestar/jobs/affinity.py --params params.json

Baskets are the *sets* of distinct product ids of each order; every denominator is the
number of valid baskets (after the oversize policy, which the statistics report; baskets it
excludes are left out of every output, ``order_attach`` included).

- ``item_support`` and ``pair_rules`` use every basket of the input.
- ``period_rules``: for each period P with orders, the rules learned only from the baskets of
  the ``trailing_periods`` calendar months before P (window_start..window_end); a period
  whose window holds no basket gets no rules. Baskets without a period (sources without
  time) are in no window and no period.
- ``order_attach``: each order of each period P, with the number of ordered pairs (a, b) of
  its items that are rules of P. This is the out-of-sample attach rate of the NSM.

With an ``interval`` only the periods inside it are recomputed and their partitions of
``period_rules`` and ``order_attach`` replaced (their windows may reach before it).
Invariants are asserted on every run, on every counted pair of every group.
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
INVARIANTS = ("support", "confidence", "pair_support", "lift_symmetry")


def run(spark: SparkSession, params: AffinityParams) -> dict[str, Any]:
    """Run the job in ``spark``; returns the statistics it also writes to ``stats_path``."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    timings = Timings()
    lines = read_parquet(spark, params.order_lines, schemas.ORDER_LINES, "inputs.order_lines")

    with timings.phase("baskets"):
        every = basket_sets(lines).persist(StorageLevel.MEMORY_AND_DISK)
        by_period, oversize = _overview(every, params)
    baskets = every
    if oversize["baskets"] and params.oversize_policy == "exclude":
        baskets = every.filter(F.col("distinct_items") <= F.lit(params.max_basket_size))
    total = sum(p["baskets"] for p in by_period.values())
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
        "single_item_baskets": sum(p["single"] for p in by_period.values()),
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
        global_stats, global_checks = _global_outputs(spark, baskets, total, params)
    with timings.phase("period_rules_and_attach"):
        periods = {p: v["baskets"] for p, v in by_period.items() if p != schemas.UNKNOWN_PERIOD}
        stats["periods"], period_checks = _period_outputs(spark, baskets, periods, params)
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


def _overview(
    every: DataFrame, params: AffinityParams
) -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    """Baskets per period after the oversize policy, and the oversize report (one pass)."""
    from pyspark.sql import functions as F

    limit = params.max_basket_size
    size = F.col("distinct_items")
    over = F.lit(False) if limit is None else size > F.lit(limit)
    valid = ~over if params.oversize_policy == "exclude" else F.lit(True)
    rows = (
        every.groupBy(PERIOD_COLUMN)
        .agg(
            F.sum(valid.cast("long")).alias("baskets"),
            F.sum((valid & (size == 1)).cast("long")).alias("single"),
            F.sum(over.cast("long")).alias("over"),
        )
        .collect()
    )
    by_period = {
        row[PERIOD_COLUMN] or schemas.UNKNOWN_PERIOD: {
            "baskets": int(row["baskets"]),
            "single": int(row["single"]),
        }
        for row in rows
    }
    report: dict[str, Any] = {
        "policy": params.oversize_policy,
        "max_basket_size": limit,
        "baskets": sum(int(row["over"]) for row in rows),
        "largest": [],
    }
    if report["baskets"]:
        report["largest"] = [
            {"order_id": row["order_id"], "distinct_items": int(row["distinct_items"])}
            for row in every.filter(over)
            .orderBy(F.desc("distinct_items"), "order_id")
            .limit(EXAMPLES)
            .collect()
        ]
    if report["baskets"] and params.oversize_policy == "fail":
        largest = ", ".join(f"{b['order_id']} ({b['distinct_items']})" for b in report["largest"])
        raise JobError(
            f"{report['baskets']} baskets have more than max_basket_size={limit} distinct "
            f"items (largest: {largest}); set oversize_policy to 'exclude' or 'keep', or "
            "raise max_basket_size"
        )
    return by_period, report


def _global_outputs(
    spark: SparkSession, baskets: DataFrame, total: int, params: AffinityParams
) -> tuple[dict[str, Any], dict[str, int]]:
    """Write ``item_support`` and ``pair_rules``; their statistics and invariant checks."""
    from pyspark.sql import functions as F

    from lodestar.jobs import pairs

    counted = global_pair_stats(spark, baskets, total, params.thresholds)
    support = counted.items.select(
        F.col("item").alias("product_id"),
        "basket_count",
        (F.col("basket_count") / F.lit(max(total, 1))).alias("support"),
        F.lit(total).cast("long").alias("total_baskets"),
    )
    write_parquet(
        schemas.conform(support, schemas.ITEM_SUPPORT).coalesce(output_files(spark)),
        params.outputs["item_support"],
    )
    checks = _assert_invariants(pairs.check(counted.pairs, params.thresholds), "pair_rules")
    rules = pairs.directions(counted.pairs, params.thresholds)
    write_parquet(
        schemas.conform(rules, schemas.PAIR_RULES).coalesce(output_files(spark)),
        params.outputs["pair_rules"],
    )
    found = checks.get(0, {})
    result = {
        "items": counted.items.count(),
        "frequent_items": counted.id_count,
        "min_pair_count": counted.min_counts.get(0),
        "pairs_counted": found.get("pairs", 0),
        "pair_rules": found.get("rules", 0),
    }
    counted.release()
    log.info(
        "affinity %s: %d pair rules from %d pairs seen in at least %s baskets",
        params.product,
        result["pair_rules"],
        result["pairs_counted"],
        result["min_pair_count"],
    )
    return result, _violations(checks)


def _period_outputs(
    spark: SparkSession, baskets: DataFrame, periods: dict[str, int], params: AffinityParams
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Write ``period_rules`` and ``order_attach`` for the target periods; their statistics
    per period and the invariant checks of all windows."""
    from pyspark.sql import functions as F

    from lodestar.jobs import pairs

    wanted = set(params.interval.periods()) if params.interval is not None else None
    targets = sorted(p for p in periods if wanted is None or p in wanted)
    k = params.trailing_periods
    windows = {
        g: (period, [shift_month(period, -back) for back in range(k, 0, -1)])
        for g, period in enumerate(targets, start=1)
    }
    totals = {
        g: sum(periods.get(month, 0) for month in months) for g, (_, months) in windows.items()
    }
    in_windows: dict[str, list[int]] = {}
    for g, (_, months) in windows.items():
        for month in months:
            in_windows.setdefault(month, []).append(g)
    windows_of = pairs.lookup(F.col(PERIOD_COLUMN), in_windows, "array<int>")
    members = baskets.select(
        F.explode(windows_of).alias(pairs.GROUP),
        F.col("order_id").alias("basket"),
        "items",
    )
    learned = {g: n for g, n in totals.items() if n > 0}
    counted = pairs.count_pairs(spark, members, learned, params.thresholds)
    checks = _assert_invariants(pairs.check(counted.pairs, params.thresholds), "period_rules")

    group = F.col(pairs.GROUP)
    period_of = {g: period for g, (period, _) in windows.items()}
    start_of = {g: months[0] for g, (_, months) in windows.items()}
    end_of = {g: months[-1] for g, (_, months) in windows.items()}
    rules = pairs.directions(counted.pairs, params.thresholds).select(
        "*",
        pairs.lookup(group, period_of, "string").alias(PERIOD_COLUMN),
        pairs.lookup(group, start_of, "string").alias("window_start"),
        pairs.lookup(group, end_of, "string").alias("window_end"),
    )
    replace = None if params.interval is None else list(params.interval.periods())
    write_parquet(
        schemas.conform(rules, schemas.PERIOD_RULES).repartition(F.col(PERIOD_COLUMN)),
        params.outputs["period_rules"],
        partition_by=PERIOD_COLUMN,
        replace_partitions=replace,
    )
    group_of = {period: g for g, period in period_of.items()}
    attach = order_attach(baskets, counted, group_of, learned, params.thresholds)
    write_parquet(
        schemas.conform(attach, schemas.ORDER_ATTACH).repartition(F.col(PERIOD_COLUMN)),
        params.outputs["order_attach"],
        partition_by=PERIOD_COLUMN,
        replace_partitions=replace,
    )
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
    counted.release()

    report: dict[str, dict[str, Any]] = {}
    for group_id, (period, months) in windows.items():
        orders, hits = attached.get(period, (0, 0))
        report[period] = {
            "window_start": months[0],
            "window_end": months[-1],
            "window_baskets": totals[group_id],
            "min_pair_count": counted.min_counts.get(group_id),
            "rules": checks.get(group_id, {}).get("rules", 0),
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
    return report, _violations(checks)


def order_attach(
    baskets: DataFrame,
    counted: PairStats,
    group_of: dict[str, int],
    learned: dict[int, int],
    thresholds: Thresholds,
) -> DataFrame:
    """Per order of each target period: how many of its ordered pairs are rules there."""
    from pyspark.sql import functions as F

    from lodestar.jobs import pairs

    group = F.col(pairs.GROUP)
    orders = baskets.select(
        "order_id",
        PERIOD_COLUMN,
        "items",
        "distinct_items",
        pairs.lookup(F.col(PERIOD_COLUMN), group_of, "int").alias(pairs.GROUP),
    ).filter(group.isNotNull())
    size = counted.id_count
    hits = None
    if size >= 2:
        # NOTE: a pair holds 1 or 2 directed rules; each is one recommended (ordered) pair
        rule_pairs = pairs.rule_directions(counted.pairs, thresholds)
        keys = rule_pairs.select(
            pairs.pair_key(group, F.col("x"), F.col("y"), size).alias("_key"), "_directions"
        )
        rule_items = (
            rule_pairs.select(pairs.GROUP, F.explode(F.array("x", "y")).alias("iid"))
            .distinct()
            .join(counted.frequent.select(pairs.GROUP, "iid", "item"), [pairs.GROUP, "iid"])
        )
        members = orders.select(pairs.GROUP, F.col("order_id").alias("basket"), "items")
        encoded = pairs.encode(members, rule_items)
        buckets = pairs.choose_buckets(baskets.sparkSession, size, max(1, len(learned)))
        hits = (
            pairs.explode_pairs(encoded, size, buckets, keep=("basket",))
            .join(keys, "_key")
            .groupBy(F.col("basket").alias("order_id"))
            .agg(F.sum("_directions").cast("long").alias("recommended_pairs"))
        )
    recommended = F.lit(0).cast("long")
    if hits is not None:
        orders = orders.join(hits, "order_id", "left")
        recommended = F.coalesce(F.col("recommended_pairs"), recommended)
    history = {g: True for g in learned}
    return orders.select(
        "order_id",
        PERIOD_COLUMN,
        "distinct_items",
        recommended.alias("recommended_pairs"),
        (recommended > 0).alias("attached"),
        F.coalesce(pairs.lookup(group, history, "boolean"), F.lit(False)).alias("has_history"),
    )


def output_files(spark: SparkSession) -> int:
    """Files per unpartitioned output: one per core, not one per pair bucket."""
    return max(1, spark.sparkContext.defaultParallelism)


def shift_month(period: str, months: int) -> str:
    """``YYYY-MM`` moved by ``months`` (negative: back)."""
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _assert_invariants(checks: dict[int, dict[str, int]], what: str) -> dict[int, dict[str, int]]:
    broken = {
        group: {name: found[name] for name in INVARIANTS if found[name]}
        for group, found in checks.items()
        if any(found[name] for name in INVARIANTS)
    }
    if broken:
        raise JobError(
            f"{what}: invariants broken (pairs per group: {broken}); this is a bug in the "
            "affinity job, not in the data"
        )
    return checks


def _violations(checks: dict[int, dict[str, int]]) -> dict[str, int]:
    return {name: sum(found[name] for found in checks.values()) for name in INVARIANTS}


def main(argv: list[str] | None = None) -> int:
    return run_main("affinity", argv, load_affinity, run)


if __name__ == "__main__":
    sys.exit(main())
