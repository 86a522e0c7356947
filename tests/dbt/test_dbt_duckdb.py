"""dbt build of the product_affinity models on DuckDB, checked against a Python oracle."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_lake import PERIODS, Lake, affinity_plan, build_lake, settings_for
from dbt_oracle import (
    attach_by_period,
    audiences,
    goal_measures,
    hypothesis_status,
    recommendations,
)

from lodestar.dbt import run_dbt, vars_for
from lodestar.settings import Settings, with_overrides

pytestmark = pytest.mark.dbt

MODELS = (
    "cross_sell_recommendations",
    "campaign_audiences",
    "product_affinity_report",
    "goal_measures",
    "nsm_history",
    "hypothesis_status",
)


@dataclass
class Built:
    settings: Settings
    lake: Lake
    dbt_vars: dict[str, Any]
    params: dict[str, Any]
    outcome: Any
    first: dict[str, list[dict[str, Any]]]

    def run(self, args: list[str], **changes: Any) -> None:
        settings = with_overrides(self.settings, **changes) if changes else self.settings
        dbt_vars = {**self.dbt_vars, "lake_root": settings.lake_root}
        run_dbt(args, settings, dbt_vars=dbt_vars, target_path=settings.home / "target")


def read_tables(warehouse: Path) -> dict[str, list[dict[str, Any]]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {}
        for name in MODELS:
            result = con.execute(f"select * from product_affinity.{name}")
            columns = [d[0] for d in result.description]
            rows = result.fetchall()
            tables[name] = sorted(
                (dict(zip(columns, row, strict=True)) for row in rows),
                key=lambda r: tuple(str(v) for v in r.values()),
            )
        return tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    home = tmp_path_factory.mktemp("dbt-duckdb")
    lake = build_lake()
    lake.write(home / "lake")
    settings = settings_for(home)
    dbt_vars = vars_for(affinity_plan(settings))
    # NOTE: one recommendation per product makes the tie P03 -> P04 / P05 decide who is kept
    dbt_vars = copy.deepcopy(dbt_vars)
    dbt_vars["product_affinity"]["recommendations_per_product"] = 1
    outcome = run_dbt(
        ["build"], settings, dbt_vars=dbt_vars, target_path=home / "target", check=False
    )
    first = read_tables(settings.warehouse) if outcome.success else {}
    return Built(settings, lake, dbt_vars, dbt_vars["product_affinity"], outcome, first)


def test_build_passes_every_model_and_test(built: Built) -> None:
    assert built.outcome.success, built.outcome.failures
    statuses = [str(r.status) for r in built.outcome.result.results]
    assert len(statuses) == 6 + 77
    assert set(statuses) == {"success", "pass"}


def test_recommendations_equal_the_oracle(built: Built) -> None:
    expected = recommendations(built.lake.rows("product-affinity", "pair_rules"), built.params)
    got = built.first["cross_sell_recommendations"]

    def key(r: dict[str, Any]) -> tuple[str, int]:
        return (r["product_id"], r["rank"])

    assert [
        (r["product_id"], r["recommended_product_id"], r["rank"]) for r in sorted(got, key=key)
    ] == [
        (r["product_id"], r["recommended_product_id"], r["rank"]) for r in sorted(expected, key=key)
    ]
    assert {key(r): r["lift"] for r in got} == {key(r): r["lift"] for r in expected}
    # P03 -> P04 and P03 -> P05 tie on lift and confidence: the smaller partner id is kept
    assert sorted((r["product_id"], r["recommended_product_id"]) for r in got) == [
        ("P01", "P02"),
        ("P02", "P01"),
        ("P03", "P04"),
        ("P04", "P05"),
        ("P05", "P04"),
    ]


def test_nsm_history_has_one_row_per_period_with_the_oracle_values(built: Built) -> None:
    expected = attach_by_period(
        built.lake.rows("retail-orders", "orders"),
        built.lake.rows("product-affinity", "order_attach"),
    )
    rows = {r["period"]: r for r in built.first["nsm_history"]}
    assert sorted(rows) == list(PERIODS)
    for period, want in expected.items():
        row = rows[period]
        assert row["status"] == want["status"]
        assert row["measured_orders"] == want["measured_orders"]
        assert row["attached_orders"] == want["attached_orders"]
        if want["value"] is None:
            assert row["value"] is None and row["gap"] is None and row["on_track"] is None
        else:
            assert row["value"] == pytest.approx(want["value"], rel=1e-12)
            assert row["gap"] == pytest.approx(want["value"] - 0.6, rel=1e-12)
            assert row["on_track"] is (want["value"] >= 0.6)
        assert (row["nsm_id"], row["target"], row["direction"]) == (
            "cross-sell-attach-rate",
            0.6,
            "increase",
        )
    assert rows["2011-01"]["status"] == "no_history"
    # the oversize order of 2011-03 is valid but not measured by the affinity job
    assert rows["2011-03"]["measured_orders"] == 24
    assert [rows[p]["value"] for p in PERIODS[1:]] == pytest.approx(
        [3 / 24, 7 / 24, 6 / 24, 5 / 24]
    )


def test_goal_measures_equal_the_oracle(built: Built) -> None:
    expected = goal_measures(
        built.lake.rows("retail-orders", "orders"),
        built.lake.rows("product-affinity", "order_attach"),
    )
    rows = {r["period"]: r for r in built.first["goal_measures"]}
    assert sorted(rows) == sorted(expected)
    for period, want in expected.items():
        row = rows[period]
        assert row["order_count"] == want["order_count"]
        assert row["basket_breadth"] == pytest.approx(want["basket_breadth"], rel=1e-12)
        assert row["revenue_per_order"] == pytest.approx(want["revenue_per_order"], rel=1e-12)
        if want["attach_rate"] is None:
            assert row["attach_rate"] is None
        else:
            assert row["attach_rate"] == pytest.approx(want["attach_rate"], rel=1e-12)
    assert [rows[p]["order_count"] for p in PERIODS] == [24, 24, 25, 24, 24]


def test_campaign_audiences_equal_the_oracle(built: Built) -> None:
    recs = recommendations(built.lake.rows("product-affinity", "pair_rules"), built.params)
    expected = audiences(
        built.lake.rows("retail-orders", "order_lines"), recs, built.params["audience_window_days"]
    )
    fields = ("customer_id", "offer_product_id", "product_id", "recommendation_rank")
    got = sorted(tuple(r[f] for f in fields) for r in built.first["campaign_audiences"])
    assert got == sorted(tuple(r[f] for f in fields) for r in expected)
    assert got  # the fixture plants customers who bought P03 without P04


def test_hypothesis_status_equals_the_oracle(built: Built) -> None:
    lake = built.lake
    orders, attach = (
        lake.rows("retail-orders", "orders"),
        lake.rows("product-affinity", "order_attach"),
    )
    expected = hypothesis_status(
        built.params, goal_measures(orders, attach), attach_by_period(orders, attach)
    )
    rows = {r["hypothesis_id"]: r for r in built.first["hypothesis_status"]}
    assert sorted(rows) == sorted(expected)
    for hypothesis, want in expected.items():
        row = rows[hypothesis]
        assert row["latest_period"] == want["latest_period"]
        assert row["latest_value"] == pytest.approx(want["latest_value"], rel=1e-12)
        assert row["change"] == pytest.approx(want["change"], rel=1e-12)
        assert row["moved_as_predicted"] is want["moved_as_predicted"]
        assert row["status"] == (
            "as_predicted" if want["moved_as_predicted"] else "not_as_predicted"
        )


def test_affinity_report_holds_every_rule_with_descriptions(built: Built) -> None:
    rules = built.lake.rows("product-affinity", "pair_rules")
    descriptions = {
        p["product_id"]: p["description"] for p in built.lake.rows("retail-orders", "products")
    }
    rows = built.first["product_affinity_report"]
    assert len(rows) == len(rules)
    for row in rows:
        assert row["description"] == descriptions[row["product_id"]]
        assert row["partner_description"] == descriptions[row["partner_id"]]
    recommended = {(r["product_id"], r["partner_id"]) for r in rows if r["recommended"]}
    assert recommended == {
        (r["product_id"], r["recommended_product_id"])
        for r in built.first["cross_sell_recommendations"]
    }


def test_rerun_gives_the_same_rows(built: Built) -> None:
    built.run(["run"])

    assert read_tables(built.settings.warehouse) == built.first


def test_history_keeps_earlier_periods_and_measurements(built: Built) -> None:
    later = build_lake(periods=("2011-03", "2011-04", "2011-05", "2011-06"), seed=7)
    later_root = built.settings.home / "lake-later"
    later.write(later_root)

    built.run(["run", "--select", "nsm_history"], lake_root=str(later_root))

    rows = {r["period"]: r for r in read_tables(built.settings.warehouse)["nsm_history"]}
    assert sorted(rows) == [*PERIODS, "2011-06"]
    before = {r["period"]: r for r in built.first["nsm_history"]}
    # periods the later lake no longer holds keep their rows
    assert rows["2011-01"] == before["2011-01"] and rows["2011-02"] == before["2011-02"]
    # the later lake's first period has no window before it: its earlier measurement stays
    assert rows["2011-03"] == before["2011-03"]
    expected = attach_by_period(
        later.rows("retail-orders", "orders"), later.rows("product-affinity", "order_attach")
    )
    for period in ("2011-04", "2011-05", "2011-06"):
        assert rows[period]["value"] == pytest.approx(expected[period]["value"], rel=1e-12)
        assert rows[period]["measured_orders"] == expected[period]["measured_orders"]
