"""Loading manifests from YAML files, with every problem located.

Public API (stable): ``load_manifest(path) -> DataProduct`` raising ``ManifestError`` (an
``InvalidManifest`` that lists every problem of the file); ``load_folder(path) -> Catalog``,
which never raises for one bad file: each bad file's errors are collected, the good products
are still returned, and the checks across all manifests (references, cycles, traceability)
run on them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lodestar.errors import Location, ManifestError
from lodestar.manifest import checks, diagnostics
from lodestar.manifest.model import DataProduct
from lodestar.manifest.source import SourceMap, parse_yaml, read_text

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml")


class InvalidManifest(ManifestError):
    """Every problem of one manifest file; it reads as the first, ``errors`` holds them all."""

    def __init__(self, errors: list[ManifestError]) -> None:
        if not errors:
            raise ValueError("InvalidManifest needs at least one error")
        self.errors = list(errors)
        first = errors[0]
        super().__init__(
            first.message,
            location=first.location,
            field=first.field,
            hint=first.hint,
            rule=first.rule,
        )

    def __str__(self) -> str:
        return "\n".join(ManifestError.__str__(e) for e in self.errors)


@dataclass
class ManifestFile:
    """What reading one file gave: the product when it is valid, else its errors."""

    path: Path
    product: DataProduct | None
    source: SourceMap
    errors: list[ManifestError]
    #: ``metadata.name`` as written, when it could be read, even from an invalid file
    declared_name: str | None = None
    #: (product, output) pairs its inputs read, as written, even from an invalid file;
    #: None when the file could not be read or parsed, so what it reads is unknown
    declared_reads: frozenset[tuple[str, str]] | None = frozenset()


@dataclass
class Catalog:
    """All products of a folder, the file each came from, and every error found."""

    products: dict[str, DataProduct] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    errors: list[ManifestError] = field(default_factory=list)
    #: line and column of every node of each product's file, by product name
    source_maps: dict[str, SourceMap] = field(default_factory=dict)
    #: files that could not be loaded, with the product name they declare when readable
    broken: dict[Path, str | None] = field(default_factory=dict)

    def errors_for(self, path: Path) -> list[ManifestError]:
        return [e for e in self.errors if e.location.file == path]

    def is_valid(self, name: str) -> bool:
        """The product loaded and no error points into its file."""
        path = self.sources.get(name)
        return path is not None and not self.errors_for(path)

    @property
    def files(self) -> list[Path]:
        return sorted([*self.sources.values(), *self.broken])


def read_manifest(path: Path) -> ManifestFile:
    """Read and validate one file; never raises for a problem of the file itself."""
    try:
        text = read_text(path)
    except ManifestError as exc:
        return ManifestFile(path, None, SourceMap(path), [exc], declared_reads=None)
    data, source, errors = parse_yaml(text, path)
    if data is None and not errors:
        errors = [diagnostics.empty_manifest(Location(path, 1, 1))]
        return ManifestFile(path, None, source, errors)
    if data is None:
        return ManifestFile(path, None, source, errors, declared_reads=None)

    product = None
    try:
        product = DataProduct.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        errors = errors + diagnostics.translate(exc, data, source)
    if errors:
        errors.sort(key=_order)
        return ManifestFile(path, None, source, errors, _declared_name(data), _declared_reads(data))
    return ManifestFile(path, product, source, [])


def load_manifest(path: Path) -> DataProduct:
    """Read one manifest; raise InvalidManifest (a ManifestError) listing every problem.

    Only the file itself is checked; references to other products, cycles and traceability
    need the whole folder (see :func:`load_folder`).
    """
    loaded = read_manifest(path)
    if loaded.product is None:
        raise InvalidManifest(loaded.errors)
    return loaded.product


def manifest_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())


def load_files(paths: Iterable[Path]) -> Catalog:
    """Load the given manifest files together and run the checks across them."""
    started = time.perf_counter()
    catalog = Catalog()
    reads_of_broken: set[tuple[str, str]] = set()
    unparsed: list[Path] = []
    for path in paths:
        loaded = read_manifest(path)
        _add(catalog, loaded)
        if loaded.declared_reads is None:
            unparsed.append(loaded.path)
        else:
            reads_of_broken.update(loaded.declared_reads)

    catalog.errors += checks.check_products(
        catalog.products,
        files=catalog.sources,
        source_maps=catalog.source_maps,
        broken=catalog.broken,
        reads_of_broken=reads_of_broken,
        unparsed=unparsed,
    )
    catalog.errors.sort(key=_order)

    log.info(
        "loaded %d manifests in %.3f s (%d files with errors, %d errors)",
        len(catalog.products),
        time.perf_counter() - started,
        len({e.location.file for e in catalog.errors}),
        len(catalog.errors),
    )
    return catalog


def load_folder(folder: Path) -> Catalog:
    """Load every manifest of a folder; one bad file never hides the others."""
    try:
        paths = manifest_files(folder)
    except OSError as exc:
        catalog = Catalog()
        reason = exc.strerror or str(exc)
        hint = "point LODESTAR_MANIFESTS (or the path argument) at the manifests folder"
        catalog.errors.append(
            ManifestError(
                f"cannot list the manifests folder: {reason}",
                location=Location(folder),
                hint=hint,
                rule="io",
            )
        )
        return catalog
    log.debug("loading %d manifest files from %s", len(paths), folder)
    return load_files(paths)


def _add(catalog: Catalog, loaded: ManifestFile) -> None:
    if loaded.product is None:
        catalog.errors += loaded.errors
        catalog.broken[loaded.path] = loaded.declared_name
        return
    name = loaded.product.name
    if name in catalog.products:
        first = catalog.sources[name]
        catalog.errors.append(
            ManifestError(
                f"product {name!r} is already declared in {first}",
                location=loaded.source.locate(("metadata", "name")),
                field="metadata.name",
                hint="product names are unique across the folder; rename one of them",
                rule="unique-id",
            )
        )
        catalog.broken[loaded.path] = name
        return
    catalog.products[name] = loaded.product
    catalog.sources[name] = loaded.path
    catalog.source_maps[name] = loaded.source


def _declared_name(data: Any) -> str | None:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _declared_reads(data: Any) -> frozenset[tuple[str, str]]:
    build = data.get("build") if isinstance(data, dict) else None
    inputs = build.get("inputs") if isinstance(build, dict) else None
    reads = set()
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict):
            product, output = item.get("product"), item.get("output")
            if isinstance(product, str) and isinstance(output, str):
                reads.add((product, output))
    return frozenset(reads)


def _order(error: ManifestError) -> tuple[str, int, int]:
    location = error.location
    return str(location.file or ""), location.line or 0, location.column or 0
