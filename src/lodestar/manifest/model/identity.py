"""Who a data product is: name, version, domain, type, purpose, people and tags."""

from __future__ import annotations

from pydantic import (
    Field,
)

from lodestar.manifest.model.base import (
    EMAIL_PATTERN,
    VERSION_PATTERN,
    ProductType,
    Slug,
    Spec,
    TagName,
)


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
