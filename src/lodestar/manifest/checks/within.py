"""Checks within one product: unique names, and references that resolve inside its manifest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic.alias_generators import to_camel

from lodestar.manifest import dataflow
from lodestar.manifest.checks.context import INPUTS, OUTPUTS, STEPS, Checks
from lodestar.manifest.dataflow import declared_columns, split_ref, step_inputs
from lodestar.manifest.diagnostics import suggestion
from lodestar.manifest.model import (
    Dimension,
    IngestParams,
    Input,
    Measure,
    Output,
    QualityStep,
    SparkStep,
)
from lodestar.manifest.source import DataPath


def check_unique_ids(ctx: Checks, name: str) -> None:
    product = ctx.products[name]
    business, build = product.business, product.build
    chain: list[tuple[Sequence[str], DataPath, str, str]] = [
        ([g.id for g in business.goals], ("business", "goals"), "id", "goal id"),
        ([i.id for i in business.initiatives], ("business", "initiatives"), "id", "initiative id"),
        ([h.id for h in business.hypotheses], ("business", "hypotheses"), "id", "hypothesis id"),
        ([u.id for u in business.use_cases], ("business", "useCases"), "id", "use case id"),
        ([m.name for m in business.measures], ("business", "measures"), "name", "measure"),
        (
            [d.name for d in business.dimensions],
            ("business", "dimensions"),
            "name",
            "dimension",
        ),
        ([s.name for s in build.steps], STEPS, "name", "step"),
        ([o.name for o in build.outputs], OUTPUTS, "name", "output"),
    ]
    for keys, path, attr, what in chain:
        ctx.unique(name, keys, path, attr, what)
    ctx.unique(name, [i.name for i in build.inputs], INPUTS, "name", "input")

    outputs = ctx.names[name].outputs
    for i, item in enumerate(build.inputs):
        if item.name in outputs:
            ctx.error(
                name,
                (*INPUTS, i, "name"),
                f"input {item.name!r} has the name of an output of this product",
                "derivedFrom names inputs and outputs alike; rename the input",
                rule="unique-id",
            )
    for kind, containers in dataflow.containers(product):
        for i, container in enumerate(containers):
            columns = [c.name for c in container.columns]
            path = ("build", kind, i, "columns")
            ctx.unique(name, columns, path, "name", f"column of {container.name}")
    seen: set[str] = set()
    for i, step in enumerate(build.steps):
        if not isinstance(step, QualityStep):
            continue
        for j, check in enumerate(step.checks):
            if check.name in seen:
                ctx.error(
                    name,
                    (*STEPS, i, "checks", j, "name"),
                    f"quality check {check.name!r} is declared twice",
                    "check names are unique within a product; rename one",
                    rule="unique-id",
                )
            seen.add(check.name)


def check_chain_references(ctx: Checks, name: str) -> None:
    business = ctx.products[name].business
    names = ctx.names[name]
    for i, hyp in enumerate(business.hypotheses):
        path = ("business", "hypotheses", i)
        ctx.ref(
            name,
            (*path, "goal"),
            hyp.goal,
            names.goals,
            f"hypothesis {hyp.id!r} names goal {hyp.goal!r}, which is not declared",
            "business.goals",
        )
        ctx.ref(
            name,
            (*path, "initiative"),
            hyp.initiative,
            names.initiatives,
            f"hypothesis {hyp.id!r} names initiative {hyp.initiative!r}, which is not declared",
            "business.initiatives",
        )
        ctx.ref(
            name,
            (*path, "measure"),
            hyp.measure,
            names.measures,
            f"hypothesis {hyp.id!r} expects measure {hyp.measure!r} to move, which is not declared",
            "business.measures",
        )
    for i, case in enumerate(business.use_cases):
        for j, hyp_id in enumerate(case.hypotheses):
            ctx.ref(
                name,
                ("business", "useCases", i, "hypotheses", j),
                hyp_id,
                names.hypotheses,
                f"use case {case.id!r} applies hypothesis {hyp_id!r}, which is not declared",
                "business.hypotheses",
            )


def check_measures(ctx: Checks, name: str) -> None:
    product = ctx.products[name]
    business = product.business
    names = ctx.names[name]
    hint_declare = "declared under business.measures"
    if business.north_star is not None:
        nsm = business.north_star
        ctx.ref(
            name,
            ("business", "northStar", "measure"),
            nsm.measure,
            names.measures,
            f"the North Star Metric {nsm.id!r} is measure {nsm.measure!r}, "
            "which no measure declares",
            hint_declare,
            rule="measure",
        )
    for i, goal in enumerate(business.goals):
        ctx.ref(
            name,
            ("business", "goals", i, "measure"),
            goal.measure,
            names.measures,
            f"goal {goal.id!r} is tracked by measure {goal.measure!r}, which no measure declares",
            hint_declare,
            rule="measure",
        )
    produced: list[tuple[str, Sequence[Measure | Dimension], str]] = [
        ("measures", business.measures, "measure"),
        ("dimensions", business.dimensions, "reference"),
    ]
    for kind, items, rule in produced:
        for i, item in enumerate(items):
            path = ("business", kind, i)
            what = kind[:-1]
            if not ctx.ref(
                name,
                (*path, "output"),
                item.output,
                names.outputs,
                f"{what} {item.name!r} is produced by output {item.output!r}, "
                "which is not declared",
                "build.outputs",
                rule=rule,
            ):
                continue
            output = product.build.outputs[names.outputs[item.output]]
            ctx.column(
                name,
                (*path, "column"),
                output.name,
                output.columns,
                item.column,
                f"{what} {item.name!r}",
                rule=rule,
            )


def check_build_references(ctx: Checks, name: str) -> None:
    product = ctx.products[name]
    build = product.build
    names = ctx.names[name]
    for i, output in enumerate(build.outputs):
        path = (*OUTPUTS, i)
        for j, case in enumerate(output.use_cases):
            ctx.ref(
                name,
                (*path, "useCases", j),
                case,
                names.use_cases,
                f"output {output.name!r} serves use case {case!r}, which is not declared",
                "business.useCases",
            )
        if ctx.ref(
            name,
            (*path, "producedBy"),
            output.produced_by,
            names.steps,
            f"output {output.name!r} is produced by step {output.produced_by!r}, "
            "which is not declared",
            "build.steps",
        ):
            step = build.steps[names.steps[output.produced_by]]
            if isinstance(step, QualityStep):
                ctx.error(
                    name,
                    (*path, "producedBy"),
                    f"output {output.name!r} is produced by {step.name!r}, a quality step, "
                    "which writes no output",
                    "name the spark or dbt step that writes it",
                    rule="reference",
                )

    for i, step in enumerate(build.steps):
        path = (*STEPS, i)
        for key, input_name in step_inputs(step):
            if ctx.ref(
                name,
                (*path, "params", key),
                input_name,
                names.inputs,
                f"step {step.name!r} reads input {input_name!r}, which is not declared",
                "build.inputs",
            ) and isinstance(step, SparkStep):
                _source_columns(ctx, name, step, path)
        if isinstance(step, QualityStep):
            for j, check in enumerate(step.checks):
                check_path = (*path, "checks", j)
                if not ctx.ref(
                    name,
                    (*check_path, "output"),
                    check.output,
                    names.outputs,
                    f"quality check {check.name!r} checks output {check.output!r}, "
                    "which is not declared",
                    "build.outputs",
                ):
                    continue
                if check.column is not None:
                    output = build.outputs[names.outputs[check.output]]
                    ctx.column(
                        name,
                        (*check_path, "column"),
                        output.name,
                        output.columns,
                        check.column,
                        f"quality check {check.name!r}",
                    )

    schedule = build.schedule
    if schedule.on_inputs and not any(i.product for i in build.inputs):
        ctx.error(
            name,
            ("build", "schedule", "onInputs"),
            "onInputs is set but the product reads no other product's output",
            "give a cron instead, or read an input by product and output",
            rule="reference",
        )


def _source_columns(ctx: Checks, name: str, step: SparkStep, path: DataPath) -> None:
    """The ingest job's column mapping names columns the source input declares."""
    params = step.params
    if not isinstance(params, IngestParams) or params.columns is None:
        return
    source = ctx.products[name].input(params.source)
    if source is None:
        return
    for key, column in params.columns.model_dump().items():
        if column is not None:
            ctx.column(
                name,
                (*path, "params", "columns", to_camel(key)),
                source.name,
                source.columns,
                column,
                f"step {step.name!r}",
            )


def check_column_references(ctx: Checks, name: str) -> None:
    """Each derivedFrom entry names an input or output and one of its declared columns."""
    product = ctx.products[name]
    build = product.build
    by_name: dict[str, Input | Output] = {i.name: i for i in build.inputs}
    by_name.update({o.name: o for o in build.outputs})
    for kind, items in dataflow.containers(product):
        for i, item in enumerate(items):
            for j, column in enumerate(item.columns):
                for k, ref in enumerate(column.derived_from):
                    path = ("build", kind, i, "columns", j, "derivedFrom", k)
                    _derived(ctx, name, path, item.name, column.name, ref, by_name)


def _derived(
    ctx: Checks,
    name: str,
    path: DataPath,
    owner: str,
    column: str,
    ref: str,
    containers: Mapping[str, Input | Output],
) -> None:
    parts = split_ref(ref)
    if parts is None:
        ctx.error(
            name,
            path,
            f"{ref!r} is not '<input or output>.<column>'",
            "write the input or output name, a dot and the column, e.g. order_lines.order_id",
            rule="reference",
        )
        return
    container, source_column = parts
    found = containers.get(container)
    if found is None:
        ctx.error(
            name,
            path,
            f"column {owner}.{column} is derived from {ref!r}, but {container!r} is "
            "neither an input nor an output of this product",
            suggestion(container, containers, "inputs and outputs"),
            rule="reference",
        )
        return
    known = declared_columns(found.columns)
    if known is not None and source_column not in known:
        ctx.error(
            name,
            path,
            f"column {owner}.{column} is derived from {ref!r}, but {container!r} declares "
            f"no column {source_column!r}",
            suggestion(source_column, known, f"columns of {container}"),
            rule="reference",
        )
