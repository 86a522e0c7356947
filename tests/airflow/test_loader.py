"""How the DAGs of a parse are put together: task order, task groups, the cycle collector."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from lodestar.airflow.dbt_tasks import select_models
from lodestar.airflow.loader import build_dags
from lodestar.manifest.model import DbtStep
from lodestar.settings import load_settings

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.airflow


def made_order(product_name: str) -> list[str]:
    """Task ids in the order the manifest's steps make them, from the manifest alone."""
    from lodestar.manifest import load_folder

    settings = load_settings(manifests_dir=REPO / "manifests")
    product = load_folder(REPO / "manifests").products[product_name]
    order = ["check_inputs"]
    for step in product.build.steps:
        if isinstance(step, DbtStep):
            models = select_models(settings.dbt_project_dir, step.select)
            order += [f"{step.name}.{m.name}" for m in models] + [f"{step.name}.tests"]
        else:
            order.append(step.name)
    return [*order, "publish_measures"]


@pytest.mark.parametrize("product", ["retail-orders", "product-affinity"])
def test_tasks_join_the_dag_and_its_root_group_in_the_order_they_are_made(product: str) -> None:
    dag = build_dags(str(REPO / "manifests"))[product]

    expected = made_order(product)
    assert list(dag.task_dict) == expected
    assert list(dag.task_group.children) == expected
    assert all(task.task_group is dag.task_group for task in dag.tasks)
    assert all(task.start_date == dag.start_date for task in dag.tasks)


@pytest.mark.parametrize("enabled", [True, False])
def test_building_leaves_the_cycle_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        build_dags(str(REPO / "manifests"))
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
