"""The dbt project on disk: generating its files, parsing it at build time, running dbt.

``compile_project`` runs ``dbt parse`` once, at build time, so that ``target/manifest.json``
and ``target/partial_parse.msgpack`` exist before Airflow parses a DAG: the DAG files read the
model graph from the manifest and never start dbt. A later ``dbt build`` reuses the partial
parse when its vars, target and environment match the ones used here, and parses again
(correctly, only slower) when they do not.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.dbt.properties import GeneratedFile, generate_files
from lodestar.dbt.vars import vars_for
from lodestar.errors import JobError, LodestarError
from lodestar.manifest import load_folder
from lodestar.manifest.model import DataProduct, DbtStep
from lodestar.plan import plan_product
from lodestar.settings import Settings, load_settings

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt_common.events.base_types import EventMsg

log = logging.getLogger(__name__)

#: dbt artifacts that Airflow and later dbt runs read
ARTIFACTS = ("manifest.json", "partial_parse.msgpack")


@dataclass(frozen=True)
class DbtOutcome:
    """What one dbt invocation did: its command, success, and the nodes that failed."""

    command: str
    success: bool
    failures: tuple[str, ...]
    result: Any


def load_products(settings: Settings) -> dict[str, DataProduct]:
    """Every product of the manifests folder; generation refuses to work around a bad one."""
    catalog = load_folder(settings.manifests_dir)
    if catalog.errors:
        listed = "; ".join(str(e) for e in catalog.errors)
        raise LodestarError(
            f"cannot generate the dbt project from invalid manifests: {listed} "
            "(fix them, then check with `lodestar validate`)"
        )
    return catalog.products


def generated_files(settings: Settings | None = None) -> list[GeneratedFile]:
    settings = settings or load_settings()
    return generate_files(load_products(settings), settings.dbt_project_dir)


def stale_files(settings: Settings | None = None) -> list[Path]:
    """Generated files whose text on disk differs from a fresh generation (or are missing)."""
    settings = settings or load_settings()
    stale = []
    for item in generated_files(settings):
        path = settings.dbt_project_dir / item.path
        if not path.exists() or path.read_text(encoding="utf-8") != item.text:
            stale.append(path)
    return stale


def generate(settings: Settings | None = None) -> list[Path]:
    """Write the generated sources and model properties; return the files that changed."""
    settings = settings or load_settings()
    changed = []
    for item in generated_files(settings):
        path = settings.dbt_project_dir / item.path
        if path.exists() and path.read_text(encoding="utf-8") == item.text:
            log.debug("dbt project file %s is up to date", path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(item.text, encoding="utf-8")
        changed.append(path)
        log.info("wrote dbt project file %s", path)
    return changed


def project_vars(settings: Settings) -> dict[str, Any]:
    """The vars of every product with a dbt step, merged: the vars ``compile_project`` parses
    with, equal to one product's ``vars_for`` when a single product has dbt steps."""
    products = load_products(settings)
    merged: dict[str, Any] = {}
    for name in sorted(products):
        product = products[name]
        if any(isinstance(s, DbtStep) for s in product.build.steps):
            merged.update(vars_for(plan_product(product, products, settings)))
    return merged


def compile_project(
    settings: Settings | None = None,
    *,
    target: str | None = None,
    target_path: Path | None = None,
) -> Path:
    """Parse the dbt project (at build time); return the path of ``target/manifest.json``.

    The artifacts go to the project's ``target/`` (where Airflow reads them) unless
    ``target_path`` says otherwise. Refuses to parse when the generated files are stale,
    naming them and the fix.
    """
    settings = settings or load_settings()
    stale = stale_files(settings)
    if stale:
        raise LodestarError(
            "the generated dbt files are out of date with the manifests: "
            f"{', '.join(str(p) for p in stale)}; run `lodestar dbt generate` and commit them"
        )

    target_dir = target_path or settings.dbt_project_dir / "target"
    run_dbt(
        ["parse"],
        settings,
        dbt_vars=project_vars(settings),
        target=target,
        target_path=target_path,
    )

    missing = [name for name in ARTIFACTS if not (target_dir / name).exists()]
    if missing:
        raise JobError(
            f"dbt parse succeeded but did not write {', '.join(missing)} in {target_dir}"
        )
    log.info("dbt project parsed: %s", target_dir / "manifest.json")
    return target_dir / "manifest.json"


def run_dbt(
    args: list[str],
    settings: Settings,
    *,
    dbt_vars: dict[str, Any] | None = None,
    target: str | None = None,
    target_path: Path | None = None,
    check: bool = True,
) -> DbtOutcome:
    """Run one dbt command in this process, on the project and profiles of ``settings``.

    The Lodestar environment variables the profiles and sources read are set from
    ``settings`` for the duration of the call. dbt's own messages go to this module's logger
    and to its file log under ``<home>/dbt/logs``. Artifacts go to the project's ``target/``
    unless ``target_path`` says otherwise. With ``check``, a failed command raises
    :class:`JobError` naming the failed nodes.
    """
    from dbt.cli.main import dbtRunner

    project = str(settings.dbt_project_dir)
    command = [
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target",
        target or settings.dbt_target,
        # dbt's console output goes through _forward to the logger; its file log stays
        "--log-level",
        "none",
        "--log-level-file",
        "debug",
        "--log-path",
        str(settings.home / "dbt" / "logs"),
    ]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    if dbt_vars is not None:
        command += ["--vars", json.dumps(dbt_vars, sort_keys=True)]
    log.info("dbt %s on target %s", " ".join(args), target or settings.dbt_target)

    try:
        with _environment(settings):
            result: dbtRunnerResult = dbtRunner(callbacks=[_forward]).invoke(command)
    finally:
        _release_duckdb()

    failures = _failures(result)
    outcome = DbtOutcome(" ".join(args), bool(result.success), failures, result.result)
    if check and not outcome.success:
        cause = result.exception
        detail = "; ".join(failures) if failures else str(cause or "see the dbt log")
        raise JobError(f"dbt {outcome.command} failed: {detail}") from cause
    return outcome


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The variables that profiles.yml and the generated sources read."""
    return {
        "LODESTAR_HOME": str(settings.home),
        "LODESTAR_WAREHOUSE": str(settings.warehouse),
        "LODESTAR_LAKE_ROOT": settings.lake_root,
        "LODESTAR_SPARK_MASTER": settings.spark_master,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextmanager
def _environment(settings: Settings) -> Iterator[None]:
    # NOTE: os.environ is process-wide; dbt reads it while rendering profiles and sources
    saved = {key: os.environ.get(key) for key in dbt_environment(settings)}
    os.environ.update(dbt_environment(settings))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release_duckdb() -> None:
    """Close the DuckDB database that dbt-duckdb keeps open in the process after a command.

    Until it is closed, no other connection of this process (the read-only readers of
    ``lodestar.warehouse``, a later run with other settings) can open the same file.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # NOTE: raised when no DuckDB command ran in this process
        return
    environment.close()  # type: ignore[no-untyped-call]
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def _failures(result: dbtRunnerResult) -> tuple[str, ...]:
    results = getattr(result.result, "results", None) or []
    failed = []
    for item in results:
        status = str(getattr(item, "status", ""))
        if status in ("error", "fail", "runtime error"):
            node = getattr(item, "node", None)
            name = getattr(node, "unique_id", "?")
            message = (getattr(item, "message", None) or "").strip().splitlines()
            failed.append(f"{name} ({status}: {message[0] if message else 'no message'})")
    return tuple(failed)


_LEVELS = {"debug": logging.DEBUG, "info": logging.DEBUG, "warn": logging.WARNING}


def _forward(event: EventMsg) -> None:
    """dbt's events to the logger: warnings and errors as such, the rest at debug."""
    info = event.info
    level = _LEVELS.get(str(getattr(info, "level", "")), logging.ERROR)
    if log.isEnabledFor(level):
        log.log(level, "dbt: %s", getattr(info, "msg", ""))
