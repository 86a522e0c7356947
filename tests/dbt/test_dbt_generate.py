"""Generated sources and model properties: one source of truth, checked against the manifests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dbt_lake import settings_for

from lodestar.dbt import stale_files
from lodestar.dbt.project import generated_files, load_products
from lodestar.dbt.properties import LAKE_ROOT_JINJA, generate_files
from lodestar.errors import LodestarError

pytestmark = pytest.mark.unit

TABLE_OUTPUTS = [
    "cross_sell_recommendations",
    "campaign_audiences",
    "product_affinity_report",
    "goal_measures",
    "nsm_history",
    "hypothesis_status",
]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    settings = settings_for(tmp_path_factory.mktemp("generate"))
    return {item.path.as_posix(): yaml.safe_load(item.text) for item in generated_files(settings)}


def test_committed_files_equal_a_fresh_generation(tmp_path: Path) -> None:
    assert stale_files(settings_for(tmp_path)) == []


def test_sources_are_the_parquet_outputs_of_both_products(documents: dict[str, dict]) -> None:
    sources = {s["name"]: s for s in documents["models/_lodestar_sources.yml"]["sources"]}

    assert {name: [t["name"] for t in s["tables"]] for name, s in sources.items()} == {
        "product_affinity": ["item_support", "pair_rules", "period_rules", "order_attach"],
        "retail_orders": ["order_lines", "orders", "products", "quarantine"],
    }
    lines = sources["retail_orders"]["tables"][0]
    assert lines["identifier"] == LAKE_ROOT_JINJA + "/retail-orders/order_lines"
    assert lines["config"]["meta"]["external_location"] == (
        "read_parquet('$identifier/*/*.parquet', hive_partitioning = true, "
        "hive_types_autocast = false, union_by_name = true)"
    )
    products = sources["retail_orders"]["tables"][2]
    assert products["config"]["meta"]["external_location"] == (
        "read_parquet('$identifier/*.parquet', union_by_name = true)"
    )


def test_source_paths_follow_the_lake_root_of_the_run(documents: dict[str, dict]) -> None:
    text = yaml.safe_dump(documents["models/_lodestar_sources.yml"])

    assert "var('lake_root'" in LAKE_ROOT_JINJA
    assert "env_var('LODESTAR_LAKE_ROOT'" in LAKE_ROOT_JINJA
    assert "/tmp" not in text and "/work" not in text and ".lodestar/lake" not in text


def test_model_properties_carry_the_business_ids(documents: dict[str, dict]) -> None:
    models = {
        m["name"]: m
        for m in documents["models/product_affinity/_product_affinity__models.yml"]["models"]
    }

    assert list(models) == TABLE_OUTPUTS
    nsm = models["nsm_history"]["config"]
    assert nsm["schema"] == "product_affinity"
    assert nsm["tags"] == ["product_affinity"]
    assert nsm["meta"]["lodestar"] == {
        "product": "product-affinity",
        "output": "nsm_history",
        "role": "north-star",
        "use_cases": ["fbt-recommendations"],
        "hypotheses": ["fbt-raises-attach"],
        "goals": ["raise-attach-rate"],
        "measures": {"attach_rate": "value"},
        "north_star": {"product": "product-affinity", "id": "cross-sell-attach-rate"},
    }
    goals = models["goal_measures"]["config"]["meta"]["lodestar"]
    assert goals["use_cases"] == ["cross-sell-campaigns", "affinity-reports"]
    assert goals["hypotheses"] == [
        "fbt-raises-attach",
        "bundles-raise-revenue",
        "emails-raise-breadth",
    ]
    assert goals["goals"] == [
        "raise-attach-rate",
        "raise-basket-breadth",
        "raise-revenue-per-order",
    ]
    assert goals["measures"] == {
        "basket_breadth": "basket_breadth",
        "revenue_per_order": "revenue_per_order",
    }


def test_every_model_has_tests_and_its_manifest_columns_first(documents: dict[str, dict]) -> None:
    models = documents["models/product_affinity/_product_affinity__models.yml"]["models"]
    products = load_products(settings_for(Path("/nonexistent")))
    outputs = {o.name: o for o in products["product-affinity"].build.outputs}

    for model in models:
        declared = [c.name for c in outputs[model["name"]].columns]
        columns = [c["name"] for c in model["columns"]]
        assert columns[: len(declared)] == declared
        tested = [c for c in model["columns"] if c.get("data_tests")]
        assert tested, model["name"]
        assert all(c.get("description") for c in model["columns"]), model["name"]


def _project_copy(tmp_path: Path) -> Path:
    source = Path(__file__).resolve().parents[2] / "dbt_project"
    project = tmp_path / "dbt_project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", "logs"))
    return project


def test_unknown_model_in_template_is_named_with_a_suggestion(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    template = project / "properties" / "product_affinity.yml"
    template.write_text("models:\n  nsm_histroy:\n    data_tests: []\n", encoding="utf-8")
    products = load_products(settings_for(tmp_path))

    with pytest.raises(LodestarError) as raised:
        generate_files(products, project)

    message = str(raised.value)
    assert str(template) in message
    assert "'nsm_histroy' is not an output of format table of product-affinity" in message
    assert "did you mean 'nsm_history'?" in message


def test_undeclared_column_needs_a_description(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    template = project / "properties" / "product_affinity.yml"
    template.write_text(
        "models:\n  goal_measures:\n    columns:\n      orders:\n        data_tests: [not_null]\n",
        encoding="utf-8",
    )
    products = load_products(settings_for(tmp_path))

    with pytest.raises(LodestarError, match="column 'orders' is not declared in the manifest"):
        generate_files(products, project)


def test_table_output_without_a_model_is_an_error(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    (project / "models" / "product_affinity" / "hypothesis_status.sql").unlink()
    products = load_products(settings_for(tmp_path))

    with pytest.raises(LodestarError, match="output 'hypothesis_status' has format table"):
        generate_files(products, project)


def test_unknown_template_key_is_an_error(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    template = project / "properties" / "product_affinity.yml"
    template.write_text("models:\n  goal_measures:\n    tests: []\n", encoding="utf-8")
    products = load_products(settings_for(tmp_path))

    with pytest.raises(LodestarError, match=r"unknown key 'tests'.*did you mean 'data_tests'"):
        generate_files(products, project)
