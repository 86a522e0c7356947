"""Lodestar's facets: schemas shipped in the package, classes that serialize to them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openlineage.client.serde import Serde

from lodestar.lineage import facets
from lodestar.lineage.validate import EventValidator

pytestmark = pytest.mark.unit

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "openlineage-spec"
VENDORED_SPEC = Path(facets.__file__).parent / "spec"

SAMPLES = {
    facets.DATA_PRODUCT: facets.DataProductJobFacet(
        producer=facets.PRODUCER,
        name="retail-orders",
        version="1.0.0",
        domain="sales",
        type="source-aligned",
        vision="One trusted copy of the orders.",
        owners=[facets.Person(name="Sales data team", email="s@example.com", role="owner")],
        step=facets.StepRef(name="ingest", type="spark", job="ingest"),
        northStar=facets.NorthStarRef(id="cross-sell-attach-rate", product="product-affinity"),
    ),
    facets.BUSINESS: facets.BusinessDatasetFacet(
        producer=facets.PRODUCER,
        product="product-affinity",
        role="north-star",
        output="nsm_history",
        useCases=[facets.UseCaseRef(id="fbt-recommendations", product="product-affinity")],
        goals=[facets.GoalRef(id="raise-attach-rate", product="product-affinity", target=0.6)],
    ),
    facets.RUN: facets.BusinessRunFacet(
        producer=facets.PRODUCER,
        product="product-affinity",
        step=facets.StepRef(name="publish_measures", type="measures"),
        period=facets.Period(granularity="monthly", start="2011-11-01", end="2011-12-01"),
        hypotheses=[facets.HypothesisRef(id="fbt-raises-attach", product="product-affinity")],
    ),
    facets.MEASURES: facets.MeasuresDatasetFacet(
        producer=facets.PRODUCER,
        measures=[
            facets.MeasureSeries(
                measure="attach_rate",
                kind="north-star",
                id="cross-sell-attach-rate",
                values=[facets.PeriodValue(period="2011-11", value=0.62, target=0.6, gap=0.02)],
            )
        ],
    ),
    facets.QUARANTINE: facets.QuarantineOutputDatasetFacet(
        producer=facets.PRODUCER, reasons={"cancellation": 3}, sourceRows=10, keptRows=7
    ),
}


def test_each_facet_key_has_one_packaged_schema_with_a_stable_versioned_id() -> None:
    schemas = facets.packaged_schemas()
    assert sorted(schemas) == sorted(facets.schema_id(n) for n in facets.SCHEMA_NAMES.values())
    for key, name in facets.SCHEMA_NAMES.items():
        schema = schemas[facets.schema_id(name)]
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://lodestar.dev/spec/facets/1-0-0/{name}.json"
        assert key.startswith("lodestar_")
        assert schema["properties"] == {key: {"$ref": f"#/$defs/{name}"}}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_facet_serializes_with_producer_and_schema_url_and_validates(key: str) -> None:
    data = Serde.to_dict(SAMPLES[key])
    assert data["_producer"] == facets.PRODUCER
    assert data["_schemaURL"] == facets.schema_url(facets.SCHEMA_NAMES[key])

    validator = EventValidator(SHARED_SPEC if SHARED_SPEC.is_dir() else None)
    pointer = validator._schema_for("run", key, data)
    assert pointer == data["_schemaURL"]
    assert list(validator._validator(pointer).iter_errors(data)) == []


def test_facet_that_breaks_its_schema_is_reported() -> None:
    data = Serde.to_dict(SAMPLES[facets.BUSINESS]) | {"role": "bronze"}
    validator = EventValidator()
    messages = [e.message for e in validator._validator(data["_schemaURL"]).iter_errors(data)]
    assert messages == [
        "'bronze' is not one of ['source', 'intermediate', 'measure', "
        "'north-star', 'report', 'quarantine']"
    ]


def test_vendored_spec_matches_shared() -> None:
    if not SHARED_SPEC.is_dir():
        pytest.skip(f"{SHARED_SPEC} is not present")
    shared = sorted(p.relative_to(SHARED_SPEC) for p in SHARED_SPEC.rglob("*.json"))
    vendored = sorted(p.relative_to(VENDORED_SPEC) for p in VENDORED_SPEC.rglob("*.json"))
    assert vendored == shared
    for relative in shared:
        assert json.loads((VENDORED_SPEC / relative).read_text()) == json.loads(
            (SHARED_SPEC / relative).read_text()
        ), relative
