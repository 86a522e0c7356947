"""The ``ingest`` Spark application: a raw source in; order lines, orders, products and a
quarantine of every rejected row (with its reason) out.

    spark-submit --master local[*] src/lodestar/jobs/ingest.py --params params.json

Each source row gets at most one reason, the first that applies in :data:`REASONS` order;
rows without a reason are kept. ``rows_in == rows_kept + sum(reasons)`` is asserted on every
run, and the run fails (after writing the quarantine and its statistics) when the rejected
share is above ``rules.max_rejected_share``.

With an ``interval``, only rows timed inside it are read and only their period partitions
are replaced; rows without a usable time are always included and rewrite the ``unknown``
quarantine partition, so they are never lost and reruns stay idempotent. ``products`` is
rebuilt from all order lines after they are written.
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
from lodestar.jobs.params import IngestParams, load_ingest
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
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)

#: reason codes, in the order they are tested: a row gets the first that applies
REASONS = (
    "malformed_record",
    "missing_order_id",
    "missing_product_id",
    "unparseable_timestamp",
    "cancellation",
    "adjustment",
    "non_product_code",
    "non_positive_quantity",
    "non_positive_price",
    "duplicate_line",
)

#: decimal type for money: sums of prices are exact and do not depend on the order of rows
MONEY = "decimal(38,6)"


def run(spark: SparkSession, params: IngestParams) -> dict[str, Any]:
    """Run the job in ``spark``; returns the statistics it also writes to ``stats_path``."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from lodestar.jobs.sources import read_source

    timings = Timings()
    source = params.source
    log.info("ingest %s: reading %s (%s)", params.product, source.path, source.format)

    with timings.phase("read"):
        read = read_source(spark, source)
    lines = read.lines
    if params.interval is not None:
        start, end = params.interval.start, params.interval.end
        timed = F.col("ordered_at")
        lines = lines.filter(timed.isNull() | ((timed >= F.lit(start)) & (timed < F.lit(end))))

    with timings.phase("classify"):
        classified = classify(lines, params).persist(StorageLevel.MEMORY_AND_DISK)
        rows_in = lines.count()
        by_period = classified.groupBy("reason", PERIOD_COLUMN).count().collect()
    counts = {reason: 0 for reason in REASONS}
    periods: dict[str, dict[str, int]] = {}
    for row in by_period:
        key = "kept" if row["reason"] is None else "quarantined"
        period = periods.setdefault(row[PERIOD_COLUMN], {"kept": 0, "quarantined": 0})
        period[key] += row["count"]
        if row["reason"] is not None:
            counts[row["reason"]] += row["count"]
    rows_kept = sum(p["kept"] for p in periods.values())
    rejected = sum(counts.values())
    if rows_in != rows_kept + rejected:
        raise JobError(
            f"invariant broken: {rows_in} rows in, but {rows_kept} kept and {rejected} "
            "quarantined; this is a bug in the ingest job, not in the data"
        )
    share = rejected / rows_in if rows_in else 0.0
    _log_reasons(params.product, rows_in, rows_kept, counts)
    if rows_in == 0:
        log.warning(
            "ingest %s: %s holds no rows; empty outputs written", params.product, source.path
        )

    stats: dict[str, Any] = {
        "job": "ingest",
        "product": params.product,
        "status": "succeeded",
        "source": {
            "path": source.path,
            "format": source.format,
            "records": read.records,
            "blank_lines": read.blank_lines,
        },
        "interval": None if params.interval is None else params.interval.as_dict(),
        "rows_outside_interval": read.records - rows_in if source.format != "baskets" else 0,
        "rows_in": rows_in,
        "rows_kept": rows_kept,
        "rows_quarantined": rejected,
        "reasons": counts,
        "rejected_share": round(share, 6),
        "max_rejected_share": params.rules.max_rejected_share,
        "periods": dict(sorted(periods.items())),
        "outputs": dict(params.outputs),
        "spark": spark_facts(spark),
    }
    # an interval run owns its periods, and the unknown period of rows without a usable time
    partial = (
        None if params.interval is None else [*params.interval.periods(), schemas.UNKNOWN_PERIOD]
    )

    with timings.phase("write_quarantine"):
        quarantine = classified.filter(F.col("reason").isNotNull())
        _write_by_period(quarantine, schemas.QUARANTINE, params.outputs["quarantine"], partial)
    if share > params.rules.max_rejected_share:
        top = max(counts, key=lambda reason: counts[reason])
        stats.update(status="failed", timings=timings.as_dict())
        write_stats(params.stats_path, stats)
        classified.unpersist()
        raise JobError(
            f"{rejected} of {rows_in} rows ({share:.2%}) were rejected, above "
            f"rules.max_rejected_share {params.rules.max_rejected_share:.2%}; most are "
            f"{top} ({counts[top]}); see the quarantine at {params.outputs['quarantine']}"
        )

    kept = classified.filter(F.col("reason").isNull())
    with timings.phase("write_order_lines"):
        _write_by_period(kept, schemas.ORDER_LINES, params.outputs["order_lines"], partial)
    with timings.phase("write_orders"):
        _write_by_period(orders_of(kept), schemas.ORDERS, params.outputs["orders"], partial)
    classified.unpersist()
    with timings.phase("write_products"):
        all_lines = read_parquet(
            spark, params.outputs["order_lines"], schemas.ORDER_LINES, "order_lines"
        )
        write_parquet(products_of(all_lines), params.outputs["products"])
        written = read_parquet(spark, params.outputs["products"], schemas.PRODUCTS, "products")
        stats["products"] = written.count()
        stats["orders"] = (
            read_parquet(spark, params.outputs["orders"], schemas.ORDERS, "orders")
            .filter(F.col(PERIOD_COLUMN).isin(list(periods)) if periods else F.lit(False))
            .count()
        )

    stats["timings"] = timings.as_dict()
    write_stats(params.stats_path, stats)
    return stats


def classify(lines: DataFrame, params: IngestParams) -> DataFrame:
    """Canonical lines -> one row per line with ``reason`` (null when kept) and ``detail``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rules = params.rules
    columns = params.source.columns
    order_id, product_id = F.col("order_id"), F.col("product_id")
    quantity, price, ordered_at = F.col("quantity"), F.col("unit_price"), F.col("ordered_at")
    has_time = columns is not None and columns.ordered_at is not None
    has_price = columns is not None and columns.unit_price is not None

    def text(*parts: Column | str) -> Column:
        return F.concat(
            *[F.lit(p) if isinstance(p, str) else F.coalesce(p, F.lit("")) for p in parts]
        )

    tests: list[tuple[str, Column, Column]] = [
        (
            "malformed_record",
            F.col("malformed"),
            F.lit(_malformed_detail(params)),
        ),
        ("missing_order_id", order_id.isNull(), F.lit("the order id is empty")),
        ("missing_product_id", product_id.isNull(), F.lit("the product id is empty")),
    ]
    if has_time:
        fmt = params.source.timestamp_format
        raw_time = F.col("ordered_at_raw")
        tests.append(
            (
                "unparseable_timestamp",
                ordered_at.isNull(),
                F.when(raw_time.isNull(), F.lit("the time is empty")).otherwise(
                    text("'", raw_time, f"' does not match the pattern '{fmt}'")
                ),
            )
        )
    if rules.cancellation_pattern is not None:
        tests.append(
            (
                "cancellation",
                order_id.rlike(rules.cancellation_pattern),
                text("order id '", order_id, f"' matches '{rules.cancellation_pattern}'"),
            )
        )
    if rules.adjustment_pattern is not None:
        tests.append(
            (
                "adjustment",
                order_id.rlike(rules.adjustment_pattern),
                text("order id '", order_id, f"' matches '{rules.adjustment_pattern}'"),
            )
        )
    non_product = F.lit(False)
    if rules.non_product_codes:
        non_product = non_product | product_id.isin(list(rules.non_product_codes))
    if rules.non_product_pattern is not None:
        non_product = non_product | product_id.rlike(rules.non_product_pattern)
    tests.append(
        (
            "non_product_code",
            non_product,
            text("product id '", product_id, "' is not a product (rules.non_product_*)"),
        )
    )
    raw_quantity = F.col("quantity_raw")
    tests.append(
        (
            "non_positive_quantity",
            quantity.isNull() | (quantity <= 0),
            F.when(quantity.isNotNull(), text("quantity ", quantity.cast("string")))
            .when(raw_quantity.isNull(), F.lit("the quantity is empty"))
            .otherwise(text("quantity '", raw_quantity, "' is not a whole number")),
        )
    )
    if has_price:
        raw_price = F.col("unit_price_raw")
        tests.append(
            (
                "non_positive_price",
                price.isNull() | (price <= 0),
                F.when(price.isNotNull(), text("unit price ", price.cast("string")))
                .when(raw_price.isNull(), F.lit("the unit price is empty"))
                .otherwise(text("unit price '", raw_price, "' is not a number")),
            )
        )

    first_code, first_test, first_why = tests[0]
    reason = F.when(first_test, F.lit(first_code))
    detail = F.when(first_test, first_why)
    for code, applies, why in tests[1:]:
        reason = reason.when(applies, F.lit(code))
        detail = detail.when(applies, why)
    first_pass = lines.withColumn("reason", reason).withColumn("detail", detail)

    # NOTE: exact duplicates share every field, so they share every earlier reason too
    copies = Window.partitionBy("dup_key", F.col("reason").isNull()).orderBy("line_number")
    copy_number = F.row_number().over(copies)
    duplicate = F.col("reason").isNull() & (copy_number > 1)
    first_line = F.min("line_number").over(copies)
    classified = first_pass.select(
        "*",
        F.when(duplicate, F.lit("duplicate_line")).otherwise(F.col("reason")).alias("_reason"),
        F.when(duplicate, text("exact duplicate of line ", first_line.cast("string")))
        .otherwise(F.col("detail"))
        .alias("_detail"),
    )
    money = F.col("quantity").cast(MONEY) * F.col("unit_price").try_cast(MONEY)
    return classified.select(
        "line_number",
        F.col("_reason").alias("reason"),
        F.col("_detail").alias("detail"),
        "order_id",
        "product_id",
        "description",
        "quantity",
        "unit_price",
        money.cast("double").alias("line_revenue"),
        "ordered_at",
        "ordered_at_raw",
        "customer_id",
        "country",
        "raw",
        _period(ordered_at).alias(PERIOD_COLUMN),
    )


def orders_of(kept: DataFrame) -> DataFrame:
    """One row per order: first customer and country seen, earliest time, exact revenue."""
    from pyspark.sql import functions as F

    line = F.col("line_number")
    money = F.col("quantity").cast(MONEY) * F.col("unit_price").try_cast(MONEY)
    orders = kept.groupBy("order_id").agg(
        F.min_by("customer_id", F.when(F.col("customer_id").isNotNull(), line)).alias(
            "customer_id"
        ),
        F.min_by("country", F.when(F.col("country").isNotNull(), line)).alias("country"),
        F.min("ordered_at").alias("ordered_at"),
        F.sum(money).cast("double").alias("revenue"),
        F.count(F.lit(1)).alias("line_count"),
        F.count_distinct("product_id").alias("distinct_items"),
    )
    return orders.withColumn(PERIOD_COLUMN, _period(F.col("ordered_at")))


def products_of(order_lines: DataFrame) -> DataFrame:
    """One row per product code; its description is the most frequent one, ties by text."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    texts = (
        order_lines.filter(F.col("description").isNotNull())
        .groupBy("product_id", "description")
        .agg(F.count(F.lit(1)).alias("uses"))
    )
    rank = Window.partitionBy("product_id").orderBy(F.desc("uses"), F.asc("description"))
    canonical = (
        texts.withColumn("_rank", F.row_number().over(rank))
        .filter(F.col("_rank") == 1)
        .select("product_id", "description")
    )
    seen = order_lines.groupBy("product_id").agg(
        F.min("ordered_at").alias("first_ordered_at"),
        F.max("ordered_at").alias("last_ordered_at"),
        F.count_distinct("order_id").alias("order_count"),
    )
    return seen.join(canonical, "product_id", "left")


def _period(ordered_at: Column) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(F.date_format(ordered_at, "yyyy-MM"), F.lit(schemas.UNKNOWN_PERIOD))


def _malformed_detail(params: IngestParams) -> str:
    csv = params.source.csv
    return (
        f"the record does not parse as {csv.delimiter!r}-separated fields quoted with "
        f"{csv.quote!r} (too few or too many fields, or an unclosed quote)"
    )


def _write_by_period(
    frame: DataFrame, schema: Any, location: str, partial: list[str] | None
) -> None:
    from pyspark.sql import functions as F

    # one file per period: the partition column decides the task, so no period is split
    shaped = schemas.conform(frame, schema).repartition(F.col(PERIOD_COLUMN))
    write_parquet(shaped, location, partition_by=PERIOD_COLUMN, replace_partitions=partial)


def _log_reasons(product: str, rows_in: int, kept: int, counts: dict[str, int]) -> None:
    found = ", ".join(f"{reason} {n}" for reason, n in counts.items() if n)
    log.info(
        "ingest %s: %d rows in, %d kept, %d quarantined%s",
        product,
        rows_in,
        kept,
        rows_in - kept,
        f" ({found})" if found else "",
    )


def main(argv: list[str] | None = None) -> int:
    return run_main("ingest", argv, load_ingest, run)


if __name__ == "__main__":
    sys.exit(main())
