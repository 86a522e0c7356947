"""dbt models as Airflow tasks, read from the manifest.json that ``lodestar dbt compile`` made.

Airflow never runs ``dbt parse`` or ``dbt ls`` while parsing DAGs: the model graph comes from the
precompiled artifact, read once per process and file version.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.errors import JobError, LodestarError

if TYPE_CHECKING:
    from lodestar.plan import ProductPlan
    from lodestar.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DbtModel:
    name: str
    unique_id: str
    tags: tuple[str, ...]
    depends_on: tuple[str, ...]  # unique ids of upstream models


def manifest_path(project_dir: Path) -> Path:
    return project_dir / "target" / "manifest.json"


@lru_cache(maxsize=4)
def _read_models(path: str, mtime: float) -> dict[str, DbtModel]:
    nodes = json.loads(Path(path).read_text(encoding="utf-8"))["nodes"]
    return {
        node["unique_id"]: DbtModel(
            name=node["name"],
            unique_id=node["unique_id"],
            tags=tuple(node.get("tags", ())),
            depends_on=tuple(
                d for d in node.get("depends_on", {}).get("nodes", ()) if d.startswith("model.")
            ),
        )
        for node in nodes.values()
        if node.get("resource_type") == "model"
    }


def compiled_models(project_dir: Path) -> dict[str, DbtModel]:
    path = manifest_path(project_dir)
    if not path.exists():
        raise LodestarError(
            f"no compiled dbt manifest at {path}; run `lodestar dbt compile` (make setup does)"
        )
    return _read_models(str(path), path.stat().st_mtime)


def select_models(project_dir: Path, selectors: list[str]) -> list[DbtModel]:
    """Models matched by ``tag:<t>``, ``<model name>`` or ``+<model>`` (with its parents)."""
    models = compiled_models(project_dir)
    by_name = {m.name: m for m in models.values()}
    chosen: dict[str, DbtModel] = {}
    for selector in selectors:
        with_parents = selector.startswith("+")
        key = selector.lstrip("+")
        if key.startswith("tag:"):
            matched = [m for m in models.values() if key[4:] in m.tags]
        elif key in by_name:
            matched = [by_name[key]]
        else:
            raise LodestarError(
                f"dbt selector {selector!r} matches no model; known: {', '.join(sorted(by_name))}"
            )
        for model in matched:
            chosen[model.unique_id] = model
            if with_parents:
                stack = list(model.depends_on)
                while stack:
                    parent = models[stack.pop()]
                    chosen[parent.unique_id] = parent
                    stack.extend(parent.depends_on)
    return sorted(chosen.values(), key=lambda m: m.name)


@contextmanager
def task_target(settings: Settings) -> Iterator[Path]:
    """A private dbt target folder for one task, seeded with the build-time partial parse.

    Tasks that run at once (two intervals, two products, parallel models) each write their
    compiled SQL, run_results.json and manifest.json to their own folder, so none rewrites the
    manifest.json that Airflow reads while parsing, nor another task's artifacts. The folder
    goes away with the task; dbt's output is in the task log.
    """
    base = settings.home / "dbt-tasks"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="target-", dir=base) as folder:
        target = Path(folder)
        parsed = settings.dbt_project_dir / "target" / "partial_parse.msgpack"
        if parsed.exists():
            shutil.copyfile(parsed, target / parsed.name)
        else:
            log.warning("no partial parse at %s: dbt parses the project in full", parsed)
        yield target


def dbt_command(
    plan: ProductPlan, step_name: str, args: list[str], target: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """The dbt command line and environment for one step of the plan; ``target`` is the
    task's own target and log folder (see :func:`task_target`)."""
    from lodestar.dbt import dbt_environment, vars_for

    settings = plan.settings
    # NOTE: vars_for already holds the step's vars; the same vars as at compile time let dbt
    # reuse the build-time partial parse
    dbt_vars = vars_for(plan)
    project = str(settings.dbt_project_dir)
    executable = str(Path(sys.executable).with_name("dbt"))
    command = [
        executable,
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target",
        settings.dbt_target,
        "--vars",
        json.dumps(dbt_vars, sort_keys=True),
    ]
    if target is not None:
        command += ["--target-path", str(target), "--log-path", str(target)]
    return command, dbt_environment(settings)


def run_logged(command: list[str], env: dict[str, str], what: str) -> None:
    """Run a dbt command, its output into the task log; a failure names its last lines."""
    log.info("%s: %s", what, " ".join(command))
    proc = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    for line in proc.stdout.splitlines():
        log.info("dbt: %s", line)
    if proc.returncode != 0:
        failing = [line for line in proc.stdout.splitlines() if "ERROR" in line or "FAIL" in line]
        raise JobError(
            f"{what} failed (exit {proc.returncode}): "
            + " | ".join((failing or proc.stdout.splitlines())[-6:])
            + (f" {proc.stderr[-500:]}" if proc.stderr.strip() else "")
        )
