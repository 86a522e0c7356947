"""Reading outputs back and comparing them row for row, for the cluster tests."""

from __future__ import annotations

import math
from typing import Any

Row = tuple[tuple[str, Any], ...]


def rows(location: str) -> list[Row]:
    """Every row of a Parquet dataset (partition folders included), in a canonical order."""
    import duckdb

    relation = duckdb.sql(
        f"SELECT * FROM read_parquet('{location}/**/*.parquet', hive_partitioning = true, "
        "union_by_name = true)"
    )
    return canonical(relation.columns, relation.fetchall())


def table_rows(connection: Any, schema: str, table: str) -> list[Row]:
    """Every row of a DuckDB table, in a canonical order."""
    relation = connection.sql(f'SELECT * FROM "{schema}"."{table}"')
    return canonical(relation.columns, relation.fetchall())


def canonical(columns: list[str], found: list[tuple[Any, ...]]) -> list[Row]:
    return sorted((tuple(zip(columns, row, strict=True)) for row in found), key=repr)


def same_value(left: Any, right: Any) -> bool:
    # NOTE: sums of doubles may differ in the last bits when partial sums are merged in another
    # order; every other value must be identical.
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
    return bool(left == right)


def assert_same_rows(name: str, expected: list[Row], found: list[Row]) -> None:
    assert len(found) == len(expected), f"{name}: {len(found)} rows, expected {len(expected)}"
    for number, (a, b) in enumerate(zip(expected, found, strict=True)):
        same = len(a) == len(b) and all(
            ca == cb and same_value(va, vb) for (ca, va), (cb, vb) in zip(a, b, strict=True)
        )
        assert same, f"{name}: row {number} differs:\n expected: {a}\n found   : {b}"


#: what differs between any two runs of the same step: wall times and the Spark application
RUN_SPECIFIC = ("timings", "spark", "seconds", "duration")


def comparable(stats: Any, root: str) -> Any:
    """Run statistics without wall times, with the deployment's folder ``root`` as ``<root>``."""
    if isinstance(stats, dict):
        return {k: comparable(v, root) for k, v in stats.items() if k not in RUN_SPECIFIC}
    if isinstance(stats, list):
        return [comparable(v, root) for v in stats]
    if isinstance(stats, str):
        return stats.replace(root, "<root>")
    return stats
