"""Loading stays cheap: DAG parsing imports lodestar.manifest and loads every manifest."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from lodestar.manifest import load_folder

from .conftest import MANIFESTS

pytestmark = pytest.mark.unit

COPIES = 200
HEAVY = ("airflow", "pyspark", "dbt", "openlineage", "duckdb", "jsonschema")


def test_importing_the_manifest_package_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, lodestar.manifest, lodestar.manifest.explain, lodestar.manifest.schema; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_two_hundred_manifests_load_in_a_few_seconds_of_cpu(tmp_path: Path) -> None:
    source = (MANIFESTS / "product-affinity.yaml").read_text(encoding="utf-8")
    (tmp_path / "retail-orders.yaml").write_text(
        (MANIFESTS / "retail-orders.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "product-affinity.yaml").write_text(source, encoding="utf-8")
    for i in range(COPIES - 2):
        copy = source.replace("name: product-affinity", f"name: product-affinity-{i:03d}")
        copy = copy.replace("id: cross-sell-attach-rate", f"id: cross-sell-attach-rate-{i:03d}")
        (tmp_path / f"product-affinity-{i:03d}.yaml").write_text(copy, encoding="utf-8")

    started = time.process_time()
    catalog = load_folder(tmp_path)
    elapsed = time.process_time() - started

    assert catalog.errors == []
    assert len(catalog.products) == COPIES
    # NOTE: CPU time, not wall time, so that other work on the machine does not count; about
    # 1 s here (PyYAML's own composing is most of it), the bound leaves room for slower CPUs
    assert elapsed < 5.0, f"load_folder of {COPIES} manifests took {elapsed:.2f} s of CPU"
