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

# NOTE: `airflow dags test` (Airflow 3.3) logs, for every attempt of a task, in this order:
# "[DAG TEST] starting task_id=T", "[DAG TEST] running task <TaskInstance: ... ti_id=I>",
# "Task instance state updated ... new_state=S ... ti_id=I" and "[DAG TEST] end task task_id=T".
# Each retry gets a new ti_id; the state line of a last failed attempt may come after the task's
# own failure callback but always before "end task".
_STARTING = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_RUNNING = re.compile(r"\[DAG TEST\] running task <TaskInstance: .* ti_id=([0-9a-fA-F-]+)>")
_STATE = re.compile(r"Task instance state updated\b.*\bnew_state=(\w+)")
_TI_ID = re.compile(r"\bti_id=([0-9a-fA-F-]+)")
_FINISHED = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")


@dataclass(frozen=True)
class TaskAttempt:
    """One attempt of a task that ended: its state as Airflow recorded it, and its number."""

    task_id: str
    state: str | None  # success, failed, up_for_retry, skipped...; None if no state line was seen
    attempt: int

    def describe(self, retries: int | None = None) -> str:
        """One line for people; ``retries``, the task's retry count, numbers a coming retry."""
        if self.state == "up_for_retry":
            of = f" of {retries}" if retries is not None else ""
            return (
                f"failed: {self.task_id} (attempt {self.attempt}; retry {self.attempt}{of} follows)"
            )
        if self.state is None:
            return f"ended, state not logged: {self.task_id} (attempt {self.attempt})"
        again = f" (attempt {self.attempt})" if self.attempt > 1 else ""
        return f"{self.state.replace('_', ' ')}: {self.task_id}{again}"


class AttemptReader:
    """Reads the output of `airflow dags test` line by line and tells each attempt that ended."""

    def __init__(self) -> None:
        self._attempts: dict[str, int] = {}
        self._current: str | None = None
        self._task_of: dict[str, str] = {}
        self._state: dict[str, str] = {}

    def feed(self, line: str) -> TaskAttempt | None:
        if (starting := _STARTING.search(line)) is not None:
            task = starting.group(1)
            self._attempts[task] = self._attempts.get(task, 0) + 1
            self._state.pop(task, None)
            self._current = task
        elif (running := _RUNNING.search(line)) is not None and self._current is not None:
            self._task_of[running.group(1)] = self._current
        elif (state := _STATE.search(line)) is not None:
            ti_id = _TI_ID.search(line)
            task = self._task_of.get(ti_id.group(1)) if ti_id is not None else None
            if task is not None:
                self._state[task] = state.group(1)
        elif (finished := _FINISHED.search(line)) is not None:
            task = finished.group(1)
            return TaskAttempt(task, self._state.pop(task, None), self._attempts.get(task, 1))
        return None


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
    progress: Callable[[TaskAttempt], None] | None = None,
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
        reader = AttemptReader()
        for line in proc.stdout:
            sink.write(line)
            ended = reader.feed(line)
            if ended is not None:
                log.info("%s: %s", dag_id, ended.describe())
                if progress is not None:
                    progress(ended)
        proc.wait()
    text = log_file.read_text(encoding="utf-8")
    succeeded = proc.returncode == 0 and "state=success" in text and "state=failed" not in text
    seconds = time.perf_counter() - started
    log.info("DAG %s %s in %.0f s", dag_id, "succeeded" if succeeded else "FAILED", seconds)
    return DagRunResult(dag_id, succeeded, seconds, log_file)
