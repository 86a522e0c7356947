"""A product's business chain and its North Star Metric's backward trace, as trees.

The chain reads left to right as the method designs it: vision -> goals -> hypotheses ->
initiatives -> use cases -> outputs -> inputs. The trace reads right to left: from the column
that holds the NSM through each ``derivedFrom`` and across input references into the products
upstream, down to the columns of the raw source files. Both are plain trees; the CLI and the UI
render them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lodestar.manifest.dataflow import built_from, split_ref
from lodestar.manifest.model import DataProduct, Input, NorthStarMetric, Output


@dataclass
class TreeNode:
    """One line of a tree and the lines under it."""

    label: str
    children: list[TreeNode] = field(default_factory=list)

    def add(self, label: str) -> TreeNode:
        child = TreeNode(label)
        self.children.append(child)
        return child

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "children": [c.as_dict() for c in self.children]}


@dataclass
class Trace:
    """The backward trace of one column, and the raw source columns it reaches."""

    tree: TreeNode
    #: source location (file URI as written) -> its columns reached, sorted
    sources: dict[str, list[str]]


def north_star(
    product: DataProduct, products: Mapping[str, DataProduct]
) -> tuple[DataProduct, NorthStarMetric] | None:
    """The NSM the product declares or references, with the product that declares it."""
    business = product.business
    if business.north_star is not None:
        return product, business.north_star
    ref = business.north_star_ref
    declaring = products.get(ref.product) if ref is not None else None
    nsm = declaring.business.north_star if declaring is not None else None
    if declaring is None or nsm is None or ref is None or nsm.id != ref.id:
        return None
    return declaring, nsm


# --- the chain ------------------------------------------------------------------------------


def chain_tree(product: DataProduct, products: Mapping[str, DataProduct]) -> TreeNode:
    """vision -> goals -> hypotheses -> initiatives -> use cases -> outputs -> inputs."""
    meta, business = product.metadata, product.business
    root = TreeNode(
        f"{meta.name} {meta.version}: {meta.title or meta.name} "
        f"({meta.type.value}, domain {meta.domain})"
    )
    root.add(f"vision: {_one_line(business.vision)}")
    found = north_star(product, products)
    if found is not None:
        declaring, nsm = found
        by = "" if declaring is product else f" (declared by {declaring.name})"
        root.add(f"north star{by}: {_nsm_label(nsm)}")
    elif business.north_star_ref is not None:
        ref = business.north_star_ref
        root.add(f"north star: {ref.product}/{ref.id} (not found)")

    initiatives = {i.id: i for i in business.initiatives}
    for goal in business.goals:
        deadline = f", by {goal.deadline.isoformat()}" if goal.deadline else ""
        goal_node = root.add(
            f"goal {goal.id}: {goal.name} ({goal.measure} {_num(goal.baseline)} -> "
            f"{_num(goal.target)}, {goal.direction.value}, {goal.period.value}{deadline})"
        )
        for hyp in (h for h in business.hypotheses if h.goal == goal.id):
            hyp_node = goal_node.add(
                f"hypothesis {hyp.id}: {_one_line(hyp.statement)} "
                f"({hyp.measure} should {hyp.expected_direction.value})"
            )
            initiative = initiatives.get(hyp.initiative)
            name = initiative.name if initiative else "(not declared)"
            init_node = hyp_node.add(f"initiative {hyp.initiative}: {name}")
            for case in (u for u in business.use_cases if hyp.id in u.hypotheses):
                consumers = ", ".join(f"{c.name} ({c.type})" for c in case.consumers)
                case_node = init_node.add(
                    f"use case {case.id}: {case.name} (priority {case.priority}; for {consumers})"
                )
                for output in (o for o in product.build.outputs if case.id in o.use_cases):
                    _output_node(case_node, product, output)

    _other_outputs(root, product, products)
    return root


def _output_node(parent: TreeNode, product: DataProduct, output: Output) -> TreeNode:
    node = parent.add(f"output {output.name} ({output.format}, by step {output.produced_by})")
    for item in _inputs_of(product, output):
        node.add(_input_label(item))
    return node


def _other_outputs(
    root: TreeNode, product: DataProduct, products: Mapping[str, DataProduct]
) -> None:
    """Outputs that serve no use case here: traced through readers, or declared exempt."""
    others = [o for o in product.build.outputs if not o.use_cases]
    if not others:
        return
    node = root.add("outputs without a use case of their own")
    for output in others:
        out_node = _output_node(node, product, output)
        if output.traceability is not None:
            out_node.add(f"exempt: {_one_line(output.traceability.exempt)}")
            continue
        for reader, item, built in _readers(product, output, products):
            names = ", ".join(built) if built else "nothing declared"
            out_node.add(f"read by {reader.name} as input {item.name}, which builds {names}")


def _readers(
    product: DataProduct, output: Output, products: Mapping[str, DataProduct]
) -> list[tuple[DataProduct, Input, list[str]]]:
    found = []
    for reader in sorted(products.values(), key=lambda p: p.name):
        for item in reader.build.inputs:
            if item.product == product.name and item.output == output.name:
                built = [o.name for o in reader.build.outputs if item.name in built_from(reader, o)]
                found.append((reader, item, built))
    return found


def _inputs_of(product: DataProduct, output: Output) -> list[Input]:
    """Inputs an output is built from, following the product's own outputs in between."""
    inputs: dict[str, Input] = {}
    seen = {output.name}
    todo = [output]
    while todo:
        current = todo.pop()
        for name in sorted(built_from(product, current)):
            item = product.input(name)
            if item is not None:
                inputs[name] = item
                continue
            upstream = product.output(name)
            if upstream is not None and name not in seen:
                seen.add(name)
                todo.append(upstream)
    return [inputs[name] for name in sorted(inputs)]


def _input_label(item: Input) -> str:
    if item.uri is not None:
        return f"input {item.name} <- {item.uri} ({item.format})"
    return f"input {item.name} <- {item.product}.{item.output}"


def _nsm_label(nsm: NorthStarMetric) -> str:
    return (
        f"{nsm.name} [{nsm.id}]: measure {nsm.measure}, target {_num(nsm.target)} {nsm.unit}, "
        f"{nsm.direction.value}, {nsm.frequency.value}, owner {nsm.owner}"
    )


def _num(value: float) -> str:
    return f"{value:g}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the backward trace ---------------------------------------------------------------------


def nsm_trace(product: DataProduct, products: Mapping[str, DataProduct]) -> Trace | None:
    """The NSM's trace from the column holding it down to raw source columns."""
    found = north_star(product, products)
    if found is None:
        return None
    declaring, nsm = found
    measure = next((m for m in declaring.business.measures if m.name == nsm.measure), None)
    if measure is None:
        return None
    trace = trace_column(products, declaring.name, measure.output, measure.column)
    trace.tree = TreeNode(
        f"north star {nsm.id} = measure {nsm.measure} = "
        f"{declaring.name}:{measure.output}.{measure.column}",
        trace.tree.children,
    )
    return trace


def trace_column(
    products: Mapping[str, DataProduct], product: str, container: str, column: str
) -> Trace:
    """Backward trace of ``product:container.column`` through derivedFrom and inputs."""
    sources: dict[str, set[str]] = {}
    seen: set[tuple[str, str, str]] = set()
    tree = _trace(products, product, container, column, seen, sources)
    return Trace(tree, {uri: sorted(cols) for uri, cols in sorted(sources.items())})


def _trace(
    products: Mapping[str, DataProduct],
    product_name: str,
    container: str,
    column: str,
    seen: set[tuple[str, str, str]],
    sources: dict[str, set[str]],
) -> TreeNode:
    label = f"{product_name}:{container}.{column}"
    key = (product_name, container, column)
    if key in seen:
        return TreeNode(f"{label} (see above)")
    seen.add(key)

    product = products.get(product_name)
    if product is None:
        return TreeNode(f"{label} (product not loaded)")
    item = product.input(container)
    if item is not None and item.uri is not None:
        sources.setdefault(item.uri, set()).add(column)
        return TreeNode(f"{label}: source column {column} of {item.uri} ({item.format})")
    if item is not None and item.product is not None and item.output is not None:
        node = TreeNode(f"{label}: input reading {item.product}.{item.output}")
        node.children.append(_trace(products, item.product, item.output, column, seen, sources))
        return node
    output = product.output(container)
    if output is None:
        return TreeNode(f"{label} (no such input or output)")
    declared = next((c for c in output.columns if c.name == column), None)
    if declared is None:
        return TreeNode(f"{label} (column not declared)")
    if not declared.derived_from:
        return TreeNode(f"{label} (no derivedFrom declared)")
    node = TreeNode(label)
    for ref in declared.derived_from:
        parts = split_ref(ref)
        if parts is None:
            node.add(f"{ref} (not '<input or output>.<column>')")
            continue
        upstream, upstream_column = parts
        node.children.append(
            _trace(products, product_name, upstream, upstream_column, seen, sources)
        )
    return node
