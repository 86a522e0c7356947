"""The JSON shapes of the Data Products API; their descriptions document the OpenAPI schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Direction = Literal["increase", "decrease", "maintain"]
NodeKind = Literal["vision", "goal", "hypothesis", "initiative", "use_case", "output", "input"]
HypothesisVerdict = Literal["supported", "not-supported", "unknown"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Owner(Model):
    """Someone accountable for the product, as the manifest names them."""

    name: str = Field(description="Person or team.")
    email: str | None = Field(default=None, description="Contact address.")
    role: str = Field(description="Role, e.g. owner or steward.")


class Point(Model):
    """One value of a measure: one period (None for a measure without periods)."""

    period: str | None = Field(description="Period, e.g. 2011-09; None when not by period.")
    value: float | None = Field(description="Value; None when the period has no value.")


class RunSummary(Model):
    """The latest Airflow run of a product's DAG."""

    run_id: str = Field(description="Airflow run id.")
    state: str | None = Field(description="Run state: queued, running, success or failed.")
    run_type: str = Field(description="manual, scheduled, asset_triggered or backfill.")
    logical_date: datetime | None = Field(description="Logical date of the run, if any.")
    run_after: datetime = Field(description="When the run was due.")
    start_date: datetime | None = Field(description="When it started.")
    end_date: datetime | None = Field(description="When it ended.")
    url: str = Field(description="The run in Airflow's UI.")


class TaskState(Model):
    """One task of the latest run."""

    task_id: str = Field(description="Task id in the product DAG.")
    state: str | None = Field(description="Task state; None when not scheduled yet.")
    try_number: int = Field(description="Tries so far.")
    start_date: datetime | None = Field(description="When the last try started.")
    end_date: datetime | None = Field(description="When the last try ended.")
    duration: float | None = Field(description="Seconds the last try took.")
    url: str = Field(description="The task instance in Airflow's UI.")


class NorthStarStatus(Model):
    """The North Star Metric a product declares or contributes to, and where it stands."""

    id: str = Field(description="NSM id.")
    name: str = Field(description="Display name.")
    unit: str = Field(description="Unit, e.g. ratio.")
    direction: Direction = Field(description="Which way is better.")
    target: float = Field(description="Target value per period (from the declaring manifest).")
    declared_by: str = Field(description="Product whose manifest declares the NSM.")
    period: str | None = Field(default=None, description="Period of the latest value.")
    value: float | None = Field(default=None, description="Latest measured value; None if none.")
    gap: float | None = Field(default=None, description="value - target.")
    on_track: bool | None = Field(
        default=None, description="Whether the latest value meets the target in its direction."
    )


class NorthStarDetail(NorthStarStatus):
    """The NSM with its definition and its history, one value per period."""

    description: str = Field(description="What it says about the business.")
    calculation: str = Field(description="Exact definition of the value.")
    frequency: str = Field(description="How often it is measured.")
    owner: str = Field(description="Who answers for it.")
    history: list[Point] = Field(description="Values by period, oldest first.")


class ManifestIssue(Model):
    """One error found in a manifest file that kept it from becoming a product."""

    file: str = Field(description="Manifest file, relative to the manifests folder.")
    line: int | None = Field(description="1-based line, when known.")
    column: int | None = Field(description="1-based column, when known.")
    field: str = Field(description="Dotted path of the field at fault, when known.")
    rule: str = Field(description="Which check failed, e.g. schema or yaml.")
    message: str = Field(description="What is wrong.")
    hint: str = Field(description="How to fix it, when known.")


class ProductSummary(Model):
    """A data product as the list shows it."""

    name: str = Field(description="Product name; also its DAG id.")
    title: str = Field(description="Human-readable name.")
    version: str = Field(description="Version of the product contract.")
    domain: str = Field(description="Owning business domain.")
    type: str = Field(description="source-aligned, aggregate or consumer-aligned.")
    purpose: str = Field(description="What the product is for.")
    owners: list[Owner] = Field(description="Accountable owners.")
    tags: list[str] = Field(description="Free tags.")
    manifest: str = Field(description="Manifest file, relative to the manifests folder.")
    dag_url: str = Field(description="The product's DAG in Airflow's UI.")
    page_url: str = Field(description="The product's page.")
    last_run: RunSummary | None = Field(description="Latest Airflow run; None before the first.")
    north_star: NorthStarStatus | None = Field(description="NSM and its latest value.")


class ProductList(Model):
    """Every product the caller may read, and the manifest errors they may see."""

    products: list[ProductSummary] = Field(description="Products, by name.")
    errors: list[ManifestIssue] = Field(description="Errors of manifests that did not load.")


class GoalProgress(Model):
    """A goal and its measure over time."""

    id: str = Field(description="Goal id.")
    name: str = Field(description="Display name.")
    measure: str = Field(description="Measure that tracks it.")
    unit: str | None = Field(description="Unit of the measure.")
    baseline: float = Field(description="Value when the goal was set.")
    target: float = Field(description="Value to reach.")
    direction: Direction = Field(description="Which way the measure should move.")
    period: str = Field(description="Period over which the measure is computed.")
    deadline: date | None = Field(description="When the target is due.")
    latest: float | None = Field(description="Latest measured value.")
    on_track: bool | None = Field(description="Whether the latest value meets the target.")
    history: list[Point] = Field(description="Values by period, oldest first.")


class HypothesisStatus(Model):
    """Whether a hypothesis's measure moved as predicted, from the product's status output."""

    id: str = Field(description="Hypothesis id.")
    statement: str = Field(description="The hypothesis in words.")
    goal: str = Field(description="Goal it should help achieve.")
    initiative: str = Field(description="Initiative under test.")
    measure: str = Field(description="Measure expected to move.")
    expected_direction: Direction = Field(description="Direction the measure should move.")
    status: HypothesisVerdict = Field(description="supported, not-supported or unknown.")
    latest_value: float | None = Field(description="Latest value of the measure, if known.")


class Dataset(Model):
    """An input or output of the product, with its lineage identity."""

    name: str = Field(description="Input or output name in the manifest.")
    side: Literal["input", "output"] = Field(description="input or output.")
    format: str | None = Field(description="Storage format.")
    role: str | None = Field(description="Role of an output in the chain.")
    description: str | None = Field(description="What it holds.")
    namespace: str = Field(description="OpenLineage dataset namespace.")
    dataset: str = Field(description="OpenLineage dataset name.")
    upstream_product: str | None = Field(description="Product that publishes an input.")
    marquez_url: str | None = Field(description="The dataset in Marquez, when one is configured.")


class TreeNode(Model):
    """One node of the business chain, vision -> goals -> ... -> inputs."""

    kind: NodeKind = Field(description="Which link of the chain the node is.")
    id: str = Field(description="Id or name of the element.")
    label: str = Field(description="Text shown.")
    detail: str | None = Field(default=None, description="Secondary text.")
    status: str | None = Field(default=None, description="Hypothesis status, where one applies.")
    url: str | None = Field(default=None, description="Where the element can be looked at.")
    children: list[TreeNode] = Field(default_factory=list, description="Next links of the chain.")


class ProductDetail(ProductSummary):
    """Everything the product page shows."""

    vision: str = Field(description="One sentence on the value delivered.")
    north_star: NorthStarDetail | None = Field(description="NSM, its history and target.")
    goals: list[GoalProgress] = Field(description="Goals with their measure histories.")
    hypotheses: list[HypothesisStatus] = Field(description="Hypotheses with their status.")
    tree: TreeNode = Field(description="The business chain as a tree.")
    tasks: list[TaskState] = Field(description="Task states of the latest run.")
    datasets: list[Dataset] = Field(description="Inputs and outputs.")
    measures_published_at: str | None = Field(description="When the measures were published.")
