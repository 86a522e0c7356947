"""Products, measures, statuses and runs put together for one caller (no Airflow involved)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import ui_data

from lodestar.airflow.ui.links import Links
from lodestar.airflow.ui.models import RunSummary
from lodestar.airflow.ui.products import Products, error_dag_id, product_detail, product_list
from lodestar.airflow.ui.statuses import StatusReader
from lodestar.manifest import load_folder
from lodestar.settings import Settings, load_settings

pytestmark = pytest.mark.unit

LINKS = Links.create("/", "/lodestar", None)
ALL = {"product-affinity", "retail-orders", "lodestar_invalid_retail_returns"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    manifests = ui_data.write_manifests(tmp_path / "manifests")
    return load_settings(home=tmp_path / "home", manifests_dir=manifests)


def products(settings: Settings) -> Products:
    return Products.load(settings, load_folder(settings.manifests_dir))


def run(state: str) -> RunSummary:
    when = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    return RunSummary(
        run_id="r1",
        state=state,
        run_type="manual",
        logical_date=None,
        run_after=when,
        start_date=when,
        end_date=when,
        url=LINKS.run("product-affinity", "r1"),
    )


def test_dag_ids_include_the_placeholder_of_each_broken_manifest(settings: Settings) -> None:
    assert products(settings).dag_ids() == ALL
    assert error_dag_id(Path("/m/retail-returns.yaml")) == "lodestar_invalid_retail_returns"


def test_before_any_run_the_nsm_has_no_value(settings: Settings) -> None:
    listing = product_list(products(settings), LINKS, ALL, {})

    affinity = listing.products[0]
    assert (affinity.name, affinity.last_run) == ("product-affinity", None)
    assert affinity.north_star is not None
    assert (affinity.north_star.value, affinity.north_star.on_track) == (None, None)
    assert [(e.file, e.line) for e in listing.errors] == [("retail-returns.yaml", 8)]


def test_published_measures_give_the_nsm_and_goals(settings: Settings) -> None:
    ui_data.write_measures(settings.home)
    runs = {"product-affinity": run("success")}

    listing = product_list(products(settings), LINKS, ALL, runs)
    detail = product_detail(
        products(settings), "product-affinity", LINKS, ALL, runs, [], StatusReader(), True
    )

    nsm = listing.products[0].north_star
    assert nsm is not None
    assert (nsm.value, nsm.period, nsm.on_track) == (0.605, "2011-12", True)
    assert listing.products[0].last_run == runs["product-affinity"]
    assert detail is not None and detail.north_star is not None
    assert [p.value for p in detail.north_star.history] == ui_data.ATTACH_RATE
    assert [(g.latest, g.on_track) for g in detail.goals] == [
        (0.605, True),
        (25.9, False),
        (541.0, False),
    ]


def test_unreadable_products_and_errors_stay_hidden(settings: Settings) -> None:
    readable = {"retail-orders"}

    listing = product_list(products(settings), LINKS, readable, {})
    detail = product_detail(
        products(settings), "product-affinity", LINKS, readable, {}, [], StatusReader(), True
    )

    assert [p.name for p in listing.products] == ["retail-orders"]
    assert listing.products[0].north_star is None
    assert listing.errors == []
    assert detail is None


def test_statuses_are_read_only_when_no_run_is_active(settings: Settings) -> None:
    ui_data.write_statuses(settings.warehouse)
    reader = StatusReader()
    loaded = products(settings)

    def verdicts(may_read: bool) -> list[str]:
        detail = product_detail(loaded, "product-affinity", LINKS, ALL, {}, [], reader, may_read)
        assert detail is not None
        return [h.status for h in detail.hypotheses]

    assert verdicts(may_read=False) == ["unknown", "unknown", "unknown"]
    assert verdicts(may_read=True) == ["supported", "not-supported", "unknown"]
    # while a run is active the page keeps what it read last
    assert verdicts(may_read=False) == ["supported", "not-supported", "unknown"]


def test_a_locked_warehouse_leaves_statuses_unknown(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    import duckdb

    ui_data.write_statuses(settings.warehouse)
    writer = duckdb.connect(str(settings.warehouse))  # NOTE: holds the write lock, as dbt would
    try:
        detail = product_detail(
            products(settings), "product-affinity", LINKS, ALL, {}, [], StatusReader(), True
        )
    finally:
        writer.close()

    assert detail is not None
    assert [h.status for h in detail.hypotheses] == ["unknown", "unknown", "unknown"]
    assert "hypothesis statuses of product-affinity not readable" in caplog.text


def test_a_corrupt_measures_file_does_not_hide_the_product(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    path = ui_data.write_measures(settings.home)
    path.write_text("{not json", encoding="utf-8")

    listing = product_list(products(settings), LINKS, ALL, {})

    assert [p.name for p in listing.products] == ["product-affinity", "retail-orders"]
    assert listing.products[0].north_star is not None
    assert listing.products[0].north_star.value is None
    assert "measures of product-affinity not readable" in caplog.text
