"""``lodestar demo``: run the reference products through Airflow on the shipped data;
``lodestar airflow``: run any Airflow command against the project-local Airflow."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.cli.command import Commands, add_command
from lodestar.cli.console import Console
from lodestar.errors import LodestarError

if TYPE_CHECKING:
    from collections.abc import Callable

    from lodestar.airflow.runner import TaskAttempt
    from lodestar.summary import Oversize

ORDERS = "retail-orders"
AFFINITY = "product-affinity"


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "demo",
        run,
        help="run retail-orders then product-affinity through Airflow and summarise",
        description=(
            "Initialise the project-local Airflow (SQLite, under LODESTAR_HOME), compile the dbt "
            "project, run both reference products with `airflow dags test` on the shipped "
            "Online Retail file, and print what they produced."
        ),
    )
    parser.add_argument("--manifests", type=Path, help="manifests folder (LODESTAR_MANIFESTS)")
    parser.add_argument("--date", default=None, help="logical date of the runs (default: now)")
    airflow = add_command(
        commands,
        "airflow",
        run_airflow,
        help="run an Airflow command on the project-local Airflow (e.g. standalone)",
        description=(
            "Runs `airflow ARGS...` with the environment Lodestar uses: project-local home, "
            "SQLite, the dags/ and plugins/ folders, spark_default and the lineage transport. "
            "`lodestar airflow env` prints that environment as export lines."
        ),
    )
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER, help="arguments for airflow")


def run_airflow(args: argparse.Namespace, console: Console) -> int:
    from lodestar.airflow.environment import airflow_env
    from lodestar.airflow.runner import airflow_executable
    from lodestar.settings import load_settings, project_root

    settings = load_settings()
    env = airflow_env(settings, project_root())
    if args.airflow_args[:1] == ["env"]:
        for key, value in sorted(env.items()):
            console.print(f"export {key}='{value}'")
        return 0
    return subprocess.call([airflow_executable(), *args.airflow_args], env={**os.environ, **env})


def run(args: argparse.Namespace, console: Console) -> int:
    from lodestar.airflow.runner import prepare_airflow, run_dag
    from lodestar.dbt import compile_project
    from lodestar.manifest import load_folder
    from lodestar.plan import plan_product
    from lodestar.settings import load_settings, project_root
    from lodestar.summary import summarise

    if not args.verbose:
        # NOTE: importing Airflow turns its own logging on; the demo talks through the console
        logging.getLogger().setLevel(logging.WARNING)
    settings = load_settings(manifests_dir=args.manifests)
    repo_root = project_root()
    catalog = load_folder(settings.manifests_dir)
    if catalog.errors:
        for error in catalog.errors:
            console.problem(error)
        return 1
    missing = {ORDERS, AFFINITY} - set(catalog.products)
    if missing:
        raise LodestarError(f"the demo needs the reference manifests; missing: {sorted(missing)}")

    console.print(f"Lodestar home: {settings.home}")
    console.print("Compiling the dbt project (manifest.json for the DAGs)...")
    compile_project(settings)
    console.print("Initialising Airflow (SQLite)...")
    prepare_airflow(settings, repo_root)
    logical_date = args.date or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    for dag_id in (ORDERS, AFFINITY):
        console.print(f"Running {dag_id} through Airflow...")
        retries = catalog.products[dag_id].build.retries.count
        result = run_dag(
            settings,
            repo_root,
            dag_id,
            logical_date,
            progress=_progress(console, retries),
        )
        if not result.succeeded:
            console.error(f"{dag_id} failed after {result.seconds:.0f} s; log: {result.log_file}")
            return 1
        console.success(f"{dag_id} succeeded in {result.seconds:.0f} s")

    orders = plan_product(catalog.products[ORDERS], catalog.products, settings)
    affinity = plan_product(catalog.products[AFFINITY], catalog.products, settings)
    _print_summary(console, summarise(orders, affinity))
    return 0


def _progress(console: Console, retries: int) -> Callable[[TaskAttempt], None]:
    """One console line per task attempt that ended, with the state Airflow gave it."""

    def tell(ended: TaskAttempt) -> None:
        console.print(f"  {ended.describe(retries)}")

    return tell


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "n/a" if value is None else str(value)


def _row(console: Console, label: str, value: str) -> None:
    console.print(f"  {label:<32} {value}")


def _print_summary(console: Console, s: object) -> None:
    from lodestar.summary import RunSummary

    assert isinstance(s, RunSummary)
    console.print("")
    console.print(console.style("Summary", "bold"))
    _row(console, "rows read", _fmt(s.rows_in))
    _row(console, "rows kept", _fmt(s.rows_kept))
    total = sum(s.quarantined.values())
    _row(console, "rows quarantined", _fmt(total))
    for reason, count in sorted(s.quarantined.items(), key=lambda kv: (-kv[1], kv[0])):
        _row(console, f"  {reason}", _fmt(count))
    _row(console, "orders written by the ingest", _fmt(s.orders))
    _row(console, "baskets counted for affinity", _fmt(s.baskets))
    if s.oversize is not None:
        _print_oversize(console, s.oversize)
    _row(console, "pairs at min support", _fmt(s.pairs))
    _row(console, "rules kept", _fmt(s.rules))
    if s.top_recommendations:
        console.print("  top recommendations (lift):")
        for r in s.top_recommendations:
            console.print(
                f"    {r['description'] or r['product']} -> "
                f"{r['recommended_description'] or r['recommended']}  "
                f"lift {r['lift']:.1f}, confidence {r['confidence']:.2f}"
            )
    nsm = s.north_star
    if nsm:
        status = {True: "on track", False: "below target", None: "no value"}[nsm["on_track"]]
        console.print(
            f"  NSM {nsm['name']}: {_fmt(nsm['value'])} in {nsm['period']} against target "
            f"{_fmt(nsm['target'])} ({status}); history of {nsm['history_length']} periods"
        )
    else:
        console.print("  NSM: not published")
    events = f" ({s.lineage_events} events)" if s.lineage_events is not None else ""
    _row(console, "lineage", f"{s.lineage_target}{events}")


def _print_oversize(console: Console, o: Oversize) -> None:
    done = {"exclude": "excluded", "keep": "kept in the counts"}.get(o.policy, "")
    how = f", {done}" if o.baskets and done else ""
    label = f"baskets over maxBasketSize {_fmt(o.max_basket_size)}"
    _row(console, label, f"{_fmt(o.baskets)}{how} (oversizePolicy {o.policy})")
    if o.baskets and o.largest_order is not None:
        items = f"{_fmt(o.largest_items)} distinct items"
        _row(console, "  largest", f"order {o.largest_order}, {items}")
