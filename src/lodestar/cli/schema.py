"""``lodestar schema``: export the manifests' JSON Schema (Draft 2020-12) for editors."""

from __future__ import annotations

import argparse
from pathlib import Path

from lodestar.cli.command import Commands, add_command
from lodestar.cli.console import Console
from lodestar.manifest.schema import SCHEMA_PATH, render_schema

DESCRIPTION = f"""\
Print the JSON Schema (Draft 2020-12) of lodestar/v1 manifests, or write it to a file.
The repository keeps it in {SCHEMA_PATH}, which the manifests' yaml-language-server
modeline points at; regenerate it with: lodestar schema -o {SCHEMA_PATH}"""


def register(commands: Commands) -> None:
    parser = add_command(
        commands, "schema", run, help="export the manifest JSON Schema", description=DESCRIPTION
    )
    parser.add_argument("-o", "--output", type=Path, help="write to this file, not stdout")
    parser.add_argument(
        "--check",
        action="store_true",
        help="with -o: exit 1 when the file differs from the export, without writing",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    text = render_schema()
    if args.output is None:
        if args.check:
            console.error("--check needs -o FILE: the file to compare with the export")
            return 2
        console.out.write(text)
        return 0

    path: Path = args.output
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            console.error(f"{path} is out of date; regenerate it: lodestar schema -o {path}")
            return 1
        console.success(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    console.success(f"wrote {path}")
    return 0
