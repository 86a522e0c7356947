"""Both jobs through a real ``spark-submit`` on the full shipped Online Retail file.

The expected counts were verified independently: the reason of every row recomputed in
DuckDB SQL from the raw Parquet (same rules, duplicates among the rows left after the other
reasons), and the pair rules recomputed below with a DuckDB self-join.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lodestar.naming import output_location

from .conftest import (
    REPO,
    affinity_params,
    ingest_params,
    local_spark_env,
    retail_source,
    write_params,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]

JOBS = REPO / "src" / "lodestar" / "jobs"

FULL_FILE_REASONS = {
    "malformed_record": 0,
    "missing_order_id": 0,
    "missing_product_id": 0,
    "unparseable_timestamp": 0,
    "cancellation": 9_288,
    "adjustment": 3,
    "non_product_code": 2_408,
    "non_positive_quantity": 1_324,
    "non_positive_price": 1_161,
    "duplicate_line": 5_221,
}
KEPT_BY_PERIOD = {
    "2010-12": 40_821,
    "2011-01": 33_900,
    "2011-02": 26_738,
    "2011-03": 35_294,
    "2011-04": 28_739,
    "2011-05": 35_728,
    "2011-06": 35_512,
    "2011-07": 38_190,
    "2011-08": 34_105,
    "2011-09": 48_694,
    "2011-10": 58_305,
    "2011-11": 81_726,
    "2011-12": 24_752,
}
#: the thresholds of the reference manifest (manifests/product-affinity.yaml)
MANIFEST_THRESHOLDS = {"min_support": 0.015, "min_confidence": 0.4, "min_lift": 4.0}


def spark_submit() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-submit"


def submit(job: str, params: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(spark_submit()),
        "--master",
        "local[2]",
        "--driver-memory",
        "2g",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.driver.host=127.0.0.1",
        str(JOBS / f"{job}.py"),
        "--params",
        str(params),
    ]
    env = {**os.environ, **local_spark_env()}
    env.pop("PYTHONPATH", None)  # the job file must find Lodestar on its own
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=900, check=False, cwd="/"
    )


def read_stats(params: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(Path(params["stats_path"]).read_text(encoding="utf-8")))


def test_both_jobs_run_through_spark_submit_on_the_full_file(tmp_path: Path) -> None:
    ingest = ingest_params(tmp_path, retail_source())

    done = submit("ingest", write_params(tmp_path / "ingest.json", ingest))

    assert done.returncode == 0, done.stderr[-3000:]
    stats = read_stats(ingest)
    assert stats["reasons"] == FULL_FILE_REASONS
    assert stats["rows_in"] == 541_909
    assert stats["rows_kept"] == 522_504 == 541_909 - sum(FULL_FILE_REASONS.values())
    assert {p: c["kept"] for p, c in stats["periods"].items()} == KEPT_BY_PERIOD
    assert (stats["orders"], stats["products"]) == (19_773, 3_900)
    # NOTE: where the driver's log lines go (stdout or stderr) depends on Spark's log4j setup
    output = done.stdout + done.stderr
    assert "ingest retail-orders: 541909 rows in, 522504 kept, 19405 quarantined" in output

    lines = output_location(str(tmp_path), "retail-orders", "order_lines")
    params = affinity_params(tmp_path, lines, MANIFEST_THRESHOLDS)

    done = submit("affinity", write_params(tmp_path / "affinity.json", params))

    assert done.returncode == 0, done.stderr[-3000:]
    stats = read_stats(params)
    assert stats["total_baskets"] == 19_773 - 49
    assert stats["oversize"]["baskets"] == 49
    assert stats["oversize"]["largest"][0] == {"order_id": "573585", "distinct_items": 1_108}
    assert all(v == 0 for checks in stats["invariant_violations"].values() for v in checks.values())
    expected = duckdb_pair_rules(lines, stats["min_pair_count"], max_size=500)
    assert stats["pair_rules"] == len(expected)
    written = duckdb_rows(output_location(str(tmp_path), "product-affinity", "pair_rules"))
    assert written == expected
    assert set(stats["periods"]) == set(KEPT_BY_PERIOD)


def duckdb_pair_rules(order_lines: str, min_count: int, max_size: int) -> set[tuple[Any, ...]]:
    """The same rules from a DuckDB self-join, thresholds of the manifest."""
    import duckdb

    query = f"""
    WITH lines AS (
        SELECT DISTINCT order_id, product_id
        FROM read_parquet('{order_lines}/*/*.parquet')
    ), sizes AS (
        SELECT order_id FROM lines GROUP BY order_id HAVING count(*) <= {max_size}
    ), baskets AS (
        SELECT lines.* FROM lines JOIN sizes USING (order_id)
    ), total AS (
        SELECT count(DISTINCT order_id) AS n FROM baskets
    ), items AS (
        SELECT product_id, count(*) AS c FROM baskets GROUP BY product_id
    ), pairs AS (
        SELECT a.product_id AS x, b.product_id AS y, count(*) AS c
        FROM baskets a JOIN baskets b ON a.order_id = b.order_id AND a.product_id < b.product_id
        GROUP BY 1, 2 HAVING count(*) >= {min_count}
    ), directed AS (
        SELECT x AS a, y AS b, c, x, y FROM pairs UNION ALL SELECT y, x, c, x, y FROM pairs
    )
    SELECT d.a, d.b, d.c, ia.c, ib.c, total.n,
           d.c / total.n, d.c / ia.c, (d.c * total.n)::DOUBLE / (ix.c * iy.c)
    FROM directed d CROSS JOIN total
    JOIN items ia ON ia.product_id = d.a JOIN items ib ON ib.product_id = d.b
    JOIN items ix ON ix.product_id = d.x JOIN items iy ON iy.product_id = d.y
    WHERE d.c / ia.c >= {MANIFEST_THRESHOLDS["min_confidence"]}
      AND (d.c * total.n)::DOUBLE / (ix.c * iy.c) >= {MANIFEST_THRESHOLDS["min_lift"]}
    """
    return {tuple(row) for row in duckdb.sql(query).fetchall()}


def duckdb_rows(location: str) -> set[tuple[Any, ...]]:
    import duckdb

    return {
        tuple(row)
        for row in duckdb.sql(
            "SELECT antecedent, consequent, pair_count, antecedent_count, consequent_count, "
            f"total_baskets, support, confidence, lift FROM read_parquet('{location}/*.parquet')"
        ).fetchall()
    }


def test_bad_parameters_exit_2_with_the_key_named(tmp_path: Path) -> None:
    params = affinity_params(tmp_path, "/nowhere", {"min_support": 0.01}, trailing_periods=0)

    done = submit("affinity", write_params(tmp_path / "bad.json", params))

    assert done.returncode == 2
    assert "trailing_periods: 0 must be between 1 and 120" in done.stdout + done.stderr


def test_a_failure_says_whether_a_retry_could_help(tmp_path: Path) -> None:
    from .test_ingest import csv_source

    strict = {**ingest_params(tmp_path / "a", csv_source())}
    strict["rules"] = {**strict["rules"], "max_rejected_share": 0.04}
    missing = ingest_params(tmp_path / "b", {**csv_source(), "path": str(tmp_path / "later.csv")})

    rejected = submit("ingest", write_params(tmp_path / "strict.json", strict))
    absent = submit("ingest", write_params(tmp_path / "missing.json", missing))

    # the same data fails the same way: Airflow must not retry it
    assert rejected.returncode == 1
    assert read_stats(strict)["status"] == "failed"
    assert read_stats(strict)["retryable"] is False
    assert read_stats(strict)["error"].startswith("608 of 14595 rows (4.17%) were rejected")
    assert read_stats(strict)["rows_in"] == 14_595  # the job's own statistics are kept
    # a source that is not there yet may arrive: a retry can help
    assert absent.returncode == 1
    assert read_stats(missing) == {
        "job": "ingest",
        "product": "retail-orders",
        "error": f"source.path: {tmp_path / 'later.csv'} does not exist",
        "status": "failed",
        "retryable": True,
    }
