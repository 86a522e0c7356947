"""Reading a raw source into one canonical frame of order lines, one row per source record.

Three shapes are supported: Parquet, CSV (any delimiter, quote, line separator, encoding) and
basket files (no header, one basket per line, items separated by the delimiter). Whatever the
shape, the result has the columns of :data:`CANONICAL` and nothing is dropped: a record that
cannot be parsed is kept with ``malformed`` set, so the quarantine can say so.

Line numbers are exact 1-based record numbers of the source (a CSV header is not a record),
computed without a single-partition window: each row is tagged with its file split and a
per-partition id, the splits are counted (one row per split reaches the driver), and the
offset of each split is added back with a broadcast join.

Normalisation, decided once for every source:
- text is trimmed of surrounding white space; an empty text is null;
- ids are text: a whole number stored as a floating type (CustomerID 17850.0) becomes
  ``17850``; product ids keep their case (85123A and 85123a are different codes);
- quantities must be whole numbers; ``2.5`` or ``abc`` give a null quantity, which the
  ingest job quarantines as ``non_positive_quantity`` with the raw text in the detail;
- times are parsed with the source's Spark datetime pattern into naive local times;
- basket files: order id = line number, quantity 1, no time; item names are trimmed
  (Groceries' ``"cream cheese "`` becomes ``cream cheese``; no other item has that name).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import get_close_matches

from pyspark.sql import Column, DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegralType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from lodestar.errors import JobError
from lodestar.jobs.params import ColumnMapping, Source
from lodestar.jobs.schemas import empty

log = logging.getLogger(__name__)

CORRUPT = "_corrupt_record"

#: the source column (and its type) mapped to a canonical field, if any
FieldGetter = Callable[[str], "tuple[Column, DataType] | None"]

#: the canonical frame every source is read into
CANONICAL = StructType(
    [
        StructField(name, kind, nullable=True)
        for name, kind in (
            ("line_number", LongType()),
            ("raw", StringType()),
            ("dup_key", StringType()),
            ("malformed", BooleanType()),
            ("order_id", StringType()),
            ("product_id", StringType()),
            ("description", StringType()),
            ("quantity", LongType()),
            ("quantity_raw", StringType()),
            ("unit_price", DoubleType()),
            ("unit_price_raw", StringType()),
            ("ordered_at", TimestampNTZType()),
            ("ordered_at_raw", StringType()),
            ("customer_id", StringType()),
            ("country", StringType()),
        )
    ]
)


@dataclass(frozen=True)
class SourceRead:
    """The canonical lines of a source and what was seen while reading it."""

    lines: DataFrame
    #: records of the source (lines for a basket file), before any interval filter
    records: int
    #: empty lines of a basket file, which hold no basket and are not records
    blank_lines: int = 0


def read_source(spark: SparkSession, source: Source) -> SourceRead:
    """Read ``source`` into the canonical frame (lazy, apart from counting file splits)."""
    if source.format == "baskets":
        return _read_baskets(spark, source)
    if source.format == "csv":
        frame, columns, malformed, raw = _read_csv(spark, source)
    else:
        frame = _scan(spark, source, lambda reader: reader.parquet(source.path))
        columns = list(frame.columns)
        malformed = F.lit(False)
        raw = F.to_json(F.struct(*[frame[c] for c in columns]))
    if not columns:
        log.warning("%s holds no columns and no records", source.path)
        return SourceRead(empty(spark, CANONICAL), 0)
    assert source.columns is not None  # NOTE: required by the parameters for these formats
    _check_mapping(source.columns, columns, source.path)

    numbered, records = _number_records(frame, header_rows=False)
    kinds = {f.name: f.dataType for f in frame.schema.fields}
    mapping = source.columns.mapped()

    def field(name: str) -> tuple[Column, DataType] | None:
        column = mapping.get(name)
        return None if column is None else (numbered[column], kinds[column])

    lines = numbered.select(
        F.col("_line").alias("line_number"),
        raw.alias("raw"),
        raw.alias("dup_key"),
        malformed.alias("malformed"),
        *_fields(field, source),
    )
    return SourceRead(lines, records)


# -- fields ----------------------------------------------------------------------------------


def _fields(get: FieldGetter, source: Source) -> list[Column]:
    """The canonical field columns from the mapped source columns."""

    def as_text(name: str, as_id: bool) -> Column:
        found = get(name)
        if found is None:
            return F.lit(None).cast(StringType())
        column, kind = found
        return _id_text(column, kind) if as_id else _trimmed(column.cast(StringType()))

    def raw_text(name: str) -> Column:
        found = get(name)
        return F.lit(None).cast(StringType()) if found is None else found[0].cast(StringType())

    quantity_field = get("quantity")
    if source.quantity_mode == "line_per_unit":
        quantity, quantity_raw = F.lit(1).cast(LongType()), F.lit(None).cast(StringType())
    elif quantity_field is not None:
        quantity, quantity_raw = _whole_number(*quantity_field), raw_text("quantity")
    else:  # NOTE: the parameters require a quantity column in 'column' mode
        raise JobError("source.columns.quantity: no quantity column for quantity_mode 'column'")
    price_field = get("unit_price")
    price = F.lit(None).cast(DoubleType()) if price_field is None else _number(*price_field)
    time_field = get("ordered_at")
    ordered_at = (
        F.lit(None).cast(TimestampNTZType())
        if time_field is None
        else _timestamp(*time_field, source.timestamp_format or "")
    )
    return [
        as_text("order_id", as_id=True).alias("order_id"),
        as_text("product_id", as_id=True).alias("product_id"),
        as_text("description", as_id=False).alias("description"),
        quantity.alias("quantity"),
        quantity_raw.alias("quantity_raw"),
        price.alias("unit_price"),
        raw_text("unit_price").alias("unit_price_raw"),
        ordered_at.alias("ordered_at"),
        raw_text("ordered_at").alias("ordered_at_raw"),
        as_text("customer_id", as_id=True).alias("customer_id"),
        as_text("country", as_id=False).alias("country"),
    ]


def _trimmed(column: Column) -> Column:
    text = F.regexp_replace(column, r"^\s+|\s+$", "")
    return F.when(text != "", text)


def _id_text(column: Column, kind: DataType) -> Column:
    if isinstance(kind, IntegralType):
        return column.cast(StringType())
    if isinstance(kind, DoubleType | FloatType | DecimalType):
        whole = column.try_cast(DecimalType(38, 0)).cast(StringType())
        return F.when(column % 1 == 0, whole).otherwise(column.cast(StringType()))
    return _trimmed(column.cast(StringType()))


def _whole_number(column: Column, kind: DataType) -> Column:
    if isinstance(kind, IntegralType):
        return column.cast(LongType())
    if isinstance(kind, DoubleType | FloatType | DecimalType):
        return F.when(column % 1 == 0, column.try_cast(LongType()))
    parsed = _trimmed(column.cast(StringType())).try_cast(DecimalType(38, 9))
    return F.when(parsed % 1 == 0, parsed.try_cast(LongType()))


def _number(column: Column, kind: DataType) -> Column:
    if isinstance(kind, IntegralType | DoubleType | FloatType | DecimalType):
        return column.cast(DoubleType())
    return _trimmed(column.cast(StringType())).try_cast(DoubleType())


def _timestamp(column: Column, kind: DataType, pattern: str) -> Column:
    if isinstance(kind, TimestampNTZType):
        return column
    if isinstance(kind, TimestampType | DateType):
        # NOTE: a zoned timestamp becomes the wall-clock time of the session time zone
        return column.cast(TimestampNTZType())
    text = _trimmed(column.cast(StringType()))
    # try_to_timestamp tolerates bad text but yields a zoned value; to_timestamp_ntz keeps the
    # naive time but fails the task on bad text (ANSI mode), so it only sees text that parses
    return F.when(
        F.try_to_timestamp(text, F.lit(pattern)).isNotNull(),
        F.to_timestamp_ntz(text, F.lit(pattern)),
    )


def _check_mapping(mapping: ColumnMapping, columns: list[str], path: str) -> None:
    for name, column in mapping.mapped().items():
        if column in columns:
            continue
        close = get_close_matches(column, columns, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise JobError(
            f"source.columns.{name}: {column!r} is not a column of {path}{hint}; "
            f"its columns are {', '.join(columns)}"
        )


# -- reading ---------------------------------------------------------------------------------


def _scan(
    spark: SparkSession, source: Source, load: Callable[[DataFrameReader], DataFrame]
) -> DataFrame:
    """Run a reader, turning a missing source into a clear error."""
    from pyspark.errors import AnalysisException

    try:
        return load(spark.read)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise JobError(f"source.path: {source.path} does not exist", retryable=True) from exc
        raise


def _csv_options(source: Source) -> dict[str, str]:
    csv = source.csv
    options = {
        "sep": csv.delimiter,
        "quote": csv.quote,
        "escape": csv.escape or csv.quote,
        "encoding": csv.encoding,
        "header": str(csv.header).lower(),
        "inferSchema": "false",
    }
    if csv.line_separator is not None:
        options["lineSep"] = csv.line_separator
    return options


def _read_csv(spark: SparkSession, source: Source) -> tuple[DataFrame, list[str], Column, Column]:
    """Every CSV field is read as text (the job parses it); bad records are kept whole."""
    options = _csv_options(source)
    columns = _scan(
        spark, source, lambda reader: reader.options(**options).csv(source.path)
    ).columns
    schema = StructType(
        [StructField(name, StringType()) for name in columns] + [StructField(CORRUPT, StringType())]
    )
    frame = _scan(
        spark,
        source,
        lambda reader: (
            reader.options(**options, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT)
            .schema(schema)
            .csv(source.path)
        ),
    )
    malformed = frame[CORRUPT].isNotNull()
    raw = F.when(malformed, frame[CORRUPT]).otherwise(
        F.to_json(F.struct(*[frame[c] for c in columns]))
    )
    return frame, list(columns), malformed, raw


def _read_baskets(spark: SparkSession, source: Source) -> SourceRead:
    options = {} if source.csv.line_separator is None else {"lineSep": source.csv.line_separator}
    frame = _scan(spark, source, lambda reader: reader.options(**options).text(source.path))
    numbered, records = _number_records(frame, header_rows=source.csv.header)
    value = numbered["value"]
    blank = F.regexp_replace(value, r"\s", "") == ""
    blank_lines = numbered.filter(blank & ~F.col("_header")).count()
    baskets = numbered.filter(~blank & ~F.col("_header"))
    items = baskets.select(
        "_line", "value", F.posexplode(F.split(value, re.escape(source.csv.delimiter), -1))
    )
    lines = items.select(
        F.col("_line").alias("line_number"),
        F.col("value").alias("raw"),
        F.concat_ws("\u0000", F.col("_line").cast(StringType()), F.col("col")).alias("dup_key"),
        F.lit(False).alias("malformed"),
        F.col("_line").cast(StringType()).alias("order_id"),
        _trimmed(F.col("col")).alias("product_id"),
        F.lit(None).cast(StringType()).alias("description"),
        F.lit(1).cast(LongType()).alias("quantity"),
        F.lit(None).cast(StringType()).alias("quantity_raw"),
        F.lit(None).cast(DoubleType()).alias("unit_price"),
        F.lit(None).cast(StringType()).alias("unit_price_raw"),
        F.lit(None).cast(TimestampNTZType()).alias("ordered_at"),
        F.lit(None).cast(StringType()).alias("ordered_at_raw"),
        F.lit(None).cast(StringType()).alias("customer_id"),
        F.lit(None).cast(StringType()).alias("country"),
    )
    return SourceRead(lines, records - blank_lines, blank_lines)


def _lookup(key: Column, table: dict[str, int]) -> Column:
    if not table:
        return F.lit(None).cast(LongType())
    entries = [F.lit(value) for k, v in sorted(table.items()) for value in (k, v)]
    return F.try_element_at(F.create_map(*entries), key).cast(LongType())


def _number_records(frame: DataFrame, *, header_rows: bool) -> tuple[DataFrame, int]:
    """Add ``_line``, the 1-based record number across the source's files (in name order).

    With ``header_rows`` the first record of each file is flagged ``_header`` and not counted.
    Returns the frame and its number of records.
    """
    tagged = frame.select(
        "*",
        F.col("_metadata.file_path").alias("_file"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_id"),
    )
    splits = (
        tagged.groupBy("_file", "_block")
        .agg(F.count(F.lit(1)).alias("_rows"), F.min("_id").alias("_first"))
        .collect()
    )
    firsts: dict[str, int] = {}
    offsets: dict[str, int] = {}
    running = 0
    seen_files: set[str] = set()
    for split in sorted(splits, key=lambda row: (row["_file"], row["_block"])):
        header = header_rows and split["_file"] not in seen_files
        seen_files.add(split["_file"])
        name = f"{split['_block']}:{split['_file']}"
        firsts[name] = split["_first"]
        # a header row is numbered 0 and the records after it start at 1
        offsets[name] = running - int(header)
        running += split["_rows"] - int(header)
    # NOTE: one entry per file split: map literals instead of a join of Python rows, which
    # would start Python workers on the executors
    key = F.concat_ws(":", F.col("_block").cast(StringType()), F.col("_file"))
    first = _lookup(key, firsts)
    numbered = tagged.withColumn("_line", _lookup(key, offsets) + F.col("_id") - first + 1)
    header_flag = F.lit(header_rows) & (F.col("_block") == 0) & (F.col("_id") == first)
    return numbered.withColumn("_header", header_flag), running
