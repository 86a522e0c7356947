"""The Spark jobs on a standalone master and worker, against the same jobs on ``local[*]``.

Both products' Spark steps run through ``spark-submit`` with the parameters the plan gives
(the contract of ``lodestar.jobs``: ``spark-submit <jobs>/<job>.py --params P.json``), on a
reduced real subset of Online Retail (two months), once on ``local[*]`` and once on the
standalone cluster of the fixtures; every output must hold the same rows. Then dbt builds
product-affinity's models on the cluster's outputs through dbt-spark's ``thrift`` method (a
Spark Thrift server on the same master), and the tables must equal those of the DuckDB target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from cluster_data import assert_same_rows, canonical, comparable, rows, table_rows
from cluster_services import LOOPBACK, SparkStandalone, ThriftServer, spark_home

from lodestar.manifest import load_folder
from lodestar.manifest.model import DbtStep, SparkStep
from lodestar.plan import SPARK_JOB_OUTPUTS, ProductPlan, plan_product, spark_params
from lodestar.settings import Settings, load_settings

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
JOBS_DIR = REPO_ROOT / "src" / "lodestar" / "jobs"
#: the Spark steps of the reference manifests, in the order a run needs them
STEPS = (("retail-orders", "ingest"), ("product-affinity", "affinity"))
#: what LodestarSparkSubmitOperator passes to every job besides the step's own conf
OPERATOR_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
}


@dataclass(frozen=True)
class Deployment:
    """One place the jobs ran: its settings (lake, home) and each step's wall time."""

    master: str
    root: Path
    settings: Settings
    seconds: dict[str, float]
    stats: dict[str, dict[str, Any]]

    def plan(self, product: str) -> ProductPlan:
        catalog = load_folder(self.settings.manifests_dir)
        return plan_product(catalog.products[product], catalog.products, self.settings)


def submit(master: str, settings: Settings, product: str, step_name: str) -> dict[str, Any]:
    """``spark-submit`` one step as the Airflow operator does; return the job's statistics."""
    catalog = load_folder(settings.manifests_dir)
    assert not catalog.errors, catalog.errors
    plan = plan_product(catalog.products[product], catalog.products, settings)
    step = plan.product.step(step_name)
    assert isinstance(step, SparkStep)
    params = spark_params(plan, step)
    params_file = settings.home / "runs" / f"{step_name}.params.json"
    params_file.parent.mkdir(parents=True, exist_ok=True)
    params_file.write_text(json.dumps(params, indent=2), encoding="utf-8")

    conf = {
        **OPERATOR_CONF,
        **step.conf,
        "spark.ui.enabled": "false",
        "spark.cores.max": "2",
        "spark.executor.memory": "1g",
        "spark.driver.memory": "1g",
    }
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", master]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command += [str(JOBS_DIR / f"{step.job}.py"), "--params", str(params_file)]
    env = {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": LOOPBACK,
    }
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, (
        f"{step_name} on {master} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    )
    return dict(json.loads(Path(params["stats_path"]).read_text(encoding="utf-8")))


def deploy(master: str, subset: Path, root: Path) -> Deployment:
    settings = load_settings(
        home=root / "home",
        manifests_dir=subset / "manifests",
        lake_root=str(root / "lake"),
        warehouse=root / "home" / "warehouse.duckdb",
    )
    seconds: dict[str, float] = {}
    stats: dict[str, dict[str, Any]] = {}
    for product, step in STEPS:
        started = time.perf_counter()
        stats[step] = submit(master, settings, product, step)
        seconds[step] = round(time.perf_counter() - started, 1)
    return Deployment(master, root, settings, seconds, stats)


@pytest.fixture(scope="module")
def runs(
    spark_cluster: SparkStandalone, subset_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Deployment]:
    """The same steps on ``local[*]`` and on the cluster, side by side to save wall time."""
    masters = {"local": "local[*]", "cluster": spark_cluster.master_url}
    with ThreadPoolExecutor(max_workers=len(masters)) as pool:
        futures = {
            where: pool.submit(deploy, master, subset_project, tmp_path_factory.mktemp(where))
            for where, master in masters.items()
        }
        return {where: future.result() for where, future in futures.items()}


@pytest.fixture(scope="module")
def local_run(runs: dict[str, Deployment]) -> Deployment:
    return runs["local"]


@pytest.fixture(scope="module")
def cluster_run(runs: dict[str, Deployment]) -> Deployment:
    return runs["cluster"]


def test_the_jobs_ran_on_the_standalone_cluster(
    cluster_run: Deployment, spark_cluster: SparkStandalone
) -> None:
    finished = {str(app["id"]): app for app in spark_cluster.completed_apps()}

    for _product, step in STEPS:
        spark = cluster_run.stats[step]["spark"]
        assert spark["master"] == spark_cluster.master_url
        app = finished.get(spark["app_id"])
        assert app is not None, f"{step} ({spark['app_id']}) is not among the master's apps"
        assert app["state"] == "FINISHED"
        assert int(app["cores"]) >= 1, f"{step} ran without an executor on the worker"


@pytest.mark.parametrize(("product", "step"), STEPS)
def test_cluster_outputs_equal_local_outputs(
    local_run: Deployment, cluster_run: Deployment, product: str, step: str
) -> None:
    local_plan, cluster_plan = local_run.plan(product), cluster_run.plan(product)
    job = local_plan.product.step(step)
    assert isinstance(job, SparkStep)

    for output in SPARK_JOB_OUTPUTS[job.job]:
        local_location = local_plan.outputs[output].location
        cluster_location = cluster_plan.outputs[output].location
        assert local_location and cluster_location
        assert cluster_location.startswith(cluster_run.settings.lake_root)
        local_rows = rows(local_location)
        if output not in ("quarantine", "period_rules"):
            assert local_rows, f"{product}.{output} is empty on the subset"
        assert_same_rows(f"{product}.{output}", local_rows, rows(cluster_location))


def test_cluster_statistics_equal_local_statistics(
    local_run: Deployment, cluster_run: Deployment
) -> None:
    for _product, step in STEPS:
        expected = comparable(local_run.stats[step], str(local_run.root))
        assert comparable(cluster_run.stats[step], str(cluster_run.root)) == expected, step


# --- dbt through dbt-spark ----------------------------------------------------------------------


def dbt_build(deployment: Deployment, target: str, extra_env: dict[str, str]) -> None:
    from lodestar.airflow.dbt_tasks import dbt_command
    from lodestar.settings import with_overrides

    settings = with_overrides(deployment.settings, dbt_target=target)
    plan = plan_product(
        deployment.plan("product-affinity").product,
        load_folder(settings.manifests_dir).products,
        settings,
    )
    (step,) = [s for s in plan.product.build.steps if isinstance(s, DbtStep)]
    command, env = dbt_command(plan, step.name, ["build", "--select", *step.select])
    scratch = settings.home / f"dbt-{target}"
    env = {
        **os.environ,
        **env,
        **extra_env,
        # NOTE: the repository's dbt_project/target holds the manifest Airflow reads: a test's
        # build writes its artifacts and logs elsewhere.
        "DBT_TARGET_PATH": str(scratch / "target"),
        "DBT_LOG_PATH": str(scratch / "logs"),
    }
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"dbt build on {target} failed:\n{proc.stdout[-6000:]}"


def test_dbt_on_spark_through_thrift_equals_dbt_on_duckdb(
    cluster_run: Deployment, thrift_server: ThriftServer
) -> None:
    import duckdb
    from pyhive import hive

    thrift_env = {
        "LODESTAR_SPARK_THRIFT_HOST": thrift_server.host,
        "LODESTAR_SPARK_THRIFT_PORT": str(thrift_server.port),
    }
    dbt_build(cluster_run, "spark_thrift", thrift_env)
    dbt_build(cluster_run, "duckdb", {})

    plan = cluster_run.plan("product-affinity")
    tables = [o.relation for o in plan.outputs.values() if o.relation is not None]
    assert tables, "product-affinity declares warehouse tables"
    warehouse = duckdb.connect(str(cluster_run.settings.warehouse), read_only=True)
    spark = hive.connect(host=thrift_server.host, port=thrift_server.port, username="lodestar")
    try:
        for schema, table in tables:
            expected = table_rows(warehouse, schema, table)
            assert expected, f"{schema}.{table} is empty"
            columns = [name for name, _ in expected[0]]
            cursor = spark.cursor()
            cursor.execute(f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM {schema}.{table}")
            found = canonical(columns, [_as_duckdb(r, expected[0]) for r in cursor.fetchall()])
            assert_same_rows(f"{schema}.{table}", expected, found)
    finally:
        spark.close()
        warehouse.close()


def _as_duckdb(row: tuple[Any, ...], like: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
    """PyHive returns dates and timestamps as strings; read them as DuckDB's Python types."""
    converted = []
    for value, (_, sample) in zip(row, like, strict=True):
        if isinstance(value, str) and isinstance(sample, datetime):
            converted.append(datetime.fromisoformat(value))
        elif isinstance(value, str) and isinstance(sample, date):
            converted.append(date.fromisoformat(value))
        else:
            converted.append(value)
    return tuple(converted)
