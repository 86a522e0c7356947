"""How the ``lodestar`` command talks to people: plain lines, located problems, trees, JSON.

Commands write through a Console, never with ``print``; logs (``-v``) go to stderr through
``logging`` and are for operators. Colour is used on terminals only, and never when
``NO_COLOR`` is set (https://no-color.org) or ``--no-color`` is given.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any, Protocol, TextIO

from lodestar.errors import ManifestError

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class TreeLike(Protocol):
    """Anything with a label and children, such as ``lodestar.manifest.explain.TreeNode``."""

    @property
    def label(self) -> str: ...

    @property
    def children(self) -> Sequence[TreeLike]: ...


def _wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _speaks_unicode(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "├─│└".encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


class Console:
    """Output for people: results on ``out``, warnings and failures on ``err``."""

    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, *, color: bool | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = _wants_color(self.out) if color is None else color
        self.unicode = _speaks_unicode(self.out)

    def style(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def success(self, text: str) -> None:
        self.print(self.style(text, "green"))

    def warning(self, text: str) -> None:
        self.err.write(f"{self.style('warning:', 'yellow', 'bold')} {text}\n")

    def error(self, text: str) -> None:
        self.err.write(f"{self.style('error:', 'red', 'bold')} {text}\n")

    def json(self, data: Any) -> None:
        self.out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

    def problem(self, error: ManifestError) -> None:
        """One located manifest problem: where, which field, what, then how to fix it."""
        where = self.style(str(error.location), "bold")
        field = f"{self.style(error.field, 'cyan')}: " if error.field else ""
        rule = self.style(f"[{error.rule}]", "dim")
        self.print(f"{where}: {field}{error.message} {rule}")
        if error.hint:
            self.print(f"    {self.style('hint:', 'yellow')} {error.hint}")

    def tree(self, root: TreeLike) -> None:
        for line in render_tree(root, unicode=self.unicode):
            self.print(line)


def render_tree(root: TreeLike, *, unicode: bool = True) -> list[str]:
    """The tree as lines: the root, then each child indented under a branch."""
    tee, last, pipe = ("├── ", "└── ", "│   ") if unicode else ("|-- ", "`-- ", "|   ")
    lines = [root.label]

    def walk(node: TreeLike, prefix: str) -> None:
        children = list(node.children)
        for i, child in enumerate(children):
            final = i == len(children) - 1
            lines.append(f"{prefix}{last if final else tee}{child.label}")
            walk(child, prefix + ("    " if final else pipe))

    walk(root, "")
    return lines
