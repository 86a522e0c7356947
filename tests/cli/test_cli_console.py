"""The console layer: located problems, trees, colour only when wanted."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lodestar.cli.console import Console, render_tree
from lodestar.errors import Location, ManifestError
from lodestar.manifest.explain import TreeNode

pytestmark = pytest.mark.unit


def tree() -> TreeNode:
    root = TreeNode("root")
    first = root.add("a")
    first.add("a1")
    first.add("a2").add("a2x")
    root.add("b").add("b1")
    return root


def test_trees_in_unicode_and_ascii() -> None:
    assert render_tree(tree()) == [
        "root",
        "├── a",
        "│   ├── a1",
        "│   └── a2",
        "│       └── a2x",
        "└── b",
        "    └── b1",
    ]
    assert render_tree(tree(), unicode=False)[1:5] == [
        "|-- a",
        "|   |-- a1",
        "|   `-- a2",
        "|       `-- a2x",
    ]


def test_a_problem_reads_where_field_what_rule_then_hint() -> None:
    out = io.StringIO()
    error = ManifestError(
        "unknown field 'visoin'",
        location=Location(Path("m.yaml"), 3, 5),
        field="business.visoin",
        hint="did you mean 'vision'?",
        rule="schema",
    )

    Console(out, io.StringIO(), color=False).problem(error)

    assert out.getvalue() == (
        "m.yaml:3:5: business.visoin: unknown field 'visoin' [schema]\n"
        "    hint: did you mean 'vision'?\n"
    )


def test_colour_only_on_request_or_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    assert Console(io.StringIO(), io.StringIO()).color is False
    assert Console(io.StringIO(), io.StringIO(), color=True).style("x", "red") == "\033[31mx\033[0m"

    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Console(io.StringIO(), io.StringIO()).color is True

    monkeypatch.setenv("NO_COLOR", "1")
    assert Console(io.StringIO(), io.StringIO()).color is False


def test_warnings_and_errors_go_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err, color=False)

    console.warning("careful")
    console.error("broken")

    assert (out.getvalue(), err.getvalue()) == ("", "warning: careful\nerror: broken\n")
