"""The ``lodestar`` command: a thin layer over the library, one module per sub-command.

To add a command, write ``lodestar/cli/<name>.py`` with ``register`` and ``run`` (see
:mod:`lodestar.cli.command`) and list it in ``COMMAND_MODULES``. Modules listed here that do
not exist yet are skipped, so a planned command appears as soon as its module is written.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from lodestar.cli.console import Console
from lodestar.errors import LodestarError

log = logging.getLogger(__name__)

#: the registration point: each module's ``register(commands)`` adds its sub-command
COMMAND_MODULES: tuple[str, ...] = (
    "lodestar.cli.validate",
    "lodestar.cli.schema",
    "lodestar.cli.explain",
    "lodestar.cli.lineage",
    "lodestar.cli.dbt",
    "lodestar.cli.demo",
)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _version() -> str:
    try:
        return version("lodestar")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The full parser: global options, then one sub-command per command module."""
    parser = argparse.ArgumentParser(
        prog="lodestar",
        description="Data product manifests in, Airflow DAGs with business lineage out.",
    )
    parser.add_argument("--version", action="version", version=f"lodestar {_version()}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr (-v info, -vv debug)"
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.debug("command module %s is not written yet: skipped", name)
            continue
        module.register(commands)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 1 problems, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    console = console or Console(color=False if args.no_color else None)

    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(console.err)
        return EXIT_USAGE
    try:
        code: int = handler(args, console)
    except LodestarError as exc:
        console.error(str(exc))
        log.debug("command %s failed", args.command, exc_info=True)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    return code
