"""One Spark application of the concurrent overwrite test, run as its own process.

It writes ``<lake>/<layout>`` through ``write_parquet`` when the test tells it to, so that two
of these processes (two JVMs, like two Airflow intervals submitted at once) overwrite the same
output at the same time. The protocol on standard input and output, one line each:

- it prints ``started`` once its session is up;
- ``prepare <round> <layout>`` builds and caches this writer's snapshot of the round, then it
  prints ``ready <round>``;
- ``go <round>`` writes it, then it prints ``ok <round>`` or ``failed <round> <error>``.

Spark's and Lodestar's logs go to standard error, which the test keeps in a file.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

#: layout -> partition column of write_parquet (None: unpartitioned)
LAYOUTS: dict[str, str | None] = {"unpartitioned": None, "partitioned": "period"}
PERIODS = ("2011-01", "2011-02", "2011-03")


def snapshot(writer: str, round_number: int) -> list[tuple[int, str, str]]:
    """The rows one writer writes in one round; no two writers or rounds share a row."""
    count = 600 if writer == "a" else 450
    return [(i, f"{writer}-{round_number}-{i}", PERIODS[i % len(PERIODS)]) for i in range(count)]


def summary(exc: BaseException) -> str:
    """The error on one line: a Java error's outermost and innermost exceptions."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    java = [line.removeprefix("Caused by: ").removeprefix(": ") for line in lines]
    java = [line for line in java if re.match(r"^[\w.$]+(Exception|Error)\b", line)]
    if java:
        return " <- ".join(dict.fromkeys([java[0], java[-1]]))
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def session(writer: str) -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName(f"lodestar-overwrite-{writer}")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "768m")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(argv: list[str]) -> int:
    from lodestar.jobs.runtime import write_parquet

    writer, lake = argv
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {writer} %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)
    logging.getLogger("lodestar").setLevel(logging.DEBUG)
    spark = session(writer)
    print("started", flush=True)

    frame: Any = None
    layout = ""
    for line in sys.stdin:
        command, round_number, *rest = line.split()
        if command == "prepare":
            (layout,) = rest
            if frame is not None:
                frame.unpersist()
            rows = snapshot(writer, int(round_number))
            frame = spark.createDataFrame(rows, "id long, value string, period string")
            frame = frame.repartition(4).cache()
            frame.count()
            print(f"ready {round_number}", flush=True)
        elif command == "go":
            try:
                write_parquet(frame, f"{lake}/{layout}", partition_by=LAYOUTS[layout])
            except Exception as exc:  # the test reports any failure of a writer
                print(f"failed {round_number} {summary(exc)}", flush=True)
            else:
                print(f"ok {round_number}", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
