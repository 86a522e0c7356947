"""Data product manifests: typed models, YAML loading with locations, cross-manifest checks."""

from __future__ import annotations

from lodestar.manifest.loader import Catalog, load_folder, load_manifest
from lodestar.manifest.model import DataProduct

__all__ = ["Catalog", "DataProduct", "load_folder", "load_manifest"]
