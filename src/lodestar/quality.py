"""The manifest's quality assertions, evaluated on the product's outputs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lodestar.warehouse import connect, query, quote, readable, relation_sql

if TYPE_CHECKING:
    from lodestar.manifest.model import QualityCheck, QualityStep
    from lodestar.plan import ProductPlan

log = logging.getLogger(__name__)


def _observe(con: Any, source: str, check: QualityCheck) -> tuple[bool, Any]:
    column = quote(check.column) if check.column else None
    if check.assertion == "row_count_min":
        count = query(con, f"SELECT count(*) FROM {source}")[0][0]
        return count >= (check.min or 0), count
    if check.assertion == "not_null":
        nulls = query(con, f"SELECT count(*) FROM {source} WHERE {column} IS NULL")[0][0]
        return nulls == 0, nulls
    if check.assertion == "unique":
        dupes = query(
            con,
            f"SELECT count(*) FROM (SELECT {column} FROM {source} "
            f"GROUP BY {column} HAVING count(*) > 1)",
        )[0][0]
        return dupes == 0, dupes
    if check.assertion == "between":
        conditions = []
        if check.min is not None:
            conditions.append(f"{column} < {check.min!r}")
        if check.max is not None:
            conditions.append(f"{column} > {check.max!r}")
        where = " OR ".join(conditions) or "false"
        outside = query(con, f"SELECT count(*) FROM {source} WHERE {where}")[0][0]
        return outside == 0, outside
    # max_share: share of rows where the column is true (or non-null) stays under max
    share = query(
        con,
        f"SELECT coalesce(avg(CASE WHEN {column} THEN 1.0 ELSE 0.0 END), 0) FROM {source}",
    )[0][0]
    return share <= (check.max if check.max is not None else 1.0), share


def run_checks(plan: ProductPlan, step: QualityStep) -> list[dict[str, Any]]:
    """Evaluate every check of ``step``; a check that cannot be read here is skipped, said so."""
    results: list[dict[str, Any]] = []
    with connect(plan) as con:
        for check in step.checks:
            output = plan.outputs[check.output]
            base = {
                "name": check.name,
                "output": check.output,
                "assertion": check.assertion,
                "column": check.column,
                "severity": check.severity,
                "expected": {"min": check.min, "max": check.max},
            }
            if not readable(plan, output):
                log.info(
                    "check %s skipped: %s is not readable with DuckDB here (target %s)",
                    check.name,
                    check.output,
                    plan.settings.dbt_target,
                )
                results.append({**base, "success": True, "observed": "skipped"})
                continue
            success, observed = _observe(con, relation_sql(output), check)
            results.append({**base, "success": bool(success), "observed": observed})
    return results
