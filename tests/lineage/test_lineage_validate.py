"""Every event of a run of both reference products validates: official schemas, our facets,
Marquez's names; and broken events are reported precisely."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lodestar.lineage.facets import BUSINESS, DATA_PRODUCT, RUN
from lodestar.lineage.names import LineageError
from lodestar.lineage.validate import EventValidator, load_events, validate_events

pytestmark = pytest.mark.unit

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "openlineage-spec"


def _facet_count(event: dict[str, Any]) -> int:
    count = len(event["run"].get("facets", {})) + len(event["job"].get("facets", {}))
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        count += len(dataset.get("facets", {}))
        count += len(dataset.get("inputFacets", {})) + len(dataset.get("outputFacets", {}))
    return count


@pytest.mark.parametrize("spec", ["shared", "vendored"])
def test_all_events_of_both_products_validate(event_dicts: list[dict[str, Any]], spec: str) -> None:
    if spec == "shared" and not SHARED_SPEC.is_dir():
        pytest.skip(f"{SHARED_SPEC} is not present")
    report = validate_events(event_dicts, SHARED_SPEC if spec == "shared" else None)

    assert [str(p) for p in report.problems] == []
    assert report.events == len(event_dicts) == 2 * 2 + 2 * (4 + 10)
    assert report.facets_checked == sum(_facet_count(e) for e in event_dicts)


def test_every_task_event_carries_the_business_facets(event_dicts: list[dict[str, Any]]) -> None:
    tasks = [e for e in event_dicts if "parent" in e["run"].get("facets", {})]
    assert len(tasks) == 2 * (4 + 10)
    for event in tasks:
        assert DATA_PRODUCT in event["job"]["facets"], event["job"]["name"]
        assert RUN in event["run"]["facets"], event["job"]["name"]
        assert event["inputs"] or event["outputs"], event["job"]["name"]
        for dataset in [*event["inputs"], *event["outputs"]]:
            assert BUSINESS in dataset["facets"], (event["job"]["name"], dataset["name"])


def _first(events: list[dict[str, Any]], job: str, state: str = "COMPLETE") -> dict[str, Any]:
    return copy.deepcopy(
        next(e for e in events if e["job"]["name"] == job and e["eventType"] == state)
    )


def test_broken_events_are_reported_with_their_place(event_dicts: list[dict[str, Any]]) -> None:
    ingest = _first(event_dicts, "retail-orders.ingest")
    ingest["outputs"][0]["namespace"] = "my lake"
    ingest["outputs"][1]["facets"][BUSINESS]["role"] = "bronze"
    del ingest["job"]["facets"][DATA_PRODUCT]["owners"]
    ingest["run"]["facets"][RUN]["_schemaURL"] = "https://lodestar.dev/spec/facets/9-9-9/X.json"
    ingest["inputs"][0]["facets"]["mystery"] = {"_producer": "x", "_schemaURL": "https://x/y"}
    del ingest["eventTime"]

    problems = EventValidator().validate(ingest, 4)[0]

    assert sorted((p.path, p.message, p.severity) for p in problems) == sorted(
        [
            ("<event>", "'eventTime' is a required property", "error"),
            (
                "job.facets.lodestar_dataProduct",
                "'owners' is a required property",
                "error",
            ),
            (
                "run.facets.lodestar_run",
                "_schemaURL should be https://lodestar.dev/spec/facets/1-0-0/"
                "BusinessRunFacet.json#/$defs/BusinessRunFacet",
                "error",
            ),
            (
                "outputs[1].facets.lodestar_business.role",
                "'bronze' is not one of ['source', 'intermediate', 'measure', 'north-star', "
                "'report', 'quarantine']",
                "error",
            ),
            ("inputs[0].facets.mystery", "no schema for this facet", "unchecked"),
            (
                "outputs[0]",
                "the namespace has characters Marquez rejects (' '); allowed: letters, digits, "
                "_-:;=/. ('my lake' / '" + ingest["outputs"][0]["name"] + "')",
                "error",
            ),
        ]
    )
    assert str(problems[0]).startswith("event 5: ")


def test_extra_schema_folder_matches_facets_by_file_name(
    tmp_path: Path, event_dicts: list[dict[str, Any]]
) -> None:
    (tmp_path / "CustomRunFacet.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$defs": {
                    "CustomRunFacet": {
                        "type": "object",
                        "properties": {"size": {"type": "integer"}},
                        "required": ["size"],
                    }
                },
            }
        )
    )
    event = _first(event_dicts, "retail-orders.ingest")
    event["run"]["facets"]["custom"] = {
        "_producer": "https://example.com/p",
        "_schemaURL": "https://example.com/v9/CustomRunFacet.json#/$defs/CustomRunFacet",
        "size": "big",
    }

    unknown = EventValidator().validate(event)[0]
    known = EventValidator(extra_dirs=[tmp_path]).validate(event)[0]

    assert [(p.path, p.severity) for p in unknown] == [("run.facets.custom", "unchecked")]
    assert [(p.path, p.message) for p in known] == [
        ("run.facets.custom.size", "'big' is not of type 'integer'")
    ]


def test_load_events_reads_jsonl_arrays_and_single_events(tmp_path: Path) -> None:
    one = {"eventTime": "2011-12-01T00:00:00Z", "run": {"runId": "x"}, "job": {}}
    (tmp_path / "a.jsonl").write_text(json.dumps(one) + "\n\n" + json.dumps(one) + "\n")
    (tmp_path / "b.json").write_text(json.dumps([one, one, one]))
    (tmp_path / "c.json").write_text(json.dumps(one, indent=2))
    (tmp_path / "d.jsonl").write_text(json.dumps(one) + "\n{broken\n")

    assert [len(load_events(tmp_path / n)) for n in ("a.jsonl", "b.json", "c.json")] == [2, 3, 1]
    with pytest.raises(LineageError, match=r"d.jsonl:2: not a JSON event"):
        load_events(tmp_path / "d.jsonl")


def test_a_spec_folder_without_the_core_schema_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LineageError, match=r"no OpenLineage\.json"):
        EventValidator(tmp_path)
