"""Events outside Airflow: the CLI demo path turns step lineage into run events and emits them.

Inside Airflow the provider builds the events (job ``<dag>.<task>``, its own run ids and a parent
facet pointing at the DAG run); here we build the same shape ourselves: one product run (job
``<product>``) and, under it, one run per task with START and COMPLETE (or FAIL). Run ids are
UUIDv7 derived from the job name, the logical date and the try number, so re-emitting a run
gives the same ids, and the spool's event keys recognise repeats.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attr
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import JobFacet, RunFacet, job_type_job, parent_run
from openlineage.client.uuid import generate_static_uuid

from lodestar.lineage.facets import DATA_PRODUCT, PRODUCER, DataProductJobFacet
from lodestar.lineage.names import check_job, job_name
from lodestar.lineage.steps import (
    StepLineage,
    input_check_lineage,
    measures_lineage,
    model_lineage,
    quality_lineage,
    step_lineage,
)
from lodestar.lineage.transport import SpoolingConfig, SpoolingTransport
from lodestar.manifest.model import DbtStep, QualityStep
from lodestar.plan import ProductPlan
from lodestar.settings import Settings

log = logging.getLogger(__name__)


def run_id(namespace: str, job: str, logical_date: datetime, attempt: int = 1) -> str:
    """Deterministic run id of one try of a job for one logical date."""
    return str(generate_static_uuid(logical_date, f"{namespace}:{job}:{attempt}".encode()))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _job_type(job_type: str) -> dict[str, JobFacet]:
    return {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="LODESTAR", jobType=job_type, producer=PRODUCER
        )
    }


@dataclass(frozen=True)
class ProductRun:
    """Identity of one run of a product outside Airflow."""

    namespace: str
    product: str
    logical_date: datetime
    attempt: int = 1

    @property
    def run_id(self) -> str:
        return run_id(self.namespace, self.product, self.logical_date, self.attempt)

    def parent_facet(self) -> dict[str, RunFacet]:
        return {
            "parent": parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.run_id),
                job=parent_run.Job(namespace=self.namespace, name=self.product),
                root=parent_run.Root(
                    run=parent_run.RootRun(runId=self.run_id),
                    job=parent_run.RootJob(namespace=self.namespace, name=self.product),
                ),
                producer=PRODUCER,
            )
        }


def step_events(
    run: ProductRun,
    lineage: StepLineage,
    *,
    start: StepLineage | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    failed: bool = False,
) -> list[RunEvent]:
    """START and COMPLETE (or FAIL) of one task, as a child of the product run."""
    name = job_name(run.product, lineage.task)
    check_job(run.namespace, name)
    task_run = run_id(run.namespace, name, run.logical_date, run.attempt)
    begun = started_at or datetime.now(UTC)
    first = start or lineage
    facets = {**first.run_facets, **run.parent_facet()}
    job_facets = {**first.job_facets, **_job_type("TASK")}
    events = [
        RunEvent(
            eventType=RunState.START,
            eventTime=_iso(begun),
            run=Run(runId=task_run, facets=facets),
            job=Job(namespace=run.namespace, name=name, facets=job_facets),
            inputs=first.inputs,
            outputs=first.outputs,
            producer=PRODUCER,
        )
    ]
    events.append(
        RunEvent(
            eventType=RunState.FAIL if failed else RunState.COMPLETE,
            eventTime=_iso(ended_at or max(begun, datetime.now(UTC))),
            run=Run(runId=task_run, facets={**lineage.run_facets, **run.parent_facet()}),
            job=Job(
                namespace=run.namespace,
                name=name,
                facets={**lineage.job_facets, **_job_type("TASK")},
            ),
            inputs=lineage.inputs,
            outputs=lineage.outputs,
            producer=PRODUCER,
        )
    )
    return events


def product_events(
    plan: ProductPlan,
    lineages: Sequence[StepLineage],
    *,
    logical_date: datetime | None = None,
    attempt: int = 1,
) -> list[RunEvent]:
    """A whole product run: its START, every task's START and COMPLETE, its COMPLETE."""
    moment = logical_date or datetime.now(UTC)
    run = ProductRun(plan.settings.lineage_namespace, plan.name, moment, attempt)
    check_job(run.namespace, plan.name)
    parent_facets: dict[str, JobFacet] = {}
    if lineages:
        product = lineages[0].job_facets.get(DATA_PRODUCT)
        if isinstance(product, DataProductJobFacet):
            parent_facets[DATA_PRODUCT] = attr.evolve(product, step=None)
        if "ownership" in lineages[0].job_facets:
            parent_facets["ownership"] = lineages[0].job_facets["ownership"]
    parent_job = Job(
        namespace=run.namespace, name=plan.name, facets={**parent_facets, **_job_type("DAG")}
    )
    now = datetime.now(UTC)
    events = [
        RunEvent(
            eventType=RunState.START,
            eventTime=_iso(now),
            run=Run(runId=run.run_id),
            job=parent_job,
            producer=PRODUCER,
        )
    ]
    for lineage in lineages:
        events += step_events(run, lineage)
    events.append(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=_iso(datetime.now(UTC)),
            run=Run(runId=run.run_id),
            job=parent_job,
            producer=PRODUCER,
        )
    )
    return events


def emit_events(events: Iterable[RunEvent], settings: Settings) -> dict[str, int]:
    """Send events through the spooling transport of ``settings``; return its counts."""
    transport = SpoolingTransport(SpoolingConfig.from_settings(settings), settings)
    for event in events:
        transport.emit(event)
    transport.close()
    return dict(transport.counts)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable run statistics %s: %s", path, exc)
        return None


def run_lineage(plan: ProductPlan, published: Mapping[str, Any] | None = None) -> list[StepLineage]:
    """Every task of a product's DAG with what its last run recorded.

    Spark statistics and quality results are read from ``plan.stats_path(step)`` when present;
    measure values come from ``published`` (what the measure step returned).
    """
    found = [input_check_lineage(plan)]
    for step in plan.product.build.steps:
        recorded = _read_json(plan.stats_path(step.name))
        if isinstance(step, DbtStep):
            models = [o.name for o in plan.product.build.outputs if o.produced_by == step.name]
            found += [model_lineage(plan, m) for m in models]
        elif isinstance(step, QualityStep):
            found.append(quality_lineage(plan, step.name, recorded))
        else:
            stats = recorded if isinstance(recorded, Mapping) else None
            found.append(step_lineage(plan, step.name, stats=stats))
    found.append(measures_lineage(plan, published))
    return found
