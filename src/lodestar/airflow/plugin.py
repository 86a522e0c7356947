"""The Lodestar Airflow plugin (Airflow 3 plugin API): the Data Products page and its API.

``fastapi_apps`` mounts the app into the api-server under ``/lodestar``; ``external_views`` puts
a "Data Products" entry in the top level of Airflow's navigation, which shows the page inside
Airflow at ``/plugin/data-products``.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from lodestar.airflow.ui import DeferredApp

URL_PREFIX = "/lodestar"

DATA_PRODUCTS_APP = {
    "app": DeferredApp(prefix=URL_PREFIX),
    "url_prefix": URL_PREFIX,
    "name": "Lodestar data products",
}

DATA_PRODUCTS_VIEW = {
    "name": "Data Products",
    "href": f"{URL_PREFIX}/",
    "url_route": "data-products",
    "destination": "nav",
    "nav_top_level": True,
    "icon": f"{URL_PREFIX}/static/icon.svg",
}


class LodestarPlugin(AirflowPlugin):
    """Registers Lodestar's Data Products page and API with Airflow."""

    name = "lodestar"
    # NOTE: Airflow's plugin API reads these lists as class attributes
    fastapi_apps: list[Any] = [DATA_PRODUCTS_APP]  # noqa: RUF012
    external_views: list[Any] = [DATA_PRODUCTS_VIEW]  # noqa: RUF012
