"""Offline validation of OpenLineage events: the official schemas, our facets, Marquez's names.

Schemas live in a registry keyed by their ``$id``, so ``$ref``s between the core spec and the
facet files resolve without network. By default it holds the copy of the OpenLineage spec
vendored in this package (``spec/``, see its NOTICE) and our facet schemas (``schemas/``); a
``spec_dir`` (e.g. ``../shared/openlineage-spec``) replaces the vendored copy, and
``extra_dirs`` add schemas such as the Airflow provider's facets (files without ``$id`` are
matched by file name).

Each event is checked against the core event schema; then each facet against its own schema,
found by its ``_schemaURL`` when the registry has that document, else by its key and where it
sits (``run.facets``, ``job.facets``, a dataset's ``facets``, ``inputFacets``,
``outputFacets``). A ``lodestar_*`` facet must match our schema exactly; a facet nobody has a
schema for is reported as unchecked, not as an error. Names are checked against what Marquez
accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from lodestar.lineage.facets import SCHEMA_NAMES, packaged_schemas, schema_url
from lodestar.lineage.names import LineageError, name_problem, namespace_problem

CORE_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
_BASES = {
    "run": "RunFacet",
    "job": "JobFacet",
    "dataset": "DatasetFacet",
    "input": "InputDatasetFacet",
    "output": "OutputDatasetFacet",
}
_EXTRA_PREFIX = "urn:lodestar:extra:"


@dataclass(frozen=True)
class Problem:
    """One finding: where in which event, what, and how serious."""

    event: int  # 0-based position in the file
    path: str  # JSON path inside the event, e.g. outputs[0].facets.schema
    message: str
    severity: str = "error"  # error | unchecked

    def __str__(self) -> str:
        return f"event {self.event + 1}: {self.path}: {self.message}"


@dataclass
class Report:
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    facets_checked: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def unchecked(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "unchecked"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _vendored_spec() -> list[dict[str, Any]]:
    root = resources.files("lodestar.lineage") / "spec"
    found = [json.loads((root / "OpenLineage.json").read_text(encoding="utf-8"))]
    for entry in (root / "facets").iterdir():
        if entry.name.endswith(".json"):
            found.append(json.loads(entry.read_text(encoding="utf-8")))
    return found


def _schemas_in(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    if not folder.is_dir():
        raise LineageError(f"schema folder {folder} does not exist (hint: give --spec-dir)")
    return [
        (path.name, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.rglob("*.json"))
    ]


class EventValidator:
    """Validates events against a registry of the spec, our facets and any extra schemas."""

    def __init__(self, spec_dir: Path | None = None, extra_dirs: Iterable[Path] = ()) -> None:
        spec = [schema for _, schema in _schemas_in(spec_dir)] if spec_dir else _vendored_spec()
        if not any(s.get("$id") == CORE_ID for s in spec):
            raise LineageError(f"{spec_dir}: no OpenLineage.json with $id {CORE_ID}")
        documents: dict[str, dict[str, Any]] = {s["$id"]: s for s in spec if "$id" in s}
        documents |= packaged_schemas()
        self.by_file_name: dict[str, str] = {}
        for folder in extra_dirs:
            for file_name, schema in _schemas_in(folder):
                uri = schema.get("$id") or f"{_EXTRA_PREFIX}{file_name}"
                documents[uri] = schema
                self.by_file_name[file_name] = uri
        self.documents = documents
        self.registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(s, default_specification=DRAFT202012))
            for uri, s in documents.items()
        )

    @cached_property
    def by_key(self) -> dict[tuple[str, str], str]:
        """(container, facet key) -> schema pointer, from each facet file's top properties."""
        index: dict[tuple[str, str], str] = {}
        for uri, schema in self.documents.items():
            for key, ref in schema.get("properties", {}).items():
                pointer = ref.get("$ref", "") if isinstance(ref, Mapping) else ""
                if not pointer.startswith("#/$defs/"):
                    continue
                definition = schema.get("$defs", {}).get(pointer.removeprefix("#/$defs/"), {})
                bases = {
                    part.get("$ref", "").rsplit("/", 1)[-1] for part in definition.get("allOf", [])
                }
                for container, base in _BASES.items():
                    if base in bases:
                        index.setdefault((container, key), f"{uri}{pointer}")
        return index

    def _validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": pointer}, registry=self.registry)

    def _schema_for(self, container: str, key: str, facet: Mapping[str, Any]) -> str | None:
        url = str(facet.get("_schemaURL", ""))
        document, _, fragment = url.partition("#")
        if document in self.documents:
            return url if fragment else f"{document}#/$defs/{Path(document).stem}"
        file_name = document.rsplit("/", 1)[-1]
        if file_name in self.by_file_name:
            return f"{self.by_file_name[file_name]}#{fragment}"
        return self.by_key.get((container, key))

    def validate(self, event: Mapping[str, Any], index: int = 0) -> tuple[list[Problem], int]:
        """Problems of one event and the number of facets checked against a schema."""
        problems = [
            Problem(index, _path(error.absolute_path) or "<event>", error.message)
            for error in self._validator(f"{CORE_ID}#/$defs/{_event_kind(event)}").iter_errors(
                event
            )
        ]
        checked = 0
        for container, path, key, facet in _facets(event):
            if not isinstance(facet, Mapping):
                continue
            where = f"{path}.{key}"
            if key in SCHEMA_NAMES:
                expected = schema_url(SCHEMA_NAMES[key])
                if facet.get("_schemaURL") != expected:
                    problems.append(Problem(index, where, f"_schemaURL should be {expected}"))
            pointer = self._schema_for(container, key, facet)
            if pointer is None:
                severity = "error" if key.startswith("lodestar_") else "unchecked"
                problems.append(Problem(index, where, "no schema for this facet", severity))
                continue
            checked += 1
            for error in self._validator(pointer).iter_errors(facet):
                inner = _path(error.absolute_path)
                problems.append(
                    Problem(index, f"{where}.{inner}" if inner else where, error.message)
                )
        problems += _name_problems(event, index)
        return problems, checked

    def validate_all(self, events: Iterable[Mapping[str, Any]]) -> Report:
        report = Report()
        for index, event in enumerate(events):
            found, checked = self.validate(event, index)
            report.events += 1
            report.problems += found
            report.facets_checked += checked
        return report


def _event_kind(event: Mapping[str, Any]) -> str:
    if "run" in event:
        return "RunEvent"
    return "DatasetEvent" if "dataset" in event else "JobEvent"


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(container, path, key, facet) for every facet of an event."""
    for owner in ("run", "job"):
        block = event.get(owner)
        if isinstance(block, Mapping):
            for key, facet in (block.get("facets") or {}).items():
                yield owner, f"{owner}.facets", key, facet
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for position, dataset in enumerate(event.get(side) or []):
            if not isinstance(dataset, Mapping):
                continue
            base = f"{side}[{position}]"
            for key, facet in (dataset.get("facets") or {}).items():
                yield "dataset", f"{base}.facets", key, facet
            container = "input" if side == "inputs" else "output"
            for key, facet in (dataset.get(extra) or {}).items():
                yield container, f"{base}.{extra}", key, facet
    dataset = event.get("dataset")
    if isinstance(dataset, Mapping):
        for key, facet in (dataset.get("facets") or {}).items():
            yield "dataset", "dataset.facets", key, facet


def _name_problems(event: Mapping[str, Any], index: int) -> list[Problem]:
    found = []
    identities: list[tuple[str, Any]] = [("job", event.get("job"))]
    identities += [(f"inputs[{i}]", d) for i, d in enumerate(event.get("inputs") or [])]
    identities += [(f"outputs[{i}]", d) for i, d in enumerate(event.get("outputs") or [])]
    if "dataset" in event:
        identities.append(("dataset", event.get("dataset")))
    for path, item in identities:
        if not isinstance(item, Mapping):
            continue
        namespace, name = str(item.get("namespace", "")), str(item.get("name", ""))
        problem = namespace_problem(namespace) or name_problem(
            namespace if path != "job" else "", name
        )
        if problem:
            found.append(Problem(index, path, f"{problem} ({namespace!r} / {name!r})"))
    return found


def load_events(path: Path) -> list[dict[str, Any]]:
    """Events of a file: JSON Lines (one per line), a JSON array, or one JSON event."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LineageError(f"cannot read {path}: {exc}") from exc
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise LineageError(f"{path}: not valid JSON: {exc}") from exc
        return [e for e in data if isinstance(e, dict)]
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError as exc:
            if number == 1 and stripped.startswith("{"):
                try:
                    return [json.loads(stripped)]
                except ValueError:
                    pass
            raise LineageError(f"{path}:{number}: not a JSON event: {exc}") from exc
    return events


def validate_events(
    events: Iterable[Mapping[str, Any]],
    spec_dir: Path | None = None,
    extra_dirs: Iterable[Path] = (),
) -> Report:
    """Validate events (dicts) against the spec, our facets and Marquez's naming rules."""
    return EventValidator(spec_dir, extra_dirs).validate_all(events)
