"""Checks across products: input and NSM references, dependency cycles, traceability."""

from __future__ import annotations

import logging
from pathlib import Path

from lodestar.manifest.checks.context import INPUTS, OUTPUTS, Checks
from lodestar.manifest.dataflow import find_cycles, product_graph, traced_outputs
from lodestar.manifest.diagnostics import suggestion
from lodestar.manifest.model import DataProduct
from lodestar.manifest.source import DataPath

log = logging.getLogger(__name__)


def _product(ctx: Checks, name: str, path: DataPath, other: str, who: str) -> DataProduct | None:
    """The product ``other`` names, or an error saying why it is not there."""
    found = ctx.products.get(other)
    if found is not None:
        return found
    broken = ctx.broken_names.get(other)
    if broken is not None:
        ctx.error(
            name,
            path,
            f"{who} product {other!r}, whose manifest {broken} is invalid",
            f"fix the errors reported for {broken} first",
            rule="dependency",
        )
        return None
    unnamed = sorted(str(p) for p, declared in ctx.broken.items() if declared is None)
    guessed = [p for p in unnamed if Path(p).stem == other]
    if guessed:
        ctx.error(
            name,
            path,
            f"{who} product {other!r}, whose manifest {guessed[0]} could not be read",
            f"fix the errors reported for {guessed[0]} first",
            rule="dependency",
        )
        return None
    hint = suggestion(other, ctx.products, "products")
    if unnamed:
        hint += f"; files that could not be read: {', '.join(unnamed)}"
    ctx.error(
        name,
        path,
        f"{who} product {other!r}, which no manifest declares",
        hint,
        rule="reference",
    )
    return None


def check_product_references(ctx: Checks, name: str) -> None:
    product = ctx.products[name]
    for i, item in enumerate(product.build.inputs):
        if item.product is None or item.output is None or item.product == name:
            continue  # NOTE: reading oneself is reported as a cycle
        path = (*INPUTS, i)
        upstream = _product(
            ctx, name, (*path, "product"), item.product, f"input {item.name!r} reads"
        )
        if upstream is None:
            continue
        source = upstream.output(item.output)
        if source is None:
            ctx.error(
                name,
                (*path, "output"),
                f"input {item.name!r} reads output {item.output!r} of {item.product!r}, "
                "which that product does not declare",
                suggestion(
                    item.output,
                    [o.name for o in upstream.build.outputs],
                    f"outputs of {item.product}",
                ),
                rule="reference",
            )
            continue
        for j, column in enumerate(item.columns):
            ctx.column(
                name,
                (*path, "columns", j, "name"),
                f"{item.product}.{item.output}",
                source.columns,
                column.name,
                f"input {item.name!r}",
            )

    ref = product.business.north_star_ref
    if ref is None:
        return
    path = ("business", "northStarRef")
    if ref.product == name:
        ctx.error(
            name,
            (*path, "product"),
            "northStarRef points at this product itself",
            "declare the metric under business.northStar instead",
            rule="reference",
        )
        return
    declaring = _product(ctx, name, (*path, "product"), ref.product, "northStarRef names")
    if declaring is None:
        return
    nsm = declaring.business.north_star
    if nsm is None or nsm.id != ref.id:
        declared = f"it declares {nsm.id!r}" if nsm else "it refers to another product's NSM"
        ctx.error(
            name,
            (*path, "id"),
            f"northStarRef names NSM {ref.id!r} of {ref.product!r}, but {declared}",
            "reference the NSM by the id under northStar in that product's manifest",
            rule="reference",
        )


def check_cycles(ctx: Checks) -> None:
    """Products reading each other's outputs in a cycle, reported in every member."""
    graph = product_graph(ctx.products)
    for cycle in find_cycles(graph):
        text = " -> ".join([*cycle, cycle[0]])
        message = f"products read each other's outputs in a cycle: {text}"
        if len(cycle) == 1:
            message = f"product {cycle[0]!r} reads its own output"
        for position, member in enumerate(cycle):
            target = cycle[(position + 1) % len(cycle)]
            inputs = ctx.products[member].build.inputs
            index = next(i for i, item in enumerate(inputs) if item.product == target)
            ctx.error(
                member,
                (*INPUTS, index, "product"),
                message,
                "a product may only read products upstream of it; remove one of these inputs",
                rule="cycle",
            )


def check_traceability(ctx: Checks) -> None:
    traced = traced_outputs(ctx.products)
    for name in sorted(ctx.products):
        product = ctx.products[name]
        served: set[str] = set()
        for i, output in enumerate(product.build.outputs):
            served.update(output.use_cases)
            path = (*OUTPUTS, i)
            if output.traceability is not None and output.use_cases:
                ctx.error(
                    name,
                    (*path, "traceability", "exempt"),
                    f"output {output.name!r} serves use cases and also declares an exemption",
                    "remove traceability.exempt: an output that serves a use case traces",
                    rule="traceability",
                )
            if (name, output.name) in traced or output.traceability is not None:
                continue
            if (name, output.name) in ctx.reads_of_broken:
                log.debug("%s.%s read by an invalid manifest: not traced", name, output.name)
                continue
            if ctx.unparsed:
                log.debug(
                    "%s.%s: not traced while %s cannot be parsed (it may read it)",
                    name,
                    output.name,
                    ", ".join(str(p) for p in ctx.unparsed),
                )
                continue
            ctx.error(
                name,
                (*path, "useCases"),
                f"output {output.name!r} serves no use case and no traced output is built "
                "from it, so nothing ties it to the North Star Metric",
                "list the use cases it serves under useCases, derive a traced output from "
                "it (derivedFrom), or declare traceability.exempt with the reason",
                rule="traceability",
            )
        for i, case in enumerate(product.business.use_cases):
            if case.id not in served:
                ctx.error(
                    name,
                    ("business", "useCases", i, "id"),
                    f"use case {case.id!r} is served by no output",
                    "add its id to useCases of the outputs that serve it, or remove it",
                    rule="traceability",
                )
