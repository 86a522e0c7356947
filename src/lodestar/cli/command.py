"""What a command module gives the ``lodestar`` parser.

A command module (listed in ``lodestar.cli.COMMAND_MODULES``) defines::

    def register(commands: Commands) -> None:
        parser = add_command(commands, "validate", run, help="...")
        parser.add_argument(...)

    def run(args: argparse.Namespace, console: Console) -> int:
        ...  # the exit code: 0 done, 1 problems found

Keep its top-level imports light (the standard library, ``lodestar.settings``,
``lodestar.manifest``): every command module is imported to build the parser, so heavy
imports (Spark, Airflow, dbt) belong inside ``run``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

from lodestar.cli.console import Console

#: the object every command module's ``register`` receives
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
#: what a command runs: parsed arguments and the console in, exit code out
Handler: TypeAlias = Callable[[argparse.Namespace, Console], int]


def add_command(
    commands: Commands, name: str, handler: Handler, *, help: str, description: str = ""
) -> argparse.ArgumentParser:
    """A sub-command parser that runs ``handler``; add its arguments to the returned parser."""
    parser = commands.add_parser(
        name,
        help=help,
        description=description or help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser
