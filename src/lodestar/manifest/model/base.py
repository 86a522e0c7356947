"""Shared pieces of the manifest model: the base model, name patterns, durations, enums."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
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
