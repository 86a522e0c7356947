"""The Parquet schemas of every job output: column names and types are a contract.

dbt sources, the quality checks and the lineage column facets read these outputs by name.
Times are ``timestamp_ntz``: the sources hold naive local times (Online Retail is UK local
time without a zone), and a zone-less timestamp keeps them as they are, with no daylight-
saving shifts and no dependence on the session time zone. Periods are ``YYYY-MM`` strings of
that local time; rows without a usable time are in period ``unknown``.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
)

from lodestar.naming import PERIOD_COLUMN

UNKNOWN_PERIOD = "unknown"


def _schema(*columns: tuple[str, DataType]) -> StructType:
    return StructType([StructField(name, kind, nullable=True) for name, kind in columns])


ORDER_LINES = _schema(
    ("order_id", StringType()),
    ("line_number", LongType()),
    ("product_id", StringType()),
    ("description", StringType()),
    ("quantity", LongType()),
    ("unit_price", DoubleType()),
    ("line_revenue", DoubleType()),
    ("ordered_at", TimestampNTZType()),
    ("customer_id", StringType()),
    ("country", StringType()),
    (PERIOD_COLUMN, StringType()),
)

ORDERS = _schema(
    ("order_id", StringType()),
    ("customer_id", StringType()),
    ("country", StringType()),
    ("ordered_at", TimestampNTZType()),
    ("revenue", DoubleType()),
    ("line_count", LongType()),
    ("distinct_items", LongType()),
    (PERIOD_COLUMN, StringType()),
)

PRODUCTS = _schema(
    ("product_id", StringType()),
    ("description", StringType()),
    ("first_ordered_at", TimestampNTZType()),
    ("last_ordered_at", TimestampNTZType()),
    ("order_count", LongType()),
)

QUARANTINE = _schema(
    ("line_number", LongType()),
    ("reason", StringType()),
    ("detail", StringType()),
    ("order_id", StringType()),
    ("product_id", StringType()),
    ("quantity", LongType()),
    ("unit_price", DoubleType()),
    ("ordered_at_raw", StringType()),
    ("customer_id", StringType()),
    ("country", StringType()),
    ("raw", StringType()),
    (PERIOD_COLUMN, StringType()),
)

ITEM_SUPPORT = _schema(
    ("product_id", StringType()),
    ("basket_count", LongType()),
    ("support", DoubleType()),
    ("total_baskets", LongType()),
)

PAIR_RULES = _schema(
    ("antecedent", StringType()),
    ("consequent", StringType()),
    ("pair_count", LongType()),
    ("antecedent_count", LongType()),
    ("consequent_count", LongType()),
    ("total_baskets", LongType()),
    ("support", DoubleType()),
    ("confidence", DoubleType()),
    ("lift", DoubleType()),
)

PERIOD_RULES = StructType(
    [
        *PAIR_RULES.fields,
        StructField("window_start", StringType(), nullable=True),
        StructField("window_end", StringType(), nullable=True),
        StructField(PERIOD_COLUMN, StringType(), nullable=True),
    ]
)

ORDER_ATTACH = _schema(
    ("order_id", StringType()),
    (PERIOD_COLUMN, StringType()),
    ("distinct_items", LongType()),
    ("recommended_pairs", LongType()),
    ("attached", BooleanType()),
    ("has_history", BooleanType()),
)


def empty(spark: SparkSession, schema: StructType) -> DataFrame:
    """An empty frame of ``schema`` (built in the JVM: no Python data, no Python worker)."""
    return spark.range(0).select(
        *[F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields]
    )


def conform(frame: DataFrame, schema: StructType) -> DataFrame:
    """Select and cast ``frame``'s columns to exactly ``schema`` (names, order, types)."""
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
