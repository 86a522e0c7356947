"""One Airflow api-server per session for the UI tests, with the state a run leaves behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ui_data
from airflow_server import AirflowServer, ServerError, start_server

from lodestar.settings import load_settings


def _dbt_manifest() -> None:
    """The product DAG's dbt tasks come from dbt's compiled manifest: make it when missing."""
    from lodestar.airflow.dbt_tasks import manifest_path

    settings = load_settings()
    if not manifest_path(settings.dbt_project_dir).exists():
        from lodestar.dbt import compile_project

        compile_project(settings)


def _seed_runs(server: AirflowServer) -> None:
    """A successful product-affinity run and a retail-orders run whose ingest failed.

    NOTE: marking a task success clears its failed downstream tasks, which fails in Airflow
    3.3.2 for DAGs with a queued-at deadline (apache/airflow#70368): successes go first.
    """
    server.trigger("product-affinity", ui_data.AFFINITY_RUN, ui_data.LOGICAL_DATE)
    for task in server.task_ids("product-affinity", ui_data.AFFINITY_RUN):
        server.set_task_state("product-affinity", ui_data.AFFINITY_RUN, task, "success")
    server.set_run_state("product-affinity", ui_data.AFFINITY_RUN, "success")

    server.trigger("retail-orders", ui_data.ORDERS_RUN, ui_data.LOGICAL_DATE)
    server.set_task_state("retail-orders", ui_data.ORDERS_RUN, "check_inputs", "success")
    server.set_task_state("retail-orders", ui_data.ORDERS_RUN, "ingest", "failed")
    server.set_run_state("retail-orders", ui_data.ORDERS_RUN, "failed")


@pytest.fixture(scope="session")
def airflow_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    root = tmp_path_factory.mktemp("airflow-ui")
    _dbt_manifest()
    manifests = ui_data.write_manifests(root / "manifests")
    try:
        server = start_server(root, manifests, {"LODESTAR_MARQUEZ_WEB_URL": ui_data.MARQUEZ_WEB})
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        _seed_runs(server)
        ui_data.write_measures(server.lodestar_home)
        ui_data.write_statuses(server.warehouse)
        yield server
    finally:
        server.stop()
