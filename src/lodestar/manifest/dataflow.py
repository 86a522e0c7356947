"""How data flows within and across products: column references, dependencies, tracing.

Pure functions over validated models, shared by the checks and ``lodestar explain``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from lodestar.manifest.model import (
    AffinityParams,
    Column,
    DataProduct,
    IngestParams,
    Input,
    Output,
    SparkStep,
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


def containers(product: DataProduct) -> list[tuple[str, Sequence[Input | Output]]]:
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


def product_graph(products: Mapping[str, DataProduct]) -> dict[str, list[str]]:
    """Each product -> the loaded products whose outputs it reads."""
    return {
        name: sorted({i.product for i in p.build.inputs if i.product and i.product in products})
        for name, p in products.items()
    }


def traced_outputs(products: Mapping[str, DataProduct]) -> set[tuple[str, str]]:
    """(product, output) pairs that trace right to left to a use case of their own product.

    An output traces when it serves a use case, or when a traced output is built from it: in
    the same product (through derivedFrom or the step that writes both), or in a product that
    reads it as an input. This is how a source-aligned product traces through its consumers.
    """
    todo = [(name, o.name) for name, p in products.items() for o in p.build.outputs if o.use_cases]
    traced = set(todo)
    while todo:
        name, output_name = todo.pop()
        product = products[name]
        output = product.output(output_name)
        if output is None:
            continue
        for upstream in _upstream(products, product, output):
            if upstream not in traced:
                traced.add(upstream)
                todo.append(upstream)
    return traced


def _upstream(
    products: Mapping[str, DataProduct], product: DataProduct, output: Output
) -> Iterator[tuple[str, str]]:
    for source in built_from(product, output):
        if product.output(source) is not None:
            yield product.name, source
            continue
        item = product.input(source)
        if item is not None and item.product in products and item.output:
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
