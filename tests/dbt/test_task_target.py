"""Each dbt task of a DAG runs with its own target folder, never the project's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from dbt_lake import affinity_plan, settings_for

from lodestar.airflow.dbt_tasks import dbt_command, task_target
from lodestar.manifest.model import DbtStep

pytestmark = pytest.mark.dbt


def test_a_task_writes_its_artifacts_to_its_own_folder_and_removes_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    plan = affinity_plan(settings)
    step = next(s for s in plan.product.build.steps if isinstance(s, DbtStep))
    shared = settings.dbt_project_dir / "target" / "manifest.json"
    before = shared.read_bytes()

    with task_target(settings) as target:
        assert (target / "partial_parse.msgpack").read_bytes() == (
            shared.with_name("partial_parse.msgpack").read_bytes()
        )
        command, env = dbt_command(plan, step.name, ["ls", "--select", "nsm_history"], target)
        done = subprocess.run(
            command, env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout[-2000:]
        assert "product_affinity.nsm_history" in done.stdout
        assert (target / "manifest.json").exists()

    assert not target.exists()
    assert shared.read_bytes() == before
