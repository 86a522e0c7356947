"""Run product DAGs through the project-local Airflow (`airflow dags test`), for demo and tests.

The Airflow CLI runs in a child process with the environment of :mod:`environment`, so the DAGs
are parsed and executed exactly as a scheduler would, with the real operators and listeners.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lodestar.airflow.builder import DUCKDB_POOL
from lodestar.airflow.environment import airflow_env
from lodestar.errors import LodestarError
from lodestar.settings import Settings

log = logging.getLogger(__name__)

_FINISHED = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    succeeded: bool
    seconds: float
    log_file: Path


def airflow_executable() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _airflow(settings: Settings, repo_root: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, **airflow_env(settings, repo_root)}
    return [airflow_executable()], env


def prepare_airflow(settings: Settings, repo_root: Path) -> None:
    """Create the Airflow home and database, and the pool that serialises DuckDB writers."""
    command, env = _airflow(settings, repo_root)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    log.info("initialising Airflow in %s (SQLite)", settings.airflow_home)
    for args in (
        ["db", "migrate"],
        ["pools", "set", DUCKDB_POOL, "1", "one writer at a time for the DuckDB warehouse"],
    ):
        proc = subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise LodestarError(
                f"`airflow {' '.join(args)}` failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
            )


def run_dag(
    settings: Settings,
    repo_root: Path,
    dag_id: str,
    logical_date: str,
    conf: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DagRunResult:
    """``airflow dags test`` one DAG; its full log goes to ``<home>/logs/<dag>.log``."""
    command, env = _airflow(settings, repo_root)
    log_file = settings.home / "logs" / f"{dag_id}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    args = [*command, "dags", "test", dag_id, logical_date]
    if conf:
        args += ["--conf", json.dumps(conf)]
    log.info("running DAG %s through Airflow (log: %s)", dag_id, log_file)
    started = time.perf_counter()
    with log_file.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            finished = _FINISHED.search(line)
            if finished:
                log.info("%s: task %s finished", dag_id, finished.group(1))
                if progress is not None:
                    progress(finished.group(1))
        proc.wait()
    text = log_file.read_text(encoding="utf-8")
    succeeded = proc.returncode == 0 and "state=success" in text and "state=failed" not in text
    seconds = time.perf_counter() - started
    log.info("DAG %s %s in %.0f s", dag_id, "succeeded" if succeeded else "FAILED", seconds)
    return DagRunResult(dag_id, succeeded, seconds, log_file)
