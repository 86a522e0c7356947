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
   basket arrays but keeps only the pairs it owns, so each task aggregates a hash map of
   about 1/B of the distinct pairs and no partial aggregate is shuffled.
5. Small tables known on the driver (minimum counts, totals, windows) are map literals in
   the expressions, not joins: no broadcast job each time they are used.

Metrics come from exact integer counts: support = n_ab / N, confidence(a -> b) = n_ab / n_a,
lift = (n_ab * N) / (n_a * n_b). Both products are exact 64-bit integers, so lift is the same
double in both directions, bit for bit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

from lodestar.errors import JobError
from lodestar.jobs.params import Thresholds
from lodestar.jobs.schemas import empty

log = logging.getLogger(__name__)

GROUP = "grp"
#: possible pairs one bucket's hash map should cover at most (keeps the maps cache-friendly)
PAIRS_PER_BUCKET = 65_536
MAX_BUCKETS = 64

PAIR_STATS = StructType(
    [
        StructField(name, kind)
        for name, kind in (
            (GROUP, IntegerType()),
            ("x", IntegerType()),
            ("y", IntegerType()),
            ("item_a", StringType()),
            ("item_b", StringType()),
            ("pair_count", LongType()),
            ("count_a", LongType()),
            ("count_b", LongType()),
            ("total_baskets", LongType()),
        )
    ]
)


@dataclass(frozen=True)
class PairStats:
    """What was counted for every group; the frames are persisted until :meth:`release`."""

    #: one row per counted pair: grp, x < y (ids), item_a, item_b, pair_count, count_a,
    #: count_b, total_baskets
    pairs: DataFrame
    #: (grp, item, basket_count) of every item
    items: DataFrame
    #: (grp, item, basket_count, iid) of the items kept for pairing
    frequent: DataFrame
    #: number of distinct ids (the K of the pair keys)
    id_count: int
    min_counts: Mapping[int, int]

    def release(self) -> None:
        for frame in (self.pairs, self.items, self.frequent):
            frame.unpersist()


def lookup(column: Column, table: Mapping[Any, Any], kind: str) -> Column:
    """``table[column]`` as type ``kind`` (null when absent), for a small table known on the
    driver: a map literal in the expression instead of a join."""
    if not table:
        return F.lit(None).cast(kind)
    entries = [F.lit(value) for key, item in sorted(table.items()) for value in (key, item)]
    return F.try_element_at(F.create_map(*entries), column).cast(kind)


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
    group = F.col(GROUP)
    counts = item_counts(members).persist(StorageLevel.MEMORY_AND_DISK)
    kept = counts.filter(F.col("basket_count") >= lookup(group, min_counts, "long"))
    if len(totals) == 1:  # one group: its items are distinct already, number them in place
        frequent = dense_ids(kept, "item").persist(StorageLevel.MEMORY_AND_DISK)
    else:
        ids = dense_ids(kept.select("item").distinct(), "item")
        frequent = kept.join(F.broadcast(ids), "item").persist(StorageLevel.MEMORY_AND_DISK)
    sizes = frequent.agg(F.count(F.lit(1)).alias("rows"), F.max("iid").alias("top")).first()
    assert sizes is not None
    size = 0 if sizes["top"] is None else int(sizes["top"]) + 1  # NOTE: ids are dense
    log.info(
        "pair counting: %d groups; %d (group, item) at or above the minimum count (%s), "
        "%d distinct items",
        len(totals),
        int(sizes["rows"]),
        _summary(min_counts),
        size,
    )
    if size < 2:
        return PairStats(empty(spark, PAIR_STATS), counts, frequent, size, min_counts)
    if (max(totals, default=0) + 1) * size * size >= 2**62:
        raise JobError(f"{size} items in {len(totals)} groups do not fit one 64-bit pair key")

    encoded = encode(members, frequent)
    bucket_count = buckets or choose_buckets(spark, size, len(totals))
    # NOTE: coalesce runs the buckets of a task one after the other, each with its own map,
    # and spares the stages after it one task per bucket
    counted = (
        explode_pairs(encoded, size, bucket_count)
        .groupBy("_bucket", "_key")
        .agg(F.count(F.lit(1)).alias("pair_count"))
        .select(*decode("_key", size), "pair_count")
        .filter(F.col("pair_count") >= lookup(group, min_counts, "long"))
        .coalesce(max(1, spark.sparkContext.defaultParallelism))
    )
    # one dictionary keyed by a single long (a compact broadcast), used for both sides
    dictionary = frequent.select(
        (group.cast("long") * size + F.col("iid")).alias("_entry"), "item", "basket_count"
    )
    stats = (
        counted.join(
            F.broadcast(dictionary.toDF("_a", "item_a", "count_a")),
            group.cast("long") * size + F.col("x") == F.col("_a"),
        )
        .join(
            F.broadcast(dictionary.toDF("_b", "item_b", "count_b")),
            group.cast("long") * size + F.col("y") == F.col("_b"),
        )
        .select(
            GROUP,
            "x",
            "y",
            "item_a",
            "item_b",
            "pair_count",
            "count_a",
            "count_b",
            lookup(group, totals, "long").alias("total_baskets"),
        )
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    return PairStats(stats, counts, frequent, size, min_counts)


def dense_ids(items: DataFrame, column: str) -> DataFrame:
    """``items`` with ``iid``, 0..K-1 in the order of its distinct ``column`` values."""
    # NOTE: one partition on purpose: it holds one row per distinct frequent item
    order = Window.partitionBy(F.lit(0)).orderBy(column)
    return items.select("*", (F.row_number().over(order) - 1).cast("int").alias("iid"))


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
    """Enough buckets that each covers about PAIRS_PER_BUCKET possible pairs, in whole rounds
    of the cluster's parallelism (at least one round, at most MAX_BUCKETS)."""
    parallelism = max(1, spark.sparkContext.defaultParallelism)
    possible = groups * size * (size - 1) // 2
    rounds = ceil(max(parallelism, ceil(possible / PAIRS_PER_BUCKET)) / parallelism)
    return int(min(max(MAX_BUCKETS, parallelism), rounds * parallelism))


def explode_pairs(
    encoded: DataFrame, size: int, buckets: int, *, keep: tuple[str, ...] = ()
) -> DataFrame:
    """(_bucket, _key[, keep...]): one row per pair x < y of each basket, x owned by _bucket."""
    every_bucket = F.explode(F.sequence(F.lit(0), F.lit(buckets - 1))).alias("_bucket")
    spread = encoded.select(GROUP, "ids", *keep, every_bucket).repartition(buckets, "_bucket")
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
    key = pair_key(F.col(GROUP), F.col("_x"), F.col("_y"), size)
    return seconds.select("_bucket", key.alias("_key"), *keep)


def pair_key(group: Column, x: Column, y: Column, size: int) -> Column:
    """The long key of pair (x, y), x < y, of ``group``."""
    return (group.cast("long") * size + x) * size + y


def decode(key: str, size: int) -> list[Column]:
    """grp, x and y back from the pair key column named ``key``."""
    return [
        F.expr(f"CAST({key} DIV {size * size} AS INT)").alias(GROUP),
        F.expr(f"CAST(({key} DIV {size}) % {size} AS INT)").alias("x"),
        F.expr(f"CAST({key} % {size} AS INT)").alias("y"),
    ]


def lift(pair_count: Column, total: Column, count_a: Column, count_b: Column) -> Column:
    """(n_ab * N) / (n_a * n_b): exact integer products, one rounding, symmetric in a and b."""
    return (pair_count * total) / (count_a * count_b)


def passes(confidence: Column, lift_value: Column, thresholds: Thresholds) -> Column:
    return (confidence >= F.lit(thresholds.min_confidence)) & (
        lift_value >= F.lit(thresholds.min_lift)
    )


def directions(stats: DataFrame, thresholds: Thresholds) -> DataFrame:
    """The rules a -> b and b -> a of each counted pair that pass the thresholds."""
    sides = (
        ("item_a", "item_b", "count_a", "count_b"),
        ("item_b", "item_a", "count_b", "count_a"),
    )
    rules = None
    for antecedent, consequent, count_a, count_b in sides:
        count, total = F.col("pair_count"), F.col("total_baskets")
        confidence = count / F.col(count_a)
        lift_value = lift(count, total, F.col(count_a), F.col(count_b))
        side = stats.filter(passes(confidence, lift_value, thresholds)).select(
            GROUP,
            F.col(antecedent).alias("antecedent"),
            F.col(consequent).alias("consequent"),
            "pair_count",
            F.col(count_a).alias("antecedent_count"),
            F.col(count_b).alias("consequent_count"),
            "total_baskets",
            (count / total).alias("support"),
            confidence.alias("confidence"),
            lift_value.alias("lift"),
        )
        rules = side if rules is None else rules.unionByName(side)
    assert rules is not None
    return rules


def rule_directions(stats: DataFrame, thresholds: Thresholds) -> DataFrame:
    """(grp, _key, _directions): each counted pair with 1 or 2 rules passing the thresholds."""
    count, total = F.col("pair_count"), F.col("total_baskets")
    count_a, count_b = F.col("count_a"), F.col("count_b")
    forward = passes(count / count_a, lift(count, total, count_a, count_b), thresholds)
    backward = passes(count / count_b, lift(count, total, count_b, count_a), thresholds)
    directions_ = forward.cast("int") + backward.cast("int")
    return stats.select(GROUP, "x", "y", directions_.alias("_directions")).filter(
        F.col("_directions") > 0
    )


def check(stats: DataFrame, thresholds: Thresholds) -> dict[int, dict[str, int]]:
    """Per group: pairs counted, rules passing the thresholds, and the pairs breaking an
    invariant (support in [0, 1]; confidence <= 1; support(a, b) <= min(support(a),
    support(b)); lift equal in both directions). One aggregation; one row per group."""
    count, total = F.col("pair_count"), F.col("total_baskets")
    count_a, count_b = F.col("count_a"), F.col("count_b")
    lift_ab = lift(count, total, count_a, count_b)
    lift_ba = lift(count, total, count_b, count_a)
    forward = passes(count / count_a, lift_ab, thresholds)
    backward = passes(count / count_b, lift_ba, thresholds)

    def tally(condition: Column) -> Column:
        return F.sum(condition.cast("long"))

    rows = (
        stats.groupBy(GROUP)
        .agg(
            F.count(F.lit(1)).alias("pairs"),
            (tally(forward) + tally(backward)).alias("rules"),
            tally((count / total < 0) | (count / total > 1)).alias("support"),
            tally((count / count_a > 1) | (count / count_b > 1)).alias("confidence"),
            tally(count > F.least(count_a, count_b)).alias("pair_support"),
            tally(lift_ab != lift_ba).alias("lift_symmetry"),
        )
        .collect()
    )
    return {
        int(row[GROUP]): {k: int(v) for k, v in row.asDict().items() if k != GROUP} for row in rows
    }


def _summary(min_counts: Mapping[int, int]) -> str:
    values = sorted(set(min_counts.values()))
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    return f"{values[0]}..{values[-1]}"
