"""Lineage of one step of a product's plan: pure functions, no Airflow, no Spark.

The Airflow layer calls these from its operators' ``get_openlineage_facets_on_start`` /
``_on_complete`` and wraps the result in the provider's ``OperatorLineage``; the demo path
outside Airflow turns them into events with :mod:`lodestar.lineage.emit`. Task names follow the
DAG builder: ``check_inputs``, the step name for Spark and quality steps, ``<step>.<model>``
for a dbt model and ``publish_measures``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    JobFacet,
    RunFacet,
    data_quality_assertions_dataset,
    documentation_job,
    ownership_job,
)

from lodestar import naming
from lodestar.lineage.business import (
    Products,
    hypotheses_of,
    hypothesis_ref,
    north_star,
    products_for,
    reads,
    trace,
)
from lodestar.lineage.datasets import input_dataset, output_dataset, output_stats
from lodestar.lineage.facets import (
    DATA_PRODUCT,
    PRODUCER,
    QUARANTINE,
    RUN,
    BusinessRunFacet,
    DataProductJobFacet,
    Period,
    Person,
    QuarantineOutputDatasetFacet,
    StepRef,
)
from lodestar.lineage.names import LineageError
from lodestar.lineage.values import measures_inputs
from lodestar.manifest.model import DbtStep, IngestParams, QualityStep, SparkStep
from lodestar.plan import ProductPlan

log = logging.getLogger(__name__)

INPUT_CHECK_TASK = "check_inputs"
PUBLISH_TASK = "publish_measures"

Interval = tuple[str, str]


@dataclass(frozen=True)
class StepLineage:
    """Inputs, outputs and facets of one task; ``task`` is its Airflow task id."""

    task: str
    step: StepRef
    inputs: list[InputDataset] = field(default_factory=list)
    outputs: list[OutputDataset] = field(default_factory=list)
    job_facets: dict[str, JobFacet] = field(default_factory=dict)
    run_facets: dict[str, RunFacet] = field(default_factory=dict)


def _job_facets(plan: ProductPlan, products: Products, step: StepRef) -> dict[str, JobFacet]:
    meta = plan.product.metadata
    facet = DataProductJobFacet(
        producer=PRODUCER,
        name=meta.name,
        version=meta.version,
        domain=meta.domain,
        type=meta.type.value,
        vision=plan.product.business.vision,
        owners=[Person(name=o.name, email=o.email, role=o.role) for o in meta.owners],
        title=meta.title,
        purpose=meta.purpose,
        tags=list(meta.tags),
        northStar=north_star(products, plan.name),
        step=step,
    )
    what = f"{step.type} step {step.name}" + (f", model {step.model}" if step.model else "")
    return {
        DATA_PRODUCT: facet,
        "documentation": documentation_job.DocumentationJobFacet(
            description=f"{meta.title or meta.name} ({what}): {meta.purpose}",
            contentType="text/plain",
            producer=PRODUCER,
        ),
        "ownership": ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=o.name, type=o.role) for o in meta.owners],
            producer=PRODUCER,
        ),
    }


def _run_facets(
    plan: ProductPlan,
    products: Products,
    step: StepRef,
    served: Iterable[str],
    interval: Interval | None,
) -> dict[str, RunFacet]:
    hypotheses: dict[tuple[str, str], Any] = {}
    for name in served:
        for product, h in hypotheses_of(products, trace(products, plan.name, name)):
            hypotheses.setdefault((product, h.id), hypothesis_ref(product, h))
    period = _period(plan, interval)
    facet = BusinessRunFacet(
        producer=PRODUCER,
        product=plan.name,
        step=step,
        hypotheses=list(hypotheses.values()),
        productVersion=plan.product.metadata.version,
        period=period,
        northStar=north_star(products, plan.name),
    )
    return {RUN: facet}


def _period(plan: ProductPlan, interval: Interval | None) -> Period | None:
    business = plan.product.business
    granularity = (
        business.north_star.frequency.value
        if business.north_star
        else next((g.period.value for g in business.goals), None)
    )
    if granularity is None and interval is None:
        return None
    start, end = interval if interval else (None, None)
    return Period(granularity=granularity or "monthly", start=start, end=end)


def _interval(interval: Interval | None, stats: Mapping[str, Any] | None) -> Interval | None:
    if interval is not None:
        return interval
    found = (stats or {}).get("interval")
    if isinstance(found, Mapping) and found.get("start") and found.get("end"):
        return str(found["start"]), str(found["end"])
    return None


def _assemble(
    plan: ProductPlan,
    products: Products,
    task: str,
    step: StepRef,
    inputs: list[InputDataset],
    outputs: list[OutputDataset],
    served: Iterable[str],
    interval: Interval | None,
) -> StepLineage:
    return StepLineage(
        task=task,
        step=step,
        inputs=inputs,
        outputs=outputs,
        job_facets=_job_facets(plan, products, step),
        run_facets=_run_facets(plan, products, step, served, interval),
    )


# --- input checks ---------------------------------------------------------------------------


def input_check_lineage(plan: ProductPlan, *, interval: Interval | None = None) -> StepLineage:
    """The input check reads every input of the product (presence and freshness)."""
    products = products_for(plan)
    step = StepRef(name=INPUT_CHECK_TASK, type="input-check")
    inputs = [input_dataset(plan, products, name) for name in plan.inputs]
    return _assemble(plan, products, INPUT_CHECK_TASK, step, inputs, [], plan.inputs, interval)


# --- spark steps ----------------------------------------------------------------------------


def step_lineage(
    plan: ProductPlan,
    step_name: str,
    *,
    stats: Mapping[str, Any] | None = None,
    interval: Interval | None = None,
) -> StepLineage:
    """Lineage of a Spark step (and, for convenience, of a dbt or quality step as a whole).

    ``stats`` is what the job wrote to ``plan.stats_path(step)``: it gives each output's row
    count (``outputStatistics``) and the quarantine's reason counts; without it (a START event)
    the datasets carry no statistics.
    """
    step = plan.product.step(step_name)
    if step is None:
        known = ", ".join(s.name for s in plan.product.build.steps)
        raise LineageError(f"{plan.name} has no step {step_name!r} (steps: {known})")
    if isinstance(step, DbtStep):
        return _dbt_step_lineage(plan, step, interval)
    if isinstance(step, QualityStep):
        return quality_lineage(plan, step_name, stats, interval=interval)

    products = products_for(plan)
    interval = _interval(interval, stats)
    produced = [o.name for o in plan.product.build.outputs if o.produced_by == step.name]
    read = _spark_reads(plan, step, produced)
    inputs = [input_dataset(plan, products, name) for name in read]
    outputs = []
    for name in produced:
        out_facets = {}
        if plan.outputs[name].output.role == "quarantine" and stats:
            quarantine = quarantine_facet(stats, step)
            if quarantine is not None:
                out_facets[QUARANTINE] = quarantine
        outputs.append(output_dataset(plan, products, name, output_stats(stats, name), out_facets))
    ref = StepRef(name=step.name, type="spark", job=step.job)
    return _assemble(plan, products, step.name, ref, inputs, outputs, produced, interval)


def _spark_reads(plan: ProductPlan, step: SparkStep, produced: Sequence[str]) -> list[str]:
    """Inputs a Spark step reads: the ones its params name, then any its outputs derive from."""
    params = step.params
    named = [params.source] if isinstance(params, IngestParams) else [params.order_lines]
    derived = [n for o in produced for n in reads(plan.outputs[o].output) if n in plan.inputs]
    return list(dict.fromkeys([*named, *derived]))


_SOURCE_KEYS = ("rows_in", "source_rows", "input_rows", "rows_read")
_KEPT_KEYS = ("rows_kept", "kept_rows", "kept")
_REASON_PATHS = (("reasons",), ("quarantine", "reasons"), ("rejected", "reasons"))


def quarantine_facet(
    stats: Mapping[str, Any], step: SparkStep | None = None
) -> QuarantineOutputDatasetFacet | None:
    """Reason counts of the quarantine from an ingest job's stats.

    Accepted: ``reasons`` (or ``quarantine.reasons`` / ``rejected.reasons``) as
    ``{code: count}``, with ``rows_in`` and ``rows_kept`` (or ``source_rows`` / ``kept_rows``).
    """
    reasons: Mapping[str, Any] | None = None
    for path in _REASON_PATHS:
        node: Any = stats
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            reasons = node
            break
    if reasons is None:
        return None
    counts = {str(k): int(v) for k, v in reasons.items() if isinstance(v, int | float)}
    source = next((int(stats[k]) for k in _SOURCE_KEYS if isinstance(stats.get(k), int)), None)
    kept = next((int(stats[k]) for k in _KEPT_KEYS if isinstance(stats.get(k), int)), None)
    rejected = sum(counts.values())
    limit = stats.get("max_rejected_share")
    if not isinstance(limit, int | float) and step and isinstance(step.params, IngestParams):
        limit = step.params.rules.max_rejected_share
    return QuarantineOutputDatasetFacet(
        producer=PRODUCER,
        reasons=counts,
        sourceRows=source,
        keptRows=kept,
        rejectedRows=rejected,
        rejectedShare=(rejected / source) if source else None,
        maxRejectedShare=float(limit) if isinstance(limit, int | float) else None,
    )


# --- dbt ------------------------------------------------------------------------------------


def _dbt_manifest_reads(plan: ProductPlan, model: str) -> list[str] | None:
    """What a model reads according to the compiled dbt manifest, when one was compiled."""
    path = plan.settings.dbt_project_dir / "target" / "manifest.json"
    if not path.is_file():
        log.debug("no compiled dbt manifest (settings dbt_project_dir): reads from derivedFrom")
        return None
    nodes = json.loads(path.read_text(encoding="utf-8")).get("nodes", {})
    node = next(
        (n for n in nodes.values() if n.get("resource_type") == "model" and n["name"] == model),
        None,
    )
    if node is None:
        return None
    return list(node.get("depends_on", {}).get("nodes", []))


def _local_name(plan: ProductPlan, dependency: str) -> str | None:
    """A dbt dependency (``source.p.retail_orders.orders``, ``model.p.x``, ``orders``) -> name."""
    parts = dependency.split(".")
    if parts[0] == "model" and len(parts) >= 3:
        return parts[-1] if parts[-1] in plan.outputs else None
    if parts[0] == "source" and len(parts) >= 4:
        source, table = parts[-2], parts[-1]
        if source == naming.dbt_source_name(plan.name) and table in plan.outputs:
            return table
        for name, item in plan.inputs.items():
            upstream = item.upstream
            if upstream and (naming.dbt_source_name(upstream[0]), upstream[1]) == (source, table):
                return name
        return None
    if len(parts) == 2:  # "<source>.<table>"
        return _local_name(plan, f"source.x.{parts[0]}.{parts[1]}")
    return dependency if dependency in plan.outputs or dependency in plan.inputs else None


def model_lineage(
    plan: ProductPlan,
    model: str,
    *,
    depends_on: Iterable[str] | None = None,
    interval: Interval | None = None,
) -> StepLineage:
    """Lineage of one dbt model: the table it builds and what it reads.

    What it reads comes from ``depends_on`` (dbt unique ids or plan names) when given, else from
    the compiled dbt manifest when one exists, else from the columns' ``derivedFrom``. A source
    read from the lake is the same dataset as the Parquet output that Spark wrote.
    """
    output = plan.outputs.get(model)
    if output is None or output.output.format != "table":
        tables = sorted(n for n, o in plan.outputs.items() if o.output.format == "table")
        raise LineageError(
            f"{plan.name}: {model!r} is not a table output built by dbt (tables: {tables})"
        )
    products = products_for(plan)
    dependencies = list(depends_on) if depends_on is not None else _dbt_manifest_reads(plan, model)
    if dependencies is None:
        read = reads(output.output)
    else:
        resolved = [_local_name(plan, d) for d in dependencies]
        read = list(dict.fromkeys(n for n in resolved if n and n != model))
    inputs = [input_dataset(plan, products, name) for name in read]
    outputs = [output_dataset(plan, products, model)]
    step_name = output.output.produced_by
    ref = StepRef(name=step_name, type="dbt", model=model)
    return _assemble(
        plan, products, f"{step_name}.{model}", ref, inputs, outputs, [model], interval
    )


def _dbt_step_lineage(plan: ProductPlan, step: DbtStep, interval: Interval | None) -> StepLineage:
    """All the models of a dbt step as one job (for callers without one task per model)."""
    models = [o.name for o in plan.product.build.outputs if o.produced_by == step.name]
    parts = [model_lineage(plan, m, interval=interval) for m in models]
    built = {(o.namespace, o.name) for part in parts for o in part.outputs}
    products = products_for(plan)
    inputs: dict[tuple[str, str], InputDataset] = {}
    for part in parts:
        for item in part.inputs:
            if (item.namespace, item.name) not in built:
                inputs.setdefault((item.namespace, item.name), item)
    outputs = [o for part in parts for o in part.outputs]
    ref = StepRef(name=step.name, type="dbt")
    return _assemble(
        plan, products, step.name, ref, list(inputs.values()), outputs, models, interval
    )


def model_tests_lineage(
    plan: ProductPlan,
    step_name: str,
    models: Sequence[str],
    task: str,
    *,
    interval: Interval | None = None,
) -> StepLineage:
    """The tests of a dbt step that span its models: they read every table the step built and
    write nothing; the job is the step's, not any one model's."""
    products = products_for(plan)
    tables = [
        InputDataset(namespace=o.namespace, name=o.name, facets=o.facets)
        for model in models
        for o in model_lineage(plan, model, interval=interval).outputs
    ]
    ref = StepRef(name=step_name, type="dbt")
    return _assemble(plan, products, task, ref, tables, [], models, interval)


# --- quality checks -------------------------------------------------------------------------


def _results_list(results: Any) -> list[Mapping[str, Any]]:
    if results is None:
        return []
    if isinstance(results, Mapping):
        results = results.get("results", results.get("checks", []))
    return [r for r in results if isinstance(r, Mapping)]


def quality_lineage(
    plan: ProductPlan,
    step_name: str,
    results: Any = None,
    *,
    interval: Interval | None = None,
) -> StepLineage:
    """Lineage of a quality step: the checked outputs, each with its assertions' results.

    ``results`` is the list the quality step writes (or ``{"results": [...]}``): one entry per
    check with ``name``, ``output``, ``success`` and optionally ``assertion``, ``column``,
    ``severity``, ``expected``, ``observed``. Without results (a START event) the checked
    datasets carry no assertions.
    """
    step = plan.product.step(step_name)
    if not isinstance(step, QualityStep):
        raise LineageError(f"{plan.name}: {step_name!r} is not a quality step")
    products = products_for(plan)
    declared = {c.name: c for c in step.checks}
    by_output: dict[str, list[data_quality_assertions_dataset.Assertion]] = {}
    for result in _results_list(results):
        check = declared.get(str(result.get("name")))
        output = str(result.get("output") or (check.output if check else ""))
        if output not in plan.outputs or "success" not in result:
            log.debug("quality result %s not tied to an output of %s: skipped", result, plan.name)
            continue
        by_output.setdefault(output, []).append(_assertion(result, check))
    checked = list(dict.fromkeys(c.output for c in step.checks))
    inputs = []
    for name in checked:
        facets = {}
        if name in by_output:
            facets["dataQualityAssertions"] = (
                data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
                    assertions=by_output[name], producer=PRODUCER
                )
            )
        inputs.append(input_dataset(plan, products, name, input_facets=facets))
    ref = StepRef(name=step.name, type="quality")
    return _assemble(plan, products, step.name, ref, inputs, [], checked, interval)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _assertion(result: Mapping[str, Any], check: Any) -> data_quality_assertions_dataset.Assertion:
    expected = result.get("expected")
    if expected is None and check is not None and (check.min is not None or check.max is not None):
        expected = {k: v for k, v in (("min", check.min), ("max", check.max)) if v is not None}
    return data_quality_assertions_dataset.Assertion(
        assertion=str(result.get("assertion") or (check.assertion if check else "custom")),
        success=bool(result["success"]),
        column=result.get("column") or (check.column if check else None),
        severity=result.get("severity") or (check.severity if check else None),
        name=str(result.get("name")) if result.get("name") else None,
        expected=_text(expected),
        actual=_text(result.get("observed", result.get("actual"))),
    )


# --- measures and the NSM -------------------------------------------------------------------


def measures_lineage(
    plan: ProductPlan,
    published: Mapping[str, Any] | None = None,
    *,
    interval: Interval | None = None,
) -> StepLineage:
    """Lineage of the publication of the NSM and goal measures: values, targets and gaps.

    The measure datasets (the outputs the manifest's measures name) are the inputs; each gets
    ``lodestar_measures`` (per period: value, target, gap, on track) and the standard
    ``dataQualityMetrics`` input facet, from ``published`` (see
    :func:`lodestar.lineage.values.measure_series` for the accepted shapes).
    """
    products = products_for(plan)
    inputs = measures_inputs(plan, products, published)
    served = [i for i in dict.fromkeys(m.output for m in plan.product.business.measures)]
    ref = StepRef(name=PUBLISH_TASK, type="measures")
    return _assemble(plan, products, PUBLISH_TASK, ref, inputs, [], served, interval)


def plan_lineage(plan: ProductPlan) -> list[StepLineage]:
    """Every task of the product's DAG, in order, without run statistics (for ``show``)."""
    found = [input_check_lineage(plan)]
    for step in plan.product.build.steps:
        if isinstance(step, DbtStep):
            models = [o.name for o in plan.product.build.outputs if o.produced_by == step.name]
            found += [model_lineage(plan, m) for m in models]
            if models:
                found.append(model_tests_lineage(plan, step.name, models, f"{step.name}.tests"))
        else:
            found.append(step_lineage(plan, step.name))
    found.append(measures_lineage(plan))
    return found
