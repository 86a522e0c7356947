"""Links to Airflow's views, to this app and to Marquez, from where the app is mounted."""

from __future__ import annotations

import pytest

from lodestar.airflow.ui.links import Links
from lodestar.naming import DatasetName

pytestmark = pytest.mark.unit


def test_links_at_the_root_of_airflow() -> None:
    links = Links.create("/", "/lodestar", None)

    assert links.dag("product-affinity") == "/dags/product-affinity"
    assert links.run("product-affinity", "manual__2024-07-01T00:00:00+00:00") == (
        "/dags/product-affinity/runs/manual__2024-07-01T00%3A00%3A00%2B00%3A00"
    )
    assert links.task("retail-orders", "r1", "models.nsm_history") == (
        "/dags/retail-orders/runs/r1/tasks/models.nsm_history"
    )
    assert links.page("product-affinity") == "/lodestar/products/product-affinity"
    assert links.static("icon.svg") == "/lodestar/static/icon.svg"
    assert links.marquez_dataset(DatasetName("file", "/lake/a")) is None


def test_links_under_a_base_path() -> None:
    links = Links.create("/airflow/", "/airflow/lodestar/", None)

    assert links.dag("retail-orders") == "/airflow/dags/retail-orders"
    assert links.home() == "/airflow/lodestar/"


def test_marquez_links_name_namespace_and_dataset_without_credentials() -> None:
    links = Links.create("/", "/lodestar", "http://viewer:pw@127.0.0.1:3000/")

    assert links.marquez_dataset(DatasetName("file", "/lake/product-affinity/pair_rules")) == (
        "http://127.0.0.1:3000/lineage/dataset/file/%2Flake%2Fproduct-affinity%2Fpair_rules"
    )
    assert links.marquez_dataset(DatasetName("s3://key:secret@bucket", "orders")) == (
        "http://127.0.0.1:3000/lineage/dataset/s3%3A%2F%2Fbucket/orders"
    )
