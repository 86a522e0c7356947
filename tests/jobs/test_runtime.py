"""``write_parquet``'s overwrite of a whole output, by one run and by two Spark applications
writing the same output at the same time."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from .conftest import local_spark_env
from .overwrite_worker import LAYOUTS, snapshot

pytestmark = [pytest.mark.spark]

WORKER = Path(__file__).with_name("overwrite_worker.py")
#: rounds of the concurrent test; they alternate between the layouts
ROUNDS = 8
REPLY_TIMEOUT = 180.0

Row = tuple[int, str, str]


def read_rows(location: Path, layout: str) -> list[Row]:
    """The output as an independent reader sees it (pyarrow skips ``_`` and ``.`` names)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    partitioning = None
    if LAYOUTS[layout] is not None:
        partitioning = ds.partitioning(pa.schema([("period", pa.string())]), flavor="hive")
    table = ds.dataset(str(location), format="parquet", partitioning=partitioning).to_table()
    return sorted((r["id"], r["value"], r["period"]) for r in table.to_pylist())


def stray_folders(lake: Path) -> list[str]:
    """Folders under the lake that are neither an output nor a partition of one."""
    stray = []
    for folder in sorted(p for p in lake.rglob("*") if p.is_dir()):
        parts = folder.relative_to(lake).parts
        output = len(parts) == 1 and parts[0] in LAYOUTS
        partition = len(parts) == 2 and parts[0] == "partitioned" and parts[1].startswith("period=")
        if not (output or partition):
            stray.append("/".join(parts))
    return stray


class Writer:
    """One ``overwrite_worker`` process: its own interpreter, JVM and Spark session."""

    def __init__(self, name: str, lake: Path, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), name, str(lake)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **local_spark_env()},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.strip())
        self._lines.put(None)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def reply(self) -> str:
        try:
            line = self._lines.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            line = f"(no reply in {REPLY_TIMEOUT:.0f} s)"
        if line is None:
            line = f"(exited with {self.process.wait()})"
        if line.startswith("("):
            tail = self.log_path.read_text(encoding="utf-8")[-3000:]
            pytest.fail(f"writer {self.name} {line}; its log ends:\n{tail}", pytrace=False)
        return line

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def test_two_applications_overwrite_one_output_at_once(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    writers = [Writer(name, lake, tmp_path / f"writer-{name}.log") for name in ("a", "b")]
    layouts = list(LAYOUTS)
    failed: list[str] = []
    wrong: list[str] = []
    winners: list[str] = []
    try:
        assert [w.reply() for w in writers] == ["started", "started"]
        for number in range(ROUNDS):
            layout = layouts[number % len(layouts)]
            for writer in writers:
                writer.send(f"prepare {number} {layout}")
            assert [w.reply() for w in writers] == [f"ready {number}"] * 2
            for writer in writers:
                writer.send(f"go {number}")
            replies = [w.reply() for w in writers]

            failed.extend(f"{layout}: {r}" for r in replies if r != f"ok {number}")
            stray = stray_folders(lake)
            if stray:
                wrong.append(f"round {number} ({layout}) left {stray}")
            if any(r != f"ok {number}" for r in replies):
                continue
            rows = read_rows(lake / layout, layout)
            snapshots = {w.name: sorted(snapshot(w.name, number)) for w in writers}
            found = [name for name, rows_of in snapshots.items() if rows == rows_of]
            if found:
                winners.extend(found)
            else:
                wrong.append(f"round {number} ({layout}): {len(rows)} rows, neither snapshot")
    finally:
        for writer in writers:
            writer.close()

    assert not failed, f"{len(failed)} writes failed in {ROUNDS} rounds:\n" + "\n".join(failed)
    assert not wrong, "\n".join(wrong)
    assert len(winners) == ROUNDS


def test_overwrite_replaces_everything_and_leaves_no_staging(spark: Any, tmp_path: Path) -> None:
    from lodestar.jobs.runtime import write_parquet

    schema = "id long, value string, period string"
    for layout, column in LAYOUTS.items():
        location = tmp_path / layout
        first = snapshot("a", 0)
        write_parquet(spark.createDataFrame(first, schema), str(location), partition_by=column)
        assert read_rows(location, layout) == sorted(first)

        # fewer rows and one period only: every file and partition of the first run goes
        second = [row for row in snapshot("b", 1) if row[2] == "2011-02"]
        write_parquet(spark.createDataFrame(second, schema), str(location), partition_by=column)

        assert read_rows(location, layout) == sorted(second)
        if column is not None:
            assert sorted(p.name for p in location.iterdir() if p.is_dir()) == ["period=2011-02"]
    assert stray_folders(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(LAYOUTS)


def test_swaps_racing_in_one_jvm_leave_one_whole_snapshot(spark: Any, tmp_path: Path) -> None:
    """Many swaps of one output at once, so that one run's snapshot often arrives between
    another's two renames (the retries of a test run number in the tens)."""
    from lodestar.jobs import swap

    runs, rounds = 4, 30
    location = tmp_path / "pair_rules"
    errors: list[str] = []

    def run(names: swap.Sibling, start: threading.Barrier) -> None:
        files = swap._Files(spark, names.output)
        start.wait()
        try:
            swap._swap(files, names)
        except Exception as exc:  # reported by the test
            errors.append(f"{type(exc).__name__}: {exc}")

    for number in range(rounds):
        sides = [swap.Sibling.of(str(location)) for _ in range(runs)]
        for index, names in enumerate(sides):
            staged = Path(names.staging)
            staged.mkdir()
            for part in range(3):
                (staged / f"part-{index}-{part}").write_text(f"{number}", encoding="utf-8")
        start = threading.Barrier(runs)
        threads = [threading.Thread(target=run, args=(names, start)) for names in sides]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == [], f"round {number}"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["pair_rules"]
        found = sorted(p.name for p in location.iterdir())
        assert found in [[f"part-{i}-{part}" for part in range(3)] for i in range(runs)]
        assert {p.read_text(encoding="utf-8") for p in location.iterdir()} == {f"{number}"}


def test_leftovers_of_a_crashed_run_do_not_stop_the_next(spark: Any, tmp_path: Path) -> None:
    """A run that died between its renames left no output, its staged and old snapshots."""
    from lodestar.jobs import swap
    from lodestar.jobs.runtime import write_parquet

    location = tmp_path / "item_support"
    stale = time.time() - swap.LEFTOVER_AGE_SECONDS - 60
    leftovers = {
        ".item_support.staging-0c0ffee": stale,
        ".item_support.old-0c0ffee-1": stale,
        # younger than the limit: may be the staging folder of a run still writing
        ".item_support.staging-5ca1ab1e": time.time() - 60,
        # another output's
        ".products.staging-0c0ffee": stale,
    }
    for name, modified in leftovers.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "part-00000.parquet").write_bytes(b"not parquet")
        os.utime(tmp_path / name, (modified, modified))
    rows = snapshot("a", 7)

    write_parquet(
        spark.createDataFrame(rows, "id long, value string, period string"), str(location)
    )

    assert read_rows(location, "unpartitioned") == sorted(rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".item_support.staging-5ca1ab1e",
        ".products.staging-0c0ffee",
        "item_support",
    ]


def test_a_failed_write_leaves_the_output_and_no_staging(spark: Any, tmp_path: Path) -> None:
    from pyspark.errors import SparkRuntimeException
    from pyspark.sql import functions as F

    from lodestar.jobs.runtime import write_parquet

    location = tmp_path / "products"
    rows = snapshot("b", 0)
    frame = spark.createDataFrame(rows, "id long, value string, period string")
    write_parquet(frame, str(location))
    last = F.col("id") == len(rows) - 1
    failing = frame.withColumn("id", F.when(last, F.raise_error("no such row")).otherwise("id"))

    with pytest.raises(SparkRuntimeException, match="no such row"):
        write_parquet(failing, str(location))

    assert read_rows(location, "unpartitioned") == sorted(rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products"]
