"""dbt build of the product_affinity models on Spark (dbt-spark, method session).

dbt and its Spark session run in a child process, so that the session gets this test's
warehouse, metastore and configuration (a JVM takes its static configuration once, and other
tests of this process may have started one). The child builds, keeps a copy of the tables,
then runs the incremental NSM history (a dynamic partition overwrite on Spark) and what reads
it again; the tables are read back here from their Parquet files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_lake import PERIODS, Lake, build_lake, settings_for
from dbt_oracle import (
    attach_by_period,
    audiences,
    goal_measures,
    hypothesis_status,
    recommendations,
)

from lodestar.dbt import product_params
from lodestar.manifest import load_folder

pytestmark = [pytest.mark.dbt, pytest.mark.spark, pytest.mark.slow]

MODELS = (
    "cross_sell_recommendations",
    "campaign_audiences",
    "product_affinity_report",
    "goal_measures",
    "nsm_history",
    "hypothesis_status",
)

CHILD = """
import shutil, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from dbt_lake import affinity_plan, settings_for
from lodestar.dbt import run_dbt, vars_for

home = Path(sys.argv[1])
settings = settings_for(home, target="spark")
dbt_vars = vars_for(affinity_plan(settings))
tables = home / "spark" / "warehouse" / "product_affinity.db"
run_dbt(["build"], settings, dbt_vars=dbt_vars, target_path=home / "target")
shutil.copytree(tables, home / "first")
run_dbt(
    ["run", "--select", "nsm_history", "hypothesis_status"],
    settings,
    dbt_vars=dbt_vars,
    target_path=home / "target",
)
"""


def read_tables(folder: Path) -> dict[str, list[dict[str, Any]]]:
    con = duckdb.connect()
    try:
        tables = {}
        for name in MODELS:
            pattern = str(folder / name / "**" / "*.parquet")
            hive = "true" if name == "nsm_history" else "false"
            result = con.execute(
                f"select * from read_parquet('{pattern}', hive_partitioning = {hive}, "
                "hive_types_autocast = false)"
            )
            columns = [d[0] for d in result.description]
            rows = result.fetchall()
            tables[name] = sorted(
                (dict(zip(columns, row, strict=True)) for row in rows),
                key=lambda r: tuple(str(r[c]) for c in sorted(r)),
            )
        return tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("dbt-spark")
    lake = build_lake()
    lake.write(home / "lake")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(home), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    settings = settings_for(home, target="spark")
    products = load_folder(settings.manifests_dir).products
    return {
        "lake": lake,
        "params": product_params(products["product-affinity"]),
        "first": read_tables(home / "first"),
        "second": read_tables(home / "spark" / "warehouse" / "product_affinity.db"),
    }


def test_spark_results_equal_the_oracle(spark_run: dict[str, Any]) -> None:
    lake: Lake = spark_run["lake"]
    params = spark_run["params"]
    first = spark_run["first"]
    orders, attach = (
        lake.rows("retail-orders", "orders"),
        lake.rows("product-affinity", "order_attach"),
    )

    recs = recommendations(lake.rows("product-affinity", "pair_rules"), params)
    assert sorted(
        (r["product_id"], r["rank"], r["recommended_product_id"])
        for r in first["cross_sell_recommendations"]
    ) == sorted((r["product_id"], r["rank"], r["recommended_product_id"]) for r in recs)

    nsm = attach_by_period(orders, attach)
    rows = {r["period"]: r for r in first["nsm_history"]}
    assert sorted(rows) == list(PERIODS)
    for period, want in nsm.items():
        assert rows[period]["status"] == want["status"]
        if want["value"] is None:
            assert rows[period]["value"] is None
        else:
            assert rows[period]["value"] == pytest.approx(want["value"], rel=1e-12)

    measures = goal_measures(orders, attach)
    for row in first["goal_measures"]:
        want = measures[row["period"]]
        assert row["basket_breadth"] == pytest.approx(want["basket_breadth"], rel=1e-12)
        assert row["revenue_per_order"] == pytest.approx(want["revenue_per_order"], rel=1e-12)

    fields = ("customer_id", "offer_product_id", "product_id", "recommendation_rank")
    expected = audiences(lake.rows("retail-orders", "order_lines"), recs, 90)
    assert sorted(tuple(r[f] for f in fields) for r in first["campaign_audiences"]) == sorted(
        tuple(r[f] for f in fields) for r in expected
    )
    status = {r["hypothesis_id"]: r for r in first["hypothesis_status"]}
    for hypothesis, want in hypothesis_status(params, measures, nsm).items():
        assert status[hypothesis]["latest_period"] == want["latest_period"]
        assert status[hypothesis]["latest_value"] == pytest.approx(want["latest_value"], rel=1e-12)
        assert status[hypothesis]["moved_as_predicted"] is want["moved_as_predicted"]
    assert len(first["product_affinity_report"]) == len(lake.rows("product-affinity", "pair_rules"))


def test_spark_rerun_gives_the_same_rows(spark_run: dict[str, Any]) -> None:
    for name in ("nsm_history", "hypothesis_status"):
        assert spark_run["second"][name] == spark_run["first"][name], name
