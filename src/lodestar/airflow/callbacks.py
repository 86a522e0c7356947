"""Failure and deadline callbacks that say which product and which NSM are at risk."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def nsm_at_risk(product: str, manifests_dir: str | None = None) -> str:
    """'NSM cross-sell-attach-rate (target 0.6, owner ...)' for a product, best effort."""
    from lodestar.airflow.context import task_context

    try:
        ctx = task_context(product, manifests_dir)
    except Exception:
        log.debug("no context for %s", product, exc_info=True)
        return "NSM unknown (the manifest could not be loaded)"
    business = ctx.plan.product.business
    nsm = business.north_star
    if nsm is None and business.north_star_ref is not None:
        ref = business.north_star_ref
        declaring = ctx.catalog.products.get(ref.product)
        nsm = declaring.business.north_star if declaring else None
    if nsm is None:
        return "no NSM declared"
    return f"NSM {nsm.id} ({nsm.name}, target {nsm.target:g} {nsm.unit}, owner {nsm.owner})"


def on_task_failure(context: Any) -> None:
    """Names the product, the failed task and the NSM at risk, for people watching the run."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    exception = context.get("exception")
    log.error(
        "data product %s: task %s failed (%s); %s is at risk",
        dag_id,
        task_id,
        exception,
        nsm_at_risk(dag_id),
    )


def deadline_missed(context: Any = None, product: str = "?", **_: Any) -> None:
    """Called when a run finishes later than the SLA its manifest sets."""
    log.error("data product %s missed its SLA; %s is at risk", product, nsm_at_risk(product))
