"""``lodestar dbt``: the dbt project's generated files, its build-time parse, vars and builds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.cli.command import Commands, add_command
from lodestar.cli.console import Console
from lodestar.errors import LodestarError
from lodestar.settings import Settings, load_settings

if TYPE_CHECKING:
    from lodestar.plan import ProductPlan

DESCRIPTION = """\
The dbt project of the data products (dbt_project/, LODESTAR_DBT_PROJECT).

  generate        write the dbt sources and model properties generated from the manifests
                  (--check: only report files that are out of date, exit 1 if any)
  compile         dbt parse at build time: target/manifest.json and partial_parse.msgpack,
                  which the Airflow DAGs read instead of running dbt while they are parsed
  vars PRODUCT    the --vars of a product's dbt run, as JSON, for running dbt by hand
  build PRODUCT   dbt build of the product's models and tests on the configured target"""


def register(commands: Commands) -> None:
    parser = add_command(
        commands, "dbt", _missing, help="the dbt project of the products", description=DESCRIPTION
    )
    parser.add_argument("--manifests", type=Path, metavar="DIR", help="manifests folder")
    sub = parser.add_subparsers(title="dbt commands", dest="dbt_command", metavar="CMD")

    generate = sub.add_parser("generate", help="write the files generated from the manifests")
    generate.set_defaults(handler=run_generate)
    generate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )

    compile_ = sub.add_parser("compile", help="parse the project into target/ (build time)")
    compile_.set_defaults(handler=run_compile)
    compile_.add_argument("--target", help="dbt target (default: LODESTAR_DBT_TARGET, duckdb)")

    vars_ = sub.add_parser("vars", help="a product's dbt vars as JSON")
    vars_.set_defaults(handler=run_vars)
    vars_.add_argument("product", metavar="PRODUCT")

    build = sub.add_parser("build", help="dbt build of a product's models and tests")
    build.set_defaults(handler=run_build)
    build.add_argument("product", metavar="PRODUCT")
    build.add_argument("--target", help="dbt target (default: LODESTAR_DBT_TARGET, duckdb)")


def _missing(args: argparse.Namespace, console: Console) -> int:
    console.error("give a dbt command: generate, compile, vars or build (see lodestar dbt -h)")
    return 2


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(manifests_dir=args.manifests)


def run_generate(args: argparse.Namespace, console: Console) -> int:
    from lodestar.dbt import generate, stale_files

    settings = _settings(args)
    if args.check:
        stale = stale_files(settings)
        for path in stale:
            console.error(f"{path} is out of date with the manifests")
        if stale:
            console.print("run `lodestar dbt generate` and commit the files")
            return 1
        console.success("the generated dbt files are up to date")
        return 0
    changed = generate(settings)
    for path in changed:
        console.print(f"wrote {path}")
    if not changed:
        console.success("the generated dbt files are up to date")
    return 0


def run_compile(args: argparse.Namespace, console: Console) -> int:
    from lodestar.dbt import compile_project

    manifest = compile_project(_settings(args), target=args.target)
    console.success(f"dbt project parsed: {manifest}")
    return 0


def run_vars(args: argparse.Namespace, console: Console) -> int:
    from lodestar.dbt import vars_for

    settings = _settings(args)
    console.print(json.dumps(vars_for(_plan(settings, args.product)), sort_keys=True))
    return 0


def run_build(args: argparse.Namespace, console: Console) -> int:
    from lodestar.dbt import run_dbt, vars_for
    from lodestar.manifest.model import DbtStep

    settings = _settings(args)
    plan = _plan(settings, args.product)
    selectors = [
        s for step in plan.product.build.steps if isinstance(step, DbtStep) for s in step.select
    ]
    if not selectors:
        raise LodestarError(f"{args.product} has no dbt step: nothing to build")
    outcome = run_dbt(
        ["build", "--select", *selectors],
        settings,
        dbt_vars=vars_for(plan),
        target=args.target,
        check=False,
    )
    for failure in outcome.failures:
        console.error(failure)
    if not outcome.success:
        console.print(f"dbt log: {settings.home / 'dbt' / 'logs' / 'dbt.log'}")
        return 1
    count = len(getattr(outcome.result, "results", None) or [])
    console.success(f"dbt build of {args.product}: {count} models and tests passed")
    return 0


def _plan(settings: Settings, product: str) -> ProductPlan:
    from lodestar.dbt.project import load_products
    from lodestar.plan import plan_product

    products = load_products(settings)
    if product not in products:
        known = ", ".join(sorted(products)) or "none"
        raise LodestarError(f"no product {product!r} in {settings.manifests_dir} (known: {known})")
    return plan_product(products[product], products, settings)
