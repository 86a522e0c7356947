"""Run and task states of the product DAGs, read from Airflow's metadata database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from lodestar.airflow.ui.links import Links
from lodestar.airflow.ui.models import RunSummary, TaskState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: run states during which a run may be writing its outputs
ACTIVE_STATES = ("queued", "running")


def latest_runs(session: Session, dag_ids: Iterable[str], links: Links) -> dict[str, RunSummary]:
    """The most recent run of each DAG (by when it was due), by DAG id."""
    from airflow.models.dagrun import DagRun

    ids = sorted(set(dag_ids))
    if not ids:
        return {}
    newest = (
        select(DagRun.dag_id, func.max(DagRun.run_after).label("run_after"))
        .where(DagRun.dag_id.in_(ids))
        .group_by(DagRun.dag_id)
        .subquery()
    )
    rows = session.scalars(
        select(DagRun)
        .join(
            newest,
            (DagRun.dag_id == newest.c.dag_id) & (DagRun.run_after == newest.c.run_after),
        )
        .order_by(DagRun.id)
    ).all()
    runs: dict[str, RunSummary] = {}
    for run in rows:  # NOTE: ties on run_after: the later-created run wins
        runs[run.dag_id] = RunSummary(
            run_id=run.run_id,
            state=run.state,
            run_type=str(run.run_type),
            logical_date=run.logical_date,
            run_after=run.run_after,
            start_date=run.start_date,
            end_date=run.end_date,
            url=links.run(run.dag_id, run.run_id),
        )
    return runs


def any_active(session: Session, dag_ids: Iterable[str]) -> bool:
    """Whether a run of any of these DAGs is queued or running."""
    from airflow.models.dagrun import DagRun

    ids = sorted(set(dag_ids))
    if not ids:
        return False
    found = session.scalar(
        select(DagRun.id).where(DagRun.dag_id.in_(ids), DagRun.state.in_(ACTIVE_STATES)).limit(1)
    )
    return found is not None


def run_tasks(session: Session, dag_id: str, run_id: str, links: Links) -> list[TaskState]:
    """The task instances of one run, in the order they started (unstarted ones last)."""
    from airflow.models.taskinstance import TaskInstance

    rows = session.scalars(
        select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
    ).all()
    rows = sorted(
        rows,
        key=lambda ti: (ti.start_date is None, ti.start_date or 0, ti.task_id, ti.map_index),
    )
    return [
        TaskState(
            task_id=ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]",
            state=ti.state,
            try_number=ti.try_number,
            start_date=ti.start_date,
            end_date=ti.end_date,
            duration=ti.duration,
            url=links.task(dag_id, run_id, ti.task_id),
        )
        for ti in rows
    ]
