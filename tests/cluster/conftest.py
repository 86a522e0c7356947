"""Fixtures of the cluster tests: one Spark standalone cluster, Thrift server and PostgreSQL per
session, started on 127.0.0.1 only when a test asks for them, and a reduced real data set.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_services import (
    PostgresServer,
    ServiceError,
    SparkStandalone,
    ThriftServer,
    start_postgres,
    start_spark_standalone,
    start_thrift_server,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "data" / "online-retail" / "online_retail.parquet"

#: the reduced real subset: invoices of these months (UK local time) of the shipped file
SUBSET_MONTHS = ("2011-01", "2011-02")


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkStandalone]:
    """Master and one worker (2 cores, 3g: a Thrift server and a job can hold one core each)."""
    try:
        cluster = start_spark_standalone(
            tmp_path_factory.mktemp("spark-standalone"), cores=2, memory="3g"
        )
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def thrift_server(
    spark_cluster: SparkStandalone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThriftServer]:
    try:
        server = start_thrift_server(spark_cluster, tmp_path_factory.mktemp("spark-thrift"))
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def subset_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's manifests beside a reduced real input at the same relative path.

    The manifests are copied byte for byte: only the folder they sit in changes, as between a
    laptop and a cluster.
    """
    import duckdb

    root = tmp_path_factory.mktemp("subset-project")
    shutil.copytree(REPO_ROOT / "manifests", root / "manifests")
    target = root / "data" / "online-retail" / "online_retail.parquet"
    target.parent.mkdir(parents=True)
    months = ", ".join(f"'{m}'" for m in SUBSET_MONTHS)
    duckdb.sql(
        f"COPY (SELECT * FROM read_parquet('{SOURCE}') "
        f"WHERE substr(InvoiceDate, 1, 7) IN ({months})) TO '{target}' (FORMAT parquet)"
    )
    return root
