"""The ingest job on real data, checked row by row against an independent Python reading."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lodestar.errors import JobError
from lodestar.jobs import ingest, schemas
from lodestar.jobs.params import parse_ingest

from .conftest import (
    GROCERIES,
    PANDAS_WARNING,
    RETAIL_COLUMNS,
    RETAIL_CSV,
    RETAIL_RULES,
    ingest_params,
    retail_source,
)

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]

NON_PRODUCT = set(RETAIL_RULES["non_product_codes"])


# -- an independent reading of the same rules, in plain Python --------------------------------


def expected_reasons(records: list[dict[str, Any] | None], time_format: str) -> dict[int, Any]:
    """line number -> reason (None when kept), the rules of the reference manifest.

    ``records`` holds the source rows as read by Python (None: the record does not parse).
    """
    reasons: dict[int, Any] = {}
    seen: set[tuple[Any, ...]] = set()
    for number, record in enumerate(records, start=1):
        reasons[number] = _reason(record, time_format)
        if reasons[number] is None:
            assert record is not None
            key = tuple(record.values())
            if key in seen:
                reasons[number] = "duplicate_line"
            seen.add(key)
    return reasons


def _reason(record: dict[str, Any] | None, time_format: str) -> str | None:
    if record is None:
        return "malformed_record"
    order, product = _text(record["InvoiceNo"]), _text(record["StockCode"])
    if order is None:
        return "missing_order_id"
    if product is None:
        return "missing_product_id"
    try:
        datetime.strptime(str(record["InvoiceDate"]).strip(), time_format)
    except ValueError:
        return "unparseable_timestamp"
    if order.startswith("C"):
        return "cancellation"
    if order.startswith("A"):
        return "adjustment"
    if product in NON_PRODUCT or product.startswith(("DCGS", "gift_")):
        return "non_product_code"
    if int(record["Quantity"]) <= 0:
        return "non_positive_quantity"
    if float(record["UnitPrice"]) <= 0:
        return "non_positive_price"
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_retail_csv(path: Path) -> list[dict[str, Any] | None]:
    """The CSV slice split on CR, each record parsed alone (RFC 4180 quoting)."""
    text = path.read_bytes().decode("utf-8")  # read_text would turn CR into LF
    header, *lines = text.split("\r")
    names = next(csv.reader([header]))
    records: list[dict[str, Any] | None] = []
    for line in lines:
        fields = next(csv.reader([line]))
        records.append(dict(zip(names, fields, strict=True)) if len(fields) == len(names) else None)
    return records


def read_parquet_rows(path: Path) -> list[dict[str, Any] | None]:
    import pyarrow.parquet as pq

    return list(pq.read_table(path).to_pylist())


def reasons_written(spark: Any, lake: Path, product: str = "retail-orders") -> dict[int, Any]:
    from lodestar.naming import output_location

    kept = spark.read.parquet(output_location(str(lake), product, "order_lines"))
    rejected = spark.read.parquet(output_location(str(lake), product, "quarantine"))
    found = {row["line_number"]: None for row in kept.select("line_number").collect()}
    for row in rejected.select("line_number", "reason").collect():
        assert row["line_number"] not in found, f"line {row['line_number']} written twice"
        found[row["line_number"]] = row["reason"]
    return found


def frame_rows(spark: Any, location: str, order: str) -> list[dict[str, Any]]:
    return [row.asDict() for row in spark.read.parquet(location).orderBy(order).collect()]


def run_ingest(spark: Any, params: dict[str, Any]) -> dict[str, Any]:
    return ingest.run(spark, parse_ingest(params))


# -- the CSV slice -----------------------------------------------------------------------------


def csv_source(**csv_options: Any) -> dict[str, Any]:
    return {
        "path": str(RETAIL_CSV),
        "format": "csv",
        "timestamp_format": "M/d/yy H:mm",
        "csv": {"header": True, "line_separator": "\r", **csv_options},
        "columns": RETAIL_COLUMNS,
    }


def test_csv_with_cr_endings_and_a_truncated_record(spark: Any, tmp_path: Path) -> None:
    stats = run_ingest(spark, ingest_params(tmp_path, csv_source()))

    expected = expected_reasons(read_retail_csv(RETAIL_CSV), "%m/%d/%y %H:%M")
    assert reasons_written(spark, tmp_path) == expected
    counts = Counter(reason for reason in expected.values() if reason is not None)
    assert counts == {
        "cancellation": 174,
        "duplicate_line": 257,
        "non_positive_price": 79,
        "non_product_code": 52,
        "non_positive_quantity": 45,
        "malformed_record": 1,
    }
    assert {k: v for k, v in stats["reasons"].items() if v} == counts
    assert stats["rows_in"] == 14_595 == stats["rows_kept"] + sum(stats["reasons"].values())
    assert stats["rows_kept"] == 13_987
    assert stats["periods"] == {
        "2010-12": {"kept": 13_987, "quarantined": 607},
        "unknown": {"kept": 0, "quarantined": 1},
    }

    cut = spark.read.parquet(str(tmp_path / "retail-orders" / "quarantine" / "period=unknown"))
    [row] = cut.collect()
    assert (row["line_number"], row["raw"], row["order_id"]) == (14_595, "537", "537")
    assert row["detail"].startswith("the record does not parse as ','-separated fields")


def test_rejected_share_above_the_limit_fails_after_writing_the_quarantine(
    spark: Any, tmp_path: Path
) -> None:
    params = ingest_params(
        tmp_path, csv_source(), rules={**RETAIL_RULES, "max_rejected_share": 0.04}
    )

    with pytest.raises(JobError, match=r"608 of 14595 rows \(4.17%\) were rejected, above "):
        run_ingest(spark, params)

    stats = parse_ingest(params).stats_path.read_text(encoding="utf-8")
    assert '"status": "failed"' in stats
    assert (tmp_path / "retail-orders" / "quarantine" / "period=2010-12").is_dir()
    assert not (tmp_path / "retail-orders" / "order_lines").exists()


# -- another retailer: other names, day-first dates, one line per unit ----------------------

OTHER_RETAILER = """basket;sku;label;when;price;shopper
B1;X1; Red mug ;31/01/2011 09:05;2.50;c1
B1;X2;Blue mug;31/01/2011 09:05;3.00;c1
B1;X1; Red mug ;31/01/2011 09:05;2.50;c1
;X3;Plate;01/02/2011 10:00;1.00;c2
B2;;Plate;01/02/2011 10:00;1.00;c2
B2;X3;Plate;2011-02-01 10:00;1.00;c2
B2;X3;Plate;30/02/2011 10:00;1.00;c2
B2;SHIP;Shipping;01/02/2011 10:00;4.95;c2
R3;X3;Plate;01/02/2011 10:00;1.00;c3
B3;X4;Cup;01/02/2011 10:00;0;c3
B3;X4;Cup;01/02/2011 10:00;abc;c3
B3;X5;Bowl;01/02/2011 10:00;1.25;
B3;X5;"Bowl; large";01/02/2011 10:00;1.25;c3
B4;X7;Spoon;01/02/2011 10:00;1.00;c4;extra
B4;X8;Fork
"""


def test_another_retailer_runs_by_parameters_alone(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text(OTHER_RETAILER, encoding="utf-8")
    source = {
        "path": str(path),
        "format": "csv",
        "timestamp_format": "dd/MM/yyyy HH:mm",
        "csv": {"delimiter": ";"},
        "columns": {
            "order_id": "basket",
            "product_id": "sku",
            "description": "label",
            "ordered_at": "when",
            "unit_price": "price",
            "customer_id": "shopper",
        },
        "quantity_mode": "line_per_unit",
    }
    rules = {"cancellation_pattern": "^R", "non_product_codes": ["SHIP"], "max_rejected_share": 1}

    stats = run_ingest(spark, ingest_params(tmp_path, source, product="other-shop", rules=rules))

    assert reasons_written(spark, tmp_path, "other-shop") == {
        1: None,
        2: None,
        3: "duplicate_line",
        4: "missing_order_id",
        5: "missing_product_id",
        6: "unparseable_timestamp",
        7: "unparseable_timestamp",
        8: "non_product_code",
        9: "cancellation",
        10: "non_positive_price",
        11: "non_positive_price",
        12: None,
        13: None,
        14: "malformed_record",
        15: "malformed_record",
    }
    assert stats["rows_in"] == 15
    lines = frame_rows(spark, str(tmp_path / "other-shop" / "order_lines"), "line_number")
    assert [(r["order_id"], r["product_id"], r["description"], r["quantity"]) for r in lines] == [
        ("B1", "X1", "Red mug", 1),
        ("B1", "X2", "Blue mug", 1),
        ("B3", "X5", "Bowl", 1),
        ("B3", "X5", "Bowl; large", 1),
    ]
    assert lines[0]["ordered_at"] == datetime(2011, 1, 31, 9, 5)
    assert [r["period"] for r in lines] == ["2011-01", "2011-01", "2011-02", "2011-02"]
    assert lines[2]["customer_id"] is None  # a sale without a customer is kept
    details = {
        r["line_number"]: r["detail"]
        for r in spark.read.parquet(str(tmp_path / "other-shop" / "quarantine")).collect()
    }
    assert details[3] == "exact duplicate of line 1"
    assert details[6] == "'2011-02-01 10:00' does not match the pattern 'dd/MM/yyyy HH:mm'"
    assert details[11] == "unit price 'abc' is not a number"
    products = frame_rows(spark, str(tmp_path / "other-shop" / "products"), "product_id")
    # X5 has two descriptions used once each: the tie goes to the first by text
    assert [(p["product_id"], p["description"], p["order_count"]) for p in products] == [
        ("X1", "Red mug", 1),
        ("X2", "Blue mug", 1),
        ("X5", "Bowl", 1),
    ]


def test_a_mapped_column_missing_from_the_source_is_named(spark: Any, tmp_path: Path) -> None:
    source = retail_source()
    source["columns"] = {**RETAIL_COLUMNS, "quantity": "Qty"}

    with pytest.raises(JobError, match=r"source.columns.quantity: 'Qty' is not a column of .*"):
        run_ingest(spark, ingest_params(tmp_path, source))


def test_a_missing_source_is_named(spark: Any, tmp_path: Path) -> None:
    source = retail_source(tmp_path / "nowhere.parquet")

    with pytest.raises(JobError, match=r"source.path: .*nowhere.parquet does not exist"):
        run_ingest(spark, ingest_params(tmp_path, source))


# -- Online Retail Parquet, three real months -------------------------------------------------


def test_parquet_months_match_an_independent_reading(
    spark: Any, retail_subset: Path, retail_lake: Path
) -> None:
    rows = read_parquet_rows(retail_subset)
    expected = expected_reasons(rows, "%Y-%m-%d %H:%M:%S")

    assert reasons_written(spark, retail_lake) == expected

    kept = [(n, r) for n, r in enumerate(rows, start=1) if expected[n] is None]
    revenue: dict[str, Decimal] = {}
    for _, row in kept:
        amount = Decimal(row["Quantity"]) * Decimal(repr(row["UnitPrice"]))
        revenue[row["InvoiceNo"]] = revenue.get(row["InvoiceNo"], Decimal(0)) + amount
    orders = {
        r["order_id"]: r
        for r in spark.read.parquet(str(retail_lake / "retail-orders" / "orders")).collect()
    }
    assert set(orders) == set(revenue)
    assert all(orders[o]["revenue"] == float(revenue[o]) for o in revenue)
    assert orders["536365"]["customer_id"] == "17850"
    assert orders["536365"]["line_count"] == 7 == orders["536365"]["distinct_items"]
    assert orders["536365"]["ordered_at"] == datetime(2010, 12, 1, 8, 26)


def test_products_have_one_canonical_description(
    spark: Any, retail_subset: Path, retail_lake: Path
) -> None:
    rows = read_parquet_rows(retail_subset)
    expected = expected_reasons(rows, "%Y-%m-%d %H:%M:%S")
    uses: dict[str, Counter[str]] = {}
    orders: dict[str, set[str]] = {}
    for number, row in enumerate(rows, start=1):
        if expected[number] is not None:
            continue
        code = row["StockCode"]
        orders.setdefault(code, set()).add(row["InvoiceNo"])
        text = _text(row["Description"])
        if text is not None:
            uses.setdefault(code, Counter())[text] += 1
    canonical = {
        code: min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
        for code, counter in uses.items()
    }

    products = spark.read.parquet(str(retail_lake / "retail-orders" / "products")).collect()

    assert {p["product_id"]: p["description"] for p in products} == {
        code: canonical.get(code) for code in orders
    }
    assert {p["product_id"]: p["order_count"] for p in products} == {
        code: len(ids) for code, ids in orders.items()
    }


def test_rerunning_an_interval_replaces_only_its_periods(
    spark: Any, retail_subset: Path, retail_lake: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(retail_lake, lake)
    before = {
        o: snapshot(spark, lake, o) for o in ("order_lines", "quarantine", "orders", "products")
    }
    december = sorted((lake / "retail-orders" / "order_lines" / "period=2010-12").iterdir())
    january = {"start": "2011-01-01T00:00:00", "end": "2011-02-01T00:00:00"}
    stricter = {**RETAIL_RULES, "non_product_codes": [*RETAIL_RULES["non_product_codes"], "22423"]}

    changed = run_ingest(
        spark,
        ingest_params(lake, retail_source(retail_subset), interval=january, rules=stricter),
    )
    assert changed["reasons"]["non_product_code"] > before_count(
        before, "2011-01", "non_product_code"
    )
    assert set(changed["periods"]) == {"2011-01"}
    assert snapshot(spark, lake, "order_lines") != before["order_lines"]

    again = run_ingest(spark, ingest_params(lake, retail_source(retail_subset), interval=january))

    assert again["rows_in"] == 33_900 + again["rows_quarantined"]
    assert again["rows_outside_interval"] == changed["rows_outside_interval"]
    assert {o: snapshot(spark, lake, o) for o in before} == before
    assert sorted((lake / "retail-orders" / "order_lines" / "period=2010-12").iterdir()) == december


def snapshot(spark: Any, lake: Path, output: str) -> list[tuple[Any, ...]]:
    frame = spark.read.parquet(str(lake / "retail-orders" / output))
    return sorted(tuple(row) for row in frame.collect())


def before_count(snapshots: dict[str, Any], period: str, reason: str) -> int:
    rows = snapshots["quarantine"]
    return sum(1 for row in rows if row[1] == reason and row[-1] == period)


def test_empty_source_gives_empty_outputs(spark: Any, tmp_path: Path) -> None:
    import duckdb

    from lodestar.jobs.runtime import read_parquet
    from lodestar.naming import output_location

    from .conftest import ONLINE_RETAIL

    empty = tmp_path / "empty.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_parquet('{ONLINE_RETAIL}') LIMIT 0) "
        f"TO '{empty}' (FORMAT parquet)"
    )

    stats = run_ingest(spark, ingest_params(tmp_path, retail_source(empty)))

    assert (stats["status"], stats["rows_in"], stats["rows_kept"], stats["orders"]) == (
        "succeeded",
        0,
        0,
        0,
    )
    for name, schema in (("order_lines", schemas.ORDER_LINES), ("products", schemas.PRODUCTS)):
        frame = read_parquet(
            spark, output_location(str(tmp_path), "retail-orders", name), schema, name
        )
        assert frame.count() == 0


# -- Groceries as a basket source --------------------------------------------------------------


def test_basket_file_lines_become_orders(spark: Any, groceries_lake: Path) -> None:
    lines = spark.read.parquet(str(groceries_lake / "groceries" / "order_lines"))
    text = GROCERIES.read_text(encoding="utf-8").splitlines()

    assert lines.count() == sum(len(line.split(",")) for line in text) == 43_367
    assert lines.select("order_id").distinct().count() == 9_835
    assert {r["period"] for r in lines.select("period").distinct().collect()} == {"unknown"}
    first = lines.filter("order_id = '1'").orderBy("product_id").collect()
    assert [r["product_id"] for r in first] == sorted(text[0].split(","))
    assert {r["line_number"] for r in first} == {1}
    # trailing spaces are trimmed: a rename, since no other item has the trimmed name
    names = Counter(r["product_id"] for r in lines.select("product_id").collect())
    assert names["cream cheese"] == 390 and names["roll products"] == 101
    assert not [name for name in names if name != name.strip()]
    assert len(names) == 169
