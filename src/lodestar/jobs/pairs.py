"""Exact pair counting over baskets, for one or many groups of baskets at once.

A group is a set of baskets with its own denominator: group 0 holds every basket for
``pair_rules``; for ``period_rules`` each target period has one group holding the baskets of
its trailing window. A basket is a *set* of product ids (quantity never becomes
multiplicity) and a pair {a, b} is counted once per basket that holds both.

How it is made fast, without any Python UDF:
1. Apriori pruning: a pair is never more frequent than its rarer item, so items below the
   group's minimum count are dropped before pairing.
2. The surviving items get dense integer ids; each basket becomes a sorted array of ids.
3. Each pair (x < y) of a group g is one long, ``(g * K + x) * K + y`` for K ids, generated
   with ``posexplode`` and ``explode(slice(...))`` (code-generated, unlike lambda functions).
4. The pair space is split into buckets by ``x mod B``: every bucket re-reads the (small)
   basket arrays, but keeps only the pairs it owns, so each task aggregates a hash map of
   about 1/B of the distinct pairs and no partial aggregate is shuffled at all.

Metrics, computed from exact integer counts:
support = n_ab / N, confidence(a -> b) = n_ab / n_a, lift = n_ab * N / (n_a * n_b), which is the
same expression for both directions, so lift is symmetric bit for bit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lodestar.errors import JobError
from lodestar.jobs.params import Thresholds

log = logging.getLogger(__name__)

GROUP = "grp"
#: distinct pairs a bucket's hash map should hold at most (keeps maps cache-friendly)
PAIRS_PER_BUCKET = 250_000
MAX_BUCKETS = 64

PAIR_STATS_SCHEMA = (
    "grp int, item_a string, item_b string, pair_count long, count_a long, count_b long, "
    "total_baskets long"
)


@dataclass(frozen=True)
class PairStats:
    """The counted pairs of every group (one row per unordered pair) and what was pruned."""

    pairs: DataFrame
    #: (grp, item, basket_count) of every item
    items: DataFrame
    #: (grp, item, basket_count, iid) of the items kept for pairing (cached: unpersist it)
    frequent: DataFrame
    #: number of distinct ids (the K of the pair keys)
    id_count: int
    min_counts: Mapping[int, int]


def item_counts(members: DataFrame) -> DataFrame:
    """(grp, item, basket_count) from (grp, basket, items) where items is a set."""
    return (
        members.select(GROUP, F.explode("items").alias("item"))
        .groupBy(GROUP, "item")
        .agg(F.count(F.lit(1)).alias("basket_count"))
    )


def count_pairs(
    spark: SparkSession,
    members: DataFrame,
    totals: Mapping[int, int],
    thresholds: Thresholds,
    *,
    buckets: int | None = None,
) -> PairStats:
    """Count every pair of every group that can reach the group's minimum count.

    ``members`` has columns (grp int, basket string, items array<string> of distinct ids);
    ``totals`` maps each group to its number of baskets (the support denominator).
    """
    min_counts = {group: thresholds.min_count(total) for group, total in totals.items()}
    limits = spark.createDataFrame(sorted(min_counts.items()), f"{GROUP} int, min_count long")
    counts = item_counts(members)
    frequent = (
        counts.join(F.broadcast(limits), GROUP)
        .filter(F.col("basket_count") >= F.col("min_count"))
        .drop("min_count")
    )
    ids = dense_ids(frequent.select("item").distinct())
    frequent = frequent.join(F.broadcast(ids), "item").cache()
    sizes = frequent.agg(
        F.count(F.lit(1)).alias("rows"), F.count_distinct("iid").alias("ids")
    ).first()
    assert sizes is not None
    size, n_frequent = int(sizes["ids"]), int(sizes["rows"])
    log.info(
        "pair counting: %d groups, %d frequent (group, item) of %d distinct items; "
        "minimum counts %s",
        len(totals),
        n_frequent,
        size,
        _summary(min_counts),
    )
    empty = spark.createDataFrame([], PAIR_STATS_SCHEMA)
    if size < 2:
        return PairStats(empty, counts, frequent, size, min_counts)
    if (max(totals, default=0) + 1) * size * size >= 2**62:
        raise JobError(f"{size} items in {len(totals)} groups do not fit one 64-bit pair key")

    encoded = encode(members, frequent)
    bucket_count = buckets or choose_buckets(spark, size, len(totals))
    pairs = explode_pairs(spark, encoded, size, bucket_count)
    counted = (
        pairs.groupBy("_bucket", "_key")
        .agg(F.count(F.lit(1)).alias("pair_count"))
        .select(*decode("_key", size), "pair_count")
        .join(F.broadcast(limits), GROUP)
        .filter(F.col("pair_count") >= F.col("min_count"))
    )
    named = (
        counted.join(
            F.broadcast(frequent.select(GROUP, F.col("iid").alias("x"), "item", "basket_count")),
            [GROUP, "x"],
        )
        .withColumnRenamed("item", "item_a")
        .withColumnRenamed("basket_count", "count_a")
        .join(
            F.broadcast(frequent.select(GROUP, F.col("iid").alias("y"), "item", "basket_count")),
            [GROUP, "y"],
        )
        .withColumnRenamed("item", "item_b")
        .withColumnRenamed("basket_count", "count_b")
    )
    total_table = spark.createDataFrame(sorted(totals.items()), f"{GROUP} int, total_baskets long")
    stats = named.join(F.broadcast(total_table), GROUP).select(
        F.col(GROUP).cast("int").alias(GROUP),
        "item_a",
        "item_b",
        "pair_count",
        "count_a",
        "count_b",
        "total_baskets",
    )
    return PairStats(stats, counts, frequent, size, min_counts)


def dense_ids(items: DataFrame) -> DataFrame:
    """Ids 0..K-1 for distinct items, in item order (deterministic across runs)."""
    # NOTE: one partition on purpose: it holds one row per distinct frequent item
    order = Window.partitionBy(F.lit(0)).orderBy("item")
    return items.select("item", (F.row_number().over(order) - 1).cast("int").alias("iid"))


def encode(members: DataFrame, frequent: DataFrame) -> DataFrame:
    """(grp, basket, ids): each basket's frequent items of its group as a sorted id array."""
    return (
        members.select(GROUP, "basket", F.explode("items").alias("item"))
        .join(F.broadcast(frequent.select(GROUP, "item", "iid")), [GROUP, "item"])
        .groupBy(GROUP, "basket")
        .agg(F.array_sort(F.collect_list("iid")).alias("ids"))
        .filter(F.size("ids") >= 2)
    )


def choose_buckets(spark: SparkSession, size: int, groups: int) -> int:
    """Enough buckets that each holds about PAIRS_PER_BUCKET possible pairs, in whole
    rounds of the cluster's parallelism."""
    parallelism = max(1, spark.sparkContext.defaultParallelism)
    possible = groups * size * (size - 1) // 2
    wanted = max(parallelism, ceil(possible / PAIRS_PER_BUCKET))
    rounds = ceil(wanted / parallelism)
    return int(min(MAX_BUCKETS, rounds * parallelism))


def explode_pairs(
    spark: SparkSession,
    encoded: DataFrame,
    size: int,
    buckets: int,
    *,
    keep: tuple[str, ...] = (),
) -> DataFrame:
    """(_bucket, _key[, keep...]): one row per pair x < y of each basket, x owned by _bucket."""
    spread = encoded.crossJoin(
        F.broadcast(spark.range(buckets).select(F.col("id").cast("int").alias("_bucket")))
    ).repartition(buckets, "_bucket")
    firsts = spread.select(
        GROUP, "_bucket", "ids", *keep, F.posexplode("ids").alias("_pos", "_x")
    ).filter(F.col("_x") % buckets == F.col("_bucket"))
    seconds = firsts.select(
        GROUP,
        "_bucket",
        "_x",
        *keep,
        F.explode(F.slice("ids", F.col("_pos") + 2, F.size("ids"))).alias("_y"),
    )
    key = (F.col(GROUP).cast("long") * size + F.col("_x")) * size + F.col("_y")
    return seconds.select("_bucket", key.alias("_key"), *keep)


def pair_key(group: Column, x: Column, y: Column, size: int) -> Column:
    """The long key of pair (x, y), x < y, of ``group`` (as :func:`explode_pairs` builds it)."""
    return (group.cast("long") * size + x) * size + y


def decode(key: str, size: int) -> list[Column]:
    """grp, x and y back from the pair key column named ``key``."""
    return [
        F.expr(f"CAST({key} DIV {size * size} AS INT)").alias(GROUP),
        F.expr(f"CAST(({key} DIV {size}) % {size} AS INT)").alias("x"),
        F.expr(f"CAST({key} % {size} AS INT)").alias("y"),
    ]


def directions(stats: DataFrame) -> DataFrame:
    """Both rules a -> b and b -> a of each counted pair, with their metrics."""
    forward = stats.select(
        GROUP,
        F.col("item_a").alias("antecedent"),
        F.col("item_b").alias("consequent"),
        "pair_count",
        F.col("count_a").alias("antecedent_count"),
        F.col("count_b").alias("consequent_count"),
        "total_baskets",
        F.col("count_a").alias("_n_a"),
        F.col("count_b").alias("_n_b"),
    )
    backward = stats.select(
        GROUP,
        F.col("item_b").alias("antecedent"),
        F.col("item_a").alias("consequent"),
        "pair_count",
        F.col("count_b").alias("antecedent_count"),
        F.col("count_a").alias("consequent_count"),
        "total_baskets",
        F.col("count_a").alias("_n_a"),
        F.col("count_b").alias("_n_b"),
    )
    both = forward.unionByName(backward)
    # NOTE: lift uses (n_a * n_b) in one fixed order for both directions: symmetric exactly
    return both.select(
        GROUP,
        "antecedent",
        "consequent",
        "pair_count",
        "antecedent_count",
        "consequent_count",
        "total_baskets",
        (F.col("pair_count") / F.col("total_baskets")).alias("support"),
        (F.col("pair_count") / F.col("antecedent_count")).alias("confidence"),
        ((F.col("pair_count") * F.col("total_baskets")) / (F.col("_n_a") * F.col("_n_b"))).alias(
            "lift"
        ),
    )


def apply_thresholds(rules: DataFrame, thresholds: Thresholds) -> DataFrame:
    """Keep the directed rules at or above the confidence and lift thresholds."""
    return rules.filter(
        (F.col("confidence") >= F.lit(thresholds.min_confidence))
        & (F.col("lift") >= F.lit(thresholds.min_lift))
    )


def invariant_violations(rules: DataFrame) -> dict[str, int]:
    """Count the pairs whose rules (both directions, before thresholds) break an invariant;
    ``pairs`` is the number of pairs checked.

    support in [0, 1]; confidence <= 1; support(a, b) <= min(support(a), support(b)); lift
    equal in both directions of a pair. One aggregation, no collect beyond one row.
    """
    lo = F.least("antecedent", "consequent")
    hi = F.greatest("antecedent", "consequent")
    per_pair = rules.groupBy(GROUP, lo.alias("_lo"), hi.alias("_hi")).agg(
        F.count(F.lit(1)).alias("_directions"),
        (F.max("lift") != F.min("lift")).alias("_asymmetric"),
        F.max(((F.col("support") < 0) | (F.col("support") > 1)).cast("int")).alias("_support"),
        F.max((F.col("confidence") > 1).cast("int")).alias("_confidence"),
        F.max(
            (F.col("pair_count") > F.least("antecedent_count", "consequent_count")).cast("int")
        ).alias("_subset"),
    )
    row = per_pair.agg(
        F.count(F.lit(1)).alias("pairs"),
        F.coalesce(F.sum((F.col("_support") > 0).cast("int")), F.lit(0)).alias("support"),
        F.coalesce(F.sum((F.col("_confidence") > 0).cast("int")), F.lit(0)).alias("confidence"),
        F.coalesce(F.sum((F.col("_subset") > 0).cast("int")), F.lit(0)).alias("pair_support"),
        F.coalesce(
            F.sum((F.col("_asymmetric") | (F.col("_directions") != 2)).cast("int")), F.lit(0)
        ).alias("lift_symmetry"),
    ).first()
    assert row is not None
    return {name: int(row[name]) for name in row.asDict()}


def _summary(min_counts: Mapping[int, int]) -> str:
    values = sorted(set(min_counts.values()))
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    return f"{values[0]}..{values[-1]}"
