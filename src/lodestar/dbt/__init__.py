"""The dbt project of the products: sources and vars from the manifests, build-time parsing.

Public API: ``vars_for(plan)`` (the ``--vars`` of a product's dbt run), ``generate()`` and
``stale_files()`` (the generated sources and model properties), ``compile_project()`` (dbt parse
at build time) and ``run_dbt()`` (one dbt command in this process). Nothing here imports dbt at
module level, so importing ``lodestar.dbt`` stays cheap while Airflow parses DAGs.
"""

from __future__ import annotations

from lodestar.dbt.project import (
    compile_project,
    dbt_environment,
    generate,
    project_vars,
    run_dbt,
    stale_files,
)
from lodestar.dbt.vars import product_params, vars_for

__all__ = [
    "compile_project",
    "dbt_environment",
    "generate",
    "product_params",
    "project_vars",
    "run_dbt",
    "stale_files",
    "vars_for",
]
