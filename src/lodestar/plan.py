"""From validated manifests and settings to the concrete plan of a run.

The plan is the one place that turns names into places: each output's location or warehouse
relation and lineage dataset, each input resolved to a file or another product's output, and
the JSON parameters handed to each Spark job. The Airflow layer, the CLI, dbt vars and the
lineage events all read it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lodestar import naming
from lodestar.manifest.model import (
    AffinityParams,
    DataProduct,
    IngestParams,
    Input,
    Output,
    SparkStep,
)
from lodestar.settings import Settings

#: outputs each registered Spark job writes, by job name
SPARK_JOB_OUTPUTS: dict[str, tuple[str, ...]] = {
    "ingest": ("order_lines", "orders", "products", "quarantine"),
    "affinity": ("item_support", "pair_rules", "period_rules", "order_attach"),
}


@dataclass(frozen=True)
class OutputPlan:
    """Where one output lives and what lineage calls it."""

    product: str
    output: Output
    location: str | None
    relation: tuple[str, str] | None
    dataset: naming.DatasetName

    @property
    def name(self) -> str:
        return self.output.name


@dataclass(frozen=True)
class InputPlan:
    """One input, resolved to a location (file or another product's output)."""

    input: Input
    location: str
    dataset: naming.DatasetName
    upstream: tuple[str, str] | None = None  # (product, output) when read from a product

    @property
    def name(self) -> str:
        return self.input.name


@dataclass(frozen=True)
class ProductPlan:
    """Everything a run of one product needs to know about places."""

    product: DataProduct
    settings: Settings
    outputs: dict[str, OutputPlan] = field(default_factory=dict)
    inputs: dict[str, InputPlan] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.product.name

    def stats_path(self, step: str) -> Path:
        return self.settings.run_stats_dir / self.name / f"{step}.json"


def warehouse_namespace(settings: Settings) -> str:
    """Lineage namespace of the dbt warehouse for the configured target."""
    if settings.dbt_target == "duckdb":
        return f"duckdb://{settings.warehouse.resolve()}"
    return f"spark://{settings.spark_master}"


def resolve_uri(uri: str, settings: Settings) -> str:
    """A relative input URI is relative to the project folder that holds the manifests."""
    if "://" in uri or uri.startswith("/"):
        return uri
    return str((settings.manifests_dir.parent / uri).resolve())


def plan_output(product: DataProduct, output: Output, settings: Settings) -> OutputPlan:
    if output.format == "parquet":
        location = naming.resolve_output_location(
            settings.lake_root, product.name, output.name, output.location
        )
        return OutputPlan(
            product.name, output, location, None, naming.dataset_for_location(location)
        )
    schema, table = naming.warehouse_relation(product.name, output.name)
    dataset = naming.warehouse_dataset(warehouse_namespace(settings), schema, table)
    return OutputPlan(product.name, output, None, (schema, table), dataset)


def plan_product(
    product: DataProduct, products: dict[str, DataProduct], settings: Settings
) -> ProductPlan:
    """Resolve every input and output of ``product``; references must already be valid."""
    plan = ProductPlan(product, settings)
    for output in product.build.outputs:
        plan.outputs[output.name] = plan_output(product, output, settings)
    for item in product.build.inputs:
        if item.uri is not None:
            location = resolve_uri(item.uri, settings)
            plan.inputs[item.name] = InputPlan(
                item, location, naming.dataset_for_location(location)
            )
            continue
        assert item.product is not None and item.output is not None  # NOTE: model-checked
        upstream = plan_output(products[item.product], _output_of(products, item), settings)
        location = upstream.location or ".".join(upstream.relation or ())
        plan.inputs[item.name] = InputPlan(
            item, location, upstream.dataset, (item.product, item.output)
        )
    return plan


def _output_of(products: dict[str, DataProduct], item: Input) -> Output:
    assert item.product is not None and item.output is not None
    found = products[item.product].output(item.output)
    if found is None:
        raise KeyError(f"{item.product} has no output {item.output}")
    return found


def spark_params(
    plan: ProductPlan, step: SparkStep, interval: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The JSON parameters of one Spark step, as the job in ``lodestar.jobs`` reads them."""
    outputs = {name: plan.outputs[name].location for name in SPARK_JOB_OUTPUTS[step.job]}
    common: dict[str, Any] = {
        "product": plan.name,
        "outputs": outputs,
        "stats_path": str(plan.stats_path(step.name)),
        "interval": {"start": interval[0], "end": interval[1]} if interval else None,
    }
    params = step.params
    if isinstance(params, IngestParams):
        source = plan.inputs[params.source]
        columns = params.columns.model_dump() if params.columns else None
        csv = params.csv.model_dump()
        return {
            **common,
            "source": {
                "path": source.location,
                "format": source.input.format,
                "timestamp_format": params.timestamp_format,
                "csv": csv,
                "columns": columns,
                "quantity_mode": params.quantity_mode,
            },
            "rules": params.rules.model_dump(),
        }
    assert isinstance(params, AffinityParams)
    return {
        **common,
        "inputs": {"order_lines": plan.inputs[params.order_lines].location},
        "thresholds": params.thresholds.model_dump(),
        "max_basket_size": params.max_basket_size,
        "oversize_policy": params.oversize_policy,
        "period": params.period,
        "trailing_periods": params.trailing_periods,
    }
