"""The environment of the embedded Airflow: project-local home on SQLite, Spark local[*].

Everything Airflow needs to find Lodestar's DAGs, plugin, Spark connection and lineage transport
is set here as ``AIRFLOW__*`` / ``AIRFLOW_CONN_*`` variables, so ``lodestar demo``, the tests and a
person starting ``airflow standalone`` see the same Airflow. Values already set in the
environment win, which is how a cluster deployment points the same code elsewhere.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from lodestar.lineage.transport import airflow_transport
from lodestar.settings import ENVIRONMENT, Settings


def airflow_env(settings: Settings, repo_root: Path) -> dict[str, str]:
    """Environment variables for Airflow commands run on this project."""
    home = settings.airflow_home
    spark_master = settings.spark_master
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo_root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo_root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": settings.lineage_namespace,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(airflow_transport(settings)),
        "AIRFLOW__OPENLINEAGE__DISABLED": str(settings.lineage_disabled),
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO": "True",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": spark_master}),
    }
    env = {key: os.environ.get(key, value) for key, value in defaults.items()}
    # NOTE: spark-submit, dbt and airflow are console scripts of this interpreter's environment
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        env["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    for field, variable in ENVIRONMENT.items():
        value = getattr(settings, field)
        if value is not None and variable not in env:
            env[variable] = str(value)
    return env
