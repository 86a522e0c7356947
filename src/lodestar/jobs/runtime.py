"""What both Spark applications share: the command line, the session, outputs and statistics."""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from lodestar.errors import JobError
from lodestar.jobs.params import ParamsError
from lodestar.jobs.swap import write_swapped

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

log = logging.getLogger(__name__)


class _HasStats(Protocol):
    @property
    def product(self) -> str: ...

    @property
    def stats_path(self) -> Path: ...


P = TypeVar("P", bound=_HasStats)


@dataclass
class Timings:
    """Wall-clock seconds of the phases of a run, in the order they ran."""

    seconds: dict[str, float] = field(default_factory=dict)
    _started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)

    def as_dict(self) -> dict[str, float]:
        return {**self.seconds, "total": round(time.perf_counter() - self._started, 3)}


def tune_local_session(spark: SparkSession) -> None:
    """Size shuffles for a local master unless the submitter chose a number.

    Spark's default of 200 shuffle partitions turns every small aggregation on a laptop into
    200 tasks; on a cluster master the default (or the submitter's ``--conf``) stays.
    """
    context = spark.sparkContext
    if not (context.master or "").startswith("local"):
        return
    if context.getConf().contains("spark.sql.shuffle.partitions"):
        return
    partitions = max(4, 2 * context.defaultParallelism)
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    log.debug("spark.sql.shuffle.partitions=%d for master %s", partitions, context.master)


def create_session(app_name: str) -> SparkSession:
    """The session of a submitted job: master and resources come from spark-submit."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName(app_name).getOrCreate()
    tune_local_session(spark)
    return spark


def read_parquet(spark: SparkSession, location: str, schema: StructType, what: str) -> DataFrame:
    """Read a Parquet dataset with its known schema; a missing location is a clear error."""
    from pyspark.errors import AnalysisException

    try:
        frame = spark.read.schema(schema).parquet(location)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise JobError(
                f"{what} at {location} does not exist; run the job that writes it first",
                retryable=True,
            ) from exc
        raise
    return frame


def write_parquet(
    frame: DataFrame,
    location: str,
    *,
    partition_by: str | None = None,
    replace_partitions: Sequence[str] | None = None,
) -> None:
    """Overwrite an output, or with ``replace_partitions`` only those values of the partition
    column (the periods of an interval), leaving every other partition as it is.

    A whole output (unpartitioned, or partitioned without ``replace_partitions``) is written
    to a hidden sibling folder unique to the run and swapped in with two renames
    (:mod:`lodestar.jobs.swap`): runs overwriting the same output at once (parallel
    intervals) never share Spark's ``<output>/_temporary`` folder, each swaps in a complete
    snapshot and the last swap wins. Readers see the previous snapshot or the new one, and
    for the instant between the renames (longer on object stores, whose rename copies) no
    output at all.

    Dynamic partition overwrite replaces the partitions that receive rows; a partition of the
    interval that receives none this time (every rule now below a threshold) is removed
    first, so a rerun never leaves rows of an earlier run behind. Spark stages it in a
    ``<output>/.spark-staging-<job>`` folder of its own, so it is written in place.
    """
    writer = frame.write
    if partition_by is not None:
        writer = writer.partitionBy(partition_by)
        if replace_partitions is not None:
            _remove_partitions(frame.sparkSession, location, partition_by, replace_partitions)
            writer.mode("overwrite").option("partitionOverwriteMode", "dynamic").parquet(location)
            return
    write_swapped(frame.sparkSession, location, writer.mode("errorifexists").parquet)


def _remove_partitions(
    spark: SparkSession, location: str, column: str, values: Sequence[str]
) -> None:
    """Delete ``location/column=value`` folders through Hadoop's file system (any scheme)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    config = spark.sparkContext._jsc.hadoopConfiguration()
    for value in values:
        path = jvm.org.apache.hadoop.fs.Path(f"{location.rstrip('/')}/{column}={value}")
        filesystem = path.getFileSystem(config)
        if filesystem.exists(path):
            filesystem.delete(path, True)
            log.debug("removed partition %s before rewriting it", path)


def spark_facts(spark: SparkSession) -> dict[str, Any]:
    """Which Spark ran the job, for the statistics."""
    context = spark.sparkContext
    return {"master": context.master, "version": spark.version, "app_id": context.applicationId}


def write_stats(path: Path, stats: dict[str, Any]) -> None:
    """Write the run statistics (the Airflow task and the lineage facets read them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(stats, indent=2, sort_keys=True, default=str)
    path.write_text(text + "\n", encoding="utf-8")
    log.info("statistics written to %s: %s", path, json.dumps(stats, sort_keys=True, default=str))


def configure_logging() -> None:
    """Operators read the job's log on stderr (spark-submit forwards it to Airflow)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)


def run_main(
    job: str,
    argv: Sequence[str] | None,
    load: Callable[[Path], P],
    run: Callable[[SparkSession, P], dict[str, Any]],
) -> int:
    """Parse ``--params``, run the job in a fresh session, return the process exit code."""
    configure_logging()
    parser = argparse.ArgumentParser(prog=job, description=f"Lodestar {job} Spark application")
    parser.add_argument("--params", required=True, type=Path, help="JSON parameter file")
    args = parser.parse_args(argv)

    try:
        params = load(args.params)
    except ParamsError as exc:
        log.error("%s: invalid parameters: %s", job, exc)
        return 2
    params.stats_path.unlink(missing_ok=True)

    spark = None
    try:
        spark = create_session(f"lodestar-{params.product}-{job}")
        run(spark, params)
        return 0
    except JobError as exc:
        log.error("%s of %s failed: %s", job, params.product, exc)
        _write_failure(params, job, exc, retryable=exc.retryable)
        return 1
    except Exception as exc:  # Spark, I/O: foreign errors end the run with their traceback
        log.error(
            "%s of %s failed: %s: %s", job, params.product, type(exc).__name__, exc, exc_info=True
        )
        _write_failure(params, job, exc, retryable=True)
        return 1
    finally:
        if spark is not None:
            spark.stop()


def _write_failure(params: _HasStats, job: str, exc: BaseException, *, retryable: bool) -> None:
    """Every failure leaves a record of why, and whether a retry could help (the Airflow task
    fails at once when it cannot); statistics the job wrote itself are kept."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    stats: dict[str, Any] = {"job": job, "product": params.product, "error": first_line}
    if params.stats_path.exists():
        try:
            stats = {**stats, **json.loads(params.stats_path.read_text(encoding="utf-8"))}
        except (OSError, ValueError):
            log.warning("statistics at %s unreadable; writing the failure alone", params.stats_path)
    stats.update(status="failed", retryable=retryable)
    write_stats(params.stats_path, stats)
