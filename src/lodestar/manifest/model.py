"""The data product manifest (``apiVersion: lodestar/v1``, ``kind: DataProduct``) as typed models.

Field names follow DataOS-style product specs (name, version, domain, tags, purpose, inputs and
outputs by reference) and the KPI fields of ODPS 4.1 product strategy (id, name, description,
unit, target, direction, timeframe, frequency, owner, calculation). YAML keys are camelCase;
every field carries a description, reused by the JSON Schema, ``lodestar explain`` and the UI.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

API_VERSION = "lodestar/v1"
KIND = "DataProduct"

SLUG_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
ID_PATTERN = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"
IDENT_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
DURATION_PATTERN = r"^\d+(s|m|h|d)$"
VERSION_PATTERN = r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=2, max_length=63)]
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=80)]
Identifier = Annotated[str, Field(pattern=IDENT_PATTERN, min_length=1, max_length=63)]
TagName = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=63)]
Duration = Annotated[
    str, Field(pattern=DURATION_PATTERN, description="A duration such as 30s, 10m, 2h or 1d.")
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """``"90s"`` -> 90 seconds; the pattern is checked by the model."""
    match = re.fullmatch(DURATION_PATTERN, value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration like 30s, 10m, 2h or 1d")
    return timedelta(seconds=int(value[:-1]) * _UNITS[value[-1]])


class Spec(BaseModel):
    """Base of every manifest model: camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
        use_attribute_docstrings=True,
        str_strip_whitespace=True,
        field_title_generator=lambda name, _: name.replace("_", " ").capitalize(),
    )


# --- identity -------------------------------------------------------------------------------


class ProductType(StrEnum):
    SOURCE_ALIGNED = "source-aligned"
    AGGREGATE = "aggregate"
    CONSUMER_ALIGNED = "consumer-aligned"


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Person(Spec):
    """Someone accountable for, or working on, the product."""

    name: str = Field(min_length=1, description="Person or team name.")
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, description="Contact address.")
    role: str = Field(
        default="owner",
        min_length=1,
        description="Their role, e.g. owner, steward, producer, consumer, analyst.",
    )


class Metadata(Spec):
    """Identity of the data product."""

    name: Slug = Field(description="Unique product name (slug); the DAG id and lineage job prefix.")
    title: str | None = Field(default=None, description="Human-readable name.")
    version: str = Field(
        pattern=VERSION_PATTERN,
        description="Semantic version of the product contract.",
    )
    domain: Slug = Field(description="Business domain that owns the product.")
    type: ProductType = Field(description="source-aligned, aggregate or consumer-aligned.")
    purpose: str = Field(min_length=1, description="What the product is for, in a sentence.")
    owners: list[Person] = Field(min_length=1, description="Accountable owners.")
    collaborators: list[Person] = Field(
        default_factory=list, description="Other people and teams, with their roles."
    )
    tags: list[TagName] = Field(
        default_factory=list,
        description="Free tags: lower-case words joined by - or _, e.g. cross-sell.",
    )


# --- business chain -------------------------------------------------------------------------


class NorthStarMetric(Spec):
    """The one measurable outcome the product contributes to (ODPS 4.1 KPI fields)."""

    id: Id = Field(description="Stable id of the NSM.")
    name: str = Field(min_length=1, description="Display name.")
    description: str = Field(min_length=1, description="What it says about the business.")
    calculation: str = Field(min_length=1, description="Exact definition of the value.")
    unit: str = Field(min_length=1, description="Unit, e.g. ratio, GBP, count.")
    direction: Direction = Field(description="Which way is better.")
    target: float = Field(description="Target value per period.")
    frequency: Frequency = Field(description="How often it is measured (one value a period).")
    owner: str = Field(min_length=1, description="Who answers for it.")
    measure: Identifier = Field(description="The measure (declared under measures) it is.")


class NorthStarRef(Spec):
    """A North Star Metric declared by another product, which this product contributes to."""

    product: Slug = Field(description="Product that declares the NSM.")
    id: Id = Field(description="Id of the NSM in that product.")


class Goal(Spec):
    """A specific target with a measurable success indicator."""

    id: Id = Field(description="Stable id.")
    name: str = Field(min_length=1, description="Display name.")
    measure: Identifier = Field(description="Measure (declared under measures) that tracks it.")
    baseline: float = Field(description="Value of the measure when the goal was set.")
    target: float = Field(description="Value to reach.")
    direction: Direction = Field(description="Which way the measure should move.")
    period: Frequency = Field(description="Period over which the measure is computed.")
    deadline: date | None = Field(default=None, description="When the target is due.")

    @model_validator(mode="after")
    def _target_agrees_with_direction(self) -> Goal:
        moves_up = self.target > self.baseline
        if self.direction is Direction.INCREASE and not moves_up:
            raise ValueError("direction is increase but target is not above baseline")
        if self.direction is Direction.DECREASE and self.target >= self.baseline:
            raise ValueError("direction is decrease but target is not below baseline")
        return self


class Initiative(Spec):
    """An approach that realises one or more goals."""

    id: Id = Field(description="Stable id.")
    name: str = Field(min_length=1, description="Display name.")
    description: str | None = Field(default=None, description="What will be done.")


class Hypothesis(Spec):
    """'We believe that <initiative> will help achieve <goal>', with the measure that moves."""

    id: Id = Field(description="Stable id.")
    statement: str = Field(min_length=1, description="The hypothesis in words.")
    initiative: Id = Field(description="Initiative under test (id).")
    goal: Id = Field(description="Goal it should help achieve (id).")
    measure: Identifier = Field(description="Measure expected to move.")
    expected_direction: Direction = Field(description="Direction the measure should move.")


class Consumer(Spec):
    """Who uses a use case's results."""

    name: str = Field(min_length=1, description="Team or system name.")
    type: Literal["team", "system"] = Field(default="team", description="team or system.")


class UseCase(Spec):
    """A practical application of one or more hypotheses."""

    id: Id = Field(description="Stable id.")
    name: str = Field(min_length=1, description="Display name.")
    description: str | None = Field(default=None, description="What it does for its consumers.")
    priority: int = Field(ge=1, le=9, description="1 is highest.")
    consumers: list[Consumer] = Field(min_length=1, description="Teams and systems served.")
    hypotheses: list[Id] = Field(min_length=1, description="Hypotheses it applies (ids).")


class Measure(Spec):
    """A number the goals or the NSM need, and the output column that produces it."""

    name: Identifier = Field(description="Measure name, referenced by goals and the NSM.")
    definition: str = Field(min_length=1, description="Exact definition.")
    unit: str = Field(min_length=1, description="Unit.")
    output: Identifier = Field(description="Output that produces it (name).")
    column: Identifier = Field(description="Column of that output holding the value.")


class Dimension(Spec):
    """An axis the measures are cut by."""

    name: Identifier = Field(description="Dimension name.")
    definition: str = Field(min_length=1, description="What it means.")
    output: Identifier = Field(description="Output that carries it.")
    column: Identifier = Field(description="Column of that output.")


class Business(Spec):
    """The business chain, from vision to use cases, and the North Star Metric."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["northStar"]}, {"required": ["northStarRef"]}]}
    )

    vision: str = Field(min_length=1, description="One sentence on the value delivered.")
    north_star: NorthStarMetric | None = Field(
        default=None, description="The NSM, when this product declares it."
    )
    north_star_ref: NorthStarRef | None = Field(
        default=None, description="The NSM of another product this product contributes to."
    )
    goals: list[Goal] = Field(default_factory=list, description="Goals with success measures.")
    initiatives: list[Initiative] = Field(default_factory=list, description="Initiatives.")
    hypotheses: list[Hypothesis] = Field(default_factory=list, description="Hypotheses.")
    use_cases: list[UseCase] = Field(default_factory=list, description="Use cases served.")
    measures: list[Measure] = Field(default_factory=list, description="Measures produced.")
    dimensions: list[Dimension] = Field(default_factory=list, description="Dimensions.")

    @model_validator(mode="after")
    def _one_north_star(self) -> Business:
        if (self.north_star is None) == (self.north_star_ref is None):
            raise ValueError("declare exactly one of northStar or northStarRef")
        return self


# --- build ----------------------------------------------------------------------------------


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
        default=None, description="File or table location; relative paths are from the repo."
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


class SourceColumns(Spec):
    """Which source column holds each field the ingest job needs."""

    order_id: str = Field(description="Order (basket) id column.")
    product_id: str = Field(description="Product id column.")
    description: str | None = Field(default=None, description="Product description column.")
    quantity: str | None = Field(default=None, description="Quantity column.")
    ordered_at: str | None = Field(default=None, description="Order timestamp column.")
    unit_price: str | None = Field(default=None, description="Unit price column.")
    customer_id: str | None = Field(default=None, description="Customer id column.")
    country: str | None = Field(default=None, description="Country column.")


class CsvOptions(Spec):
    """How to read a CSV source."""

    header: bool = Field(default=True, description="First line holds column names.")
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="Delimiter.")
    quote: str = Field(default='"', min_length=1, max_length=1, description="Quote character.")
    line_separator: Literal["\n", "\r", "\r\n"] | None = Field(
        default=None, description="Line separator; unset: LF or CRLF."
    )
    encoding: str = Field(default="UTF-8", description="Text encoding.")


class RejectionRules(Spec):
    """Which rows are not sales of products; each rejected row is quarantined with a reason."""

    cancellation_pattern: str | None = Field(
        default=None, description="Regex on order id marking cancellations."
    )
    adjustment_pattern: str | None = Field(
        default=None, description="Regex on order id marking accounting adjustments."
    )
    non_product_codes: list[str] = Field(
        default_factory=list, description="Product codes that are not products (postage...)."
    )
    non_product_pattern: str | None = Field(
        default=None, description="Regex on product id for non-product codes."
    )
    max_rejected_share: float = Field(
        default=0.1, ge=0, le=1, description="The task fails above this share of rejected rows."
    )

    @field_validator("cancellation_pattern", "adjustment_pattern", "non_product_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class IngestParams(Spec):
    """Parameters of the ``ingest`` Spark job."""

    source: Identifier = Field(description="Input (name) to read.")
    timestamp_format: str | None = Field(
        default=None, description="Spark datetime pattern of the time column."
    )
    columns: SourceColumns | None = Field(
        default=None, description="Column mapping; not used for basket files."
    )
    csv: CsvOptions = Field(default_factory=CsvOptions, description="CSV reading options.")
    quantity_mode: Literal["column", "line_per_unit"] = Field(
        default="column", description="line_per_unit: each line sells one unit."
    )
    rules: RejectionRules = Field(default_factory=RejectionRules, description="Rejection rules.")


class Thresholds(Spec):
    """Which pair rules are kept."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["minSupport"]}, {"required": ["minSupportCount"]}]
        }
    )

    min_support: float | None = Field(
        default=None, gt=0, le=1, description="Minimum pair support as a fraction of baskets."
    )
    min_support_count: int | None = Field(
        default=None, ge=1, description="Minimum number of baskets holding the pair."
    )
    min_confidence: float = Field(default=0.0, ge=0, le=1, description="Minimum confidence.")
    min_lift: float = Field(default=0.0, ge=0, description="Minimum lift.")

    @model_validator(mode="after")
    def _one_support(self) -> Thresholds:
        if (self.min_support is None) == (self.min_support_count is None):
            raise ValueError("give exactly one of minSupport or minSupportCount")
        return self


class AffinityParams(Spec):
    """Parameters of the ``affinity`` Spark job."""

    order_lines: Identifier = Field(description="Input (name) holding the order lines.")
    thresholds: Thresholds = Field(description="Rule thresholds.")
    max_basket_size: int = Field(default=500, ge=2, description="Largest basket counted as is.")
    oversize_policy: Literal["exclude", "keep", "fail"] = Field(
        default="exclude", description="What to do with larger baskets; always reported."
    )
    period: Literal["month"] = Field(default="month", description="Period of the NSM.")
    trailing_periods: int = Field(
        default=3, ge=1, le=24, description="Periods before each period to learn rules from."
    )


class SparkStep(Spec):
    """A Spark application registered by name."""

    name: Identifier = Field(description="Task name.")
    type: Literal["spark"] = Field(description="spark")
    job: Literal["ingest", "affinity"] = Field(description="Registered Spark job.")
    params: IngestParams | AffinityParams = Field(description="Typed job parameters.")
    conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark conf.")


class IngestStep(SparkStep):
    """The ``ingest`` Spark job: raw source rows in, clean order lines and a quarantine out."""

    job: Literal["ingest"] = Field(description="Registered Spark job: ingest.")
    params: IngestParams = Field(description="Parameters of the ingest job.")


class AffinityStep(SparkStep):
    """The ``affinity`` Spark job: order lines in, item support, pair rules and attach out."""

    job: Literal["affinity"] = Field(description="Registered Spark job: affinity.")
    params: AffinityParams = Field(description="Parameters of the affinity job.")


class DbtStep(Spec):
    """dbt models (and their tests) selected from the project."""

    name: Identifier = Field(description="Step name.")
    type: Literal["dbt"] = Field(description="dbt")
    select: list[str] = Field(min_length=1, description="dbt selectors, e.g. tag:product_affinity.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Extra dbt vars.")


_CHECKS_ON_A_COLUMN = ("not_null", "unique", "between", "max_share")


class QualityCheck(Spec):
    """One assertion on an output."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"assertion": {"enum": list(_CHECKS_ON_A_COLUMN)}}},
                    "then": {"required": ["column"]},
                },
                {
                    "if": {"properties": {"assertion": {"const": "row_count_min"}}},
                    "then": {"required": ["min"]},
                },
                {
                    "if": {"properties": {"assertion": {"const": "max_share"}}},
                    "then": {"required": ["max"]},
                },
                {
                    "if": {"properties": {"assertion": {"const": "between"}}},
                    "then": {"anyOf": [{"required": ["min"]}, {"required": ["max"]}]},
                },
            ]
        }
    )

    name: Identifier = Field(description="Check name.")
    output: Identifier = Field(description="Output checked.")
    assertion: Literal["row_count_min", "not_null", "unique", "between", "max_share"] = Field(
        description="Kind of assertion."
    )
    column: str | None = Field(default=None, description="Column checked, if any.")
    min: float | None = Field(default=None, description="Lower bound.")
    max: float | None = Field(default=None, description="Upper bound.")
    severity: Literal["error", "warn"] = Field(default="error", description="error fails the run.")

    @model_validator(mode="after")
    def _bounds_fit_assertion(self) -> QualityCheck:
        if self.assertion in _CHECKS_ON_A_COLUMN and self.column is None:
            raise ValueError(f"assertion {self.assertion} needs a column")
        if self.assertion == "row_count_min" and self.min is None:
            raise ValueError("assertion row_count_min needs min")
        if self.assertion == "max_share" and self.max is None:
            raise ValueError("assertion max_share needs max")
        if self.assertion == "between" and self.min is None and self.max is None:
            raise ValueError("assertion between needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class QualityStep(Spec):
    """Data-quality assertions on outputs."""

    name: Identifier = Field(description="Step name.")
    type: Literal["quality"] = Field(description="quality")
    checks: list[QualityCheck] = Field(min_length=1, description="Assertions.")


STEP_TYPES = ("spark", "dbt", "quality")
SPARK_JOBS = ("ingest", "affinity")


def step_tag(value: Any) -> str | None:
    """Which step model a step mapping is: ``spark-<job>``, ``dbt`` or ``quality``."""
    if isinstance(value, dict):
        kind, job = value.get("type"), value.get("job")
    else:
        kind, job = getattr(value, "type", None), getattr(value, "job", None)
    if kind == "spark":
        return f"spark-{job}" if job in SPARK_JOBS else None
    return kind if kind in STEP_TYPES else None


Step = Annotated[
    Annotated[IngestStep, Tag("spark-ingest")]
    | Annotated[AffinityStep, Tag("spark-affinity")]
    | Annotated[DbtStep, Tag("dbt")]
    | Annotated[QualityStep, Tag("quality")],
    Discriminator(
        step_tag,
        custom_error_type="step_kind",
        custom_error_message="Unknown step type or Spark job",
    ),
]


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
