"""Lineage of each step of the reference plans: names, facets and figures, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lineage_events import AFFINITY_STATS, INGEST_STATS, PUBLISHED, QUALITY, REASONS, SOURCE
from openlineage.client.serde import Serde

from lodestar import naming
from lodestar.lineage import (
    LineageError,
    input_check_lineage,
    measures_lineage,
    model_lineage,
    model_tests_lineage,
    quality_lineage,
    step_lineage,
)
from lodestar.lineage.facets import BUSINESS, DATA_PRODUCT, MEASURES, QUARANTINE, RUN
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import Settings, with_overrides

pytestmark = pytest.mark.unit

USE_CASES = ["fbt-recommendations", "cross-sell-campaigns", "affinity-reports"]


def _data(value: Any) -> Any:
    return Serde.to_dict(value)


def _names(datasets: list[Any]) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def _lake(settings: Settings, product: str, output: str) -> tuple[str, str]:
    found = naming.output_dataset(settings.lake_root, product, output)
    return found.namespace, found.name


def _table(settings: Settings, table: str) -> tuple[str, str]:
    return f"duckdb://{settings.warehouse.resolve()}", f"product_affinity.{table}"


def test_ingest_reads_the_shipped_file_and_writes_four_lake_outputs(
    plans: dict[str, ProductPlan], settings: Settings
) -> None:
    built = step_lineage(plans["retail-orders"], "ingest", stats=INGEST_STATS)

    assert built.task == "ingest"
    assert _names(built.inputs) == [("file", str(SOURCE))]
    assert _names(built.outputs) == [
        _lake(settings, "retail-orders", o)
        for o in ("order_lines", "orders", "products", "quarantine")
    ]
    rows = [_data(o.outputFacets["outputStatistics"]) for o in built.outputs]
    assert [(r["rowCount"], "fileCount" in r) for r in rows] == [
        (524436, False),
        (20541, False),
        (3931, False),
        (17473, False),
    ]
    quarantine = _data(built.outputs[3].outputFacets[QUARANTINE])
    assert {k: quarantine[k] for k in quarantine if not k.startswith("_")} == {
        "reasons": REASONS,
        "sourceRows": 541909,
        "keptRows": 524436,
        "rejectedRows": 17473,
        "rejectedShare": 17473 / 541909,
        "maxRejectedShare": 0.1,
    }
    assert QUARANTINE not in built.outputs[0].outputFacets


def test_without_stats_a_start_carries_no_statistics(plans: dict[str, ProductPlan]) -> None:
    built = step_lineage(plans["retail-orders"], "ingest")
    assert [o.outputFacets for o in built.outputs] == [{}, {}, {}, {}]


def test_source_and_lake_outputs_carry_the_traced_business_chain(
    plans: dict[str, ProductPlan],
) -> None:
    built = step_lineage(plans["retail-orders"], "ingest", stats=INGEST_STATS)
    source = _data(built.inputs[0].facets[BUSINESS])
    lines, orders, products, quarantine = (_data(o.facets[BUSINESS]) for o in built.outputs)

    assert (source["role"], source["input"], source["product"]) == (
        "source",
        "online_retail",
        "retail-orders",
    )
    assert source["citation"].startswith("Chen, D. (2015) Online Retail")
    assert [u["id"] for u in source["useCases"]] == USE_CASES
    assert [u["id"] for u in lines["useCases"]] == USE_CASES
    assert lines["tracedThrough"] == [
        "product-affinity/item_support",
        "product-affinity/pair_rules",
        "product-affinity/period_rules",
        "product-affinity/order_attach",
        "product-affinity/campaign_audiences",
        "product-affinity/goal_measures",
        "product-affinity/product_affinity_report",
    ]
    assert [g["id"] for g in lines["goals"]] == [
        "raise-attach-rate",
        "raise-basket-breadth",
        "raise-revenue-per-order",
    ]
    assert lines["northStar"] == {
        "id": "cross-sell-attach-rate",
        "product": "product-affinity",
        "name": "Cross-sell attach rate",
        "measure": "attach_rate",
    }
    assert [u["id"] for u in orders["useCases"]] == ["cross-sell-campaigns", "affinity-reports"]
    assert orders["tracedThrough"] == ["product-affinity/goal_measures"]
    assert [u["id"] for u in products["useCases"]] == ["affinity-reports"]
    assert (quarantine["role"], quarantine["useCases"], quarantine["goals"]) == (
        "quarantine",
        [],
        [],
    )
    assert quarantine["traceabilityExempt"].startswith("Audit trail of rejected rows")
    assert quarantine["measures"] == [
        {"name": "rejected_share", "column": "reason", "unit": "ratio"}
    ]


def test_job_and_run_facets_name_product_step_and_hypotheses(
    plans: dict[str, ProductPlan],
) -> None:
    built = step_lineage(
        plans["product-affinity"],
        "affinity",
        interval=("2011-11-01T00:00:00", "2011-12-01T00:00:00"),
    )
    product = _data(built.job_facets[DATA_PRODUCT])
    run = _data(built.run_facets[RUN])

    assert {k: product[k] for k in ("name", "version", "domain", "type", "step")} == {
        "name": "product-affinity",
        "version": "1.0.0",
        "domain": "merchandising",
        "type": "consumer-aligned",
        "step": {"name": "affinity", "type": "spark", "job": "affinity"},
    }
    assert product["vision"].startswith("Help every shopper find the products")
    assert product["owners"] == [
        {"name": "Merchandising analytics", "email": "merch-analytics@example.com", "role": "owner"}
    ]
    assert run["period"] == {
        "granularity": "monthly",
        "start": "2011-11-01T00:00:00",
        "end": "2011-12-01T00:00:00",
    }
    assert [h["id"] for h in run["hypotheses"]] == ["bundles-raise-revenue", "fbt-raises-attach"]
    assert set(built.job_facets) == {DATA_PRODUCT, "documentation", "ownership"}


def test_spark_output_read_by_the_next_product_and_by_dbt_is_one_dataset(
    plans: dict[str, ProductPlan], settings: Settings
) -> None:
    ingest = step_lineage(plans["retail-orders"], "ingest")
    affinity = step_lineage(plans["product-affinity"], "affinity", stats=AFFINITY_STATS)
    recommendations = model_lineage(plans["product-affinity"], "cross_sell_recommendations")
    audiences = model_lineage(plans["product-affinity"], "campaign_audiences")

    assert _names(affinity.inputs) == [_names(ingest.outputs)[0]]
    assert _names(recommendations.inputs) == [_lake(settings, "product-affinity", "pair_rules")]
    assert _names(recommendations.inputs)[0] in _names(affinity.outputs)
    assert _names(recommendations.outputs) == [_table(settings, "cross_sell_recommendations")]
    assert _names(audiences.inputs) == [
        _lake(settings, "retail-orders", "order_lines"),
        _table(settings, "cross_sell_recommendations"),
    ]
    # the dataset's facets are its producer's, whichever event carries them
    produced = {k: _data(v) for k, v in ingest.outputs[0].facets.items() if k != "columnLineage"}
    assert {k: _data(v) for k, v in affinity.inputs[0].facets.items()} == produced


def test_model_reads_follow_the_compiled_dbt_manifest_when_there_is_one(
    plans: dict[str, ProductPlan], settings: Settings
) -> None:
    target = settings.dbt_project_dir / "target"
    target.mkdir(parents=True)
    node = {
        "resource_type": "model",
        "name": "product_affinity_report",
        "depends_on": {
            "nodes": [
                "source.lodestar.product_affinity.pair_rules",
                "source.lodestar.retail_orders.products",
                "source.lodestar.product_affinity.item_support",
                "model.lodestar.cross_sell_recommendations",
            ]
        },
    }
    (target / "manifest.json").write_text(
        json.dumps({"nodes": {"model.lodestar.product_affinity_report": node}})
    )
    from_manifest = model_lineage(plans["product-affinity"], "product_affinity_report")
    given = model_lineage(
        plans["product-affinity"], "product_affinity_report", depends_on=["pair_rules", "products"]
    )

    assert _names(from_manifest.inputs) == [
        _lake(settings, "product-affinity", "pair_rules"),
        _lake(settings, "retail-orders", "products"),
        _lake(settings, "product-affinity", "item_support"),
        _table(settings, "cross_sell_recommendations"),
    ]
    assert _names(given.inputs) == _names(from_manifest.inputs)[:2]
    assert from_manifest.task == "models.product_affinity_report"


def test_column_lineage_comes_from_derived_from(
    plans: dict[str, ProductPlan], settings: Settings
) -> None:
    plan = plans["product-affinity"]
    built = model_lineage(plan, "nsm_history")
    fields = _data(built.outputs[0].facets["columnLineage"])["fields"]
    attach = _lake(settings, "product-affinity", "order_attach")
    declared = {c.name: c.derived_from for c in plan.outputs["nsm_history"].output.columns}
    expected = {
        column: [
            {
                "namespace": attach[0],
                "name": attach[1],
                "field": ref.split(".")[1],
                "transformations": [],
            }
            for ref in refs
        ]
        for column, refs in declared.items()
        if refs and all(ref.startswith("order_attach.") for ref in refs)
    }

    assert sorted(declared) == ["gap", "period", "target", "value"]
    assert sorted(expected) == ["period", "value"]  # gap derives from its own row, target: none
    assert {c: f["inputFields"] for c, f in fields.items()} == expected


def test_quality_results_become_assertions_on_the_checked_datasets(
    plans: dict[str, ProductPlan], settings: Settings
) -> None:
    built = quality_lineage(plans["product-affinity"], "checks", QUALITY["product-affinity"])

    assert _names(built.inputs) == [
        _lake(settings, "product-affinity", "pair_rules"),
        _table(settings, "nsm_history"),
    ]
    assertions = [_data(d.inputFacets["dataQualityAssertions"])["assertions"] for d in built.inputs]
    assert assertions == [
        [
            {
                "assertion": "row_count_min",
                "success": True,
                "severity": "error",
                "name": "rules_present",
                "expected": '{"min": 1.0}',
                "actual": "412",
                "params": {},
            },
            {
                "assertion": "between",
                "success": True,
                "column": "confidence",
                "severity": "error",
                "name": "confidence_in_range",
                "expected": '{"max": 1.0, "min": 0.0}',
                "actual": "0",
                "params": {},
            },
        ],
        [
            {
                "assertion": "between",
                "success": False,
                "column": "value",
                "severity": "error",
                "name": "nsm_in_range",
                "expected": '{"max": 1.0, "min": 0.0}',
                "actual": "1",
                "params": {},
            },
        ],
    ]
    start = quality_lineage(plans["product-affinity"], "checks")
    assert [d.inputFacets for d in start.inputs] == [{}, {}]


def test_measures_publish_values_targets_and_gaps(plans: dict[str, ProductPlan]) -> None:
    built = measures_lineage(plans["product-affinity"], PUBLISHED)
    nsm, goals = (_data(d.facets[MEASURES])["measures"] for d in built.inputs)

    assert [d.name for d in built.inputs] == [
        "product_affinity.nsm_history",
        "product_affinity.goal_measures",
    ]
    assert [(s["kind"], s["id"]) for s in nsm] == [
        ("north-star", "cross-sell-attach-rate"),
        ("goal", "raise-attach-rate"),
    ]
    assert nsm[0]["values"] == [
        {"period": "2011-01", "target": 0.6},
        {"period": "2011-10", "value": 0.55, "target": 0.6, "gap": -0.05, "onTrack": False},
        {"period": "2011-11", "value": 0.62, "target": 0.6, "gap": 0.02, "onTrack": True},
    ]
    assert nsm[1]["values"] == nsm[0]["values"]  # the goal on the NSM's measure shares it
    assert nsm[0]["latest"] == nsm[0]["values"][-1]
    assert [(s["id"], s["baseline"], s["target"]) for s in goals] == [
        ("raise-basket-breadth", 24.0, 28.0),
        ("raise-revenue-per-order", 480.0, 550.0),
    ]
    assert [v | {} for v in goals[1]["values"]] == [
        {"period": "2011-10", "value": 470.0, "target": 550.0, "gap": -80.0, "onTrack": False},
        {"period": "2011-11", "value": 560.0, "target": 550.0, "gap": 10.0, "onTrack": True},
    ]
    metrics = _data(built.inputs[0].inputFacets["dataQualityMetrics"])
    assert (metrics["rowCount"], metrics["columnMetrics"]["value"]) == (
        3,
        {"nullCount": 1, "count": 2.0, "min": 0.55, "max": 0.62, "quantiles": {}},
    )
    start = measures_lineage(plans["product-affinity"])
    assert [sorted(d.facets) for d in start.inputs] == [
        ["documentation", BUSINESS, "ownership", "schema"]
    ] * 2


def test_input_check_reads_every_input(plans: dict[str, ProductPlan], settings: Settings) -> None:
    built = input_check_lineage(plans["product-affinity"])
    assert built.task == "check_inputs"
    assert _names(built.inputs) == [
        _lake(settings, "retail-orders", o) for o in ("order_lines", "orders", "products")
    ]
    assert built.outputs == []


def test_unknown_steps_and_models_are_clear_errors(plans: dict[str, ProductPlan]) -> None:
    with pytest.raises(
        LineageError,
        match=r"product-affinity has no step 'afinity' \(steps: "
        r"affinity, models, checks\)",
    ):
        step_lineage(plans["product-affinity"], "afinity")
    with pytest.raises(LineageError, match="'pair_rules' is not a table output built by dbt"):
        model_lineage(plans["product-affinity"], "pair_rules")


def test_names_marquez_rejects_fail_before_anything_is_sent(
    plans: dict[str, ProductPlan], settings: Settings, tmp_path: Path
) -> None:
    odd = with_overrides(settings, warehouse=tmp_path / "my warehouse" / "w.duckdb")
    plan = plan_product(plans["product-affinity"].product, _products(plans), odd)

    with pytest.raises(LineageError) as caught:
        model_lineage(plan, "nsm_history")

    assert "product-affinity output nsm_history: dataset 'duckdb://" in str(caught.value)
    assert "the namespace has characters Marquez rejects (' ')" in str(caught.value)


def _products(plans: dict[str, ProductPlan]) -> dict[str, Any]:
    return {name: plan.product for name, plan in plans.items()}


def test_measure_values_also_come_from_the_measure_tables_rows(
    plans: dict[str, ProductPlan],
) -> None:
    from lodestar.lineage.values import measure_series

    rows = {
        "nsm_history": [
            {"period": "2011-11", "value": 0.58, "target": 0.6, "gap": -0.02, "on_track": True},
        ],
        "goal_measures": [{"period": "2011-11", "basket_breadth": 29.0}],
    }
    found = measure_series(plans["product-affinity"], rows)

    assert [_data(v) for v in found["nsm_history"][0].values] == [
        {"period": "2011-11", "value": 0.58, "target": 0.6, "gap": -0.02, "onTrack": True}
    ]  # the published gap and on_track (within 5%) are kept as they are
    assert [_data(v) for v in found["goal_measures"][0].values] == [
        {"period": "2011-11", "value": 29.0, "target": 28.0, "gap": 1.0, "onTrack": True}
    ]
    assert found["goal_measures"][1].values == []  # revenue_per_order not published


def test_the_tests_across_models_are_the_steps_job_reading_every_table(
    plans: dict[str, ProductPlan], settings: Settings
) -> None:
    models = ["cross_sell_recommendations", "campaign_audiences"]

    built = model_tests_lineage(plans["product-affinity"], "models", models, "models.tests")

    assert built.task == "models.tests"
    assert _names(built.inputs) == [_table(settings, m) for m in models]
    assert built.outputs == []
    # the step's job, not the first model's
    assert _data(built.job_facets[DATA_PRODUCT])["step"] == {"name": "models", "type": "dbt"}
