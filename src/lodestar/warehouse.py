"""Read access to product outputs with DuckDB: lake Parquet folders and the dbt warehouse.

Used by quality checks, measure publication, the CLI summary and the UI; never by the Spark
jobs. Opening the warehouse read-only lets readers run beside a finished dbt build.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lodestar.errors import LodestarError

if TYPE_CHECKING:
    import duckdb

    from lodestar.plan import OutputPlan, ProductPlan

log = logging.getLogger(__name__)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect(plan: ProductPlan) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with the warehouse attached read-only as ``wh`` when it exists."""
    import duckdb

    con = duckdb.connect()
    try:
        warehouse = plan.settings.warehouse
        if plan.settings.dbt_target == "duckdb" and warehouse.exists():
            con.execute(f"ATTACH {literal(str(warehouse))} AS wh (READ_ONLY)").fetchall()
        yield con
    finally:
        con.close()


def relation_sql(output: OutputPlan) -> str:
    """SQL that reads one output: its Parquet files, or its warehouse table."""
    if output.location is not None:
        pattern = output.location.removeprefix("file://").rstrip("/") + "/**/*.parquet"
        hive = "true" if output.output.partitioned_by else "false"
        return f"read_parquet({literal(pattern)}, hive_partitioning={hive}, union_by_name=true)"
    if output.relation is None:
        raise LodestarError(f"output {output.name} has neither a location nor a relation")
    schema, table = output.relation
    return f"wh.{quote(schema)}.{quote(table)}"


def readable(plan: ProductPlan, output: OutputPlan) -> bool:
    """Whether DuckDB here can read the output (warehouse tables need the duckdb target)."""
    if output.location is not None:
        return "://" not in output.location or output.location.startswith("file://")
    return plan.settings.dbt_target == "duckdb" and plan.settings.warehouse.exists()


def query(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    log.debug("duckdb: %s", sql)
    return list(con.execute(sql).fetchall())
