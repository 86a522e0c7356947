"""``lodestar explain PRODUCT``: the business chain as a tree, and the NSM's backward trace."""

from __future__ import annotations

import argparse
from pathlib import Path

from lodestar.cli.command import Commands, add_command
from lodestar.cli.console import Console
from lodestar.manifest.diagnostics import suggestion
from lodestar.manifest.explain import chain_tree, nsm_trace
from lodestar.manifest.loader import load_folder
from lodestar.settings import load_settings

DESCRIPTION = """\
Show why a data product exists: its chain from the vision through goals, hypotheses,
initiatives and use cases to the outputs that serve them and the inputs they are built from;
then the North Star Metric traced backwards, column by column and across products, down to
the columns of the raw source files."""


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "explain",
        run,
        help="show a product's chain and NSM trace",
        description=DESCRIPTION,
    )
    parser.add_argument("product", metavar="PRODUCT", help="product name (metadata.name)")
    parser.add_argument(
        "--manifests",
        type=Path,
        metavar="DIR",
        help="manifests folder (default: LODESTAR_MANIFESTS, else ./manifests of the project)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace, console: Console) -> int:
    folder = load_settings(manifests_dir=args.manifests).manifests_dir
    catalog = load_folder(folder)
    product = catalog.products.get(args.product)
    if product is None:
        broken = [p for p, name in catalog.broken.items() if name == args.product]
        if broken:
            console.error(f"the manifest of {args.product!r} ({broken[0]}) is invalid:")
            for error in catalog.errors_for(broken[0]):
                console.problem(error)
            return 1
        hint = suggestion(args.product, catalog.products, "products")
        console.error(f"no product {args.product!r} in {folder} ({hint})")
        return 1
    if catalog.errors:
        console.warning(
            f"{len(catalog.errors)} problem(s) in {folder}; the chain may be incomplete "
            f"(run: lodestar validate {folder})"
        )

    chain = chain_tree(product, catalog.products)
    trace = nsm_trace(product, catalog.products)
    if args.format == "json":
        console.json(
            {
                "product": product.name,
                "file": str(catalog.sources[product.name]),
                "chain": chain.as_dict(),
                "northStarTrace": trace.tree.as_dict() if trace else None,
                "sourceColumns": trace.sources if trace else {},
            }
        )
        return 0

    console.tree(chain)
    console.print()
    if trace is None:
        console.warning("the North Star Metric or its measure cannot be resolved: no trace")
        return 0
    console.print(console.style("North Star trace, right to left:", "bold"))
    console.tree(trace.tree)
    console.print()
    console.print(console.style("Source columns reached:", "bold"))
    for uri, columns in trace.sources.items():
        console.print(f"  {uri}: {', '.join(columns)}")
    return 0
