"""One Airflow DAG per data product manifest, built cheaply at parse time.

The DAG reads: check inputs -> Spark steps -> dbt models (one task each, with their tests) ->
quality checks -> publish measures and NSM. Products that read other products' outputs are
scheduled on those outputs as Airflow Assets.
"""

from __future__ import annotations

import logging
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


def _schedule(plan: ProductPlan, catalog: Catalog) -> Any:
    schedule = plan.product.build.schedule
    if schedule.cron:
        return schedule.cron
    if schedule.on_inputs:
        upstream = sorted({i.upstream for i in plan.inputs.values() if i.upstream})
        plans: dict[str, ProductPlan] = {}
        assets = []
        for product, output in upstream:
            if product not in plans:
                plans[product] = plan_product(
                    catalog.products[product], catalog.products, plan.settings
                )
            assets.append(output_asset(plans[product].outputs[output]))
        return assets or None
    return None


def _tags(product: DataProduct) -> list[str]:
    tags = [f"domain:{product.metadata.domain}", product.metadata.type.value]
    tags += [f"use-case:{u.id}" for u in product.business.use_cases]
    return tags + list(product.metadata.tags)


def build_dag(product: DataProduct, catalog: Catalog, settings: Settings) -> DAG:
    """The DAG of one valid product."""
    plan = plan_product(product, catalog.products, settings)
    build = product.build
    source = str(catalog.sources.get(product.name, "?"))
    manifests_dir = str(settings.manifests_dir)
    dag = DAG(
        dag_id=product.name,
        description=product.metadata.purpose[:200],
        doc_md=render_doc_md(product, north_star_of(product, catalog), source),
        schedule=_schedule(plan, catalog),
        start_date=datetime.combine(build.schedule.start_date, datetime.min.time()),
        catchup=build.schedule.catchup,
        default_args=_default_args(product),
        tags=_tags(product),
        max_active_runs=2,
    )
    common: dict[str, Any] = {"product": product.name, "manifests_dir": manifests_dir, "dag": dag}
    previous: list[BaseOperator] = [InputCheckOperator(task_id="check_inputs", **common)]
    for step in build.steps:
        current: list[BaseOperator]
        if isinstance(step, SparkStep):
            outlets = [
                output_asset(o) for o in plan.outputs.values() if o.output.produced_by == step.name
            ]
            current = [
                LodestarSparkSubmitOperator(
                    task_id=step.name, step=step, outlets=outlets, conn_id="spark_default", **common
                )
            ]
        elif isinstance(step, DbtStep):
            previous = _dbt_tasks(plan, step, common, previous) or previous
            continue
        else:
            assert isinstance(step, QualityStep)
            current = [QualityCheckOperator(task_id=step.name, step=step, **common)]
        for upstream in previous:
            upstream >> current
        previous = current
    # NOTE: the SLA is checked by the last task rather than with an Airflow DeadlineAlert: in
    # Airflow 3.3.2 a deadline breaks `dags test` at run end and clearing tasks in the UI
    # (apache/airflow#70368).
    publish = PublishMeasuresOperator(task_id="publish_measures", sla=build.sla, **common)
    for upstream in previous:
        upstream >> publish
    log.debug("built DAG %s with %d tasks", dag.dag_id, len(dag.task_dict))
    return dag


def _dbt_tasks(
    plan: ProductPlan, step: DbtStep, common: dict[str, Any], previous: list[BaseOperator]
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
        for parent in parents or previous:
            parent >> tasks[model.unique_id]
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
    for leaf in leaves:
        leaf >> tests
    return [tests]


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
