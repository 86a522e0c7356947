"""Reading `airflow dags test` output: which attempt of which task ended, in which state.

The logs under ``logs/`` are the task lines of real runs through Airflow 3.3 (the full logs run
to megabytes): one with the input file missing, so ``check_inputs`` fails, is retried twice and
fails; one where every task succeeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lodestar.airflow.runner import AttemptReader, TaskAttempt

pytestmark = pytest.mark.unit

LOGS = Path(__file__).parent / "logs"


def read(name: str) -> list[TaskAttempt]:
    reader = AttemptReader()
    lines = (LOGS / name).read_text(encoding="utf-8").splitlines(keepends=True)
    return [ended for ended in map(reader.feed, lines) if ended is not None]


def test_a_retried_failure_is_told_attempt_by_attempt() -> None:
    assert read("retail-orders-missing-input.log") == [
        TaskAttempt("check_inputs", "up_for_retry", 1),
        TaskAttempt("check_inputs", "up_for_retry", 2),
        TaskAttempt("check_inputs", "failed", 3),
    ]


def test_a_successful_run_tells_each_task_once() -> None:
    assert read("retail-orders-success.log") == [
        TaskAttempt(task, "success", 1)
        for task in ("check_inputs", "ingest", "checks", "publish_measures")
    ]


def test_a_state_line_of_another_task_instance_is_not_taken() -> None:
    reader = AttemptReader()
    lines = [
        "[DAG TEST] starting task_id=ingest map_index=-1",
        "[DAG TEST] running task <TaskInstance: p.ingest run [SCHEDULED] ti_id=0a-1>",
        "Task instance state updated    new_state=success rows_affected=1 ti_id=0a-2",
        "[DAG TEST] end task task_id=ingest map_index=-1",
    ]

    assert [reader.feed(line) for line in lines] == [
        None,
        None,
        None,
        TaskAttempt("ingest", None, 1),
    ]


@pytest.mark.parametrize(
    ("attempt", "retries", "line"),
    [
        (
            TaskAttempt("check_inputs", "up_for_retry", 1),
            2,
            "failed: check_inputs (attempt 1; retry 1 of 2 follows)",
        ),
        (
            TaskAttempt("check_inputs", "up_for_retry", 1),
            None,
            "failed: check_inputs (attempt 1; retry 1 follows)",
        ),
        (TaskAttempt("check_inputs", "failed", 3), 2, "failed: check_inputs (attempt 3)"),
        (TaskAttempt("affinity", "success", 2), 2, "success: affinity (attempt 2)"),
        (TaskAttempt("models.tests", "upstream_failed", 1), 2, "upstream failed: models.tests"),
    ],
)
def test_describe(attempt: TaskAttempt, retries: int | None, line: str) -> None:
    assert attempt.describe(retries) == line
