"""Operators of a product DAG: input checks, Spark steps, dbt models, quality checks, measures.

Each operator keeps only names (product, step, model) in the serialized DAG and rebuilds the plan
when it runs. Each one reports its lineage through the OpenLineage provider's operator methods,
with Lodestar's business facets built by :mod:`lodestar.lineage`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from lodestar.airflow.compat import BaseOperator
from lodestar.airflow.context import TaskContext, task_context
from lodestar.errors import JobError
from lodestar.manifest.model import DbtStep, QualityStep, SparkStep, parse_duration

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)

JOBS_DIR = Path(__file__).resolve().parents[1] / "jobs"
REPO_ROOT = Path(__file__).resolve().parents[3]


def run_interval(context: Context) -> tuple[str, str] | None:
    """The interval a run is restricted to: ``{"start": ..., "end": ...}`` in the run's conf."""
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run else {}
    if conf.get("start") and conf.get("end"):
        return str(conf["start"]), str(conf["end"])
    return None


def run_folder(ctx: TaskContext, context: Context) -> Path:
    """Per-run scratch folder (job parameters) under the Lodestar home."""
    run_id = str(context["run_id"]).replace(":", "_").replace("+", "_")
    folder = ctx.settings.home / "runs" / ctx.plan.name / run_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_stats(path: Path) -> Any:
    """The JSON a step left behind (job statistics: an object; check results: a list)."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


class LineageMixin:
    """OpenLineage provider hooks; the business facets come from :mod:`lodestar.lineage`."""

    product: str
    manifests_dir: str | None

    def _step_lineage(self, complete: bool) -> Any:
        raise NotImplementedError

    def _operator_lineage(self, complete: bool) -> Any:
        from airflow.providers.openlineage.extractors import OperatorLineage

        try:
            built = self._step_lineage(complete)
        except Exception:  # NOTE: lineage never fails a task
            log.warning("lineage for %s could not be built; the task is unaffected", self.product)
            log.debug("lineage build failure", exc_info=True)
            return OperatorLineage()
        return OperatorLineage(
            inputs=built.inputs,
            outputs=built.outputs,
            run_facets=built.run_facets,
            job_facets=built.job_facets,
        )

    def get_openlineage_facets_on_start(self) -> Any:
        return self._operator_lineage(complete=False)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return self._operator_lineage(complete=True)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return self._operator_lineage(complete=True)


class InputCheckOperator(LineageMixin, BaseOperator):
    """Fails early when an input is missing or older than its manifest allows."""

    ui_color = "#e8f1fb"

    def __init__(self, *, product: str, manifests_dir: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.manifests_dir = manifests_dir

    def execute(self, context: Context) -> dict[str, Any]:
        ctx = task_context(self.product, self.manifests_dir)
        report: dict[str, Any] = {}
        problems: list[str] = []
        for name, item in ctx.plan.inputs.items():
            location = item.location
            if "://" in location and not location.startswith("file://"):
                log.debug("input %s at %s: remote, presence left to the job", name, location)
                report[name] = {"location": location, "checked": False}
                continue
            path = Path(location.removeprefix("file://"))
            if not path.exists() or (path.is_dir() and not any(path.rglob("*.parquet"))):
                hint = (
                    f"run the {item.upstream[0]} DAG first"
                    if item.upstream
                    else "check the uri in the manifest"
                )
                problems.append(f"input {name!r}: nothing at {path} ({hint})")
                continue
            age = time.time() - _newest_mtime(path)
            max_age = item.input.freshness.max_age
            report[name] = {"location": str(path), "age_seconds": round(age)}
            if max_age and age > parse_duration(max_age).total_seconds():
                problems.append(f"input {name!r}: {path} is {age / 3600:.1f} h old, max {max_age}")
        if problems:
            raise JobError(f"{self.product}: " + "; ".join(problems))
        log.info("%s: %d inputs present and fresh", self.product, len(report))
        return report

    def _step_lineage(self, complete: bool) -> Any:
        from lodestar.lineage import input_check_lineage

        return input_check_lineage(task_context(self.product, self.manifests_dir).plan)


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


class LodestarSparkSubmitOperator(LineageMixin, SparkSubmitOperator):
    """A manifest's Spark step through the Spark provider's spark-submit.

    The job's JSON parameters are written at run time from the plan, so the same DAG runs on
    ``local[*]`` or a cluster (the ``spark_default`` connection gives the master).
    """

    ui_color = "#fde9d9"

    def __init__(
        self,
        *,
        product: str,
        step: SparkStep,
        manifests_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        conf = {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "8",
            "spark.ui.showConsoleProgress": "false",
            **step.conf,
        }
        super().__init__(
            application=str(JOBS_DIR / f"{step.job}.py"),
            conf=conf,
            name=f"lodestar-{product}-{step.name}",
            env_vars={"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable},
            **kwargs,
        )
        self.product = product
        self.step_name = step.name
        self.manifests_dir = manifests_dir

    def execute(self, context: Context) -> Any:
        from lodestar.plan import spark_params

        ctx = task_context(self.product, self.manifests_dir)
        step = ctx.plan.product.step(self.step_name)
        assert isinstance(step, SparkStep)
        params = spark_params(ctx.plan, step, run_interval(context))
        folder = run_folder(ctx, context)
        # NOTE: each run gets its own statistics file, so parallel runs of one product never
        # read each other's; the latest is then published where lineage and the summary look
        run_stats = folder / f"{self.step_name}.stats.json"
        run_stats.unlink(missing_ok=True)
        params["stats_path"] = str(run_stats)
        params_file = folder / f"{self.step_name}.params.json"
        params_file.write_text(json.dumps(params, indent=2), encoding="utf-8")
        self.application_args = ["--params", str(params_file)]
        log.info("%s.%s: spark-submit %s", self.product, self.step_name, self.application)
        try:
            super().execute(context)
        except Exception as exc:  # NOTE: spark-submit's exit status; the job said why
            failed = read_stats(run_stats) or {}
            if failed.get("status") == "failed" and failed.get("retryable") is False:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(
                    f"{self.product}.{self.step_name}: {failed.get('error')} (not retried: "
                    "a rerun fails the same way until the data or the manifest changes)"
                ) from exc
            raise
        stats = read_stats(run_stats)
        if stats is None:
            raise JobError(
                f"{self.product}.{self.step_name}: the job wrote no stats at {run_stats}"
            )
        self._stats = stats
        latest = ctx.plan.stats_path(self.step_name)
        latest.parent.mkdir(parents=True, exist_ok=True)
        staged = latest.with_name(f".{latest.name}.{os.getpid()}")
        staged.write_text(json.dumps(stats, indent=2), encoding="utf-8")
        os.replace(staged, latest)
        log.info("%s.%s statistics: %s", self.product, self.step_name, json.dumps(stats))
        return stats

    def _step_lineage(self, complete: bool) -> Any:
        from lodestar.lineage import step_lineage

        ctx = task_context(self.product, self.manifests_dir)
        stats = getattr(self, "_stats", None) if complete else None
        return step_lineage(ctx.plan, self.step_name, stats=stats)


class DbtModelOperator(LineageMixin, BaseOperator):
    """``dbt build`` of one model with its tests, on the configured target."""

    ui_color = "#fdeee6"

    def __init__(
        self,
        *,
        product: str,
        step: DbtStep,
        model: str,
        manifests_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.step_name = step.name
        self.model = model
        self.manifests_dir = manifests_dir

    def execute(self, context: Context) -> dict[str, Any]:
        from lodestar.airflow.dbt_tasks import dbt_command, run_logged, task_target

        ctx = task_context(self.product, self.manifests_dir)
        # NOTE: "cautious" keeps the tests of this model alone; tests across models (a
        # relationship, an agreement between two tables) run in the step's tests task
        args = ["--no-use-colors", "build", "--select", self.model]
        with task_target(ctx.settings) as target:
            command, env = dbt_command(
                ctx.plan, self.step_name, [*args, "--indirect-selection", "cautious"], target
            )
            run_logged(command, env, f"dbt build of {self.model}")
        return {"model": self.model, "target": ctx.settings.dbt_target}

    def _step_lineage(self, complete: bool) -> Any:
        from lodestar.lineage import model_lineage

        return model_lineage(task_context(self.product, self.manifests_dir).plan, self.model)


class DbtTestsOperator(LineageMixin, BaseOperator):
    """``dbt test`` of a dbt step's whole selection, once all its models are built."""

    ui_color = "#fdeee6"

    def __init__(
        self,
        *,
        product: str,
        step: DbtStep,
        models: list[str],
        manifests_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.step_name = step.name
        self.selectors = list(step.select)
        self.models = models
        self.manifests_dir = manifests_dir

    def execute(self, context: Context) -> dict[str, Any]:
        from lodestar.airflow.dbt_tasks import dbt_command, run_logged, task_target

        ctx = task_context(self.product, self.manifests_dir)
        args = ["--no-use-colors", "test", "--select", *self.selectors]
        with task_target(ctx.settings) as target:
            command, env = dbt_command(ctx.plan, self.step_name, args, target)
            run_logged(command, env, f"dbt test of {' '.join(self.selectors)}")
        return {"selectors": self.selectors, "target": ctx.settings.dbt_target}

    def _step_lineage(self, complete: bool) -> Any:
        from lodestar.lineage import model_tests_lineage

        plan = task_context(self.product, self.manifests_dir).plan
        return model_tests_lineage(plan, self.step_name, self.models, self.task_id)


class QualityCheckOperator(LineageMixin, BaseOperator):
    """The manifest's quality assertions, evaluated with DuckDB on lake files and warehouse."""

    ui_color = "#e6f5e9"

    def __init__(
        self, *, product: str, step: QualityStep, manifests_dir: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.step_name = step.name
        self.manifests_dir = manifests_dir
        self._results: list[dict[str, Any]] = []

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from lodestar.quality import run_checks

        ctx = task_context(self.product, self.manifests_dir)
        step = ctx.plan.product.step(self.step_name)
        assert isinstance(step, QualityStep)
        self._results = run_checks(ctx.plan, step)
        results_file = ctx.plan.stats_path(self.step_name)
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps(self._results, indent=2), encoding="utf-8")
        failed = [r for r in self._results if not r["success"] and r["severity"] == "error"]
        for result in self._results:
            log.info(
                "check %s on %s: %s (%s)",
                result["name"],
                result["output"],
                "pass" if result["success"] else "FAIL",
                result["observed"],
            )
        if failed:
            names = ", ".join(f"{r['name']} ({r['observed']})" for r in failed)
            raise JobError(f"{self.product}: quality checks failed: {names}")
        return self._results

    def _step_lineage(self, complete: bool) -> Any:
        from lodestar.lineage import quality_lineage

        ctx = task_context(self.product, self.manifests_dir)
        results = read_stats(ctx.plan.stats_path(self.step_name)) if complete else None
        return quality_lineage(ctx.plan, self.step_name, results)


class PublishMeasuresOperator(LineageMixin, BaseOperator):
    """Reads the product's measures and NSM, records them, and reports them to lineage."""

    ui_color = "#fff4cc"

    def __init__(
        self,
        *,
        product: str,
        manifests_dir: str | None = None,
        sla: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.manifests_dir = manifests_dir
        self.sla = sla

    def execute(self, context: Context) -> dict[str, Any]:
        from lodestar.airflow.callbacks import deadline_missed
        from lodestar.measures import publish_measures

        ctx = task_context(self.product, self.manifests_dir)
        published = publish_measures(ctx.plan)
        dag_run = context.get("dag_run")
        started = getattr(dag_run, "start_date", None)
        if self.sla and started is not None:
            from datetime import UTC, datetime

            elapsed = datetime.now(UTC) - started
            published["run_seconds"] = round(elapsed.total_seconds())
            if elapsed > parse_duration(self.sla):
                deadline_missed(context, product=self.product)
        nsm = published.get("north_star")
        if nsm:
            log.info(
                "%s: NSM %s latest %s = %s (target %s, gap %s, %d periods of history)",
                self.product,
                nsm["id"],
                nsm["period"],
                nsm["value"],
                nsm["target"],
                nsm["gap"],
                nsm["history_length"],
            )
        return published

    def _step_lineage(self, complete: bool) -> Any:
        from lodestar.lineage import measures_lineage
        from lodestar.measures import read_published

        ctx = task_context(self.product, self.manifests_dir)
        return measures_lineage(ctx.plan, read_published(ctx.plan) if complete else None)
