"""The steps that build a product: registered Spark jobs with typed parameters, dbt selections
and quality checks."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from lodestar.manifest.model.base import (
    Identifier,
    Spec,
)


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
