"""What one request sees: the manifests, the caller's readable DAGs, run states and links.

Shared by the JSON API and the HTML pages, so both always show the same thing to the same user.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Request, status

from lodestar.airflow.ui import runs
from lodestar.airflow.ui.access import readable_dag_ids
from lodestar.airflow.ui.links import Links
from lodestar.airflow.ui.models import ProductDetail, ProductList, RunSummary
from lodestar.airflow.ui.products import Products, product_detail, product_list
from lodestar.airflow.ui.statuses import StatusReader
from lodestar.manifest import Catalog, load_folder
from lodestar.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def _stamp(folder: Path) -> tuple[tuple[str, float, int], ...]:
    """Names, mtimes and sizes of the manifest files: any edit changes it."""
    entries = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((path.name, stat.st_mtime, stat.st_size))
    return tuple(entries)


@dataclass
class UiState:
    """Per-process state of the app: the catalog, reloaded when a manifest changes."""

    statuses: StatusReader = field(default_factory=StatusReader)
    _catalog: tuple[Path, tuple[tuple[str, float, int], ...], Catalog] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def catalog(self, settings: Settings) -> Catalog:
        folder = settings.manifests_dir
        stamp = _stamp(folder)
        with self._lock:
            cached = self._catalog
        if cached is not None and cached[0] == folder and cached[1] == stamp:
            return cached[2]
        catalog = load_folder(folder)
        with self._lock:
            self._catalog = (folder, stamp, catalog)
        return catalog


@dataclass
class View:
    """One request's view of the products."""

    state: UiState
    products: Products
    links: Links
    readable: set[str]
    runs: dict[str, RunSummary]
    session: Session

    def product_list(self) -> ProductList:
        return product_list(self.products, self.links, self.readable, self.runs)

    def product_detail(self, name: str) -> ProductDetail:
        """The product's page data; 404 when there is no such valid product, 403 when the
        caller may not read its DAG."""
        if name not in self.products.valid_names():
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no data product named {name!r}")
        if name not in self.readable:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")
        run = self.runs.get(name)
        tasks = runs.run_tasks(self.session, name, run.run_id, self.links) if run else []
        may_read = not runs.any_active(self.session, self.products.valid_names())
        detail = product_detail(
            self.products,
            name,
            self.links,
            self.readable,
            self.runs,
            tasks,
            self.state.statuses,
            may_read_warehouse=may_read,
        )
        assert detail is not None  # NOTE: both conditions were checked above
        return detail


def links_for(request: Request, prefix: str, settings: Settings) -> Links:
    """Links relative to where this app is mounted (``<airflow root><prefix>``)."""
    app_root = str(request.scope.get("root_path", "")) or prefix
    airflow_root = app_root.removesuffix(prefix) or "/"
    return Links.create(airflow_root, app_root, settings.marquez_web_url)


def current_view(request: Request, user: GetUserDep, session: SessionDep) -> View:
    """Dependency: the caller's view; 401/403 through Airflow's ``get_user`` when not signed in."""
    state: UiState = request.app.state.lodestar
    prefix: str = request.app.state.lodestar_prefix
    settings = load_settings()
    products = Products.load(settings, state.catalog(settings))
    links = links_for(request, prefix, settings)
    readable = readable_dag_ids(user, products.dag_ids())
    visible = [n for n in products.valid_names() if n in readable]
    latest = runs.latest_runs(session, visible, links)
    log.debug(
        "user %s reads %d of %d DAGs", user.get_name(), len(readable), len(products.dag_ids())
    )
    return View(state, products, links, readable, latest, session)


ViewDep = Annotated[View, Depends(current_view)]
