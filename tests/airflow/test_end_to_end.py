"""The main job end to end: both reference products through Airflow on a real subset.

Four months of the real Online Retail file (2011-06 .. 2011-09) go through `airflow dags test`
for retail-orders and then product-affinity, with the real Spark jobs (spark-submit, local),
dbt on DuckDB and lineage over HTTP to a Marquez-like server on 127.0.0.1. Every number is
compared with an independent DuckDB computation written here from the definitions in
DOMAIN.md, not with the product's own code.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from lodestar.airflow.runner import prepare_airflow, run_dag
from lodestar.dbt import compile_project
from lodestar.lineage.graph import LineageGraph
from lodestar.lineage.validate import validate_events
from lodestar.settings import Settings, load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lineage"))
from marquez_stub import MarquezStub

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "data" / "online-retail" / "online_retail.parquet"
SPEC = REPO.parent / "shared" / "openlineage-spec"
MONTHS = ("2011-06", "2011-07", "2011-08", "2011-09")
#: the rejection rules are the reference manifest's input, not part of what is checked
_INGEST = yaml.safe_load((REPO / "manifests" / "retail-orders.yaml").read_text())["build"]
RULES = _INGEST["steps"][0]["params"]["rules"]
NON_PRODUCT = RULES["nonProductCodes"]
MIN_SUPPORT_PERMILLE, MIN_CONFIDENCE, MIN_LIFT, MAX_BASKET, TRAILING = 15, 0.4, 4.0, 500, 3

pytestmark = [pytest.mark.airflow, pytest.mark.spark, pytest.mark.dbt, pytest.mark.slow]


def write_subset(target: Path) -> int:
    con = duckdb.connect()
    months = ", ".join(f"'{m}'" for m in MONTHS)
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{SOURCE}') WHERE substr(InvoiceDate, 1, 7) "
        f"IN ({months})) TO '{target}' (FORMAT parquet)"
    ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0]
    con.close()
    return int(rows)


@pytest.fixture(scope="module")
def marquez() -> Any:
    with MarquezStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, marquez: MarquezStub) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("e2e")
    subset = base / "online_retail_2011_06_09.parquet"
    rows = write_subset(subset)
    manifests = base / "manifests"
    manifests.mkdir()
    for path in (REPO / "manifests").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("uri: data/online-retail/online_retail.parquet", f"uri: {subset}")
        (manifests / path.name).write_text(text, encoding="utf-8")
    settings = load_settings(
        home=base / "home",
        manifests_dir=manifests,
        lineage_url=marquez.url,
        dbt_project_dir=REPO / "dbt_project",
    )
    compile_project(settings)
    prepare_airflow(settings, REPO)
    results = [
        run_dag(settings, REPO, dag_id, "2026-01-01T00:00:00+00:00")
        for dag_id in ("retail-orders", "product-affinity")
    ]
    return {"settings": settings, "results": results, "rows": rows, "subset": subset}


def oracle(subset: Path) -> dict[str, Any]:
    """Orders, baskets, goal measures and the out-of-sample attach rate, from the raw rows."""
    con = duckdb.connect()
    codes = ", ".join(f"'{c}'" for c in NON_PRODUCT)

    def sql(query: str) -> list[tuple[Any, ...]]:
        return list(con.execute(query).fetchall())

    sql(f"""
        CREATE TABLE kept AS SELECT DISTINCT * FROM read_parquet('{subset}')
        WHERE InvoiceNo IS NOT NULL AND StockCode IS NOT NULL
          AND NOT regexp_matches(trim(InvoiceNo), '^[CA]')
          AND trim(StockCode) NOT IN ({codes})
          AND NOT regexp_matches(trim(StockCode), '{RULES["nonProductPattern"]}')
          AND Quantity > 0 AND UnitPrice > 0""")
    sql("""
        CREATE TABLE orders AS SELECT trim(InvoiceNo) AS o,
          substr(min(InvoiceDate), 1, 7) AS period,
          count(DISTINCT trim(StockCode)) AS items, sum(Quantity * UnitPrice) AS revenue
        FROM kept GROUP BY 1""")
    sql(f"""
        CREATE TABLE basket AS SELECT DISTINCT trim(k.InvoiceNo) AS o, trim(k.StockCode) AS p,
          orders.period FROM kept k JOIN orders ON orders.o = trim(k.InvoiceNo)
        WHERE orders.items <= {MAX_BASKET}""")
    measures = {
        period: {"orders": n, "breadth": breadth, "revenue_per_order": rpo}
        for period, n, breadth, rpo in sql(
            "SELECT period, count(*), avg(items), sum(revenue) / count(*) FROM orders GROUP BY 1"
        )
    }
    nsm: dict[str, float | None] = {}
    for period in MONTHS:
        year, month = map(int, period.split("-"))
        window = [
            f"{(year * 12 + month - 1 - k) // 12:04d}-{(year * 12 + month - 1 - k) % 12 + 1:02d}"
            for k in range(1, TRAILING + 1)
        ]
        listed = ", ".join(f"'{w}'" for w in window)
        sql(f"CREATE OR REPLACE TABLE w AS SELECT o, p FROM basket WHERE period IN ({listed})")
        n = sql("SELECT count(DISTINCT o) FROM w")[0][0]
        if n == 0:
            nsm[period] = None
            continue
        sql(f"""
            CREATE OR REPLACE TABLE rules AS
            WITH items AS (SELECT p, count(*) AS c FROM w GROUP BY p),
            pairs AS (SELECT x.p AS a, y.p AS b, count(*) AS c FROM w x JOIN w y
                      ON x.o = y.o AND x.p < y.p GROUP BY 1, 2
                      HAVING count(*) * 1000 >= {MIN_SUPPORT_PERMILLE} * {n}),
            directed AS (SELECT a, b, c FROM pairs UNION ALL SELECT b, a, c FROM pairs)
            SELECT d.a, d.b FROM directed d JOIN items ia ON ia.p = d.a JOIN items ib ON ib.p = d.b
            WHERE d.c / ia.c >= {MIN_CONFIDENCE} AND d.c * {n} / (ia.c * ib.c) >= {MIN_LIFT}""")
        attached, total = sql(f"""
            WITH cur AS (SELECT o, p FROM basket WHERE period = '{period}'),
            hit AS (SELECT DISTINCT x.o FROM cur x JOIN rules r ON r.a = x.p
                    JOIN cur y ON y.o = x.o AND y.p = r.b)
            SELECT (SELECT count(*) FROM hit), (SELECT count(DISTINCT o) FROM cur)""")[0]
        nsm[period] = attached / total
    con.close()
    return {"measures": measures, "nsm": nsm}


def stats(settings: Settings, product: str, step: str) -> Any:
    return json.loads((settings.run_stats_dir / product / f"{step}.json").read_text())


def test_both_products_run_through_airflow(run: dict[str, Any]) -> None:
    failed = [r for r in run["results"] if not r.succeeded]
    assert not failed, f"failed runs, see logs: {[str(r.log_file) for r in failed]}"


def test_every_row_read_is_kept_or_quarantined_with_a_reason(run: dict[str, Any]) -> None:
    ingest = stats(run["settings"], "retail-orders", "ingest")
    assert ingest["rows_in"] == run["rows"]
    assert ingest["rows_kept"] + sum(ingest["reasons"].values()) == run["rows"]
    assert ingest["rows_quarantined"] == sum(ingest["reasons"].values())


def test_nsm_and_goal_measures_equal_the_independent_computation(run: dict[str, Any]) -> None:
    expected = oracle(run["subset"])
    published = json.loads(
        (run["settings"].home / "measures" / "product-affinity.json").read_text()
    )
    nsm = published["north_star"]
    assert [h["period"] for h in nsm["history"]] == list(MONTHS)
    for item in nsm["history"]:
        want = expected["nsm"][item["period"]]
        if want is None:
            assert item["value"] is None
        else:
            assert math.isclose(item["value"], want, rel_tol=0, abs_tol=1e-12), item
    assert expected["nsm"][MONTHS[0]] is None and all(expected["nsm"][m] for m in MONTHS[1:])
    assert nsm["value"] == pytest.approx(expected["nsm"][MONTHS[-1]], abs=1e-12)
    assert nsm["target"] == 0.6 and nsm["history_length"] == len(MONTHS)
    breadth = {h["period"]: h["value"] for h in published["measures"]["basket_breadth"]["history"]}
    revenue = {
        h["period"]: h["value"] for h in published["measures"]["revenue_per_order"]["history"]
    }
    for period in MONTHS:
        assert breadth[period] == pytest.approx(expected["measures"][period]["breadth"], abs=1e-9)
        assert revenue[period] == pytest.approx(
            expected["measures"][period]["revenue_per_order"], abs=1e-6
        )


def test_quality_checks_ran_and_passed(run: dict[str, Any]) -> None:
    for product in ("retail-orders", "product-affinity"):
        results = stats(run["settings"], product, "checks")
        assert results and all(r["success"] for r in results), results
        assert all(r["observed"] != "skipped" for r in results)


def test_lineage_reached_the_server_valid_complete_and_connected(
    run: dict[str, Any], marquez: MarquezStub
) -> None:
    events = list(marquez.events)
    assert not marquez.rejected and not marquez.duplicates
    report = validate_events(events, SPEC if SPEC.exists() else None)
    assert report.ok, [str(p) for p in report.errors][:10]
    jobs: dict[str, set[str]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], set()).add(event["eventType"])
    for product, tasks in (
        ("retail-orders", ["check_inputs", "ingest", "checks", "publish_measures"]),
        (
            "product-affinity",
            ["check_inputs", "affinity", "models.nsm_history", "checks", "publish_measures"],
        ),
    ):
        for task in tasks:
            assert {"START", "COMPLETE"} <= jobs.get(f"{product}.{task}", set()), (product, task)
    graph = LineageGraph.from_events(events)
    assert not graph.orphans()
    nsm = graph.find(product="product-affinity", output="nsm_history")
    assert nsm is not None
    upstream_names = {key[1] for key in graph.upstream(nsm.key)}
    assert str(run["subset"]) in upstream_names
    for dataset in graph.datasets.values():
        assert dataset.business, dataset.key


def test_the_run_is_summarised_for_people(run: dict[str, Any]) -> None:
    from lodestar.manifest import load_folder
    from lodestar.plan import plan_product
    from lodestar.summary import summarise

    settings = run["settings"]
    catalog = load_folder(settings.manifests_dir)
    plans = {n: plan_product(p, catalog.products, settings) for n, p in catalog.products.items()}
    summary = summarise(plans["retail-orders"], plans["product-affinity"])
    assert summary.rows_in == run["rows"]
    assert summary.top_recommendations and summary.north_star is not None
    assert summary.north_star["history_length"] == len(MONTHS)


def teardown_module() -> None:
    shutil.rmtree(REPO / "dbt_project" / "logs", ignore_errors=True)


def test_a_failure_a_retry_cannot_fix_fails_the_task_at_once(
    run: dict[str, Any], tmp_path: Path
) -> None:
    """The rejected share above the manifest's limit: the same data would fail the same way,
    so the task fails without the manifest's two retries (one minute apart)."""
    settings: Settings = run["settings"]
    manifests = tmp_path / "manifests"
    shutil.copytree(settings.manifests_dir, manifests)
    orders = manifests / "retail-orders.yaml"
    text = orders.read_text(encoding="utf-8")
    assert text.count("maxRejectedShare: 0.1\n") == 1
    orders.write_text(text.replace("maxRejectedShare: 0.1\n", "maxRejectedShare: 0.001\n"))
    # an Airflow, lake and lineage file of its own: the reference run's stay as they are, and
    # its Assets keep their URIs (Airflow deactivates an Asset name seen with a new URI)
    strict = load_settings(
        home=tmp_path / "home", manifests_dir=manifests, dbt_project_dir=settings.dbt_project_dir
    )
    prepare_airflow(strict, REPO)

    result = run_dag(strict, REPO, "retail-orders", "2026-01-02T00:00:00+00:00")

    log = result.log_file.read_text(encoding="utf-8")
    assert not result.succeeded
    assert "were rejected, above rules.max_rejected_share 0.10%" in log
    assert "not retried: a rerun fails the same way" in log
    assert "up_for_retry" not in log
