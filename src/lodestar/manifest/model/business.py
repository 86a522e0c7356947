"""The business chain: vision, North Star Metric, goals, initiatives, hypotheses, use cases,
measures and dimensions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from lodestar.manifest.model.base import (
    Direction,
    Frequency,
    Id,
    Identifier,
    Slug,
    Spec,
)


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
