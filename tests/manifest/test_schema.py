"""The exported JSON Schema: valid Draft 2020-12, committed as generated, true to the examples."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from lodestar.manifest.schema import DRAFT, SCHEMA_PATH, manifest_schema, render_schema
from lodestar.manifest.source import parse_yaml

from .conftest import MANIFESTS, REPO

pytestmark = pytest.mark.unit

VALIDATOR = jsonschema.Draft202012Validator(
    manifest_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def as_json(text: str) -> Any:
    """YAML as an editor's JSON Schema validation sees it: dates stay text."""
    data, _, errors = parse_yaml(text)
    assert errors == []
    return json.loads(json.dumps(data, default=str))


def reference(name: str) -> Any:
    return as_json((MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8"))


def test_schema_is_valid_draft_2020_12() -> None:
    schema = manifest_schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Lodestar data product manifest (lodestar/v1)"


def test_committed_schema_is_the_export() -> None:
    assert (REPO / SCHEMA_PATH).read_text(encoding="utf-8") == render_schema()


@pytest.mark.parametrize("name", ["product-affinity", "retail-orders"])
def test_schema_validates_the_reference_manifests(name: str) -> None:
    assert [e.message for e in VALIDATOR.iter_errors(reference(name))] == []


@pytest.mark.parametrize("name", ["product-affinity", "retail-orders"])
def test_manifests_point_editors_at_the_schema(name: str) -> None:
    first = (MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[0]

    assert first == f"# yaml-language-server: $schema=../{SCHEMA_PATH}"


def test_every_field_carries_a_description() -> None:
    schema = manifest_schema()

    missing = [
        f"{name}.{key}"
        for name, definition in schema["$defs"].items()
        for key, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]

    assert missing == []


def test_keys_are_camel_case() -> None:
    properties = manifest_schema()["$defs"]["Output"]["properties"]

    assert "producedBy" in properties and "produced_by" not in properties


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      producedBy: affinity\n",
            "      producedBy: affinity\n      owner: x\n",
            "Additional properties are not allowed ('owner' was unexpected)",
        ),
        ("  northStar:\n", "  northStarRef: {product: a-b, id: x}\n  northStar:\n", None),
        (
            "          minSupport: 0.015\n",
            "          minSupportCount: 20\n          minSupport: 0.015\n",
            None,
        ),
        ("assertion: unique, column: order_id}", "assertion: unique}", None),
        ("      type: dbt\n", "      type: dbtt\n", None),
    ],
)
def test_schema_rejects_what_the_loader_rejects(old: str, new: str, message: str | None) -> None:
    name = "retail-orders" if "order_id}" in old else "product-affinity"
    text = (MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.count(old) >= 1
    broken = as_json(text.replace(old, new, 1))

    errors = [e.message for e in VALIDATOR.iter_errors(broken)]

    assert errors, "the schema accepted a manifest the loader rejects"
    if message is not None:
        assert message in errors
