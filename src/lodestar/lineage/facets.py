"""Lodestar's custom OpenLineage facets, with their versioned JSON Schemas in ``schemas/``.

The facet rules of the OpenLineage spec: a custom facet's key is prefixed with its producer
(``lodestar_``), it carries ``_producer`` (who wrote it) and ``_schemaURL`` (a JSON pointer to
the versioned schema that describes it). The classes extend the client's ``facet_v2`` bases, so
the Airflow provider and the client serialize them like any standard facet.

Keys and where they sit in an event:

==========================  ======================  ==============================
key                         container               class
==========================  ======================  ==============================
``lodestar_dataProduct``    ``job.facets``          :class:`DataProductJobFacet`
``lodestar_business``       ``<dataset>.facets``    :class:`BusinessDatasetFacet`
``lodestar_run``            ``run.facets``          :class:`BusinessRunFacet`
``lodestar_measures``       ``<dataset>.facets``    :class:`MeasuresDatasetFacet`
``lodestar_quarantine``     ``outputFacets``        :class:`QuarantineOutputDatasetFacet`
==========================  ======================  ==============================
"""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata, resources
from typing import Any

import attr
from openlineage.client.facet_v2 import DatasetFacet, JobFacet, OutputDatasetFacet, RunFacet

#: base of our schema URLs; each schema's ``$id`` is ``<base>/<version>/<Name>.json``
SCHEMA_BASE_URL = "https://lodestar.dev/spec/facets"
#: version of the facet schemas (``MAJOR-MINOR-PATCH``, as OpenLineage spells its versions)
FACETS_VERSION = "1-0-0"

DATA_PRODUCT = "lodestar_dataProduct"
BUSINESS = "lodestar_business"
RUN = "lodestar_run"
MEASURES = "lodestar_measures"
QUARANTINE = "lodestar_quarantine"

#: facet key -> schema name, for every facet Lodestar defines
SCHEMA_NAMES: dict[str, str] = {
    DATA_PRODUCT: "DataProductJobFacet",
    BUSINESS: "BusinessDatasetFacet",
    RUN: "BusinessRunFacet",
    MEASURES: "MeasuresDatasetFacet",
    QUARANTINE: "QuarantineOutputDatasetFacet",
}


def _version() -> str:
    try:
        return metadata.version("lodestar")
    except metadata.PackageNotFoundError:  # NOTE: running from a source tree without install
        return "0.0.0"


#: ``_producer`` of every facet Lodestar writes
PRODUCER = f"https://lodestar.dev/lodestar/{_version()}"


def schema_id(name: str) -> str:
    """The ``$id`` of one of our schemas, e.g. ``.../1-0-0/BusinessDatasetFacet.json``."""
    return f"{SCHEMA_BASE_URL}/{FACETS_VERSION}/{name}.json"


def schema_url(name: str) -> str:
    """The ``_schemaURL`` of a facet: the schema's ``$id`` and a pointer to its definition."""
    return f"{schema_id(name)}#/$defs/{name}"


@cache
def packaged_schemas() -> dict[str, dict[str, Any]]:
    """Our facet schemas shipped in the package, by ``$id``."""
    folder = resources.files("lodestar.lineage") / "schemas"
    found: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            found[schema["$id"]] = schema
    return found


# --- nested parts ---------------------------------------------------------------------------


@attr.define
class Person:
    name: str
    email: str | None = None
    role: str | None = None


@attr.define
class NorthStarRef:
    id: str
    product: str
    name: str | None = None
    measure: str | None = None


@attr.define
class StepRef:
    name: str
    type: str
    job: str | None = None
    model: str | None = None


@attr.define
class UseCaseRef:
    id: str
    product: str
    name: str | None = None
    priority: int | None = None


@attr.define
class GoalRef:
    id: str
    product: str
    name: str | None = None
    measure: str | None = None
    baseline: float | None = None
    target: float | None = None
    direction: str | None = None


@attr.define
class MeasureRef:
    name: str
    column: str | None = None
    unit: str | None = None


@attr.define
class Period:
    granularity: str
    start: str | None = None
    end: str | None = None


@attr.define
class HypothesisRef:
    id: str
    product: str
    statement: str | None = None
    initiative: str | None = None
    goal: str | None = None
    measure: str | None = None
    expectedDirection: str | None = None


@attr.define
class PeriodValue:
    period: str
    value: float | None = None
    target: float | None = None
    gap: float | None = None
    onTrack: bool | None = None


@attr.define
class MeasureSeries:
    measure: str
    kind: str
    id: str
    values: list[PeriodValue] = attr.field(factory=list)
    column: str | None = None
    unit: str | None = None
    name: str | None = None
    direction: str | None = None
    baseline: float | None = None
    target: float | None = None
    latest: PeriodValue | None = None


# --- facets ---------------------------------------------------------------------------------


@attr.define
class DataProductJobFacet(JobFacet):
    """The data product a job builds and the step of its plan (key ``lodestar_dataProduct``)."""

    name: str
    version: str
    domain: str
    type: str
    vision: str
    owners: list[Person]
    title: str | None = None
    purpose: str | None = None
    tags: list[str] = attr.field(factory=list)
    northStar: NorthStarRef | None = None
    step: StepRef | None = None

    @staticmethod
    def _get_schema() -> str:
        return schema_url("DataProductJobFacet")


@attr.define
class BusinessDatasetFacet(DatasetFacet):
    """Why a dataset exists: its product, role, use cases, goals and NSM (``lodestar_business``)."""

    product: str
    role: str
    useCases: list[UseCaseRef] = attr.field(factory=list)
    goals: list[GoalRef] = attr.field(factory=list)
    productVersion: str | None = None
    domain: str | None = None
    output: str | None = None
    input: str | None = None
    format: str | None = None
    description: str | None = None
    citation: str | None = None
    tracedThrough: list[str] = attr.field(factory=list)
    traceabilityExempt: str | None = None
    northStar: NorthStarRef | None = None
    measures: list[MeasureRef] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("BusinessDatasetFacet")


@attr.define
class BusinessRunFacet(RunFacet):
    """The period a run covers and the hypotheses under test (key ``lodestar_run``)."""

    product: str
    step: StepRef
    hypotheses: list[HypothesisRef] = attr.field(factory=list)
    productVersion: str | None = None
    period: Period | None = None
    northStar: NorthStarRef | None = None

    @staticmethod
    def _get_schema() -> str:
        return schema_url("BusinessRunFacet")


@attr.define
class MeasuresDatasetFacet(DatasetFacet):
    """NSM and goal-measure values per period against targets (key ``lodestar_measures``)."""

    measures: list[MeasureSeries] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MeasuresDatasetFacet")


@attr.define
class QuarantineOutputDatasetFacet(OutputDatasetFacet):
    """Rows a run rejected into the quarantine, by reason (key ``lodestar_quarantine``)."""

    reasons: dict[str, int] = attr.field(factory=dict)
    sourceRows: int | None = None
    keptRows: int | None = None
    rejectedRows: int | None = None
    rejectedShare: float | None = None
    maxRejectedShare: float | None = None

    @staticmethod
    def _get_schema() -> str:
        return schema_url("QuarantineOutputDatasetFacet")
