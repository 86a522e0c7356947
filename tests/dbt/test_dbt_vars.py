"""dbt vars of a product's run, from its manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt_lake import affinity_plan, settings_for

from lodestar.dbt import project_vars, vars_for

pytestmark = pytest.mark.unit


def test_vars_of_product_affinity_come_from_its_manifest(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)

    dbt_vars = vars_for(affinity_plan(settings))

    assert dbt_vars == {
        "lake_root": str(tmp_path / "lake"),
        "product_affinity": {
            "product": "product-affinity",
            "recommendations_per_product": 5,
            "audience_window_days": 90,
            "thresholds": {
                "min_support": 0.015,
                "min_support_count": None,
                "min_confidence": 0.4,
                "min_lift": 4.0,
            },
            "north_star": {
                "product": "product-affinity",
                "id": "cross-sell-attach-rate",
                "measure": "attach_rate",
                "target": 0.6,
                "direction": "increase",
                "unit": "ratio",
            },
            "goals": [
                {
                    "id": "raise-attach-rate",
                    "measure": "attach_rate",
                    "baseline": 0.5,
                    "target": 0.6,
                    "direction": "increase",
                    "deadline": "2012-06-30",
                },
                {
                    "id": "raise-basket-breadth",
                    "measure": "basket_breadth",
                    "baseline": 24.0,
                    "target": 28.0,
                    "direction": "increase",
                    "deadline": "2012-06-30",
                },
                {
                    "id": "raise-revenue-per-order",
                    "measure": "revenue_per_order",
                    "baseline": 480.0,
                    "target": 550.0,
                    "direction": "increase",
                    "deadline": "2012-06-30",
                },
            ],
            "hypotheses": [
                {
                    "id": "fbt-raises-attach",
                    "initiative": "fbt-suggestions",
                    "goal": "raise-attach-rate",
                    "measure": "attach_rate",
                    "expected_direction": "increase",
                    "baseline": 0.5,
                    "target": 0.6,
                },
                {
                    "id": "bundles-raise-revenue",
                    "initiative": "bundle-offers",
                    "goal": "raise-revenue-per-order",
                    "measure": "revenue_per_order",
                    "expected_direction": "increase",
                    "baseline": 480.0,
                    "target": 550.0,
                },
                {
                    "id": "emails-raise-breadth",
                    "initiative": "cross-sell-emails",
                    "goal": "raise-basket-breadth",
                    "measure": "basket_breadth",
                    "expected_direction": "increase",
                    "baseline": 24.0,
                    "target": 28.0,
                },
            ],
            "measures": [
                {"name": "attach_rate", "output": "nsm_history", "column": "value"},
                {"name": "basket_breadth", "output": "goal_measures", "column": "basket_breadth"},
                {
                    "name": "revenue_per_order",
                    "output": "goal_measures",
                    "column": "revenue_per_order",
                },
            ],
        },
    }
    assert json.loads(json.dumps(dbt_vars)) == dbt_vars


def test_project_vars_equal_the_one_dbt_product(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)

    assert project_vars(settings) == vars_for(affinity_plan(settings))
