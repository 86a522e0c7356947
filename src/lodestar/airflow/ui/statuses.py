"""Hypothesis statuses, read from the product output that records them (dbt's hypothesis_status).

NOTE: DuckDB lets one process write a database file and no other process open it meanwhile, so
a read from the web server while a run builds models could make that run's dbt task fail. The
page therefore reads the warehouse only while no product run is active, keeps what it read per
file version, and otherwise shows the statuses it read last.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from lodestar.errors import LodestarError
from lodestar.plan import OutputPlan, ProductPlan
from lodestar.warehouse import connect, query, quote, readable, relation_sql

log = logging.getLogger(__name__)

#: an output holding these columns records, per hypothesis, whether its measure moved as predicted
STATUS_COLUMNS = ("hypothesis_id", "moved_as_predicted")
VALUE_COLUMN = "latest_value"


@dataclass(frozen=True)
class Verdict:
    moved_as_predicted: bool | None
    latest_value: float | None


def status_output(plan: ProductPlan) -> OutputPlan | None:
    """The product's output that records hypothesis statuses, if it declares one."""
    for output in plan.outputs.values():
        names = {c.name for c in output.output.columns}
        if all(c in names for c in STATUS_COLUMNS):
            return output
    return None


def _version(plan: ProductPlan, output: OutputPlan) -> float | None:
    """The file version the output was read from: warehouse or Parquet folder mtime."""
    if output.location is not None:
        path = Path(output.location.removeprefix("file://"))
    else:
        path = plan.settings.warehouse
    try:
        return path.stat().st_mtime
    except OSError:
        return None


class StatusReader:
    """Reads verdicts per product, cached by file version; thread-safe."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float | None, dict[str, Verdict]]] = {}
        self._lock = threading.Lock()

    def verdicts(self, plan: ProductPlan, *, may_read: bool) -> dict[str, Verdict]:
        """Verdicts by hypothesis id; ``may_read`` False returns the last read (see module)."""
        output = status_output(plan)
        if output is None or not readable(plan, output):
            return {}
        version = _version(plan, output)
        with self._lock:
            cached = self._cache.get(plan.name)
        if cached is not None and (cached[0] == version or not may_read):
            return cached[1]
        if not may_read or version is None:
            return {}

        verdicts = self._read(plan, output)
        if verdicts is not None:
            with self._lock:
                self._cache[plan.name] = (version, verdicts)
        return verdicts or {}

    @staticmethod
    def _read(plan: ProductPlan, output: OutputPlan) -> dict[str, Verdict] | None:
        import duckdb

        names = {c.name for c in output.output.columns}
        value = quote(VALUE_COLUMN) if VALUE_COLUMN in names else "NULL"
        sql = (
            f"SELECT {quote(STATUS_COLUMNS[0])}, {value}, {quote(STATUS_COLUMNS[1])} "
            f"FROM {relation_sql(output)}"
        )
        try:
            with connect(plan) as con:
                rows = query(con, sql)
        except (duckdb.Error, LodestarError) as exc:
            log.warning(
                "hypothesis statuses of %s not readable from %s (shown as unknown): %s",
                plan.name,
                output.name,
                str(exc).splitlines()[0],
            )
            return None
        return {
            str(hypothesis): Verdict(
                None if moved is None else bool(moved),
                None if latest is None else float(latest),
            )
            for hypothesis, latest, moved in rows
        }
