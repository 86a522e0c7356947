"""The graph of the events: from the NSM back to the Online Retail file, one node per place."""

from __future__ import annotations

from typing import Any

import pytest
from lineage_events import SOURCE
from marquez_stub import MarquezStub

from lodestar import naming
from lodestar.lineage.graph import LineageGraph
from lodestar.lineage.transport import SpoolingConfig, SpoolingTransport
from lodestar.settings import Settings, with_overrides

pytestmark = pytest.mark.unit


def _lake(settings: Settings, product: str, output: str) -> tuple[str, str]:
    found = naming.output_dataset(settings.lake_root, product, output)
    return found.namespace, found.name


def test_nsm_history_reaches_the_online_retail_file(
    event_dicts: list[dict[str, Any]], module_settings: Settings
) -> None:
    graph = LineageGraph.from_events(event_dicts)
    nsm = graph.find(product="product-affinity", output="nsm_history")
    assert nsm is not None

    path = graph.path(nsm.key, ("file", str(SOURCE)))

    lake = [
        _lake(module_settings, *p)
        for p in (("product-affinity", "order_attach"), ("retail-orders", "order_lines"))
    ]
    assert path == [
        nsm.key,
        ("lodestar", "product-affinity.models.nsm_history"),
        lake[0],
        ("lodestar", "product-affinity.affinity"),
        lake[1],
        ("lodestar", "retail-orders.ingest"),
        ("file", str(SOURCE)),
    ]
    sources = [k for k in graph.upstream(nsm.key) if not graph.datasets[k].writers]
    assert sources == [("file", str(SOURCE))]


def test_every_node_is_connected_named_once_and_carries_business_facets(
    event_dicts: list[dict[str, Any]], module_settings: Settings
) -> None:
    graph = LineageGraph.from_events(event_dicts)
    pair_rules = graph.datasets[_lake(module_settings, "product-affinity", "pair_rules")]

    assert graph.orphans() == []
    assert len(graph.datasets) == 1 + 4 + 4 + 6  # source, retail-orders, parquet, tables
    assert all(d.business for d in graph.datasets.values())
    assert all(j.product for j in graph.jobs.values())
    assert pair_rules.writers == {("lodestar", "product-affinity.affinity")}
    assert pair_rules.readers == {
        ("lodestar", f"product-affinity.{task}")
        for task in (
            "checks",
            "models.cross_sell_recommendations",
            "models.product_affinity_report",
        )
    }
    assert [j.key[1] for j in graph.product_jobs("retail-orders")] == [
        "retail-orders.check_inputs",
        "retail-orders.ingest",
        "retail-orders.checks",
        "retail-orders.publish_measures",
    ]


def test_the_events_marquez_received_make_the_same_graph(
    module_settings: Settings, events: list[Any], event_dicts: list[dict[str, Any]]
) -> None:
    with MarquezStub() as marquez:
        settings = with_overrides(module_settings, lineage_url=marquez.url)
        transport = SpoolingTransport(SpoolingConfig.from_settings(settings), settings)
        for event in events:
            transport.emit(event)

    received = LineageGraph.from_events(marquez.events)
    emitted = LineageGraph.from_events(event_dicts)
    assert received == emitted


def test_the_north_star_trace_takes_the_path_through_every_step(
    event_dicts: list[dict[str, Any]], module_settings: Settings
) -> None:
    graph = LineageGraph.from_events(event_dicts)
    nsm = graph.find(product="product-affinity", output="nsm_history")
    assert nsm is not None
    model = ("lodestar", "product-affinity.models.nsm_history")
    orders = _lake(module_settings, "retail-orders", "orders")
    # the model also reads retail-orders' orders directly: a shortcut past the affinity job
    graph.jobs[model].inputs.add(orders)
    source = ("file", str(SOURCE))

    shortest = graph.path(nsm.key, source)
    longest = graph.longest_path(nsm.key, source)

    assert shortest == [nsm.key, model, orders, ("lodestar", "retail-orders.ingest"), source]
    assert longest == [
        nsm.key,
        model,
        _lake(module_settings, "product-affinity", "order_attach"),
        ("lodestar", "product-affinity.affinity"),
        _lake(module_settings, "retail-orders", "order_lines"),
        ("lodestar", "retail-orders.ingest"),
        source,
    ]
