"""The business chain of a manifest as a tree: vision -> goals -> hypotheses -> initiatives ->
use cases -> outputs -> inputs, the order in which the product was designed backwards.

An element that serves several parents (a use case applying two hypotheses) appears under each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lodestar.airflow.ui.models import HypothesisStatus, TreeNode
from lodestar.airflow.ui.redaction import redact, redact_optional
from lodestar.manifest.model import DataProduct, Output

#: link of an input or output (by name) to where it can be looked at, or None
DatasetLink = Callable[[str], str | None]


def source_inputs(product: DataProduct, output: Output) -> list[str]:
    """The inputs an output is derived from, following ``derivedFrom`` through other outputs."""
    inputs = {i.name for i in product.build.inputs}
    outputs = {o.name: o for o in product.build.outputs}
    found: set[str] = set()
    seen: set[str] = set()
    pending = [output.name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for column in outputs[name].columns:
            for ref in column.derived_from:
                source = ref.split(".", 1)[0]
                if source in inputs:
                    found.add(source)
                elif source in outputs:
                    pending.append(source)
    return [i.name for i in product.build.inputs if i.name in found]


def _input_node(product: DataProduct, name: str, link: DatasetLink) -> TreeNode:
    item = product.input(name)
    assert item is not None  # NOTE: names come from the product's own inputs
    by_reference = item.product is not None
    detail = f"{item.product}.{item.output}" if by_reference else redact(item.uri or "")
    return TreeNode(kind="input", id=name, label=name, detail=detail, url=link(name))


def _output_node(product: DataProduct, output: Output, link: DatasetLink) -> TreeNode:
    children = [_input_node(product, n, link) for n in source_inputs(product, output)]
    return TreeNode(
        kind="output",
        id=output.name,
        label=output.name,
        detail=redact_optional(output.description),
        url=link(output.name),
        children=children,
    )


def business_tree(
    product: DataProduct,
    statuses: Mapping[str, HypothesisStatus],
    link: DatasetLink,
) -> TreeNode:
    """The tree of one product; ``statuses`` by hypothesis id, ``link`` by dataset name."""
    business = product.business
    initiatives = {i.id: i for i in business.initiatives}
    outputs = {o.name: o for o in product.build.outputs}

    def use_case_nodes(hypothesis_id: str) -> list[TreeNode]:
        nodes = []
        for use_case in sorted(business.use_cases, key=lambda u: (u.priority, u.id)):
            if hypothesis_id not in use_case.hypotheses:
                continue
            served = [o for o in outputs.values() if use_case.id in o.use_cases]
            consumers = ", ".join(c.name for c in use_case.consumers)
            nodes.append(
                TreeNode(
                    kind="use_case",
                    id=use_case.id,
                    label=use_case.name,
                    detail=f"priority {use_case.priority}; for {consumers}",
                    children=[_output_node(product, o, link) for o in served],
                )
            )
        return nodes

    def hypothesis_nodes(goal_id: str) -> list[TreeNode]:
        nodes = []
        for hypothesis in business.hypotheses:
            if hypothesis.goal != goal_id:
                continue
            initiative = initiatives.get(hypothesis.initiative)
            children = []
            if initiative is not None:
                children.append(
                    TreeNode(
                        kind="initiative",
                        id=initiative.id,
                        label=initiative.name,
                        detail=initiative.description,
                        children=use_case_nodes(hypothesis.id),
                    )
                )
            status = statuses.get(hypothesis.id)
            nodes.append(
                TreeNode(
                    kind="hypothesis",
                    id=hypothesis.id,
                    label=hypothesis.statement,
                    detail=f"{hypothesis.measure} should {hypothesis.expected_direction.value}",
                    status=status.status if status else "unknown",
                    children=children,
                )
            )
        return nodes

    goals = [
        TreeNode(
            kind="goal",
            id=goal.id,
            label=goal.name,
            detail=(
                f"{goal.measure}: {goal.baseline:g} -> {goal.target:g} "
                f"({goal.direction.value}, {goal.period.value})"
            ),
            children=hypothesis_nodes(goal.id),
        )
        for goal in business.goals
    ]
    if not goals:
        # NOTE: a source-aligned product often has no goals of its own (it serves another
        # product's NSM); its tree then starts at its outputs.
        goals = [_output_node(product, o, link) for o in product.build.outputs]
    return TreeNode(
        kind="vision",
        id=product.name,
        label=business.vision,
        detail=product.metadata.title or product.name,
        children=goals,
    )
