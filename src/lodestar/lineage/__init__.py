"""Business lineage: OpenLineage events whose jobs and datasets name their data product, use
cases, goals and North Star Metric.

No Airflow and no Spark here: the Airflow layer calls the step functions from its operators and
wraps their result in the provider's ``OperatorLineage``; the CLI emits events itself.

- facets and their versioned JSON Schemas: :mod:`lodestar.lineage.facets`, ``schemas/``
- lineage of each task of a plan: :func:`input_check_lineage`, :func:`step_lineage`,
  :func:`model_lineage`, :func:`quality_lineage`, :func:`measures_lineage`
- transport (JSONL file or Marquez, spooling, replay): :mod:`lodestar.lineage.transport`
- events outside Airflow: :mod:`lodestar.lineage.emit`
- offline validation: :mod:`lodestar.lineage.validate`; the graph: :mod:`lodestar.lineage.graph`
"""

from __future__ import annotations

from lodestar.lineage.names import LineageError, job_name
from lodestar.lineage.steps import (
    INPUT_CHECK_TASK,
    PUBLISH_TASK,
    StepLineage,
    input_check_lineage,
    measures_lineage,
    model_lineage,
    model_tests_lineage,
    plan_lineage,
    quality_lineage,
    step_lineage,
)

__all__ = [
    "INPUT_CHECK_TASK",
    "PUBLISH_TASK",
    "LineageError",
    "StepLineage",
    "input_check_lineage",
    "job_name",
    "measures_lineage",
    "model_lineage",
    "model_tests_lineage",
    "plan_lineage",
    "quality_lineage",
    "step_lineage",
]
