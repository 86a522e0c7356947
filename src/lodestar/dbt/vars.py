"""dbt vars of one product's run, taken from its manifest.

Shape (what the models read through the ``lodestar_param`` macro)::

    lake_root: <the run's lake root>
    <product identifier>:            # e.g. product_affinity
      product: product-affinity
      recommendations_per_product: 5 # ... and every other var of the product's dbt steps
      thresholds: {min_support, min_support_count, min_confidence, min_lift}
      north_star: {product, id, measure, target, direction, unit}
      goals: [{id, measure, baseline, target, direction, deadline}]
      hypotheses: [{id, initiative, goal, measure, expected_direction, baseline, target}]
      measures: [{name, output, column}]

Product parameters sit under the product's identifier so that the models of several products
can share one dbt project: a run passes the vars of its own product only, and a model never
reads another product's parameters by accident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lodestar import naming
from lodestar.manifest.model import AffinityParams, DataProduct, DbtStep, SparkStep

if TYPE_CHECKING:
    from lodestar.plan import ProductPlan

LAKE_ROOT_VAR = "lake_root"


def vars_for(plan: ProductPlan) -> dict[str, Any]:
    """The ``--vars`` of a dbt run of ``plan``'s product (JSON-serialisable)."""
    return {
        LAKE_ROOT_VAR: plan.settings.lake_root,
        naming.dbt_source_name(plan.name): product_params(plan.product),
    }


def product_params(product: DataProduct) -> dict[str, Any]:
    """The parameters one product's models read, from its manifest alone."""
    business = product.business
    goals = {g.id: g for g in business.goals}
    params: dict[str, Any] = {"product": product.name}
    for step in product.build.steps:
        if isinstance(step, DbtStep):
            params.update(step.vars)
    params["thresholds"] = _thresholds(product)
    params["north_star"] = _north_star(product)
    params["goals"] = [
        {
            "id": g.id,
            "measure": g.measure,
            "baseline": g.baseline,
            "target": g.target,
            "direction": str(g.direction),
            "deadline": g.deadline.isoformat() if g.deadline else None,
        }
        for g in business.goals
    ]
    params["hypotheses"] = [
        {
            "id": h.id,
            "initiative": h.initiative,
            "goal": h.goal,
            "measure": h.measure,
            "expected_direction": str(h.expected_direction),
            "baseline": goals[h.goal].baseline if h.goal in goals else None,
            "target": goals[h.goal].target if h.goal in goals else None,
        }
        for h in business.hypotheses
    ]
    params["measures"] = [
        {"name": m.name, "output": m.output, "column": m.column} for m in business.measures
    ]
    return params


def _thresholds(product: DataProduct) -> dict[str, Any] | None:
    for step in product.build.steps:
        if isinstance(step, SparkStep) and isinstance(step.params, AffinityParams):
            return step.params.thresholds.model_dump()
    return None


def _north_star(product: DataProduct) -> dict[str, Any]:
    nsm = product.business.north_star
    if nsm is None:
        ref = product.business.north_star_ref
        assert ref is not None  # NOTE: the model requires exactly one of the two
        return {"product": ref.product, "id": ref.id}
    return {
        "product": product.name,
        "id": nsm.id,
        "measure": nsm.measure,
        "target": nsm.target,
        "direction": str(nsm.direction),
        "unit": nsm.unit,
    }
