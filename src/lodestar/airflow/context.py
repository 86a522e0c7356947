"""What a running task needs: settings, the catalog of manifests and its product's plan.

Tasks rebuild this at execution time from the manifests folder rather than carrying it in the
serialized DAG, so a worker with other settings (a cluster) resolves its own locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lodestar.errors import LodestarError
from lodestar.manifest import Catalog, load_folder
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import Settings, load_settings


@dataclass(frozen=True)
class TaskContext:
    settings: Settings
    catalog: Catalog
    plan: ProductPlan


@lru_cache(maxsize=8)
def _catalog(folder: str, stamp: float) -> Catalog:
    return load_folder(Path(folder))


def _stamp(folder: Path) -> float:
    files = list(folder.glob("*.y*ml"))
    return max((f.stat().st_mtime for f in files), default=0.0) + len(files)


def task_context(product: str, manifests_dir: str | None = None) -> TaskContext:
    """Settings, catalog and plan for ``product`` (raises when the product is missing)."""
    settings = load_settings(manifests_dir=manifests_dir)
    folder = settings.manifests_dir
    catalog = _catalog(str(folder), _stamp(folder))
    if product not in catalog.products:
        errors = "; ".join(str(e) for e in catalog.errors) or "no manifest declares it"
        raise LodestarError(f"product {product!r} is not loadable from {folder}: {errors}")
    return TaskContext(
        settings, catalog, plan_product(catalog.products[product], catalog.products, settings)
    )
