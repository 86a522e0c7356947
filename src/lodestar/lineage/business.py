"""The business chain behind each dataset, read from the manifests, right to left.

A dataset's business facet must say the same thing in every event that carries it, whichever
product emits the event; so it is always built from the *producing* product's manifest, with
the other manifests of the folder used to trace use cases through consumers. An output without
declared use cases (retail-orders' order lines) is traced forward through the column
``derivedFrom`` links, inside its product and into every product that reads it, to the nearest
outputs that declare use cases; those use cases, their hypotheses' goals and the NSM are what
the dataset serves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lodestar.lineage.facets import (
    PRODUCER,
    BusinessDatasetFacet,
    GoalRef,
    HypothesisRef,
    MeasureRef,
    NorthStarRef,
    UseCaseRef,
)
from lodestar.manifest.model import DataProduct, Goal, Hypothesis, Output, UseCase
from lodestar.plan import ProductPlan

log = logging.getLogger(__name__)

Products = Mapping[str, DataProduct]


@lru_cache(maxsize=4)
def _load_folder(folder: str, stamp: float) -> dict[str, DataProduct]:
    from lodestar.manifest import load_folder

    catalog = load_folder(Path(folder))
    for error in catalog.errors:
        log.debug("manifest problem while tracing lineage: %s", error)
    return dict(catalog.products)


def _stamp(folder: Path) -> float:
    files = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")]
    return max((p.stat().st_mtime for p in files), default=0.0) + len(files)


def products_for(plan: ProductPlan) -> dict[str, DataProduct]:
    """Every product of the plan's manifests folder (cached by file times), plus the plan's."""
    folder = plan.settings.manifests_dir
    loaded: dict[str, DataProduct] = {}
    if folder.is_dir():
        loaded = _load_folder(str(folder), _stamp(folder))
    else:
        log.debug("manifests_dir %s is not a folder: tracing within %s only", folder, plan.name)
    return {**loaded, plan.name: plan.product}


def _source_of(reference: str) -> str:
    """``"order_lines.product_id"`` -> ``"order_lines"``."""
    return reference.split(".", 1)[0]


def reads(output: Output) -> list[str]:
    """The inputs or outputs an output's columns derive from, in first-seen order, not itself."""
    seen: dict[str, None] = {}
    for column in output.columns:
        for reference in column.derived_from:
            source = _source_of(reference)
            if source != output.name:
                seen.setdefault(source, None)
    return list(seen)


def _readers(products: Products, product: str, name: str) -> list[tuple[str, Output]]:
    """Outputs (of any product) that derive directly from ``name`` of ``product``."""
    found: list[tuple[str, Output]] = []
    own = products.get(product)
    if own is not None:
        found += [(product, o) for o in own.build.outputs if name in reads(o)]
    for other in products.values():
        for item in other.build.inputs:
            if item.product == product and item.output == name:
                found += [(other.name, o) for o in other.build.outputs if item.name in reads(o)]
    return found


@dataclass(frozen=True)
class Trace:
    """The use cases a dataset serves and the datasets through which they were traced."""

    use_cases: tuple[tuple[str, UseCase], ...]
    traced_through: tuple[str, ...]


def trace(products: Products, product: str, name: str) -> Trace:
    """Use cases served by ``name`` (an output, or an input of ``product``), right to left."""
    own = products.get(product)
    output = own.output(name) if own else None
    if own is not None and output is not None and output.use_cases:
        return Trace(tuple((product, uc) for uc in _use_cases(own, output.use_cases)), ())

    found: dict[tuple[str, str], UseCase] = {}
    through: list[str] = []
    pending = [(product, name)]
    visited = {(product, name)}
    while pending:
        current = pending.pop(0)
        for reader_product, reader in _readers(products, *current):
            key = (reader_product, reader.name)
            if key in visited:
                continue
            visited.add(key)
            if reader.use_cases:
                declaring = products[reader_product]
                for uc in _use_cases(declaring, reader.use_cases):
                    found.setdefault((reader_product, uc.id), uc)
                through.append(f"{reader_product}/{reader.name}")
            else:
                pending.append(key)
    ordered = sorted(found.items(), key=lambda kv: (kv[1].priority, kv[0]))
    return Trace(tuple((p, uc) for (p, _), uc in ordered), tuple(through))


def _use_cases(product: DataProduct, ids: Iterable[str]) -> list[UseCase]:
    by_id = {uc.id: uc for uc in product.business.use_cases}
    return [by_id[i] for i in ids if i in by_id]


def hypotheses_of(products: Products, found: Trace) -> list[tuple[str, Hypothesis]]:
    """The hypotheses the traced use cases apply, once each, by product then id order."""
    result: dict[tuple[str, str], Hypothesis] = {}
    for product, uc in found.use_cases:
        declared = {h.id: h for h in products[product].business.hypotheses}
        for hid in uc.hypotheses:
            if hid in declared:
                result.setdefault((product, hid), declared[hid])
    return [(p, h) for (p, _), h in result.items()]


def goals_of(
    products: Products, hypotheses: Iterable[tuple[str, Hypothesis]]
) -> list[tuple[str, Goal]]:
    result: dict[tuple[str, str], Goal] = {}
    for product, hypothesis in hypotheses:
        declared = {g.id: g for g in products[product].business.goals}
        if hypothesis.goal in declared:
            result.setdefault((product, hypothesis.goal), declared[hypothesis.goal])
    return [(p, g) for (p, _), g in result.items()]


def north_star(products: Products, product: str) -> NorthStarRef | None:
    """The NSM a product declares or refers to, resolved to its name when the folder has it."""
    own = products.get(product)
    if own is None:
        return None
    business = own.business
    if business.north_star is not None:
        nsm = business.north_star
        return NorthStarRef(id=nsm.id, product=product, name=nsm.name, measure=nsm.measure)
    ref = business.north_star_ref
    if ref is None:
        return None
    declaring = products.get(ref.product)
    declared = declaring.business.north_star if declaring else None
    if declared is not None and declared.id == ref.id:
        return NorthStarRef(
            id=ref.id, product=ref.product, name=declared.name, measure=declared.measure
        )
    return NorthStarRef(id=ref.id, product=ref.product)


def hypothesis_ref(product: str, h: Hypothesis) -> HypothesisRef:
    return HypothesisRef(
        id=h.id,
        product=product,
        statement=h.statement,
        initiative=h.initiative,
        goal=h.goal,
        measure=h.measure,
        expectedDirection=h.expected_direction.value,
    )


def goal_ref(product: str, g: Goal) -> GoalRef:
    return GoalRef(
        id=g.id,
        product=product,
        name=g.name,
        measure=g.measure,
        baseline=g.baseline,
        target=g.target,
        direction=g.direction.value,
    )


def business_facet(products: Products, product: str, name: str) -> BusinessDatasetFacet:
    """The business facet of an output of ``product``, or of one of its source inputs."""
    own = products[product]
    output = own.output(name)
    item = own.input(name)
    if output is None and item is None:
        raise KeyError(f"{product} has no output or input named {name!r}")

    found = trace(products, product, name)
    hypotheses = hypotheses_of(products, found)
    goals = {(p, g.id): g for p, g in goals_of(products, hypotheses)}
    measures = [m for m in own.business.measures if m.output == name]
    for goal in own.business.goals:
        if any(m.name == goal.measure for m in measures):
            goals.setdefault((product, goal.id), goal)

    return BusinessDatasetFacet(
        producer=PRODUCER,
        product=product,
        role=output.role if output is not None else "source",
        useCases=[
            UseCaseRef(id=uc.id, product=p, name=uc.name, priority=uc.priority)
            for p, uc in found.use_cases
        ],
        goals=[goal_ref(p, g) for (p, _), g in goals.items()],
        productVersion=own.metadata.version,
        domain=own.metadata.domain,
        output=output.name if output is not None else None,
        input=item.name if output is None and item is not None else None,
        format=output.format if output is not None else (item.format if item else None),
        description=output.description if output is not None else None,
        citation=item.citation if output is None and item is not None else None,
        tracedThrough=list(found.traced_through),
        traceabilityExempt=(
            output.traceability.exempt if output is not None and output.traceability else None
        ),
        northStar=north_star(products, product),
        measures=[MeasureRef(name=m.name, column=m.column, unit=m.unit) for m in measures],
    )


def upstream_facet(product: str, output: str) -> BusinessDatasetFacet:
    """What can be said of another product's output when its manifest is not in the folder."""
    log.debug("no manifest for %s in the folder: minimal business facet for %s", product, output)
    return BusinessDatasetFacet(
        producer=PRODUCER, product=product, role="intermediate", output=output
    )
