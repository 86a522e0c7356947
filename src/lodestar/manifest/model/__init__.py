"""The data product manifest (``apiVersion: lodestar/v1``, ``kind: DataProduct``) as typed models.

Field names follow DataOS-style product specs (name, version, domain, tags, purpose, inputs and
outputs by reference) and the KPI fields of ODPS 4.1 product strategy (id, name, description,
unit, target, direction, timeframe, frequency, owner, calculation). YAML keys are camelCase;
every field carries a description, reused by the JSON Schema, ``lodestar explain`` and the UI.

The parts live in ``base`` (the base model, name patterns, durations), ``identity``,
``business`` (the chain), ``steps`` and ``build``; import them from here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lodestar.manifest.model.base import (
    API_VERSION,
    DURATION_PATTERN,
    EMAIL_PATTERN,
    ID_PATTERN,
    IDENT_PATTERN,
    KIND,
    SLUG_PATTERN,
    VERSION_PATTERN,
    Direction,
    Duration,
    Frequency,
    Id,
    Identifier,
    ProductType,
    Slug,
    Spec,
    TagName,
    parse_duration,
)
from lodestar.manifest.model.build import (
    Build,
    Column,
    Freshness,
    Input,
    Output,
    Retries,
    Schedule,
    Traceability,
)
from lodestar.manifest.model.business import (
    Business,
    Consumer,
    Dimension,
    Goal,
    Hypothesis,
    Initiative,
    Measure,
    NorthStarMetric,
    NorthStarRef,
    UseCase,
)
from lodestar.manifest.model.identity import Metadata, Person
from lodestar.manifest.model.steps import (
    SPARK_JOBS,
    STEP_TYPES,
    AffinityParams,
    AffinityStep,
    CsvOptions,
    DbtStep,
    IngestParams,
    IngestStep,
    QualityCheck,
    QualityStep,
    RejectionRules,
    SourceColumns,
    SparkStep,
    Step,
    Thresholds,
    step_tag,
)


class DataProduct(Spec):
    """A data product manifest."""

    api_version: Literal["lodestar/v1"] = Field(description="Always lodestar/v1.")
    kind: Literal["DataProduct"] = Field(description="Always DataProduct.")
    metadata: Metadata = Field(description="Identity.")
    business: Business = Field(description="The business chain.")
    build: Build = Field(description="How it is built.")

    @property
    def name(self) -> str:
        return self.metadata.name

    def output(self, name: str) -> Output | None:
        return next((o for o in self.build.outputs if o.name == name), None)

    def input(self, name: str) -> Input | None:
        return next((i for i in self.build.inputs if i.name == name), None)

    def step(self, name: str) -> SparkStep | DbtStep | QualityStep | None:
        return next((s for s in self.build.steps if s.name == name), None)


__all__ = [
    "API_VERSION",
    "DURATION_PATTERN",
    "EMAIL_PATTERN",
    "IDENT_PATTERN",
    "ID_PATTERN",
    "KIND",
    "SLUG_PATTERN",
    "SPARK_JOBS",
    "STEP_TYPES",
    "VERSION_PATTERN",
    "AffinityParams",
    "AffinityStep",
    "Build",
    "Business",
    "Column",
    "Consumer",
    "CsvOptions",
    "DataProduct",
    "DbtStep",
    "Dimension",
    "Direction",
    "Duration",
    "Frequency",
    "Freshness",
    "Goal",
    "Hypothesis",
    "Id",
    "Identifier",
    "IngestParams",
    "IngestStep",
    "Initiative",
    "Input",
    "Measure",
    "Metadata",
    "NorthStarMetric",
    "NorthStarRef",
    "Output",
    "Person",
    "ProductType",
    "QualityCheck",
    "QualityStep",
    "RejectionRules",
    "Retries",
    "Schedule",
    "Slug",
    "SourceColumns",
    "SparkStep",
    "Spec",
    "Step",
    "TagName",
    "Thresholds",
    "Traceability",
    "UseCase",
    "parse_duration",
    "step_tag",
]
