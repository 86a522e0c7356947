"""The JSON Schema of manifests (Draft 2020-12), generated from the model for editors.

``schemas/lodestar-manifest.schema.json`` is this export, committed; the reference manifests
point at it with a ``yaml-language-server`` modeline. Field descriptions come from the model,
and the rules the model checks in validators are mirrored here where JSON Schema can say them
(one of northStar/northStarRef, uri or product reference, one support threshold...).
"""

from __future__ import annotations

import json
from typing import Any

from lodestar.manifest.model import API_VERSION, DataProduct

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: the committed export, relative to the repository root
SCHEMA_PATH = "schemas/lodestar-manifest.schema.json"


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a ``lodestar/v1`` DataProduct manifest."""
    generated = DataProduct.model_json_schema(by_alias=True, mode="validation")
    generated["title"] = f"Lodestar data product manifest ({API_VERSION})"
    return {"$schema": DRAFT, **generated}


def render_schema() -> str:
    """The schema as the committed file holds it: indented JSON with a final newline."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
