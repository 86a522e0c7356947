"""What ``lodestar demo`` tells people: one line per task attempt, and the run's summary, read
from what the Spark jobs reported in their statistics."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lodestar.airflow.runner import TaskAttempt
from lodestar.cli.console import Console
from lodestar.cli.demo import _print_summary, _progress
from lodestar.manifest import load_folder
from lodestar.plan import ProductPlan, plan_product
from lodestar.settings import load_settings
from lodestar.summary import Oversize, summarise

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
#: statistics of a real demo run; see tests/stats/README.md
STATS = REPO / "tests" / "stats"


def plans(home: Path) -> tuple[ProductPlan, ProductPlan]:
    settings = load_settings(
        home=home,
        manifests_dir=REPO / "manifests",
        warehouse=home / "warehouse.duckdb",
        lineage_file=home / "lineage" / "events.jsonl",
        lineage_url="",
        dbt_target="duckdb",
    )
    catalog = load_folder(settings.manifests_dir)
    return (
        plan_product(catalog.products["retail-orders"], catalog.products, settings),
        plan_product(catalog.products["product-affinity"], catalog.products, settings),
    )


def with_demo_stats(home: Path) -> tuple[ProductPlan, ProductPlan]:
    orders, affinity = plans(home)
    for plan, step in ((orders, "ingest"), (affinity, "affinity")):
        target = plan.stats_path(step)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STATS / plan.name / f"{step}.json", target)
    return orders, affinity


def test_orders_baskets_and_oversize_come_from_their_own_jobs(tmp_path: Path) -> None:
    summary = summarise(*with_demo_stats(tmp_path))

    assert (summary.rows_in, summary.rows_kept) == (541_909, 522_504)
    assert summary.orders == 19_773
    assert summary.baskets == 19_724
    assert summary.oversize == Oversize(
        baskets=49,
        policy="exclude",
        max_basket_size=500,
        largest_order="573585",
        largest_items=1_108,
    )
    assert (summary.pairs, summary.rules) == (189, 178)


def test_without_statistics_nothing_is_made_up(tmp_path: Path) -> None:
    summary = summarise(*plans(tmp_path))

    assert (summary.orders, summary.baskets, summary.oversize) == (None, None, None)


def printed(write: Callable[[Console], None]) -> list[str]:
    out = io.StringIO()
    write(Console(out, io.StringIO(), color=False))
    return out.getvalue().splitlines()


def test_the_summary_tells_orders_baskets_and_the_oversize_exclusion_apart(
    tmp_path: Path,
) -> None:
    summary = summarise(*with_demo_stats(tmp_path))

    lines = printed(lambda console: _print_summary(console, summary))

    assert lines[lines.index("  rows read                        541,909") :] == [
        "  rows read                        541,909",
        "  rows kept                        522,504",
        "  rows quarantined                 19,405",
        "    cancellation                   9,288",
        "    duplicate_line                 5,221",
        "    non_product_code               2,408",
        "    non_positive_quantity          1,324",
        "    non_positive_price             1,161",
        "    adjustment                     3",
        "    malformed_record               0",
        "    missing_order_id               0",
        "    missing_product_id             0",
        "    unparseable_timestamp          0",
        "  orders written by the ingest     19,773",
        "  baskets counted for affinity     19,724",
        "  baskets over maxBasketSize 500   49, excluded (oversizePolicy exclude)",
        "    largest                        order 573585, 1,108 distinct items",
        "  pairs at min support             189",
        "  rules kept                       178",
        "  NSM: not published",
        f"  lineage                          {tmp_path / 'lineage' / 'events.jsonl'}",
    ]


@pytest.mark.parametrize(
    ("oversize", "expected"),
    [
        (
            Oversize(0, "exclude", 500, None, None),
            ["  baskets over maxBasketSize 500   0 (oversizePolicy exclude)"],
        ),
        (
            Oversize(2, "keep", 100, "581219", 748),
            [
                "  baskets over maxBasketSize 100   2, kept in the counts (oversizePolicy keep)",
                "    largest                        order 581219, 748 distinct items",
            ],
        ),
    ],
)
def test_the_oversize_line_follows_the_policy(
    tmp_path: Path, oversize: Oversize, expected: list[str]
) -> None:
    summary = summarise(*with_demo_stats(tmp_path))
    summary.oversize = oversize

    lines = printed(lambda console: _print_summary(console, summary))

    start = lines.index("  baskets counted for affinity     19,724") + 1
    assert lines[start : start + len(expected) + 1] == [
        *expected,
        "  pairs at min support             189",
    ]


def test_each_attempt_is_printed_with_its_state() -> None:
    attempts = [
        TaskAttempt("check_inputs", "up_for_retry", 1),
        TaskAttempt("check_inputs", "up_for_retry", 2),
        TaskAttempt("check_inputs", "failed", 3),
        TaskAttempt("ingest", "success", 1),
        TaskAttempt("models.tests", "skipped", 1),
        TaskAttempt("checks", None, 1),
    ]

    def write(console: Console) -> None:
        tell = _progress(console, 2)
        for attempt in attempts:
            tell(attempt)

    assert printed(write) == [
        "  failed: check_inputs (attempt 1; retry 1 of 2 follows)",
        "  failed: check_inputs (attempt 2; retry 2 of 2 follows)",
        "  failed: check_inputs (attempt 3)",
        "  success: ingest",
        "  skipped: models.tests",
        "  ended, state not logged: checks (attempt 1)",
    ]
