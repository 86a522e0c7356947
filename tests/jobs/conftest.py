"""Shared fixtures of the Spark job tests: one local SparkSession and the real data sets."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lodestar import naming

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
ONLINE_RETAIL = REPO / "data" / "online-retail" / "online_retail.parquet"
RETAIL_CSV = DATA / "online_retail_head_cr_truncated.csv"
GROCERIES = DATA / "groceries.csv"

#: the Online Retail column mapping and rules of the reference manifest
RETAIL_COLUMNS = {
    "order_id": "InvoiceNo",
    "product_id": "StockCode",
    "description": "Description",
    "quantity": "Quantity",
    "ordered_at": "InvoiceDate",
    "unit_price": "UnitPrice",
    "customer_id": "CustomerID",
    "country": "Country",
}
RETAIL_RULES = {
    "cancellation_pattern": "^C",
    "adjustment_pattern": "^A",
    "non_product_codes": [
        "POST",
        "DOT",
        "M",
        "m",
        "D",
        "S",
        "C2",
        "B",
        "CRUK",
        "PADS",
        "AMAZONFEE",
        "BANK CHARGES",
    ],
    "non_product_pattern": "^(DCGS|gift_)",
    "max_rejected_share": 0.10,
}
INGEST_OUTPUTS = ("order_lines", "orders", "products", "quarantine")
AFFINITY_OUTPUTS = ("item_support", "pair_rules", "period_rules", "order_attach")

#: PySpark 4.3 warns once that pandas 3 is newer than it was tested with; nothing here uses
#: pandas through PySpark
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"


def ingest_params(
    lake: Path, source: dict[str, Any], product: str = "retail-orders", **extra: Any
) -> dict[str, Any]:
    """Ingest parameters as the Airflow layer writes them, outputs placed by the naming rule."""
    params: dict[str, Any] = {
        "product": product,
        "source": source,
        "rules": RETAIL_RULES,
        "interval": None,
        "outputs": {o: naming.output_location(str(lake), product, o) for o in INGEST_OUTPUTS},
        "stats_path": str(lake / "stats" / product / "ingest.json"),
    }
    params.update(extra)
    return params


def affinity_params(
    lake: Path, order_lines: str, thresholds: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    product = "product-affinity"
    params: dict[str, Any] = {
        "product": product,
        "inputs": {"order_lines": order_lines},
        "thresholds": thresholds,
        "max_basket_size": 500,
        "oversize_policy": "exclude",
        "period": "month",
        "trailing_periods": 3,
        "interval": None,
        "outputs": {o: naming.output_location(str(lake), product, o) for o in AFFINITY_OUTPUTS},
        "stats_path": str(lake / "stats" / product / "affinity.json"),
    }
    params.update(extra)
    return params


def retail_source(path: Path = ONLINE_RETAIL) -> dict[str, Any]:
    return {
        "path": str(path),
        "format": "parquet",
        "timestamp_format": "yyyy-MM-dd HH:mm:ss",
        "columns": RETAIL_COLUMNS,
        "quantity_mode": "column",
    }


def write_params(path: Path, params: dict[str, Any]) -> Path:
    path.write_text(json.dumps(params, indent=2), encoding="utf-8")
    return path


def local_spark_env() -> dict[str, str]:
    """Keep Spark on the loopback interface and on this interpreter."""
    import sys

    return {
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local session for every in-process job test (two cores, small shuffles)."""
    os.environ.update(local_spark_env())
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("lodestar-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def retail_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Online Retail rows of December 2010 to February 2011 (same columns)."""
    import duckdb

    path = tmp_path_factory.mktemp("retail") / "online_retail_3m.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_parquet('{ONLINE_RETAIL}') "
        "WHERE InvoiceDate < '2011-03-01') "
        f"TO '{path}' (FORMAT parquet)"
    )
    return path


@pytest.fixture(scope="session")
def retail_lake(spark: Any, retail_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The subset ingested once; tests read its outputs and must not write into it."""
    from lodestar.jobs import ingest
    from lodestar.jobs.params import parse_ingest

    lake = tmp_path_factory.mktemp("retail-lake")
    ingest.run(spark, parse_ingest(ingest_params(lake, retail_source(retail_subset))))
    return lake


@pytest.fixture(scope="session")
def groceries_lake(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Groceries ingested once as a basket source."""
    from lodestar.jobs import ingest
    from lodestar.jobs.params import parse_ingest

    lake = tmp_path_factory.mktemp("groceries-lake")
    source = {"path": str(GROCERIES), "format": "baskets"}
    ingest.run(spark, parse_ingest(ingest_params(lake, source, product="groceries")))
    return lake
