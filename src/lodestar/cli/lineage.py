"""``lodestar lineage``: show a product's lineage graph, check event files, replay the spool."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.cli.command import Commands, add_command
from lodestar.cli.console import Console
from lodestar.settings import Settings, load_settings

if TYPE_CHECKING:
    from lodestar.lineage.graph import DatasetNode, LineageGraph

DESCRIPTION = """\
Business lineage of the data products: OpenLineage events whose jobs and datasets carry the
product, use cases, goals and North Star Metric they serve.

  show PRODUCT   the product's jobs and datasets as a graph, and its NSM traced back to the
                 source files (from the lineage file, or from the manifests with --plan)
  check FILE     validate events against the OpenLineage schemas and Lodestar's facets
  replay         resend the events spooled while the lineage backend was unavailable
  emit PRODUCT   emit the events of the product's last run without Airflow (demo path)"""


@dataclass
class Node:
    label: str
    children: list[Node] = field(default_factory=list)


def register(commands: Commands) -> None:
    parser = add_command(
        commands, "lineage", _missing, help="business lineage", description=DESCRIPTION
    )
    sub = parser.add_subparsers(title="lineage commands", dest="lineage_command", metavar="CMD")

    show = sub.add_parser("show", help="a product's lineage graph in the terminal")
    show.set_defaults(handler=run_show)
    show.add_argument("product", metavar="PRODUCT")
    show.add_argument("--events", type=Path, metavar="FILE", help="events file (JSONL)")
    show.add_argument("--plan", action="store_true", help="build the graph from the manifests")
    show.add_argument("--manifests", type=Path, metavar="DIR", help="manifests folder")
    show.add_argument("--format", choices=("text", "json"), default="text")

    check = sub.add_parser("check", help="validate events against the spec and our facets")
    check.set_defaults(handler=run_check)
    check.add_argument("file", type=Path, metavar="FILE", help="JSONL, JSON array or one event")
    check.add_argument(
        "--spec-dir",
        type=Path,
        metavar="DIR",
        help="OpenLineage JSON Schemas (default: the copy shipped with Lodestar)",
    )
    check.add_argument(
        "--schema-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="more facet schemas, e.g. the Airflow provider's (repeatable)",
    )
    check.add_argument("--strict", action="store_true", help="facets without schema are errors")
    check.add_argument("--format", choices=("text", "json"), default="text")

    replay = sub.add_parser("replay", help="resend spooled events to the lineage backend")
    replay.set_defaults(handler=run_replay)
    replay.add_argument("--url", help="backend URL (default: OPENLINEAGE_URL, else the file)")

    emit = sub.add_parser("emit", help="emit a product's lineage without Airflow")
    emit.set_defaults(handler=run_emit)
    emit.add_argument("product", metavar="PRODUCT")
    emit.add_argument("--manifests", type=Path, metavar="DIR", help="manifests folder")
    emit.add_argument("--url", help="backend URL (default: OPENLINEAGE_URL, else the file)")


def _missing(args: argparse.Namespace, console: Console) -> int:
    console.error("give a lineage command: show, check, replay or emit (see lodestar lineage -h)")
    return 2


# --- show -----------------------------------------------------------------------------------


def _plan_graph(settings: Settings, product: str) -> LineageGraph:
    """The graph of ``product`` and of every product it reads from, built from the manifests."""
    from lodestar.lineage.graph import LineageGraph
    from lodestar.lineage.names import LineageError
    from lodestar.lineage.steps import plan_lineage
    from lodestar.manifest.loader import load_folder
    from lodestar.plan import plan_product

    catalog = load_folder(settings.manifests_dir)
    if product not in catalog.products:
        known = ", ".join(sorted(catalog.products)) or "none"
        raise LineageError(f"no product {product!r} in {settings.manifests_dir} (known: {known})")
    wanted, pending = [], [product]
    while pending:
        name = pending.pop()
        if name in wanted or name not in catalog.products:
            continue
        wanted.append(name)
        pending += [i.product for i in catalog.products[name].build.inputs if i.product]
    graph = LineageGraph()
    for name in wanted:
        plan = plan_product(catalog.products[name], catalog.products, settings)
        graph.merge(LineageGraph.from_lineage(settings.lineage_namespace, name, plan_lineage(plan)))
    return graph


def _describe(node: DatasetNode) -> str:
    business = node.business
    if not business:
        return node.label
    owner = f"{business.get('product')}/{business.get('output') or business.get('input')}"
    parts = [owner, str(business.get("role", "?"))]
    cases = [u.get("id") for u in business.get("useCases") or []]
    if cases:
        parts.append("use cases: " + ", ".join(str(c) for c in cases))
    elif business.get("traceabilityExempt"):
        parts.append("exempt: " + str(business["traceabilityExempt"]))
    return f"{node.label}  [{' · '.join(parts)}]"


def show_tree(graph: LineageGraph, product: str) -> list[Node]:
    """The product's jobs with their inputs and outputs, then its NSM traced to the sources."""
    jobs = graph.product_jobs(product)
    roots = []
    job_nodes = []
    for job in jobs:
        step = job.step
        kind = " ".join(str(step.get(k)) for k in ("type", "job", "model") if step.get(k))
        node = Node(f"{job.key[1]}  ({kind})")
        node.children += [Node("in   " + _describe(graph.datasets[k])) for k in sorted(job.inputs)]
        node.children += [Node("out  " + _describe(graph.datasets[k])) for k in sorted(job.outputs)]
        job_nodes.append(node)
    roots.append(Node(f"jobs of {product}: {len(jobs)}", job_nodes))

    stars = [
        d
        for d in graph.datasets.values()
        if d.business.get("product") == product and d.business.get("role") == "north-star"
    ]
    for star in stars:
        sources = [k for k in graph.upstream(star.key) if not graph.datasets[k].writers]
        trace = Node(f"North Star dataset {star.label}, back to its sources:")
        for source in sources:
            chain = graph.longest_path(star.key, source) or []
            labels = [
                graph.datasets[k].label if k in graph.datasets else f"job {k[1]}" for k in chain
            ]
            trace.children.append(Node(" <- ".join(labels)))
        if not sources:
            trace.children.append(Node("no source reached (is the upstream product emitted?)"))
        roots.append(trace)
    return roots


def run_show(args: argparse.Namespace, console: Console) -> int:
    from lodestar.lineage.graph import LineageGraph
    from lodestar.lineage.validate import load_events

    settings = load_settings(manifests_dir=args.manifests)
    events_file = args.events or settings.lineage_file
    if args.plan or events_file is None or not events_file.exists():
        if not args.plan:
            console.warning(f"no lineage file at {events_file}: showing the plan instead")
        graph = _plan_graph(settings, args.product)
        origin = f"plan from {settings.manifests_dir}"
    else:
        graph = LineageGraph.from_events(load_events(events_file))
        origin = f"events in {events_file}"
    jobs = graph.product_jobs(args.product)
    if not jobs:
        console.error(f"no job of product {args.product!r} in the {origin}")
        return 1

    if args.format == "json":
        console.json(
            {
                "product": args.product,
                "origin": origin,
                "jobs": [
                    {
                        "namespace": j.key[0],
                        "name": j.key[1],
                        "step": j.step,
                        "inputs": [graph.datasets[k].label for k in sorted(j.inputs)],
                        "outputs": [graph.datasets[k].label for k in sorted(j.outputs)],
                    }
                    for j in jobs
                ],
            }
        )
        return 0
    console.print(console.style(f"{args.product}: lineage ({origin})", "bold"))
    for root in show_tree(graph, args.product):
        console.tree(root)
    return 0


# --- check ----------------------------------------------------------------------------------


def run_check(args: argparse.Namespace, console: Console) -> int:
    from lodestar.lineage.validate import EventValidator, load_events

    events = load_events(args.file)
    report = EventValidator(args.spec_dir, args.schema_dir).validate_all(events)
    failing = report.errors + (report.unchecked if args.strict else [])
    if args.format == "json":
        console.json(
            {
                "file": str(args.file),
                "events": report.events,
                "facetsChecked": report.facets_checked,
                "errors": [vars(p) for p in report.errors],
                "unchecked": [vars(p) for p in report.unchecked],
            }
        )
        return 1 if failing else 0

    spec = args.spec_dir or "the OpenLineage spec shipped with Lodestar"
    console.print(
        f"{args.file}: {report.events} events, {report.facets_checked} facets checked "
        f"against {spec} and Lodestar's facet schemas"
    )
    for problem in report.errors:
        console.print(f"  {console.style('error', 'red')} {problem}")
    unchecked: dict[str, int] = {}
    for problem in report.unchecked:
        key = problem.path.rsplit(".", 1)[-1]
        unchecked[key] = unchecked.get(key, 0) + 1
    if unchecked:
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(unchecked.items()))
        note = console.style("unchecked", "yellow")
        console.print(f"  {note} facets without a schema: {listed} (add one with --schema-dir)")
    if failing:
        console.error(f"{len(failing)} problem(s) in {args.file}")
        return 1
    console.success("all events valid")
    return 0


# --- replay and emit ------------------------------------------------------------------------


def run_replay(args: argparse.Namespace, console: Console) -> int:
    from lodestar.lineage.transport import replay

    settings = load_settings(lineage_url=args.url)
    report = replay(settings)
    console.print(
        f"replayed {report.replayed} event(s) to {report.target}; "
        f"{report.already_sent + report.recovered} already sent, {report.rejected} rejected, "
        f"{report.remaining} still spooled in {settings.spool_dir}"
    )
    if report.remaining:
        console.warning(f"the backend is still unavailable: {report.last_error}")
    if report.rejected:
        console.warning(f"rejected events are kept in {settings.spool_dir / 'rejected'}")
    return 1 if report.remaining or report.rejected else 0


def run_emit(args: argparse.Namespace, console: Console) -> int:
    from lodestar.lineage.emit import emit_events, product_events, run_lineage
    from lodestar.lineage.names import LineageError
    from lodestar.manifest.loader import load_folder
    from lodestar.plan import plan_product

    settings = load_settings(manifests_dir=args.manifests, lineage_url=args.url)
    catalog = load_folder(settings.manifests_dir)
    if args.product not in catalog.products:
        raise LineageError(f"no product {args.product!r} in {settings.manifests_dir}")
    plan = plan_product(catalog.products[args.product], catalog.products, settings)
    counts = emit_events(product_events(plan, run_lineage(plan)), settings)
    target = settings.lineage_url or settings.lineage_file
    console.print(
        f"{args.product}: {counts['sent']} event(s) sent to {target}, "
        f"{counts['spooled']} spooled, {counts['rejected']} rejected"
    )
    return 1 if counts["rejected"] else 0
