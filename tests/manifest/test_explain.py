"""The chain as a tree and the NSM's backward trace down to the Online Retail columns."""

from __future__ import annotations

import pytest

from lodestar.manifest import load_folder
from lodestar.manifest.explain import TreeNode, chain_tree, nsm_trace, trace_column

from .conftest import MANIFESTS

pytestmark = pytest.mark.unit

CATALOG = load_folder(MANIFESTS)
SOURCE = "data/online-retail/online_retail.parquet"


def labels(node: TreeNode, depth: int = 0) -> list[tuple[int, str]]:
    found = [(depth, node.label)]
    for child in node.children:
        found += labels(child, depth + 1)
    return found


def test_chain_reads_from_vision_to_inputs() -> None:
    tree = chain_tree(CATALOG.products["product-affinity"], CATALOG.products)
    lines = labels(tree)

    assert lines[0] == (
        0,
        "product-affinity 1.0.0: Product affinity (consumer-aligned, domain merchandising)",
    )
    assert lines[1][1].startswith("vision: Help every shopper find the products")
    assert lines[2][1].startswith("north star: Cross-sell attach rate [cross-sell-attach-rate]")
    path = [
        "goal raise-attach-rate: Raise the cross-sell attach rate (attach_rate 0.5 -> 0.6, "
        "increase, monthly, by 2012-06-30)",
        "hypothesis fbt-raises-attach:",
        "initiative fbt-suggestions: Frequently bought together on product pages",
        "use case fbt-recommendations: Frequently bought together in the web shop "
        "(priority 1; for web-shop (system))",
        "output nsm_history (table, by step models)",
        "input order_lines <- retail-orders.order_lines",
    ]
    depths = [next(d for d, label in lines if label.startswith(step)) for step in path]
    assert depths == [1, 2, 3, 4, 5, 6]


def test_source_aligned_chain_shows_who_reads_its_outputs() -> None:
    tree = chain_tree(CATALOG.products["retail-orders"], CATALOG.products)
    text = [label for _, label in labels(tree)]

    assert "north star (declared by product-affinity): " in text[2]
    assert "read by product-affinity as input orders, which builds goal_measures" in text
    assert (
        "exempt: Audit trail of rejected rows; read by people checking the ingest, not by a "
        "use case." in text
    )


@pytest.mark.parametrize("product", ["product-affinity", "retail-orders"])
def test_nsm_trace_reaches_the_online_retail_columns(product: str) -> None:
    trace = nsm_trace(CATALOG.products[product], CATALOG.products)

    assert trace is not None
    assert trace.tree.label == (
        "north star cross-sell-attach-rate = measure attach_rate = "
        "product-affinity:nsm_history.value"
    )
    assert trace.sources == {SOURCE: ["InvoiceDate", "InvoiceNo", "StockCode"]}
    text = [label for _, label in labels(trace.tree)]
    assert (
        "retail-orders:online_retail.StockCode: source column StockCode of "
        f"{SOURCE} (parquet)" in text
    )
    assert (
        "product-affinity:order_lines.product_id: input reading retail-orders.order_lines" in text
    )


def test_trace_of_a_goal_measure() -> None:
    trace = trace_column(CATALOG.products, "product-affinity", "goal_measures", "revenue_per_order")

    assert trace.sources == {SOURCE: ["Quantity", "UnitPrice"]}
    assert [label for _, label in labels(trace.tree)] == [
        "product-affinity:goal_measures.revenue_per_order",
        "product-affinity:orders.revenue: input reading retail-orders.orders",
        "retail-orders:orders.revenue",
        "retail-orders:order_lines.line_revenue",
        f"retail-orders:online_retail.Quantity: source column Quantity of {SOURCE} (parquet)",
        f"retail-orders:online_retail.UnitPrice: source column UnitPrice of {SOURCE} (parquet)",
    ]


def test_trace_marks_repeats_and_gaps_instead_of_looping() -> None:
    trace = trace_column(CATALOG.products, "product-affinity", "nsm_history", "gap")
    text = [label for _, label in labels(trace.tree)]

    assert text[:2] == ["product-affinity:nsm_history.gap", "product-affinity:nsm_history.value"]
    assert "product-affinity:nsm_history.target (no derivedFrom declared)" in text
    assert any(label.endswith("(see above)") for label in text)
