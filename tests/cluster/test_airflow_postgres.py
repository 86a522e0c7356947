"""Airflow on PostgreSQL with the LocalExecutor: two intervals of both products in parallel.

A private PostgreSQL cluster holds Airflow's metadata; the API server, the scheduler
(LocalExecutor) and the DAG processor run as in a deployment, on loopback. The reference
manifests, unchanged, build both DAGs over a reduced real input. Each DAG run is restricted to
one interval by its conf (``{"start": ..., "end": ...}``).

First the four runs go one at a time (retail-orders A, B, then product-affinity A, B): the
serial reference. Its lake and warehouse are set aside, and the same four runs go again with
both intervals of a product at once. Every output, every warehouse table and every run's
statistics must equal the serial run's: nothing one run writes may clobber the other's.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cluster_data import assert_same_rows, comparable, rows, table_rows
from cluster_services import (
    AirflowStack,
    PostgresServer,
    ServiceError,
    airflow_environment,
    free_port,
    start_airflow,
)

from lodestar.manifest import load_folder
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import Settings, load_settings

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
INTERVALS = {
    "a": {"start": "2011-01-01T00:00:00", "end": "2011-02-01T00:00:00"},
    "b": {"start": "2011-02-01T00:00:00", "end": "2011-03-01T00:00:00"},
}
PRODUCTS = ("retail-orders", "product-affinity")
RUN_TIMEOUT = 600.0


@dataclass
class Deployment:
    """The Airflow stack and the Lodestar settings every component of it runs with."""

    stack: AirflowStack
    root: Path
    settings: Settings

    def plan(self, product: str) -> ProductPlan:
        catalog = load_folder(self.settings.manifests_dir)
        return plan_product(catalog.products[product], catalog.products, self.settings)


@pytest.fixture(scope="module")
def deployment(
    postgres: PostgresServer, subset_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    from lodestar.airflow.builder import DUCKDB_POOL
    from lodestar.airflow.environment import airflow_env

    root = tmp_path_factory.mktemp("airflow-postgres")
    # NOTE: a private copy of the dbt project: dbt writes its target/ while tasks run, and the
    # repository's target/manifest.json is what other Airflow deployments read.
    dbt_project = root / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project", dbt_project, ignore=shutil.ignore_patterns("logs", "target")
    )
    shutil.copytree(REPO_ROOT / "dbt_project" / "target", dbt_project / "target")
    settings = load_settings(
        home=root / "home",
        manifests_dir=subset_project / "manifests",
        lake_root=str(root / "lake"),
        warehouse=root / "home" / "warehouse.duckdb",
        dbt_project_dir=dbt_project,
        spark_master="local[*]",
        dbt_target="duckdb",
    )
    postgres.create_database("airflow")
    base = {**os.environ, **airflow_env(settings, REPO_ROOT)}
    env = airflow_environment(
        base, postgres.url("airflow"), settings.airflow_home, api_port=free_port()
    )
    try:
        stack = start_airflow(env, settings.airflow_home)
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        _wait_for_dags(stack)
        stack.request("POST", "pools", {"name": DUCKDB_POOL, "slots": 1})
        for dag_id in PRODUCTS:
            stack.request("PATCH", f"dags/{dag_id}", {"is_paused": False})
        yield Deployment(stack, root, settings)
    finally:
        stack.stop()


def _wait_for_dags(stack: AirflowStack, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    found: set[str] = set()
    while time.monotonic() < deadline:
        listed = stack.request("GET", "dags")
        assert isinstance(listed, dict)
        found = {d["dag_id"] for d in listed["dags"]}
        if set(PRODUCTS) <= found:
            return
        errors = stack.request("GET", "importErrors")
        assert isinstance(errors, dict)
        assert not errors["import_errors"], f"DAG import errors: {errors['import_errors']}"
        time.sleep(2)
    raise AssertionError(f"DAGs {PRODUCTS} not parsed after {timeout:.0f} s; found {found}")


# --- runs ---------------------------------------------------------------------------------------


def trigger(stack: AirflowStack, dag_id: str, run_id: str, interval: dict[str, str]) -> None:
    stack.request(
        "POST",
        f"dags/{dag_id}/dagRuns",
        {"dag_run_id": run_id, "logical_date": None, "conf": interval},
    )


def run_state(stack: AirflowStack, dag_id: str, run_id: str) -> dict[str, Any]:
    found = stack.request("GET", f"dags/{dag_id}/dagRuns/{run_id}")
    assert isinstance(found, dict)
    return found


def task_instances(stack: AirflowStack, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    found = stack.request("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")
    assert isinstance(found, dict)
    return list(found["task_instances"])


def wait_for_runs(deployment: Deployment, runs: list[tuple[str, str]]) -> None:
    """Until every run is finished; a failed run fails the test with its failed tasks' logs."""
    stack = deployment.stack
    deadline = time.monotonic() + RUN_TIMEOUT
    pending = list(runs)
    while pending and time.monotonic() < deadline:
        assert stack.alive(), "an Airflow component exited; see its log under service-logs/"
        for dag_id, run_id in list(pending):
            state = run_state(stack, dag_id, run_id)["state"]
            if state == "success":
                pending.remove((dag_id, run_id))
                continue
            # NOTE: a task up for retry fails the test at once: the manifests' retry delays
            # (minutes) are for production, and the first failure's log is the useful one.
            retrying = any(
                t["state"] == "up_for_retry" for t in task_instances(stack, dag_id, run_id)
            )
            if state == "failed" or retrying:
                pytest.fail(failure_report(deployment, dag_id, run_id), pytrace=False)
        time.sleep(2)
    assert not pending, f"runs not finished after {RUN_TIMEOUT:.0f} s: " + "; ".join(
        f"{d}/{r}: {[(t['task_id'], t['state']) for t in task_instances(stack, d, r)]}"
        for d, r in pending
    )


def failure_report(deployment: Deployment, dag_id: str, run_id: str) -> str:
    """The run's task states, and the warnings and errors of its failed tasks' logs."""
    lines = [f"DAG run {dag_id}/{run_id} failed"]
    logs = deployment.settings.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    for task in task_instances(deployment.stack, dag_id, run_id):
        lines.append(f"  {task['task_id']}: {task['state']}")
        if task["state"] not in ("failed", "up_for_retry"):
            continue
        for log_file in sorted((logs / f"task_id={task['task_id']}").glob("*.log")):
            lines.extend(f"    {line}" for line in problems(log_file))
    return "\n".join(lines)


def problems(log_file: Path, exceptions: int = 5) -> list[str]:
    """Warning and error events of a task log (JSON lines), with the exception's last frame,
    and the first few exceptions that spark-submit's output relayed (logged as info)."""
    found = []
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            found.append(line)
            continue
        text = str(event.get("event"))
        if event.get("level") == "info" and "Exception" in text and exceptions > 0:
            exceptions -= 1
            found.append(f"spark-submit: {text[:600]}")
        if event.get("level") not in ("warning", "error"):
            continue
        found.append(f"{event['level']}: {text}")
        for error in event.get("error_detail") or []:
            frame = (error.get("frames") or [{}])[-1]
            found.append(
                f"  {error.get('exc_type')}: {error.get('exc_value')} "
                f"({frame.get('filename')}:{frame.get('lineno')})"
            )
    return found


def return_value(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> Any:
    try:
        found = deployment.stack.request(
            "GET",
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    assert isinstance(found, dict)
    value = found["value"]
    return json.loads(value) if isinstance(value, str) else value


def spans(deployment: Deployment, dag_id: str, run_id: str) -> list[tuple[datetime, datetime]]:
    found = []
    for task in task_instances(deployment.stack, dag_id, run_id):
        if task["start_date"] and task["end_date"]:
            found.append(
                (
                    datetime.fromisoformat(task["start_date"]),
                    datetime.fromisoformat(task["end_date"]),
                )
            )
    return found


# --- what a phase leaves behind -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Lake outputs, warehouse tables and run statistics after one phase, and its wall time."""

    lake: dict[str, list[tuple[Any, ...]]]
    tables: dict[str, list[tuple[Any, ...]]]
    stats: dict[str, Any]
    completed: dict[str, int]
    seconds: float


def collect(deployment: Deployment, phase: str, seconds: float) -> Outcome:
    import duckdb

    lake: dict[str, list[tuple[Any, ...]]] = {}
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for product in PRODUCTS:
        for name, output in deployment.plan(product).outputs.items():
            if output.location is not None:
                lake[f"{product}.{name}"] = rows(output.location)
    warehouse = deployment.settings.warehouse
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        for product in PRODUCTS:
            for name, output in deployment.plan(product).outputs.items():
                if output.relation is not None:
                    tables[f"{product}.{name}"] = table_rows(connection, *output.relation)
    finally:
        connection.close()
    stats: dict[str, Any] = {}
    for product in PRODUCTS:
        plan = deployment.plan(product)
        for label in INTERVALS:
            run_id = f"{phase}-{label}"
            for step in plan.product.build.steps:
                stats[f"{product}/{label}/{step.name}"] = comparable(
                    return_value(deployment, product, run_id, step.name), str(deployment.root)
                )
    return Outcome(lake, tables, stats, completed_jobs(deployment.settings), seconds)


def completed_jobs(settings: Settings) -> dict[str, int]:
    """Lineage job name -> how many distinct runs of it sent a COMPLETE event."""
    assert settings.lineage_file is not None
    runs: dict[str, set[str]] = {}
    for number, line in enumerate(settings.lineage_file.read_text(encoding="utf-8").splitlines()):
        event = json.loads(line)  # NOTE: a line interleaved by two writers would not parse
        assert isinstance(event, dict), f"lineage line {number + 1} is not an event"
        if event["eventType"] == "COMPLETE":
            runs.setdefault(event["job"]["name"], set()).add(event["run"]["runId"])
    return {job: len(ids) for job, ids in sorted(runs.items())}


def set_aside(deployment: Deployment, phase: str) -> None:
    """Move the phase's lake, warehouse and state away, so the next phase starts empty."""
    settings = deployment.settings
    keep = Path(str(settings.lake_root) + f"-{phase}")
    Path(settings.lake_root).rename(keep)
    settings.warehouse.rename(settings.warehouse.with_name(f"warehouse-{phase}.duckdb"))
    for folder in ("stats", "runs", "measures", "lineage"):
        path = settings.home / folder
        if path.exists():
            path.rename(settings.home / f"{folder}-{phase}")


@pytest.fixture(scope="module")
def serial(deployment: Deployment) -> Outcome:
    started = time.perf_counter()
    for product in PRODUCTS:
        for label, interval in INTERVALS.items():
            trigger(deployment.stack, product, f"serial-{label}", interval)
            wait_for_runs(deployment, [(product, f"serial-{label}")])
    outcome = collect(deployment, "serial", time.perf_counter() - started)
    set_aside(deployment, "serial")
    return outcome


@pytest.fixture(scope="module")
def parallel(deployment: Deployment, serial: Outcome) -> Outcome:
    started = time.perf_counter()
    for product in PRODUCTS:
        runs = [(product, f"parallel-{label}") for label in INTERVALS]
        for (dag_id, run_id), interval in zip(runs, INTERVALS.values(), strict=True):
            trigger(deployment.stack, dag_id, run_id, interval)
        wait_for_runs(deployment, runs)
    return collect(deployment, "parallel", time.perf_counter() - started)


# --- tests --------------------------------------------------------------------------------------


def test_the_runs_of_each_product_overlapped(deployment: Deployment, parallel: Outcome) -> None:
    """The parallel phase really ran both intervals at once on the LocalExecutor."""
    for product in PRODUCTS:
        a = spans(deployment, product, "parallel-a")
        b = spans(deployment, product, "parallel-b")
        assert a and b
        overlap = min(max(e for _, e in a), max(e for _, e in b)) - max(
            min(s for s, _ in a), min(s for s, _ in b)
        )
        assert overlap.total_seconds() > 0, f"{product}: the two runs did not overlap"


def test_parallel_lake_equals_serial_lake(serial: Outcome, parallel: Outcome) -> None:
    assert sorted(parallel.lake) == sorted(serial.lake)
    for name, expected in serial.lake.items():
        assert_same_rows(name, expected, parallel.lake[name])


def test_parallel_warehouse_equals_serial_warehouse(serial: Outcome, parallel: Outcome) -> None:
    assert sorted(parallel.tables) == sorted(serial.tables)
    for name, expected in serial.tables.items():
        assert expected, f"{name} is empty after the serial runs"
        assert_same_rows(name, expected, parallel.tables[name])


def test_lineage_has_every_run_of_every_task(serial: Outcome, parallel: Outcome) -> None:
    """Each task of each product completed once per interval, in lineage too."""
    assert parallel.completed == serial.completed
    tasks = {job: count for job, count in parallel.completed.items() if "." in job}
    assert tasks, "no task sent lineage"
    assert set(tasks.values()) == {len(INTERVALS)}, tasks


def test_each_run_reports_its_own_statistics(serial: Outcome, parallel: Outcome) -> None:
    """A run's statistics are its interval's, whatever ran beside it."""
    spark_steps = 0
    for key, expected in serial.stats.items():
        found = parallel.stats[key]
        label = key.split("/")[1]
        if not (isinstance(expected, dict) and "interval" in expected):
            # NOTE: quality checks observe whole outputs (every period in the lake), so what
            # they count depends on which other interval had landed; only the Spark steps'
            # statistics belong to the run's interval
            continue
        spark_steps += 1
        assert found["interval"] == expected["interval"] == INTERVALS[label], key
        found, expected = without_lake_wide(found), without_lake_wide(expected)
        assert found == expected, f"{key}: the parallel run reports other statistics"
    assert spark_steps == len(PRODUCTS) * len(INTERVALS)


def without_lake_wide(stats: dict[str, Any]) -> dict[str, Any]:
    """Statistics of the run's interval only.

    NOTE: ``products`` counts the whole products output after the run, which is rebuilt from
    every period in the lake: run A reports fewer when it ran before B (serially) than when B's
    lines were already there (in parallel). That is order, not clobbering.
    """
    return {
        k: v for k, v in stats.items() if not (stats.get("job") == "ingest" and k == "products")
    }
