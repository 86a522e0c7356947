"""The business chain of the reference manifests as a tree."""

from __future__ import annotations

from typing import Any

import pytest
import ui_data

from lodestar.airflow.ui.models import HypothesisStatus, TreeNode
from lodestar.airflow.ui.tree import business_tree, source_inputs
from lodestar.manifest import Catalog, load_folder

pytestmark = pytest.mark.unit

#: inputs each output of product-affinity is derived from, followed by hand through derivedFrom
AFFINITY_SOURCES = {
    "item_support": ["order_lines"],
    "pair_rules": ["order_lines"],
    "period_rules": ["order_lines"],
    "order_attach": ["order_lines"],
    "cross_sell_recommendations": ["order_lines"],
    "campaign_audiences": ["order_lines"],
    "product_affinity_report": ["order_lines", "products"],
    "goal_measures": ["order_lines", "orders"],
    "nsm_history": ["order_lines"],
    "hypothesis_status": ["order_lines", "orders"],
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_folder(ui_data.REPO / "manifests")


def status(hypothesis_id: str, verdict: Any) -> HypothesisStatus:
    return HypothesisStatus(
        id=hypothesis_id,
        statement="-",
        goal="-",
        initiative="-",
        measure="-",
        expected_direction="increase",
        status=verdict,
        latest_value=None,
    )


def test_outputs_trace_back_to_their_inputs(catalog: Catalog) -> None:
    product = catalog.products["product-affinity"]

    found = {o.name: source_inputs(product, o) for o in product.build.outputs}

    assert found == AFFINITY_SOURCES


def test_the_tree_runs_from_vision_to_inputs(catalog: Catalog) -> None:
    product = catalog.products["product-affinity"]
    statuses = {"fbt-raises-attach": status("fbt-raises-attach", "supported")}

    tree = business_tree(product, statuses, lambda name: f"/datasets/{name}")

    assert (tree.kind, tree.id, tree.detail) == ("vision", "product-affinity", "Product affinity")
    goal = tree.children[0]
    (hypothesis,) = goal.children
    (initiative,) = hypothesis.children
    assert (goal.id, hypothesis.id, hypothesis.status, initiative.id) == (
        "raise-attach-rate",
        "fbt-raises-attach",
        "supported",
        "fbt-suggestions",
    )
    assert hypothesis.detail == "attach_rate should increase"
    # use cases by priority: fbt-recommendations (1) before affinity-reports (3)
    assert [u.id for u in initiative.children] == ["fbt-recommendations", "affinity-reports"]
    report = initiative.children[1].children[2]
    assert (report.kind, report.id, report.url) == (
        "output",
        "product_affinity_report",
        "/datasets/product_affinity_report",
    )
    assert [(i.kind, i.id, i.detail) for i in report.children] == [
        ("input", "order_lines", "retail-orders.order_lines"),
        ("input", "products", "retail-orders.products"),
    ]
    assert [g.children[0].status for g in tree.children[1:]] == ["unknown", "unknown"]


def test_a_product_without_goals_shows_its_outputs(catalog: Catalog) -> None:
    product = catalog.products["retail-orders"]

    tree = business_tree(product, {}, lambda name: None)

    assert [(n.kind, n.id) for n in tree.children] == [
        ("output", "order_lines"),
        ("output", "orders"),
        ("output", "products"),
        ("output", "quarantine"),
    ]
    inputs = {i.detail for n in tree.children for i in n.children}
    assert inputs == {"data/online-retail/online_retail.parquet"}


def test_tree_nodes_are_plain_json() -> None:
    node = TreeNode(kind="input", id="a", label="a")

    assert node.model_dump() == {
        "kind": "input",
        "id": "a",
        "label": "a",
        "detail": None,
        "status": None,
        "url": None,
        "children": [],
    }
