"""Checks within and across the manifests of a folder.

The model validates each file on its own; these checks need the whole folder:

- ``unique-id``: ids and names are unique where something refers to them;
- ``reference``: every reference resolves (hypothesis -> goal and initiative, use case ->
  hypotheses, output -> use cases and step, measure -> output and column, step parameters ->
  inputs, quality check -> output and column, derivedFrom -> input or output and column,
  input -> another product's output, northStarRef -> a declared NSM);
- ``dependency``: an input or NSM reference to a product whose own file is invalid;
- ``cycle``: products never read each other's outputs in a cycle;
- ``measure``: every measure the NSM and the goals need is produced by an output;
- ``traceability``: building right to left, every output traces to a use case, hypothesis,
  goal and the NSM, either directly or because a traced output is built from it (in the same
  product or in a product that reads it); an output may opt out only with
  ``traceability.exempt`` and a reason.

Every error names the file, the line and the field path of the node at fault.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

from pydantic.alias_generators import to_camel

from lodestar.errors import Location, ManifestError
from lodestar.manifest.diagnostics import suggestion
from lodestar.manifest.model import (
    AffinityParams,
    Column,
    DataProduct,
    Dimension,
    IngestParams,
    Input,
    Measure,
    Output,
    QualityStep,
    SparkStep,
)
from lodestar.manifest.source import DataPath, SourceMap, format_path

log = logging.getLogger(__name__)

INPUTS: DataPath = ("build", "inputs")
OUTPUTS: DataPath = ("build", "outputs")
STEPS: DataPath = ("build", "steps")


@dataclass
class _Names:
    """Where each declared name of one product sits (its index in its list)."""

    goals: dict[str, int] = field(default_factory=dict)
    initiatives: dict[str, int] = field(default_factory=dict)
    hypotheses: dict[str, int] = field(default_factory=dict)
    use_cases: dict[str, int] = field(default_factory=dict)
    measures: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, product: DataProduct) -> _Names:
        business, build = product.business, product.build

        def first(keys: Sequence[str]) -> dict[str, int]:
            found: dict[str, int] = {}
            for i, key in enumerate(keys):
                found.setdefault(key, i)
            return found

        return cls(
            goals=first([g.id for g in business.goals]),
            initiatives=first([i.id for i in business.initiatives]),
            hypotheses=first([h.id for h in business.hypotheses]),
            use_cases=first([u.id for u in business.use_cases]),
            measures=first([m.name for m in business.measures]),
            inputs=first([i.name for i in build.inputs]),
            outputs=first([o.name for o in build.outputs]),
            steps=first([s.name for s in build.steps]),
        )


def declared_columns(columns: Sequence[Column]) -> set[str] | None:
    """Column names of an input or output; ``None`` when it declares none (nothing to check)."""
    return {c.name for c in columns} if columns else None


def split_ref(ref: str) -> tuple[str, str] | None:
    """``"order_lines.product_id"`` -> ``("order_lines", "product_id")``; None when malformed."""
    container, dot, column = ref.partition(".")
    return (container, column) if dot and container and column else None


def step_inputs(step: object) -> list[tuple[str, str]]:
    """(parameter key, input name) of the inputs a Spark step's parameters name."""
    if not isinstance(step, SparkStep):
        return []
    if isinstance(step.params, IngestParams):
        return [("source", step.params.source)]
    if isinstance(step.params, AffinityParams):
        return [("orderLines", step.params.order_lines)]
    return []


def _containers(product: DataProduct) -> list[tuple[str, Sequence[Input | Output]]]:
    """The inputs and the outputs of a product, with the YAML key of each list."""
    return [("inputs", product.build.inputs), ("outputs", product.build.outputs)]


def built_from(product: DataProduct, output: Output) -> set[str]:
    """Names of the inputs and outputs of ``product`` that ``output`` is built from."""
    names = {
        parts[0]
        for column in output.columns
        for ref in column.derived_from
        if (parts := split_ref(ref)) is not None
    }
    step = product.step(output.produced_by)
    names.update(name for _, name in step_inputs(step))
    names.discard(output.name)
    return names


class _Checker:
    def __init__(
        self,
        products: Mapping[str, DataProduct],
        files: Mapping[str, Path],
        source_maps: Mapping[str, SourceMap],
        broken: Mapping[Path, str | None],
        reads_of_broken: Set[tuple[str, str]],
    ) -> None:
        self.products = products
        self.reads_of_broken = reads_of_broken
        self.files = files
        self.source_maps = source_maps
        self.broken = broken
        self.broken_names = {name: path for path, name in broken.items() if name}
        self.names = {name: _Names.of(p) for name, p in products.items()}
        self.errors: list[ManifestError] = []

    # --- reporting ------------------------------------------------------------------------

    def locate(self, product: str, path: DataPath, *, key: bool = False) -> Location:
        source = self.source_maps.get(product)
        if source is None:
            return Location(self.files.get(product))
        return source.locate(path, key=key)

    def error(
        self, product: str, path: DataPath, message: str, hint: str = "", *, rule: str
    ) -> None:
        self.errors.append(
            ManifestError(
                message,
                location=self.locate(product, path),
                field=format_path(path),
                hint=hint,
                rule=rule,
            )
        )

    def line(self, product: str, path: DataPath) -> str:
        location = self.locate(product, path)
        return f"line {location.line}" if location.line else "an earlier entry"

    # --- runs -----------------------------------------------------------------------------

    def run(self) -> list[ManifestError]:
        for name in sorted(self.products):
            self.unique_ids(name)
            self.chain_references(name)
            self.measures(name)
            self.build_references(name)
            self.column_references(name)
            self.product_references(name)
        self.cycles()
        self.traceability()
        return self.errors

    # --- unique ids -----------------------------------------------------------------------

    def _unique(
        self, product: str, keys: Sequence[str], path: DataPath, attr: str, what: str
    ) -> None:
        seen: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in seen:
                seen[key] = i
                continue
            where = self.line(product, (*path, seen[key], attr))
            self.error(
                product,
                (*path, i, attr),
                f"{what} {key!r} is declared twice (first on {where})",
                "names must be unique within a product; rename or remove one",
                rule="unique-id",
            )

    def unique_ids(self, name: str) -> None:
        product = self.products[name]
        business, build = product.business, product.build
        chain: list[tuple[Sequence[str], DataPath, str, str]] = [
            ([g.id for g in business.goals], ("business", "goals"), "id", "goal id"),
            ([i.id for i in business.initiatives], ("business", "initiatives"), "id", "initiative"),
            ([h.id for h in business.hypotheses], ("business", "hypotheses"), "id", "hypothesis"),
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
            self._unique(name, keys, path, attr, what)
        self._unique(name, [i.name for i in build.inputs], INPUTS, "name", "input")

        outputs = self.names[name].outputs
        for i, item in enumerate(build.inputs):
            if item.name in outputs:
                self.error(
                    name,
                    (*INPUTS, i, "name"),
                    f"input {item.name!r} has the name of an output of this product",
                    "derivedFrom names inputs and outputs alike; rename the input",
                    rule="unique-id",
                )
        for kind, containers in _containers(product):
            for i, container in enumerate(containers):
                columns = [c.name for c in container.columns]
                path = ("build", kind, i, "columns")
                self._unique(name, columns, path, "name", f"column of {container.name}")
        checks: list[str] = []
        for i, step in enumerate(build.steps):
            if isinstance(step, QualityStep):
                seen = set(checks)
                for j, check in enumerate(step.checks):
                    if check.name in seen:
                        self.error(
                            name,
                            (*STEPS, i, "checks", j, "name"),
                            f"quality check {check.name!r} is declared twice",
                            "check names are unique within a product; rename one",
                            rule="unique-id",
                        )
                    seen.add(check.name)
                    checks.append(check.name)

    # --- the business chain ---------------------------------------------------------------

    def _ref(
        self,
        product: str,
        path: DataPath,
        value: str,
        targets: Mapping[str, int],
        message: str,
        declared_at: str,
        rule: str = "reference",
    ) -> bool:
        if value in targets:
            return True
        hint = suggestion(value, targets, f"declared under {declared_at}")
        self.error(product, path, message, hint, rule=rule)
        return False

    def chain_references(self, name: str) -> None:
        business = self.products[name].business
        names = self.names[name]
        for i, hyp in enumerate(business.hypotheses):
            path = ("business", "hypotheses", i)
            self._ref(
                name,
                (*path, "goal"),
                hyp.goal,
                names.goals,
                f"hypothesis {hyp.id!r} names goal {hyp.goal!r}, which is not declared",
                "business.goals",
            )
            self._ref(
                name,
                (*path, "initiative"),
                hyp.initiative,
                names.initiatives,
                f"hypothesis {hyp.id!r} names initiative {hyp.initiative!r}, which is not declared",
                "business.initiatives",
            )
            self._ref(
                name,
                (*path, "measure"),
                hyp.measure,
                names.measures,
                f"hypothesis {hyp.id!r} expects measure {hyp.measure!r} to move, "
                "which is not declared",
                "business.measures",
            )
        for i, case in enumerate(business.use_cases):
            for j, hyp_id in enumerate(case.hypotheses):
                self._ref(
                    name,
                    ("business", "useCases", i, "hypotheses", j),
                    hyp_id,
                    names.hypotheses,
                    f"use case {case.id!r} applies hypothesis {hyp_id!r}, which is not declared",
                    "business.hypotheses",
                )

    # --- measures -------------------------------------------------------------------------

    def measures(self, name: str) -> None:
        product = self.products[name]
        business = product.business
        names = self.names[name]
        hint_declare = "declared under business.measures"
        if business.north_star is not None:
            nsm = business.north_star
            self._ref(
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
            self._ref(
                name,
                ("business", "goals", i, "measure"),
                goal.measure,
                names.measures,
                f"goal {goal.id!r} is tracked by measure {goal.measure!r}, "
                "which no measure declares",
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
                if not self._ref(
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
                self._column(
                    name,
                    (*path, "column"),
                    output.name,
                    output.columns,
                    item.column,
                    f"{what} {item.name!r}",
                    rule=rule,
                )

    def _column(
        self,
        product: str,
        path: DataPath,
        container: str,
        columns: Sequence[Column],
        column: str,
        who: str,
        rule: str = "reference",
    ) -> None:
        known = declared_columns(columns)
        if known is None or column in known:
            return
        self.error(
            product,
            path,
            f"{who} reads column {column!r}, which {container!r} does not declare",
            suggestion(column, known, f"columns of {container}"),
            rule=rule,
        )

    # --- the build ------------------------------------------------------------------------

    def build_references(self, name: str) -> None:
        product = self.products[name]
        build = product.build
        names = self.names[name]
        for i, output in enumerate(build.outputs):
            path = (*OUTPUTS, i)
            for j, case in enumerate(output.use_cases):
                self._ref(
                    name,
                    (*path, "useCases", j),
                    case,
                    names.use_cases,
                    f"output {output.name!r} serves use case {case!r}, which is not declared",
                    "business.useCases",
                )
            if self._ref(
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
                    self.error(
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
                if self._ref(
                    name,
                    (*path, "params", key),
                    input_name,
                    names.inputs,
                    f"step {step.name!r} reads input {input_name!r}, which is not declared",
                    "build.inputs",
                ) and isinstance(step, SparkStep):
                    self._source_columns(name, step, path)
            if isinstance(step, QualityStep):
                for j, check in enumerate(step.checks):
                    check_path = (*path, "checks", j)
                    if not self._ref(
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
                        self._column(
                            name,
                            (*check_path, "column"),
                            output.name,
                            output.columns,
                            check.column,
                            f"quality check {check.name!r}",
                        )

        schedule = build.schedule
        if schedule.on_inputs and not any(i.product for i in build.inputs):
            self.error(
                name,
                ("build", "schedule", "onInputs"),
                "onInputs is set but the product reads no other product's output",
                "give a cron instead, or read an input by product and output",
                rule="reference",
            )

    def _source_columns(self, name: str, step: SparkStep, path: DataPath) -> None:
        """The ingest job's column mapping names columns the source input declares."""
        params = step.params
        if not isinstance(params, IngestParams) or params.columns is None:
            return
        source = self.products[name].input(params.source)
        if source is None:
            return
        for key, column in params.columns.model_dump().items():
            if column is not None:
                self._column(
                    name,
                    (*path, "params", "columns", to_camel(key)),
                    source.name,
                    source.columns,
                    column,
                    f"step {step.name!r}",
                )

    def column_references(self, name: str) -> None:
        """Each derivedFrom entry names an input or output and one of its declared columns."""
        product = self.products[name]
        build = product.build
        containers: dict[str, Input | Output] = {i.name: i for i in build.inputs}
        containers.update({o.name: o for o in build.outputs})
        for kind, items in _containers(product):
            for i, item in enumerate(items):
                for j, column in enumerate(item.columns):
                    for k, ref in enumerate(column.derived_from):
                        path = ("build", kind, i, "columns", j, "derivedFrom", k)
                        self._derived(name, path, item.name, column.name, ref, containers)

    def _derived(
        self,
        name: str,
        path: DataPath,
        owner: str,
        column: str,
        ref: str,
        containers: Mapping[str, Input | Output],
    ) -> None:
        parts = split_ref(ref)
        if parts is None:
            self.error(
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
            self.error(
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
            self.error(
                name,
                path,
                f"column {owner}.{column} is derived from {ref!r}, but {container!r} declares "
                f"no column {source_column!r}",
                suggestion(source_column, known, f"columns of {container}"),
                rule="reference",
            )

    # --- across products ------------------------------------------------------------------

    def _product(self, name: str, path: DataPath, other: str, who: str) -> DataProduct | None:
        """The product ``other`` names, or an error saying why it is not there."""
        found = self.products.get(other)
        if found is not None:
            return found
        broken = self.broken_names.get(other)
        if broken is not None:
            self.error(
                name,
                path,
                f"{who} product {other!r}, whose manifest {broken} is invalid",
                f"fix the errors reported for {broken} first",
                rule="dependency",
            )
            return None
        unnamed = sorted(str(p) for p, declared in self.broken.items() if declared is None)
        hint = suggestion(other, self.products, "products")
        if unnamed:
            hint += f"; files that could not be read: {', '.join(unnamed)}"
        self.error(
            name,
            path,
            f"{who} product {other!r}, which no manifest declares",
            hint,
            rule="reference",
        )
        return None

    def product_references(self, name: str) -> None:
        product = self.products[name]
        for i, item in enumerate(product.build.inputs):
            if item.product is None or item.output is None or item.product == name:
                continue  # NOTE: reading oneself is reported as a cycle
            path = (*INPUTS, i)
            upstream = self._product(
                name, (*path, "product"), item.product, f"input {item.name!r} reads"
            )
            if upstream is None:
                continue
            source = upstream.output(item.output)
            if source is None:
                self.error(
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
                self._column(
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
            self.error(
                name,
                (*path, "product"),
                "northStarRef points at this product itself",
                "declare the metric under business.northStar instead",
                rule="reference",
            )
            return
        declaring = self._product(name, (*path, "product"), ref.product, "northStarRef names")
        if declaring is None:
            return
        nsm = declaring.business.north_star
        if nsm is None or nsm.id != ref.id:
            declared = f"it declares {nsm.id!r}" if nsm else "it refers to another product's NSM"
            self.error(
                name,
                (*path, "id"),
                f"northStarRef names NSM {ref.id!r} of {ref.product!r}, but {declared}",
                "reference the NSM by the id under northStar in that product's manifest",
                rule="reference",
            )

    def cycles(self) -> None:
        """Products reading each other's outputs in a cycle, reported in every member."""
        graph = {
            name: sorted(
                {i.product for i in p.build.inputs if i.product and i.product in self.products}
            )
            for name, p in self.products.items()
        }
        for cycle in find_cycles(graph):
            text = " -> ".join([*cycle, cycle[0]])
            message = f"products read each other's outputs in a cycle: {text}"
            if len(cycle) == 1:
                message = f"product {cycle[0]!r} reads its own output"
            for position, member in enumerate(cycle):
                target = cycle[(position + 1) % len(cycle)]
                inputs = self.products[member].build.inputs
                index = next(i for i, item in enumerate(inputs) if item.product == target)
                self.error(
                    member,
                    (*INPUTS, index, "product"),
                    message,
                    "a product may only read products upstream of it; remove one of these inputs",
                    rule="cycle",
                )

    # --- traceability ---------------------------------------------------------------------

    def traceability(self) -> None:
        traced = self.traced_outputs()
        for name in sorted(self.products):
            product = self.products[name]
            served: set[str] = set()
            for i, output in enumerate(product.build.outputs):
                served.update(output.use_cases)
                path = (*OUTPUTS, i)
                if output.traceability is not None and output.use_cases:
                    self.error(
                        name,
                        (*path, "traceability", "exempt"),
                        f"output {output.name!r} serves use cases and also declares an exemption",
                        "remove traceability.exempt: an output that serves a use case traces",
                        rule="traceability",
                    )
                if (name, output.name) in traced or output.traceability is not None:
                    continue
                if (name, output.name) in self.reads_of_broken:
                    log.debug("%s.%s read by an invalid manifest: not traced", name, output.name)
                    continue
                self.error(
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
                    self.error(
                        name,
                        ("business", "useCases", i, "id"),
                        f"use case {case.id!r} is served by no output",
                        "add its id to useCases of the outputs that serve it, or remove it",
                        rule="traceability",
                    )

    def traced_outputs(self) -> set[tuple[str, str]]:
        """(product, output) pairs that trace right to left to a use case."""
        todo = [
            (name, o.name)
            for name, p in self.products.items()
            for o in p.build.outputs
            if o.use_cases
        ]
        traced = set(todo)
        while todo:
            name, output_name = todo.pop()
            product = self.products[name]
            output = product.output(output_name)
            if output is None:
                continue
            for upstream in self._upstream(product, output):
                if upstream not in traced:
                    traced.add(upstream)
                    todo.append(upstream)
        return traced

    def _upstream(self, product: DataProduct, output: Output) -> Iterator[tuple[str, str]]:
        for source in built_from(product, output):
            if product.output(source) is not None:
                yield product.name, source
                continue
            item = product.input(source)
            if item is not None and item.product in self.products and item.output:
                yield str(item.product), item.output


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One cycle per strongly connected part of ``graph`` that has one, each from its least node.

    Tarjan's algorithm, iterative so that long chains of products cannot overflow the stack.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    parts: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                parts.append(part)
    cycles = []
    for part in parts:
        members = set(part)
        start = min(part)
        if len(part) == 1 and start not in graph.get(start, ()):
            continue
        cycles.append(_cycle_through(graph, start, members))
    return sorted(cycles)


def _cycle_through(graph: Mapping[str, Sequence[str]], start: str, members: set[str]) -> list[str]:
    """A shortest cycle from ``start`` back to itself inside one strongly connected part."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in graph.get(node, ()):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return [start]  # NOTE: unreachable for a strongly connected part


def check_products(
    products: Mapping[str, DataProduct],
    *,
    files: Mapping[str, Path] | None = None,
    source_maps: Mapping[str, SourceMap] | None = None,
    broken: Mapping[Path, str | None] | None = None,
    reads_of_broken: Set[tuple[str, str]] = frozenset(),
) -> list[ManifestError]:
    """Every problem found within and across ``products`` (valid models, by name).

    ``broken`` names the files that could not be loaded (with the product they declare, when
    readable); ``reads_of_broken`` the (product, output) pairs their inputs name. An output
    that only such a file reads cannot be traced until that file is fixed, so it is not
    reported as an orphan.
    """
    checker = _Checker(products, files or {}, source_maps or {}, broken or {}, reads_of_broken)
    errors = checker.run()
    log.debug("checked %d products: %d errors", len(products), len(errors))
    return errors


#: the checks in the order they run, for documentation and the CLI's listing
RULES: dict[str, str] = {
    "unique-id": "ids and names are unique where something refers to them",
    "reference": "every reference resolves to something declared",
    "dependency": "a referenced product's own manifest is valid",
    "cycle": "products never read each other's outputs in a cycle",
    "measure": "every measure the NSM and the goals need is produced by an output column",
    "traceability": "every output traces to a use case, hypothesis, goal and the NSM",
}
