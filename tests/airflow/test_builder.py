"""The DAGs built from the reference manifests: shape, docs, schedule, isolation of bad files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lodestar.airflow.environment import airflow_env
from lodestar.airflow.loader import build_dags
from lodestar.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "dag_shapes.json"

pytestmark = pytest.mark.airflow


def shapes(dags: dict[str, object]) -> dict[str, dict[str, list[str]]]:
    return {
        dag_id: {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}  # type: ignore[attr-defined]
        for dag_id, dag in sorted(dags.items())
    }


def test_reference_dags_match_their_golden_shape() -> None:
    dags = build_dags(str(REPO / "manifests"))
    if os.environ.get("LODESTAR_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(shapes(dags), indent=2, sort_keys=True) + "\n")
    assert shapes(dags) == json.loads(GOLDEN.read_text())


def test_product_dag_explains_itself_and_follows_the_manifest() -> None:
    dag = build_dags(str(REPO / "manifests"))["product-affinity"]
    assert "Cross-sell attach rate" in dag.doc_md
    assert "Help every shopper find the products that belong together" in dag.doc_md
    assert "Frequently bought together in the web shop" in dag.doc_md
    assert "domain:merchandising" in dag.tags and "use-case:fbt-recommendations" in dag.tags
    task = dag.get_task("affinity")
    assert task.retries == 2
    assert task.retry_delay.total_seconds() == 120
    assert task.execution_timeout.total_seconds() == 7200
    assert task.owner == "Merchandising analytics"
    assert task._conn_id == "spark_default"
    assert task.application.endswith("src/lodestar/jobs/affinity.py")


def test_downstream_product_is_scheduled_on_the_upstream_assets() -> None:
    dags = build_dags(str(REPO / "manifests"))
    upstream_outlets = {
        a.name for t in dags["retail-orders"].tasks for a in getattr(t, "outlets", [])
    }
    scheduled_on = {a.name for a in dags["product-affinity"].timetable.asset_condition.objects}
    assert scheduled_on == {
        "retail-orders.order_lines",
        "retail-orders.orders",
        "retail-orders.products",
    }
    assert scheduled_on <= upstream_outlets


def test_a_broken_manifest_leaves_the_others_and_shows_its_error(manifests_copy: Path) -> None:
    (manifests_copy / "broken.yaml").write_text(
        "apiVersion: lodestar/v1\nkind: DataProduct\nmetadata:\n  name: broken\n  visoin: x\n",
        encoding="utf-8",
    )
    dags = build_dags(str(manifests_copy))
    assert {"retail-orders", "product-affinity"} <= set(dags)
    error_dag = dags["lodestar_invalid_broken"]
    assert "broken.yaml:5" in error_dag.doc_md
    assert "did you mean" in error_dag.doc_md
    assert error_dag.description.startswith("invalid manifest broken.yaml")


def test_airflow_dags_list_shows_both_products_and_the_broken_file(
    manifests_copy: Path, tmp_path: Path
) -> None:
    (manifests_copy / "broken.yaml").write_text("apiVersion: lodestar/v1\nkind: [\n")
    settings = load_settings(home=tmp_path / "home", manifests_dir=manifests_copy)
    env = {**os.environ, **airflow_env(settings, REPO)}
    airflow = str(Path(os.sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    listed = subprocess.run(
        [airflow, "dags", "list", "--output", "json", "--local"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    payload = next(line for line in listed.stdout.splitlines() if line.startswith("[{"))
    rows = json.loads(payload)
    by_id = {row["dag_id"]: row for row in rows}
    assert {"retail-orders", "product-affinity", "lodestar_invalid_broken"} <= set(by_id)
