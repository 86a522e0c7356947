"""Fixtures of the lineage tests: settings under a temporary home, the reference plans and
events, and a Marquez-like server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lineage_events import as_dicts, reference_events, reference_plans, settings_under
from marquez_stub import MarquezStub

from lodestar.plan import ProductPlan
from lodestar.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_under(tmp_path / "home")


@pytest.fixture
def plans(settings: Settings) -> dict[str, ProductPlan]:
    return reference_plans(settings)


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings_under(tmp_path_factory.mktemp("lineage") / "home")


@pytest.fixture(scope="module")
def events(module_settings: Settings) -> list[Any]:
    """The RunEvents of one recorded run of both reference products."""
    return reference_events(module_settings)


@pytest.fixture(scope="module")
def event_dicts(events: list[Any]) -> list[dict[str, Any]]:
    return as_dicts(events)


@pytest.fixture
def marquez() -> Iterator[MarquezStub]:
    with MarquezStub() as stub:
        yield stub
