"""A scratch copy of the reference manifests that each test bends one way."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lodestar.errors import ManifestError
from lodestar.manifest import load_folder

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"


@dataclass
class Workspace:
    """A folder holding copies of the reference manifests."""

    folder: Path

    def path(self, product: str) -> Path:
        return self.folder / f"{product}.yaml"

    def text(self, product: str) -> str:
        return self.path(product).read_text(encoding="utf-8")

    def edit(self, product: str, old: str, new: str) -> Path:
        """Replace the one occurrence of ``old``; fails loudly when it is not exactly once."""
        text = self.text(product)
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {product}"
        path = self.path(product)
        path.write_text(text.replace(old, new), encoding="utf-8")
        return path

    def write(self, product: str, text: str) -> Path:
        path = self.path(product)
        path.write_text(text, encoding="utf-8")
        return path

    def at(self, product: str, needle: str, nth: int = 1, shift: int = 0) -> str:
        """``file:line:column`` of the ``nth`` occurrence of ``needle``, ``shift`` columns on."""
        text = self.text(product)
        index = -1
        for _ in range(nth):
            index = text.index(needle, index + 1)
        index += shift
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        return f"{self.path(product)}:{line}:{column}"

    def line(self, product: str, needle: str, nth: int = 1) -> int:
        return int(self.at(product, needle, nth).split(":")[-2])

    def errors(self, rule: str | None = None) -> list[ManifestError]:
        found = load_folder(self.folder).errors
        return [e for e in found if rule is None or e.rule == rule]

    def messages(self, rule: str | None = None) -> list[str]:
        return [str(e) for e in self.errors(rule)]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    folder = tmp_path / "manifests"
    folder.mkdir()
    for source in sorted(MANIFESTS.glob("*.yaml")):
        shutil.copy(source, folder / source.name)
    yield Workspace(folder)
