"""Running the ``lodestar`` command in-process (captured) and as the installed script."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lodestar.cli import main
from lodestar.cli.console import Console

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
SCRIPT = Path(sys.executable).parent / "lodestar"


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(*argv: str) -> Result:
    """``lodestar ARGV`` in this process, output captured, colour off."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), console=Console(out, err, color=False))
    return Result(code, out.getvalue(), err.getvalue())


def script(*argv: str, cwd: Path = REPO) -> Result:
    """``lodestar ARGV`` as the installed console script, in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
    env["NO_COLOR"] = "1"
    done = subprocess.run(
        [str(SCRIPT), *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )
    return Result(done.returncode, done.stdout, done.stderr)


@dataclass
class Folder:
    """A copy of the reference manifests."""

    path: Path

    def file(self, product: str) -> Path:
        return self.path / f"{product}.yaml"

    def edit(self, product: str, old: str, new: str) -> None:
        text = self.file(product).read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        self.file(product).write_text(text.replace(old, new), encoding="utf-8")

    def at(self, product: str, needle: str, shift: int = 0) -> str:
        text = self.file(product).read_text(encoding="utf-8")
        index = text.index(needle) + shift
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        return f"{self.file(product)}:{line}:{column}"


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    target = tmp_path / "manifests"
    target.mkdir()
    for source in sorted(MANIFESTS.glob("*.yaml")):
        shutil.copy(source, target / source.name)
    yield Folder(target)
