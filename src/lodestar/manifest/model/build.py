"""How a product is built: inputs, steps, outputs with their columns, schedule, retries, SLA."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from lodestar.manifest.model.base import (
    Duration,
    Id,
    Identifier,
    Slug,
    Spec,
)
from lodestar.manifest.model.steps import Step


class Column(Spec):
    """A column of an input or output."""

    name: str = Field(min_length=1, description="Column name as stored.")
    type: str = Field(default="string", description="Logical type, e.g. string, long, double.")
    description: str | None = Field(default=None, description="Meaning.")
    derived_from: list[str] = Field(
        default_factory=list,
        description="Upstream columns as '<input or output>.<column>', for the backward trace.",
    )


class Freshness(Spec):
    """How recent an input must be."""

    max_age: Duration | None = Field(
        default=None, description="Fail when the input is older than this; unset: no check."
    )


class Input(Spec):
    """A file or table by URI, or another product's output by reference."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["uri"]}, {"required": ["product"]}],
            "dependentRequired": {"uri": ["format"], "product": ["output"], "output": ["product"]},
        }
    )

    name: Identifier = Field(description="Local name used by steps and column traces.")
    uri: str | None = Field(
        default=None,
        description=(
            "File or table location: a URI with a scheme or an absolute path as it is; a "
            "relative path from the parent of the manifests folder."
        ),
    )
    format: Literal["parquet", "csv", "baskets", "table"] | None = Field(
        default=None, description="Storage format of a URI input."
    )
    product: Slug | None = Field(default=None, description="Producing data product.")
    output: Identifier | None = Field(default=None, description="Output of that product.")
    columns: list[Column] = Field(default_factory=list, description="Columns used.")
    freshness: Freshness = Field(default_factory=Freshness, description="Freshness check.")
    citation: str | None = Field(default=None, description="Source and licence of the data.")

    @model_validator(mode="after")
    def _uri_or_reference(self) -> Input:
        by_uri = self.uri is not None
        by_ref = self.product is not None or self.output is not None
        if by_uri == by_ref:
            raise ValueError("give either uri (with format) or product and output")
        if by_ref and (self.product is None or self.output is None):
            raise ValueError("a reference needs both product and output")
        if by_uri and self.format is None:
            raise ValueError("a uri input needs a format")
        return self


class Traceability(Spec):
    """A declared exception to the right-to-left rule, with its reason."""

    exempt: str = Field(min_length=10, description="Why this output serves no use case.")


class Output(Spec):
    """A dataset the product publishes."""

    name: Identifier = Field(description="Output name; the lake folder or warehouse table.")
    description: str | None = Field(default=None, description="What it holds.")
    format: Literal["parquet", "table"] = Field(
        description="parquet: lake files; table: warehouse table built by dbt."
    )
    produced_by: Identifier = Field(description="Step that writes it.")
    location: str | None = Field(
        default=None, description="Override of the location the naming rule gives."
    )
    partitioned_by: Literal["period"] | None = Field(
        default=None, description="period: one partition per period."
    )
    role: Literal["intermediate", "measure", "north-star", "report", "quarantine"] = Field(
        default="intermediate", description="Role in the chain, shown in lineage."
    )
    columns: list[Column] = Field(default_factory=list, description="Columns.")
    use_cases: list[Id] = Field(default_factory=list, description="Use cases served (ids).")
    traceability: Traceability | None = Field(
        default=None, description="Declared exception when it serves no use case."
    )


class Retries(Spec):
    """How failed tasks are retried."""

    count: int = Field(default=2, ge=0, le=10, description="Retries per task.")
    delay: Duration = Field(default="1m", description="First delay.")
    exponential_backoff: bool = Field(default=True, description="Double the delay each retry.")
    max_delay: Duration = Field(default="30m", description="Longest delay.")


class Schedule(Spec):
    """When the product is built: a cron, or when its input products are updated."""

    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["cron", "onInputs"],
                "properties": {"cron": {"type": "string"}, "onInputs": {"const": True}},
            }
        }
    )

    cron: str | None = Field(default=None, description="Cron or preset like @daily.")
    on_inputs: bool = Field(
        default=False, description="Run when the products it reads publish (Airflow Assets)."
    )
    start_date: date = Field(default=date(2024, 1, 1), description="First logical date.")
    catchup: bool = Field(default=False, description="Run missed intervals.")

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if self.cron is not None and self.on_inputs:
            raise ValueError("give cron or onInputs, not both")
        return self


class Build(Spec):
    """How the product is built."""

    inputs: list[Input] = Field(min_length=1, description="Inputs.")
    steps: list[Step] = Field(min_length=1, description="Steps, in dependency order.")
    outputs: list[Output] = Field(min_length=1, description="Outputs.")
    schedule: Schedule = Field(default_factory=Schedule, description="Schedule.")
    retries: Retries = Field(default_factory=Retries, description="Retries.")
    timeout: Duration = Field(default="2h", description="Timeout of each task.")
    sla: Duration | None = Field(default=None, description="Run expected to finish within.")
