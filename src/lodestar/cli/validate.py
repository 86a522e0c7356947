"""``lodestar validate [PATH...]``: check manifests before deploying them."""

from __future__ import annotations

import argparse
from pathlib import Path

from lodestar.cli.command import Commands, add_command
from lodestar.cli.console import Console
from lodestar.errors import Location, ManifestError
from lodestar.manifest.loader import load_files, manifest_files
from lodestar.settings import load_settings

DESCRIPTION = """\
Check manifests: YAML, fields and types, references within and across products, dependency
cycles, and the right-to-left traceability of every output to the North Star Metric.

A folder is checked as a whole. A file is checked together with the other manifests of its
folder (which its references may name), and only its own problems are reported.
Exit code: 0 when valid, 1 when any problem is found."""


def register(commands: Commands) -> None:
    parser = add_command(
        commands, "validate", run, help="check manifests files or folders", description=DESCRIPTION
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="manifest files or folders (default: the manifests folder, LODESTAR_MANIFESTS)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def collect(paths: list[Path]) -> tuple[list[Path], list[Path], list[ManifestError]]:
    """(files to report on, files to load, problems with the paths themselves)."""
    targets: list[Path] = []
    context: list[Path] = []
    problems: list[ManifestError] = []
    for path in paths:
        if path.is_dir():
            files = manifest_files(path)
            targets += files
            context += files
        elif path.is_file():
            targets.append(path)
            context += [path, *manifest_files(path.parent)]
        else:
            problems.append(
                ManifestError(
                    "no such file or folder",
                    location=Location(path),
                    hint="give manifest files (.yaml) or folders that hold them",
                    rule="io",
                )
            )
    return _unique(targets), _unique(context), problems


def _unique(paths: list[Path]) -> list[Path]:
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return sorted(seen.values())


def run(args: argparse.Namespace, console: Console) -> int:
    paths: list[Path] = args.paths or [load_settings().manifests_dir]
    targets, context, problems = collect(paths)
    catalog = load_files(context)
    reported = set(targets)
    errors = problems + [e for e in catalog.errors if e.location.file in reported]
    products = {name: path for name, path in catalog.sources.items() if path in reported}

    if args.format == "json":
        console.json(
            {
                "valid": not errors,
                "files": [str(p) for p in targets],
                "products": {name: str(path) for name, path in sorted(products.items())},
                "errors": [e.as_dict() for e in errors],
            }
        )
        return 1 if errors else 0

    for error in errors:
        console.problem(error)
    _summary(console, targets, products, errors)
    return 1 if errors else 0


def _summary(
    console: Console,
    targets: list[Path],
    products: dict[str, Path],
    errors: list[ManifestError],
) -> None:
    if not targets and not errors:
        console.warning("no manifest files (.yaml, .yml) found")
        return
    if errors:
        plural = "s" if len(errors) != 1 else ""
        in_files = {e.location.file for e in errors} & set(targets)
        missing = sum(1 for e in errors if e.rule == "io" and e.location.file not in in_files)
        parts = [f"{len(in_files)} of {len(targets)} file(s) with errors"]
        if missing:
            parts.append(f"{missing} path(s) not found")
        console.print(console.style(f"{len(errors)} problem{plural}: {', '.join(parts)}", "red"))
        return
    names = ", ".join(sorted(products))
    console.success(f"{len(products)} manifest(s) valid: {names}")
