"""Issue 2's "Done when", through the installed ``lodestar`` script and its exit codes."""

from __future__ import annotations

import json

import jsonschema
import pytest

from lodestar.manifest.schema import manifest_schema

from .conftest import Folder, script

pytestmark = pytest.mark.unit

PA = "product-affinity"
RO = "retail-orders"


def test_validate_the_reference_manifests_exits_0() -> None:
    result = script("validate", "manifests/")

    assert (result.code, result.err) == (0, "")
    assert result.out == "2 manifest(s) valid: product-affinity, retail-orders\n"


def test_unknown_field_exits_1_with_its_location(folder: Folder) -> None:
    folder.edit(PA, "  vision: >-", "  visoin: >-")

    result = script("validate", str(folder.path))

    assert result.code == 1
    assert result.out.splitlines()[:2] == [
        f"{folder.at(PA, 'visoin')}: business.visoin: unknown field 'visoin' [schema]",
        "    hint: did you mean 'vision'?",
    ]


def test_dangling_goal_reference_exits_1_with_its_location(folder: Folder) -> None:
    folder.edit(PA, "goal: raise-revenue-per-order", "goal: raise-revenue")

    result = script("validate", str(folder.path))

    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f"{folder.at(PA, 'goal: raise-revenue', shift=6)}: business.hypotheses[1].goal: "
        "hypothesis 'bundles-raise-revenue' names goal 'raise-revenue', which is not declared "
        "[reference]"
    )


def test_output_serving_no_use_case_exits_1_with_its_location(folder: Folder) -> None:
    folder.edit(
        PA,
        "      role: report\n      useCases: [affinity-reports]\n",
        "      role: report\n",
    )

    result = script("validate", str(folder.path))

    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f"{folder.at(PA, 'name: product_affinity_report')}: build.outputs[6].useCases: output "
        "'product_affinity_report' serves no use case and no traced output is built from it, "
        "so nothing ties it to the North Star Metric [traceability]"
    )


def test_cycle_between_two_products_exits_1_with_its_locations(folder: Folder) -> None:
    folder.edit(
        RO,
        "  inputs:\n",
        "  inputs:\n    - name: recommendations\n      product: product-affinity\n"
        "      output: cross_sell_recommendations\n",
    )

    result = script("validate", str(folder.path), "--format", "json")

    assert result.code == 1
    report = json.loads(result.out)
    assert report["valid"] is False
    assert [(e["file"], e["line"], e["field"], e["rule"]) for e in report["errors"]] == [
        (
            str(folder.file(PA)),
            int(folder.at(PA, "product: retail").split(":")[-2]),
            "build.inputs[0].product",
            "cycle",
        ),
        (
            str(folder.file(RO)),
            int(folder.at(RO, "product: product-affinity\n      output: cross").split(":")[-2]),
            "build.inputs[0].product",
            "cycle",
        ),
    ]
    assert report["errors"][0]["message"] == (
        "products read each other's outputs in a cycle: product-affinity -> retail-orders -> "
        "product-affinity"
    )


def test_explain_traces_the_nsm_down_to_the_online_retail_columns() -> None:
    result = script("explain", PA)

    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    trace = lines.index("North Star trace, right to left:")
    assert lines[trace + 1] == (
        "north star cross-sell-attach-rate = measure attach_rate = "
        "product-affinity:nsm_history.value"
    )
    source = "data/online-retail/online_retail.parquet"
    for column in ("InvoiceNo", "StockCode", "InvoiceDate"):
        assert any(
            line.endswith(f"source column {column} of {source} (parquet)") for line in lines[trace:]
        ), column
    assert lines[-2:] == [
        "Source columns reached:",
        f"  {source}: InvoiceDate, InvoiceNo, StockCode",
    ]


def test_exported_schema_is_draft_2020_12() -> None:
    result = script("schema")

    assert result.code == 0
    schema = json.loads(result.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == manifest_schema()
