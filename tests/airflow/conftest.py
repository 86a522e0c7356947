"""Fixtures of the Airflow tests: a project-local Airflow under a temporary Lodestar home."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def manifests_copy(tmp_path: Path) -> Path:
    """The reference manifests in a folder of the test's own."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    for path in (REPO / "manifests").glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder
