"""One Airflow DAG per data product manifest, built cheaply at parse time.

The DAG reads: check inputs -> Spark steps -> dbt models (one task each, with their tests) ->
quality checks -> publish measures and NSM. Products that read other products' outputs are
scheduled on those outputs as Airflow Assets.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lodestar.airflow.callbacks import on_task_failure
from lodestar.airflow.compat import DAG, Asset, BaseOperator
from lodestar.airflow.dbt_tasks import select_models
from lodestar.airflow.docs import render_doc_md, render_error_doc
from lodestar.airflow.operators import (
    DbtModelOperator,
    DbtTestsOperator,
    InputCheckOperator,
    LodestarSparkSubmitOperator,
    PublishMeasuresOperator,
    QualityCheckOperator,
)
from lodestar.manifest import Catalog
from lodestar.manifest.model import DataProduct, DbtStep, NorthStarMetric, QualityStep, SparkStep
from lodestar.manifest.model import parse_duration as duration
from lodestar.plan import OutputPlan, ProductPlan, plan_product
from lodestar.settings import Settings

log = logging.getLogger(__name__)

#: one dbt task at a time for the embedded targets: the DuckDB file has a single writer, and
#: dbt-spark's session target opens a local metastore that only one process may hold
DUCKDB_POOL = "lodestar_duckdb"
SERIAL_TARGETS = ("duckdb", "spark")


def output_asset(output: OutputPlan) -> Asset:
    """The Airflow Asset of a product output: its lineage URI, named product.output."""
    return Asset(name=f"{output.product}.{output.name}", uri=output.dataset.uri, group="lodestar")


def north_star_of(product: DataProduct, catalog: Catalog) -> NorthStarMetric | None:
    business = product.business
    if business.north_star is not None:
        return business.north_star
    ref = business.north_star_ref
    declaring = catalog.products.get(ref.product) if ref else None
    return declaring.business.north_star if declaring else None


def _default_args(product: DataProduct) -> dict[str, Any]:
    build = product.build
    return {
        "owner": ", ".join(p.name for p in product.metadata.owners),
        "retries": build.retries.count,
        "retry_delay": duration(build.retries.delay),
        "retry_exponential_backoff": 2.0 if build.retries.exponential_backoff else 0,
        "max_retry_delay": duration(build.retries.max_delay),
        "execution_timeout": duration(build.timeout),
        "on_failure_callback": on_task_failure,
    }


def _schedule(plan: ProductPlan, upstream_plans: UpstreamPlans) -> Any:
    schedule = plan.product.build.schedule
    if schedule.cron:
        return schedule.cron
    if schedule.on_inputs:
        upstream = sorted({i.upstream for i in plan.inputs.values() if i.upstream})
        return [upstream_plans.asset(product, output) for product, output in upstream] or None
    return None


class UpstreamPlans:
    """The plans of the products other DAGs are scheduled on, and their output Assets, made
    once per parse however many products read them."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings
        self._plans: dict[str, ProductPlan] = {}
        self._assets: dict[tuple[str, str], Asset] = {}

    def asset(self, product: str, output: str) -> Asset:
        key = (product, output)
        if key not in self._assets:
            if product not in self._plans:
                self._plans[product] = plan_product(
                    self.catalog.products[product], self.catalog.products, self.settings
                )
            self._assets[key] = output_asset(self._plans[product].outputs[output])
        return self._assets[key]


def _tags(product: DataProduct) -> list[str]:
    tags = [f"domain:{product.metadata.domain}", product.metadata.type.value]
    tags += [f"use-case:{u.id}" for u in product.business.use_cases]
    return tags + list(product.metadata.tags)


class _TaskGraph:
    """A DAG's tasks in the order they were made, with their upstream tasks, until attached.

    NOTE: on every edge, Airflow 3.3 hashes the DAG once per end that is already in a DAG (to
    check that both ends share one), and the hash of a DAG scheduled on Assets dumps each Asset
    to JSON: an edge between two attached tasks cost more than making a task. A task not yet
    in the DAG is not hashed, so each task joins the DAG through its own edges to the tasks
    made before it (at 200 manifests, 2,988 hashes instead of 5,180). Tasks join in the order
    they were made, as they would inside the DAG, so the serialized DAG is unchanged.
    """

    def __init__(self) -> None:
        self.tasks: list[BaseOperator] = []
        self.upstream: dict[str, list[BaseOperator]] = {}

    def add(self, task: BaseOperator, upstream: Iterable[BaseOperator] = ()) -> BaseOperator:
        self.tasks.append(task)
        self.upstream[task.task_id] = list(upstream)
        return task

    def attach(self, dag: DAG) -> None:
        downstream: dict[str, list[BaseOperator]] = defaultdict(list)
        for task in self.tasks:
            for parent in self.upstream[task.task_id]:
                downstream[parent.task_id].append(task)

        joined = dag.task_dict
        for task in self.tasks:
            # the neighbours made before this task are in the DAG, those made after are not
            upstream_before = [p for p in self.upstream[task.task_id] if p.task_id in joined]
            downstream_before = [c for c in downstream[task.task_id] if c.task_id in joined]
            if upstream_before:
                task.set_upstream(upstream_before)
            if downstream_before:
                task.set_downstream(downstream_before)
            if task.task_id not in joined:
                dag.add_task(task)


def build_dag(
    product: DataProduct,
    catalog: Catalog,
    settings: Settings,
    upstream_plans: UpstreamPlans | None = None,
) -> DAG:
    """The DAG of one valid product; ``upstream_plans`` is shared by the DAGs of one parse."""
    plan = plan_product(product, catalog.products, settings)
    build = product.build
    source = str(catalog.sources.get(product.name, "?"))
    dag = DAG(
        dag_id=product.name,
        description=product.metadata.purpose[:200],
        doc_md=render_doc_md(product, north_star_of(product, catalog), source),
        schedule=_schedule(plan, upstream_plans or UpstreamPlans(catalog, settings)),
        start_date=datetime.combine(build.schedule.start_date, datetime.min.time()),
        catchup=build.schedule.catchup,
        default_args=_default_args(product),
        tags=_tags(product),
        max_active_runs=2,
    )
    # NOTE: the tasks are made outside the DAG (see _TaskGraph), with what the DAG would give
    # them: its default arguments and its root task group; the DAG has no params to give
    common: dict[str, Any] = {
        "product": product.name,
        "manifests_dir": str(settings.manifests_dir),
        "default_args": dag.default_args,
        "task_group": dag.task_group,
    }
    graph = _TaskGraph()
    previous = [graph.add(InputCheckOperator(task_id="check_inputs", **common))]
    for step in build.steps:
        task: BaseOperator
        if isinstance(step, SparkStep):
            outlets = [
                output_asset(o) for o in plan.outputs.values() if o.output.produced_by == step.name
            ]
            task = LodestarSparkSubmitOperator(
                task_id=step.name, step=step, outlets=outlets, conn_id="spark_default", **common
            )
        elif isinstance(step, DbtStep):
            previous = _dbt_tasks(plan, step, common, previous, graph) or previous
            continue
        else:
            assert isinstance(step, QualityStep)
            task = QualityCheckOperator(task_id=step.name, step=step, **common)
        previous = [graph.add(task, previous)]
    # NOTE: the SLA is checked by the last task rather than with an Airflow DeadlineAlert: in
    # Airflow 3.3.2 a deadline breaks `dags test` at run end and clearing tasks in the UI
    # (apache/airflow#70368).
    graph.add(
        PublishMeasuresOperator(task_id="publish_measures", sla=build.sla, **common), previous
    )
    graph.attach(dag)
    log.debug("built DAG %s with %d tasks", dag.dag_id, len(dag.task_dict))
    return dag


def _dbt_tasks(
    plan: ProductPlan,
    step: DbtStep,
    common: dict[str, Any],
    previous: list[BaseOperator],
    graph: _TaskGraph,
) -> list[BaseOperator]:
    """One task per selected model (dbt build: the model and its own tests), wired as dbt
    orders them, then one task for the tests that span models. Returns that last task."""
    models = select_models(plan.settings.dbt_project_dir, step.select)
    pool = DUCKDB_POOL if plan.settings.dbt_target in SERIAL_TARGETS else "default_pool"
    tasks: dict[str, BaseOperator] = {}
    for model in models:
        output = plan.outputs.get(model.name)
        tasks[model.unique_id] = DbtModelOperator(
            task_id=f"{step.name}.{model.name}",
            step=step,
            model=model.name,
            outlets=[output_asset(output)] if output else [],
            pool=pool,
            **common,
        )
    has_children: set[str] = set()
    for model in models:
        parents = [tasks[d] for d in model.depends_on if d in tasks]
        has_children.update(d for d in model.depends_on if d in tasks)
        graph.add(tasks[model.unique_id], parents or previous)
    leaves = [task for uid, task in tasks.items() if uid not in has_children]
    if not tasks:
        return []
    tests = DbtTestsOperator(
        task_id=f"{step.name}.tests",
        step=step,
        models=[m.name for m in models if m.name in plan.outputs],
        pool=pool,
        **common,
    )
    return [graph.add(tests, leaves)]


def build_error_dag(source: Path, errors: list[str]) -> DAG:
    """A paused placeholder that shows a broken manifest's errors in Airflow."""
    from airflow.providers.standard.operators.python import PythonOperator

    dag_id = "lodestar_invalid_" + "".join(c if c.isalnum() else "_" for c in source.stem)
    dag = DAG(
        dag_id=dag_id,
        description=(
            f"invalid manifest {source.name}: {len(errors)} error(s), run `lodestar validate`; "
            f"first: {errors[0]}"
        )[:200],
        doc_md=render_error_doc(str(source), errors),
        schedule=None,
        start_date=datetime(2024, 1, 1),
        tags=["lodestar-invalid"],
        is_paused_upon_creation=True,
    )
    PythonOperator(
        task_id="report_manifest_errors",
        python_callable=_raise_errors,
        op_kwargs={"errors": errors},
        dag=dag,
    )
    return dag


def _raise_errors(errors: list[str]) -> None:
    from lodestar.errors import ManifestError

    raise ManifestError("; ".join(errors), rule="invalid-manifest")


__all__ = ["build_dag", "build_error_dag", "output_asset", "timedelta"]
