"""Property-based fuzzing of the reference manifests: never a crash, every failure located.

Each example bends one or both reference manifests a few times (keys deleted or renamed, values
replaced by other types or random scalars, lines of text deleted, doubled or broken) and loads
the folder. Whatever the damage, loading must return, and every problem must be a
ManifestError naming a file of the folder, a line and a column.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lodestar.errors import ManifestError
from lodestar.manifest import load_folder

from .conftest import MANIFESTS

pytestmark = pytest.mark.unit

NAMES = ("product-affinity", "retail-orders")
DOCUMENTS = {
    name: yaml.safe_load((MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8")) for name in NAMES
}
TEXTS = {name: (MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8") for name in NAMES}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Path_ = tuple[str | int, ...]


def _paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


PATHS = {name: sorted(_paths(doc), key=str) for name, doc in DOCUMENTS.items()}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(["lodestar/v1", "spark", "dbt", "quality", "1h", "order_lines", "x.y"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=10), scalars, max_size=3),
)
mutations = st.tuples(
    st.integers(min_value=0),
    st.sampled_from(["delete", "rename", "replace"]),
    values,
    st.text(max_size=12),
)


def _mutate(doc: Any, path: Path_, kind: str, value: Any, new_key: str) -> None:
    parent = doc
    for item in path[:-1]:
        parent = parent[item]
    last = path[-1]
    if kind == "delete":
        del parent[last]
    elif kind == "rename" and isinstance(parent, dict):
        parent[new_key or f"{last}x"] = parent.pop(last)
    else:
        parent[last] = value


def _apply(name: str, batch: list[tuple[int, str, Any, str]]) -> Any:
    doc = copy.deepcopy(DOCUMENTS[name])
    for index, kind, value, new_key in batch:
        paths = list(_paths(doc))
        if not paths:
            continue
        try:
            _mutate(doc, paths[index % len(paths)], kind, value, new_key)
        except (KeyError, IndexError, TypeError):
            continue  # NOTE: an earlier mutation removed the parent; nothing to bend
    return doc


def _check(folder: Path) -> None:
    catalog = load_folder(folder)

    files = {folder / f"{name}.yaml" for name in NAMES}
    for error in catalog.errors:
        assert isinstance(error, ManifestError)
        assert error.location.file in files, error
        assert error.location.line is not None and error.location.line >= 1, error
        assert error.location.column is not None and error.location.column >= 1, error
        assert error.message and error.rule, error
    loaded = {catalog.sources[name] for name in catalog.products}
    for path in files - loaded:
        assert catalog.errors_for(path), f"{path} neither loaded nor reported"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(name=st.sampled_from(NAMES), batch=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_documents_never_crash(folder: Path, name: str, batch: list[Any]) -> None:
    doc = _apply(name, batch)
    for other, text in TEXTS.items():
        if other == name:
            text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
        (folder / f"{other}.yaml").write_text(text, encoding="utf-8")

    _check(folder)


edits = st.tuples(
    st.sampled_from(NAMES),
    st.sampled_from(["drop-line", "double-line", "insert", "indent"]),
    st.integers(min_value=0),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
)


@FUZZ
@given(batch=st.lists(edits, min_size=1, max_size=3))
def test_mutated_text_never_crashes(folder: Path, batch: list[Any]) -> None:
    texts = dict(TEXTS)
    for name, kind, index, insert in batch:
        lines = texts[name].split("\n")
        row = index % len(lines)
        if kind == "drop-line":
            del lines[row]
        elif kind == "double-line":
            lines.insert(row, lines[row])
        elif kind == "indent":
            lines[row] = " " + lines[row]
        else:
            column = index % (len(lines[row]) + 1)
            lines[row] = lines[row][:column] + insert + lines[row][column:]
        texts[name] = "\n".join(lines)
    for name, text in texts.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")

    _check(folder)
