"""What the page and the API say about products: manifests, published measures and run states
put together for one caller, who sees only the products whose DAG they may read.

No Airflow import here: the caller passes the run states it read and the DAG ids it may read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lodestar.airflow.ui.links import Links
from lodestar.airflow.ui.models import (
    Dataset,
    GoalProgress,
    HypothesisStatus,
    HypothesisVerdict,
    ManifestIssue,
    NorthStarDetail,
    NorthStarStatus,
    Owner,
    Point,
    ProductDetail,
    ProductList,
    ProductSummary,
    RunSummary,
    TaskState,
)
from lodestar.airflow.ui.redaction import redact, redact_optional
from lodestar.airflow.ui.statuses import StatusReader, Verdict
from lodestar.airflow.ui.tree import business_tree
from lodestar.errors import ManifestError
from lodestar.manifest import Catalog
from lodestar.manifest.model import DataProduct, NorthStarMetric
from lodestar.measures import gap, on_track, read_published
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import Settings

log = logging.getLogger(__name__)

ERROR_DAG_PREFIX = "lodestar_invalid_"


def error_dag_id(source: Path) -> str:
    """Id of the placeholder DAG that shows a broken manifest in Airflow (see the builder)."""
    return ERROR_DAG_PREFIX + "".join(c if c.isalnum() else "_" for c in source.stem)


@dataclass
class Products:
    """The manifests of one folder with their plans and publications, read once per request."""

    settings: Settings
    catalog: Catalog
    plans: dict[str, ProductPlan] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings, catalog: Catalog) -> Products:
        products = cls(settings, catalog)
        for name, product in catalog.products.items():
            try:
                products.plans[name] = plan_product(product, catalog.products, settings)
            except Exception as exc:  # NOTE: one unplannable product must not hide the others
                log.warning("product %s shown without its plan: %s", name, exc)
        return products

    def valid_names(self) -> list[str]:
        """Products whose manifest file has no error (those are the ones with a DAG)."""
        return sorted(n for n in self.catalog.products if self.catalog.is_valid(n))

    def error_files(self) -> dict[Path, list[ManifestError]]:
        files: dict[Path, list[ManifestError]] = {}
        for error in self.catalog.errors:
            path = error.location.file or self.settings.manifests_dir
            files.setdefault(path, []).append(error)
        return files

    def dag_ids(self) -> set[str]:
        """Every DAG id whose read permission decides what the caller sees."""
        return set(self.valid_names()) | {error_dag_id(p) for p in self.error_files()}

    def relative(self, path: Path | None) -> str:
        if path is None:
            return "<manifest>"
        try:
            return str(path.resolve().relative_to(self.settings.manifests_dir.resolve()))
        except ValueError:
            return path.name

    def published(self, name: str) -> dict[str, Any] | None:
        plan = self.plans.get(name)
        if plan is None:
            return None
        try:
            return read_published(plan)
        except (OSError, ValueError) as exc:
            log.warning("measures of %s not readable: %s", name, exc)
            return None


def _history(raw: Sequence[Mapping[str, Any]] | None) -> list[Point]:
    return [Point(period=p.get("period"), value=p.get("value")) for p in raw or ()]


def north_star_of(product: DataProduct, catalog: Catalog) -> tuple[NorthStarMetric, str] | None:
    """The NSM a product declares or contributes to, with the product that declares it."""
    business = product.business
    if business.north_star is not None:
        return business.north_star, product.name
    ref = business.north_star_ref
    declaring = catalog.products.get(ref.product) if ref else None
    nsm = declaring.business.north_star if declaring else None
    if ref is None or nsm is None or nsm.id != ref.id:
        return None
    return nsm, ref.product


def _north_star(
    products: Products, product: DataProduct, readable: set[str], detail: bool
) -> NorthStarStatus | NorthStarDetail | None:
    found = north_star_of(product, products.catalog)
    if found is None or found[1] not in readable:
        return None
    nsm, declared_by = found
    published = (products.published(declared_by) or {}).get("north_star") or {}
    value = published.get("value")
    common: dict[str, Any] = {
        "id": nsm.id,
        "name": nsm.name,
        "unit": nsm.unit,
        "direction": nsm.direction.value,
        "target": nsm.target,
        "declared_by": declared_by,
        "period": published.get("period"),
        "value": value,
        "gap": gap(value, nsm.target),
        "on_track": on_track(value, nsm.target, nsm.direction),
    }
    if not detail:
        return NorthStarStatus(**common)
    return NorthStarDetail(
        **common,
        description=redact(nsm.description),
        calculation=redact(nsm.calculation),
        frequency=nsm.frequency.value,
        owner=nsm.owner,
        history=_history(published.get("history")),
    )


def _summary_fields(
    products: Products,
    name: str,
    links: Links,
    runs: Mapping[str, RunSummary],
) -> dict[str, Any]:
    product = products.catalog.products[name]
    meta = product.metadata
    return {
        "name": name,
        "title": meta.title or name,
        "version": meta.version,
        "domain": meta.domain,
        "type": meta.type.value,
        "purpose": redact(meta.purpose),
        "owners": [Owner(name=p.name, email=p.email, role=p.role) for p in meta.owners],
        "tags": list(meta.tags),
        "manifest": products.relative(products.catalog.sources.get(name)),
        "dag_url": links.dag(name),
        "page_url": links.page(name),
        "last_run": runs.get(name),
    }


def issues(products: Products, readable: set[str]) -> list[ManifestIssue]:
    """Errors of the manifest files whose placeholder DAG the caller may read."""
    found = []
    for path, errors in sorted(products.error_files().items()):
        if error_dag_id(path) not in readable:
            continue
        for error in errors:
            found.append(
                ManifestIssue(
                    file=products.relative(error.location.file),
                    line=error.location.line,
                    column=error.location.column,
                    field=error.field,
                    rule=error.rule,
                    message=redact(error.message),
                    hint=redact(error.hint),
                )
            )
    return found


def product_list(
    products: Products, links: Links, readable: set[str], runs: Mapping[str, RunSummary]
) -> ProductList:
    summaries = []
    for name in products.valid_names():
        if name not in readable:
            continue
        product = products.catalog.products[name]
        nsm = _north_star(products, product, readable, detail=False)
        summaries.append(
            ProductSummary(**_summary_fields(products, name, links, runs), north_star=nsm)
        )
    return ProductList(products=summaries, errors=issues(products, readable))


def _goals(product: DataProduct, published: Mapping[str, Any]) -> list[GoalProgress]:
    measures = published.get("measures") or {}
    units = {m.name: m.unit for m in product.business.measures}
    goals = []
    for goal in product.business.goals:
        history = _history((measures.get(goal.measure) or {}).get("history"))
        known = [p.value for p in history if p.value is not None]
        latest = known[-1] if known else None
        goals.append(
            GoalProgress(
                id=goal.id,
                name=goal.name,
                measure=goal.measure,
                unit=units.get(goal.measure),
                baseline=goal.baseline,
                target=goal.target,
                direction=goal.direction.value,
                period=goal.period.value,
                deadline=goal.deadline,
                latest=latest,
                on_track=on_track(latest, goal.target, goal.direction),
                history=history,
            )
        )
    return goals


def _hypotheses(product: DataProduct, verdicts: Mapping[str, Verdict]) -> list[HypothesisStatus]:
    found = []
    for hypothesis in product.business.hypotheses:
        verdict = verdicts.get(hypothesis.id)
        moved = verdict.moved_as_predicted if verdict else None
        status: HypothesisVerdict = "unknown"
        if moved is not None:
            status = "supported" if moved else "not-supported"
        found.append(
            HypothesisStatus(
                id=hypothesis.id,
                statement=redact(hypothesis.statement),
                goal=hypothesis.goal,
                initiative=hypothesis.initiative,
                measure=hypothesis.measure,
                expected_direction=hypothesis.expected_direction.value,
                status=status,
                latest_value=verdict.latest_value if verdict else None,
            )
        )
    return found


def _datasets(plan: ProductPlan | None, links: Links) -> list[Dataset]:
    if plan is None:
        return []
    datasets = [
        Dataset(
            name=i.name,
            side="input",
            format=i.input.format or "product output",
            role=None,
            description=None,
            namespace=redact(i.dataset.namespace),
            dataset=redact(i.dataset.name),
            upstream_product=i.upstream[0] if i.upstream else None,
            marquez_url=links.marquez_dataset(i.dataset),
        )
        for i in plan.inputs.values()
    ]
    datasets += [
        Dataset(
            name=o.name,
            side="output",
            format=o.output.format,
            role=o.output.role,
            description=redact_optional(o.output.description),
            namespace=redact(o.dataset.namespace),
            dataset=redact(o.dataset.name),
            upstream_product=None,
            marquez_url=links.marquez_dataset(o.dataset),
        )
        for o in plan.outputs.values()
    ]
    return datasets


def product_detail(
    products: Products,
    name: str,
    links: Links,
    readable: set[str],
    runs: Mapping[str, RunSummary],
    tasks: Sequence[TaskState],
    statuses: StatusReader,
    may_read_warehouse: bool,
) -> ProductDetail | None:
    """The page of one product, or None when it is not a valid product the caller may read."""
    if name not in readable or name not in products.valid_names():
        return None
    product = products.catalog.products[name]
    plan = products.plans.get(name)
    published = products.published(name) or {}
    verdicts = statuses.verdicts(plan, may_read=may_read_warehouse) if plan else {}
    hypotheses = _hypotheses(product, verdicts)
    datasets = _datasets(plan, links)
    by_name = {d.name: d.marquez_url for d in datasets}
    tree = business_tree(product, {h.id: h for h in hypotheses}, lambda n: by_name.get(n))
    nsm = _north_star(products, product, readable, detail=True)
    assert nsm is None or isinstance(nsm, NorthStarDetail)
    return ProductDetail(
        **_summary_fields(products, name, links, runs),
        vision=redact(product.business.vision),
        north_star=nsm,
        goals=_goals(product, published),
        hypotheses=hypotheses,
        tree=tree,
        tasks=list(tasks),
        datasets=datasets,
        measures_published_at=published.get("published_at"),
    )
