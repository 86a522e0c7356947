"""Loading manifests from YAML files.

Public API (stable): ``load_manifest(path) -> DataProduct`` raising ``ManifestError``;
``load_folder(path) -> Catalog`` which never raises for one bad file: each bad file's errors are
collected and the good products are still returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from lodestar.errors import Location, ManifestError
from lodestar.manifest.model import DataProduct

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass
class Catalog:
    """All products of a folder, the file each came from, and every error found."""

    products: dict[str, DataProduct] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    errors: list[ManifestError] = field(default_factory=list)

    def errors_for(self, path: Path) -> list[ManifestError]:
        return [e for e in self.errors if e.location.file == path]


def load_manifest(path: Path) -> DataProduct:
    """Read one manifest; raise ManifestError with the location of the first problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        raise ManifestError(f"not valid YAML: {exc}", location=loc, rule="yaml") from exc
    try:
        return DataProduct.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field_path = ".".join(str(p) for p in first["loc"])
        raise ManifestError(first["msg"], location=Location(path), field=field_path) from exc


def manifest_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())


def load_folder(folder: Path) -> Catalog:
    """Load every manifest of a folder; one bad file never hides the others."""
    catalog = Catalog()
    for path in manifest_files(folder):
        try:
            product = load_manifest(path)
        except ManifestError as exc:
            catalog.errors.append(exc)
            continue
        catalog.products[product.name] = product
        catalog.sources[product.name] = path
    log.info(
        "loaded %d manifests from %s (%d errors)",
        len(catalog.products),
        folder,
        len(catalog.errors),
    )
    return catalog
