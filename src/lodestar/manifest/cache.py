"""A parse cache for manifests folders, keyed by the exact bytes of every file.

Airflow re-parses the DAG file often, in fresh processes. When no manifest has changed, the
catalog comes back from the cache: each product's validated data (re-validated, which is
cheap), its source file, the broken files and every error found, so YAML is not read and the
checks across products are not run again. Source maps are not kept: they only serve to locate
errors, and those are cached already located. Any change of a file's name or bytes, of
pydantic's version, or of the code that loads and checks manifests gives a new key, so a stale
catalog is never served. A cache file that cannot be read back is only a miss.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import pydantic

from lodestar.errors import Location, ManifestError
from lodestar.manifest.loader import Catalog, load_folder, manifest_files
from lodestar.manifest.model import DataProduct

log = logging.getLogger(__name__)

#: bump when Catalog's pickled shape changes
FORMAT = "2"


@functools.cache
def _code_digest() -> str:
    """A digest of the manifest package's own source: new rules or messages miss the cache."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def folder_key(folder: Path) -> str | None:
    """A digest of every manifest file's name and bytes; None when the folder can't be read."""
    digest = hashlib.sha256(f"{FORMAT}|{pydantic.VERSION}|{_code_digest()}|".encode())
    try:
        for path in manifest_files(folder):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()[:40]


def load_folder_cached(folder: Path, cache_dir: Path) -> Catalog:
    """``load_folder`` through the cache in ``cache_dir``."""
    key = folder_key(folder)
    if key is None:
        return load_folder(folder)
    path = cache_dir / f"catalog-{key}.json"
    try:
        catalog = _thaw(json.loads(path.read_bytes()))
        log.debug("manifests of %s read from the parse cache %s", folder, path)
        return catalog
    except FileNotFoundError:
        pass
    except Exception:  # NOTE: a damaged or foreign cache file is only a miss
        log.debug("parse cache %s unreadable; rebuilding it", path, exc_info=True)
    catalog = load_folder(folder)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, suffix=".tmp") as handle:
            handle.write(json.dumps(_freeze(catalog)).encode("utf-8"))
        os.replace(handle.name, path)
    except OSError as exc:
        log.debug("parse cache not written to %s: %s", cache_dir, exc)
    return catalog


def _freeze(catalog: Catalog) -> dict[str, Any]:
    return {
        "products": {
            n: p.model_dump(mode="json", by_alias=True) for n, p in catalog.products.items()
        },
        "sources": {n: str(p) for n, p in catalog.sources.items()},
        "errors": [e.as_dict() for e in catalog.errors],
        "broken": {str(p): n for p, n in catalog.broken.items()},
    }


def _error(data: dict[str, Any]) -> ManifestError:
    file = Path(data["file"]) if data["file"] else None
    return ManifestError(
        data["message"],
        location=Location(file, data["line"], data["column"]),
        field=data["field"],
        hint=data["hint"],
        rule=data["rule"],
    )


def _thaw(frozen: dict[str, Any]) -> Catalog:
    products = {
        name: DataProduct.model_validate(data, by_alias=True, by_name=False)
        for name, data in frozen["products"].items()
    }
    return Catalog(
        products=products,
        sources={n: Path(p) for n, p in frozen["sources"].items()},
        errors=[_error(e) for e in frozen["errors"]],
        broken={Path(p): n for p, n in frozen["broken"].items()},
    )
