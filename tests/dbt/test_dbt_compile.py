"""Build-time parse of the dbt project: the artifacts Airflow reads instead of running dbt."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dbt_lake import settings_for

from lodestar.dbt import compile_project
from lodestar.errors import LodestarError

MODELS = [
    "campaign_audiences",
    "cross_sell_recommendations",
    "goal_measures",
    "hypothesis_status",
    "nsm_history",
    "product_affinity_report",
]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("dbt-compile")
    path = compile_project(settings_for(home), target_path=home / "target")
    return {"home": home, "path": path, "manifest": json.loads(path.read_text("utf-8"))}


@pytest.mark.dbt
def test_parse_writes_the_manifest_and_partial_parse(compiled: dict[str, Any]) -> None:
    assert compiled["path"] == compiled["home"] / "target" / "manifest.json"
    assert (compiled["home"] / "target" / "partial_parse.msgpack").stat().st_size > 0


@pytest.mark.dbt
def test_models_carry_schema_tag_and_business_meta(compiled: dict[str, Any]) -> None:
    nodes = compiled["manifest"]["nodes"]
    models = {n["name"]: n for n in nodes.values() if n["resource_type"] == "model"}

    assert sorted(models) == MODELS
    for name, node in models.items():
        assert node["schema"] == "product_affinity"
        assert node["tags"] == ["product_affinity"]
        assert node["config"]["meta"]["lodestar"]["output"] == name
        assert node["config"]["meta"]["lodestar"]["north_star"] == {
            "product": "product-affinity",
            "id": "cross-sell-attach-rate",
        }
    nsm = models["nsm_history"]["config"]
    assert (nsm["materialized"], nsm["unique_key"]) == ("incremental", "period")
    assert models["hypothesis_status"]["depends_on"]["nodes"] == [
        "model.lodestar.goal_measures",
        "model.lodestar.nsm_history",
    ]
    assert (
        "model.lodestar.cross_sell_recommendations"
        in (models["campaign_audiences"]["depends_on"]["nodes"])
    )


@pytest.mark.dbt
def test_every_model_is_tested(compiled: dict[str, Any]) -> None:
    nodes = compiled["manifest"]["nodes"].values()
    tests = [n for n in nodes if n["resource_type"] == "test"]
    tested = {d.split(".")[-1] for t in tests for d in t["depends_on"]["nodes"]}

    assert set(MODELS) <= tested
    assert len(tests) == 77
    singular = sorted(t["name"] for t in tests if "test_metadata" not in t)
    assert singular == [
        "attach_rate_agrees_with_nsm",
        "audiences_not_yet_bought",
        "order_attach_history_per_period",
        "pair_rules_consistent",
        "pair_rules_symmetric",
        "pair_rules_within_bounds",
        "period_rules_out_of_sample",
        "recommendations_are_top_partners",
    ]


@pytest.mark.dbt
def test_sources_read_the_lake_root_of_the_settings(compiled: dict[str, Any]) -> None:
    sources = compiled["manifest"]["sources"]
    lines = sources["source.lodestar.retail_orders.order_lines"]

    assert lines["identifier"] == str(compiled["home"] / "lake" / "retail-orders" / "order_lines")
    assert lines["schema"] == "parquet"
    assert len(sources) == 8


@pytest.mark.dbt
def test_a_run_with_the_same_vars_reuses_the_parse(
    compiled: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lodestar.dbt.project")

    compile_project(settings_for(compiled["home"]), target_path=compiled["home"] / "target")

    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Unable to do partial parsing" in m]
    assert not [m for m in messages if "Starting full parse" in m]


@pytest.mark.unit
def test_stale_generated_files_stop_the_parse(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "dbt_project"
    project = tmp_path / "dbt_project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", "logs"))
    sources = project / "models" / "_lodestar_sources.yml"
    sources.write_text(sources.read_text("utf-8") + "# edited by hand\n", "utf-8")
    settings = replace(settings_for(tmp_path), dbt_project_dir=project)

    with pytest.raises(LodestarError, match="run `lodestar dbt generate`") as raised:
        compile_project(settings, target_path=tmp_path / "target")

    assert str(sources) in str(raised.value)
