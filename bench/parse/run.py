"""Parse-time benchmark: Lodestar's DAG loader against dag-factory and astronomer-cosmos.

For 2, 50 and 200 manifests (retail-orders, product-affinity, then copies of it), each side
gets a fresh folder and a fresh interpreter; each measurement is Airflow's own ``DagBag`` load
of the folder (Airflow's imports are warmed first and not counted). The dag-factory side builds
the same DAG ids with the same tasks and edges from YAML, with EmptyOperator tasks; the Cosmos
side builds the same DAGs with EmptyOperator tasks around a Cosmos DbtTaskGroup rendered from
the same precompiled dbt manifest. Median of three runs, with peak RSS. ``make bench-parse``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SIZES = tuple(int(n) for n in sys.argv[1:]) or (2, 50, 200)
REPEATS = 3

MEASURE = r"""
import json, resource, sys, time
from airflow.dag_processing.dagbag import DagBag
import airflow.providers.apache.spark.operators.spark_submit  # warm provider imports
import airflow.providers.standard.operators.empty
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
heavy = sorted(m for m in ("pyspark", "dbt", "cosmos") if m in sys.modules)
print(json.dumps({"seconds": elapsed, "dags": len(bag.dags), "errors": len(bag.import_errors),
                  "tasks": sum(len(d.task_dict) for d in bag.dags.values()),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "heavy_imports": heavy}))
"""


def lodestar_folder(base: Path, size: int) -> tuple[Path, dict[str, str]]:
    manifests = base / "manifests"
    manifests.mkdir(parents=True)
    (manifests / "retail-orders.yaml").write_text(
        (ROOT / "manifests" / "retail-orders.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    template = (ROOT / "manifests" / "product-affinity.yaml").read_text(encoding="utf-8")
    (manifests / "product-affinity.yaml").write_text(template, encoding="utf-8")
    for i in range(1, size - 1):
        text = template.replace("name: product-affinity", f"name: product-affinity-{i:03d}")
        (manifests / f"product-affinity-{i:03d}.yaml").write_text(text, encoding="utf-8")
    dags = base / "dags"
    dags.mkdir()
    (dags / "lodestar_dags.py").write_text(
        (ROOT / "dags" / "lodestar_dags.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return dags, {"LODESTAR_MANIFESTS": str(manifests)}


def dag_factory_folder(base: Path, shapes: dict[str, dict[str, list[str]]]) -> Path:
    dags = base / "dags"
    dags.mkdir(parents=True)
    for dag_id, edges in shapes.items():
        tasks = {
            task_id: {
                "operator": "airflow.providers.standard.operators.empty.EmptyOperator",
                **({"dependencies": upstream} if upstream else {}),
            }
            for task_id, upstream in edges.items()
        }
        config = {
            dag_id: {
                "default_args": {"owner": "bench", "start_date": "2024-01-01", "retries": 2},
                "schedule": None,
                "catchup": False,
                "description": "equivalent of a Lodestar product DAG",
                "tasks": tasks,
            }
        }
        (dags / f"{dag_id}.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (dags / "load_yaml.py").write_text(
        "# airflow DAG loader for dag-factory YAML\n"
        "from dagfactory import load_yaml_dags\n\n"
        "load_yaml_dags(globals_dict=globals(), dags_folder=__file__.rsplit('/', 1)[0])\n",
        encoding="utf-8",
    )
    return dags


COSMOS_DAGS = r"""
# airflow DAG file: the same DAGs with astronomer-cosmos rendering the dbt models
import json
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig
from cosmos import RenderConfig

PROJECT = PROJECT_DIR
SHAPES = json.loads((Path(__file__).parent / "shapes.json").read_text())
for dag_id, edges in SHAPES.items():
    with DAG(dag_id, schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
        nodes = {t: EmptyOperator(task_id=t) for t in edges if not t.startswith("models.")}
        if any(t.startswith("models.") for t in edges):
            nodes["models"] = DbtTaskGroup(
                group_id="models",
                project_config=ProjectConfig(
                    manifest_path=PROJECT + "/target/manifest.json", project_name="lodestar"
                ),
                profile_config=ProfileConfig(
                    profile_name="lodestar", target_name="duckdb",
                    profiles_yml_filepath=PROJECT + "/profiles.yml",
                ),
                render_config=RenderConfig(
                    load_method=LoadMode.DBT_MANIFEST, select=["tag:product_affinity"]
                ),
                execution_config=ExecutionConfig(dbt_project_path=PROJECT),
            )
        seen = set()
        for task, upstream in edges.items():
            for up in upstream:
                a = "models" if up.startswith("models.") else up
                b = "models" if task.startswith("models.") else task
                if a != b and (a, b) not in seen:
                    seen.add((a, b))
                    nodes[a] >> nodes[b]
    globals()[dag_id] = dag
"""


def cosmos_folder(base: Path, shapes: dict[str, dict[str, list[str]]]) -> Path:
    dags = base / "dags"
    dags.mkdir(parents=True)
    (dags / "shapes.json").write_text(json.dumps(shapes), encoding="utf-8")
    code = COSMOS_DAGS.replace("PROJECT_DIR", repr(str(ROOT / "dbt_project")))
    (dags / "cosmos_dags.py").write_text(code, encoding="utf-8")
    return dags


def lodestar_shapes(env: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """Task ids and upstream ids of the Lodestar DAGs, to rebuild them with dag-factory."""
    code = (
        "import json\nfrom lodestar.airflow.loader import build_dags\n"
        "print(json.dumps({d: {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}"
        " for d, dag in build_dags().items()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    shapes: dict[str, dict[str, list[str]]] = json.loads(out.stdout.strip().splitlines()[-1])
    return shapes


def measure(folder: Path, env: dict[str, str], home: Path) -> dict[str, float]:
    runs = []
    for _ in range(REPEATS):
        full_env = {
            **os.environ,
            **env,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        }
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(folder)],
            env=full_env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"DagBag load of {folder} failed:\n{out.stderr[-3000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = dict(runs[0])
    best["seconds"] = statistics.median(r["seconds"] for r in runs)
    best["rss_mb"] = max(r["rss_mb"] for r in runs)
    return best


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="lodestar-bench-parse-") as tmp:
        for size in SIZES:
            base = Path(tmp) / f"n{size}"
            ours_dags, env = lodestar_folder(base / "lodestar", size)
            ours = measure(ours_dags, env, base / "home-a")
            shapes = lodestar_shapes(env)
            theirs = measure(dag_factory_folder(base / "dagfactory", shapes), {}, base / "home-b")
            cosmos = measure(cosmos_folder(base / "cosmos", shapes), {}, base / "home-c")
            rows.append((size, ours, theirs, cosmos))
            print(
                f"measured {size} manifests: {json.dumps([ours, theirs, cosmos])}", file=sys.stderr
            )
    header = (
        f"{'manifests':>9} {'DAGs':>5} {'tasks':>6} {'lodestar s':>11} {'dag-factory s':>14}"
        f" {'ratio':>6} {'cosmos s':>9} {'ratio':>6} {'lodestar MB':>12} {'dag-factory MB':>15}"
        f" {'cosmos MB':>10}  heavy imports (lodestar)"
    )
    print(header)
    for size, ours, theirs, cosmos in rows:
        ratio = ours["seconds"] / theirs["seconds"] if theirs["seconds"] else float("nan")
        ratio_c = ours["seconds"] / cosmos["seconds"] if cosmos["seconds"] else float("nan")
        print(
            f"{size:>9} {ours['dags']:>5} {ours['tasks']:>6} {ours['seconds']:>11.3f} "
            f"{theirs['seconds']:>14.3f} {ratio:>6.2f} {cosmos['seconds']:>9.3f} "
            f"{ratio_c:>6.2f} {ours['rss_mb']:>12.0f} {theirs['rss_mb']:>15.0f} "
            f"{cosmos['rss_mb']:>10.0f}  {','.join(ours['heavy_imports']) or 'none'}"
        )
        for side in (theirs, cosmos):
            if ours["errors"] or side["errors"] or ours["dags"] != side["dags"]:
                print(f"  WARNING: import errors or DAG count differ: {ours} {side}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
