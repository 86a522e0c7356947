"""The JSON API of the Data Products page, for the page itself and for other tools."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from lodestar.airflow.ui.models import ProductDetail, ProductList
from lodestar.airflow.ui.view import ViewDep

API_PREFIX = "/api/v1"

_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"description": "Not signed in (no or expired token)."},
    status.HTTP_403_FORBIDDEN: {"description": "Invalid token, or the DAG may not be read."},
}

router = APIRouter(prefix=API_PREFIX, tags=["Data products"], responses=_ERRORS)


@router.get("/products", summary="List data products")
def list_products(view: ViewDep) -> ProductList:
    """Every data product whose DAG the caller may read, with its last run and NSM, and the
    errors of manifests that did not load (for callers who may read their placeholder DAG)."""
    return view.product_list()


@router.get(
    "/products/{name}",
    summary="One data product",
    responses={status.HTTP_404_NOT_FOUND: {"description": "No valid product of that name."}},
)
def get_product(name: str, view: ViewDep) -> ProductDetail:
    """The business chain, the NSM and goal histories, hypothesis statuses, the latest run's
    task states and the datasets of one product."""
    return view.product_detail(name)
