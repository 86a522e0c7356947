"""One settings object for every layer, with one documented precedence.

Precedence, highest first: an explicit argument to :func:`load_settings`, then the process
environment (``LODESTAR_*`` and the usual ``OPENLINEAGE_*`` variables), then the embedded
defaults. The Airflow layer feeds its ``[lodestar]`` config section in as arguments, so
Airflow config sits between arguments and the environment there.

All local state of the embedded default (lake, DuckDB warehouse, Airflow home, lineage file,
spool) lives under one folder, ``LODESTAR_HOME`` (default ``./.lodestar``), ignored by git.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

#: environment variable behind each setting; the table in the README is generated from this.
ENVIRONMENT: dict[str, str] = {
    "home": "LODESTAR_HOME",
    "manifests_dir": "LODESTAR_MANIFESTS",
    "lake_root": "LODESTAR_LAKE_ROOT",
    "warehouse": "LODESTAR_WAREHOUSE",
    "spark_master": "LODESTAR_SPARK_MASTER",
    "dbt_target": "LODESTAR_DBT_TARGET",
    "lineage_file": "LODESTAR_LINEAGE_FILE",
    "lineage_url": "OPENLINEAGE_URL",
    "lineage_namespace": "OPENLINEAGE_NAMESPACE",
    "lineage_disabled": "OPENLINEAGE_DISABLED",
    "marquez_web_url": "LODESTAR_MARQUEZ_WEB_URL",
    "dbt_project_dir": "LODESTAR_DBT_PROJECT",
}

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Where Lodestar keeps its state and which engines it talks to."""

    home: Path
    manifests_dir: Path
    lake_root: str
    warehouse: Path
    spark_master: str = "local[*]"
    dbt_target: str = "duckdb"
    lineage_file: Path | None = None
    lineage_url: str | None = None
    lineage_namespace: str = "lodestar"
    lineage_disabled: bool = False
    marquez_web_url: str | None = None
    dbt_project_dir: Path = Path("dbt_project")

    @property
    def spool_dir(self) -> Path:
        """Events that could not be sent wait here for ``lodestar lineage replay``."""
        return self.home / "lineage" / "spool"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def run_stats_dir(self) -> Path:
        """Statistics that the Spark jobs report back (row counts, quarantine reasons)."""
        return self.home / "stats"


def project_root() -> Path:
    """The project folder that holds ``dags/``, ``plugins/`` and the default manifests."""
    return Path(__file__).resolve().parents[2]


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from arguments, then the environment, then the defaults."""
    env = os.environ

    def pick(key: str, default: Any) -> Any:
        if overrides.get(key) is not None:
            return overrides[key]
        value = env.get(ENVIRONMENT[key])
        return default if value in (None, "") else value

    home = Path(pick("home", Path.cwd() / ".lodestar")).resolve()
    lineage_file = pick("lineage_file", home / "lineage" / "events.jsonl")
    disabled = pick("lineage_disabled", False)
    settings = Settings(
        home=home,
        manifests_dir=Path(pick("manifests_dir", project_root() / "manifests")).resolve(),
        lake_root=str(pick("lake_root", home / "lake")),
        warehouse=Path(pick("warehouse", home / "warehouse.duckdb")),
        spark_master=str(pick("spark_master", "local[*]")),
        dbt_target=str(pick("dbt_target", "duckdb")),
        lineage_file=Path(lineage_file) if lineage_file else None,
        lineage_url=pick("lineage_url", None),
        lineage_namespace=str(pick("lineage_namespace", "lodestar")),
        lineage_disabled=disabled if isinstance(disabled, bool) else str(disabled).lower() in _TRUE,
        marquez_web_url=pick("marquez_web_url", None),
        dbt_project_dir=Path(pick("dbt_project_dir", project_root() / "dbt_project")).resolve(),
    )
    return settings


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with some fields replaced (unknown names are an error)."""
    known = {f.name for f in fields(Settings)}
    unknown = set(changes) - known
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    return replace(settings, **changes)
