"""Pair counting side by side: the affinity job, Spark MLlib FPGrowth and a DuckDB self-join.

    make bench-affinity          # or: .venv/bin/python bench/affinity/run.py --help

On the full Online Retail order lines (written by our ingest job) and on a 10x copy with
re-keyed order ids, each contender runs in its own process, one after the other:

(a) ``ours``: the affinity job's pair counting (the code that writes ``pair_rules``), in a
    fresh local Spark session; *compute* excludes starting the JVM and the session;
(a') ``ours-job``: the whole affinity application through ``spark-submit`` (every output,
    period windows and attach included), for the record;
(b) ``fpgrowth``: Spark MLlib FPGrowth at the same minimum support on the same baskets, its
    frequent pairs turned into rules; it gets a time limit (default 300 s) and a failure or
    timeout is recorded as such;
(c) ``duckdb``: a SQL self-join of the distinct (order, product) rows.

Every contender writes its rules (antecedent, consequent, counts, support, confidence, lift)
to Parquet; the rules of (a), (b) and (c) must be identical wherever two finished. Wall time
and compute time are printed with the peak memory (resident set of the process and all its
children, sampled every 50 ms) and the ratios the targets are stated in.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "data" / "online-retail" / "online_retail.parquet"
JOBS = REPO / "src" / "lodestar" / "jobs"
RULE_COLUMNS = (
    "antecedent",
    "consequent",
    "pair_count",
    "antecedent_count",
    "consequent_count",
    "total_baskets",
    "support",
    "confidence",
    "lift",
)
ENV = {
    "SPARK_LOCAL_IP": "127.0.0.1",
    "PYSPARK_PYTHON": sys.executable,
    "PYSPARK_DRIVER_PYTHON": sys.executable,
}


@dataclass
class Outcome:
    contender: str
    data: str
    status: str = "ok"
    wall_s: float | None = None
    compute_s: float | None = None
    startup_s: float | None = None
    peak_rss_mb: float | None = None
    rules: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# -- contenders (each runs in a child process: ``run.py contender <name> ...``) ---------------


def _spark(app: str, memory: str, java_options: str = "") -> Any:
    from pyspark.sql import SparkSession

    sys.path.insert(0, str(REPO / "src"))
    from lodestar.jobs.runtime import tune_local_session

    builder = SparkSession.builder
    if java_options:
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
    spark = (
        builder.master(os.environ.get("BENCH_MASTER", "local[*]"))
        .appName(app)
        .config("spark.driver.memory", memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    tune_local_session(spark)
    return spark


def _two_runs(startup: float, runs: list[float], **extra: Any) -> dict[str, Any]:
    """A contender's report: the first (cold) run is its compute time, the second the warm."""
    return {
        "startup_s": startup,
        "compute_s": runs[0],
        "extra": {"warm_compute_s": round(runs[1], 2), **extra},
    }


def contender_ours(args: argparse.Namespace) -> dict[str, Any]:
    """The code path of the job's ``pair_rules``, run twice: cold, then in the warm JVM."""
    start = time.perf_counter()
    spark = _spark("bench-ours", args.memory)
    started = time.perf_counter()

    from pyspark.sql import functions as F

    from lodestar.jobs import affinity, pairs, schemas
    from lodestar.jobs.params import Thresholds
    from lodestar.jobs.runtime import read_parquet, write_parquet

    thresholds = Thresholds(min_support=args.min_support)
    runs: list[float] = []
    for _ in range(2):
        began = time.perf_counter()
        lines = read_parquet(spark, args.lines, schemas.ORDER_LINES, "order_lines")
        every = affinity.basket_sets(lines).cache()
        baskets = every
        if args.max_basket_size:
            baskets = every.filter(F.col("distinct_items") <= args.max_basket_size)
        total = baskets.count()
        counted = affinity.global_pair_stats(spark, baskets, total, thresholds)
        rules = pairs.directions(counted.pairs, thresholds)
        write_parquet(
            schemas.conform(rules, schemas.PAIR_RULES).coalesce(affinity.output_files(spark)),
            args.out,
        )
        runs.append(time.perf_counter() - began)
        counted.release()
        every.unpersist()
    buckets = pairs.choose_buckets(spark, counted.id_count, 1)
    spark.stop()
    return _two_runs(
        started - start, runs, baskets=total, min_count=counted.min_counts.get(0), buckets=buckets
    )


def contender_fpgrowth(args: argparse.Namespace) -> dict[str, Any]:
    start = time.perf_counter()
    stack = f"-Xss{args.fpgrowth_stack}" if args.fpgrowth_stack else ""
    spark = _spark("bench-fpgrowth", args.memory, stack)
    started = time.perf_counter()

    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    from lodestar.jobs import affinity, schemas
    from lodestar.jobs.runtime import read_parquet, write_parquet

    lines = read_parquet(spark, args.lines, schemas.ORDER_LINES, "order_lines")
    baskets = affinity.basket_sets(lines)
    if args.max_basket_size:
        baskets = baskets.filter(F.col("distinct_items") <= args.max_basket_size)
    baskets = baskets.select("items").cache()
    total = baskets.count()
    model = FPGrowth(itemsCol="items", minSupport=args.min_support, minConfidence=0.0).fit(baskets)
    # only the pairs: frequent 2-itemsets and the single items they are made of
    itemsets = model.freqItemsets.filter(F.size("items") <= 2).cache()
    singles = itemsets.filter(F.size("items") == 1).select(
        F.col("items")[0].alias("item"), F.col("freq").alias("n")
    )
    duos = itemsets.filter(F.size("items") == 2).select(
        F.col("items")[0].alias("a"), F.col("items")[1].alias("b"), F.col("freq").alias("c")
    )
    both = duos.unionByName(duos.select(F.col("b").alias("a"), F.col("a").alias("b"), "c"))
    a_counts = singles.select(F.col("item").alias("a"), F.col("n").alias("na"))
    b_counts = singles.select(F.col("item").alias("b"), F.col("n").alias("nb"))
    rules = (
        both.join(a_counts, "a")
        .join(b_counts, "b")
        .select(
            F.col("a").alias("antecedent"),
            F.col("b").alias("consequent"),
            F.col("c").alias("pair_count"),
            F.col("na").alias("antecedent_count"),
            F.col("nb").alias("consequent_count"),
            F.lit(total).cast("long").alias("total_baskets"),
            (F.col("c") / F.lit(total)).alias("support"),
            (F.col("c") / F.col("na")).alias("confidence"),
            ((F.col("c") * F.lit(total)) / (F.col("na") * F.col("nb"))).alias("lift"),
        )
    )
    write_parquet(schemas.conform(rules, schemas.PAIR_RULES), args.out)
    done = time.perf_counter()
    spark.stop()
    return {"startup_s": started - start, "compute_s": done - started, "extra": {"baskets": total}}


def contender_duckdb(args: argparse.Namespace) -> dict[str, Any]:
    """The same rules from a self-join of distinct (order, product) rows, run twice."""
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    started = time.perf_counter()
    runs: list[float] = []
    for _ in range(2):
        began = time.perf_counter()
        total, min_count = _duckdb_rules(con, args)
        runs.append(time.perf_counter() - began)
    return _two_runs(
        started - start, runs, baskets=total, min_count=min_count, threads=_duckdb_threads(con)
    )


def _duckdb_rules(con: Any, args: argparse.Namespace) -> tuple[int, int]:
    size_filter = f"HAVING count(*) <= {args.max_basket_size}" if args.max_basket_size else ""
    con.execute("DROP TABLE IF EXISTS baskets")
    con.execute(
        f"""
        CREATE TEMP TABLE baskets AS
        WITH lines AS (
            SELECT DISTINCT order_id, product_id
            FROM read_parquet('{args.lines}/*/*.parquet', hive_partitioning = true)
        ), kept AS (SELECT order_id FROM lines GROUP BY order_id {size_filter})
        SELECT lines.* FROM lines JOIN kept USING (order_id)
        """
    )
    total = int(con.execute("SELECT count(DISTINCT order_id) FROM baskets").fetchone()[0])
    min_count = _min_count(args.min_support, total)
    con.execute(
        f"""
        COPY (
            WITH items AS (
                SELECT product_id, count(*) AS n FROM baskets GROUP BY product_id
            ), frequent AS (
                SELECT b.* FROM baskets b JOIN items USING (product_id) WHERE items.n >= {min_count}
            ), pairs AS (
                SELECT x.product_id AS a, y.product_id AS b, count(*) AS c
                FROM frequent x JOIN frequent y
                  ON x.order_id = y.order_id AND x.product_id < y.product_id
                GROUP BY 1, 2 HAVING count(*) >= {min_count}
            ), directed AS (
                SELECT a AS antecedent, b AS consequent, c, a, b FROM pairs
                UNION ALL SELECT b, a, c, a, b FROM pairs
            )
            SELECT antecedent, consequent, c AS pair_count,
                   ia.n AS antecedent_count, ic.n AS consequent_count,
                   {total}::BIGINT AS total_baskets,
                   c / {total} AS support, c / ia.n AS confidence,
                   (c * {total})::DOUBLE / (xa.n * xb.n) AS lift
            FROM directed
            JOIN items ia ON ia.product_id = antecedent
            JOIN items ic ON ic.product_id = consequent
            JOIN items xa ON xa.product_id = a
            JOIN items xb ON xb.product_id = b
        ) TO '{args.out}' (FORMAT parquet)
        """
    )
    return total, min_count


def _duckdb_threads(con: Any) -> int:
    return int(con.execute("SELECT current_setting('threads')").fetchone()[0])


def _min_count(support: float, total: int) -> int:
    from decimal import Decimal
    from math import ceil

    return max(1, ceil(Decimal(repr(support)) * total))


CONTENDERS = {"ours": contender_ours, "fpgrowth": contender_fpgrowth, "duckdb": contender_duckdb}


# -- the orchestrator --------------------------------------------------------------------------


def measure(
    command: list[str], timeout: float, env: dict[str, str]
) -> tuple[int | None, float, float, str, str]:
    """Run ``command``; returns (exit code or None on timeout, wall s, peak RSS MB, out, err)."""
    import tempfile

    import psutil

    # NOTE: files, not pipes: a chatty child would block on a full pipe while we poll it
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        peak = 0
        code: int | None = None
        while True:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(process.pid)
                rss = 0
                for member in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        rss += member.memory_info().rss
                peak = max(peak, rss)
            if process.poll() is not None:
                code = process.returncode
                break
            if time.perf_counter() - start > timeout:
                _kill_tree(process.pid)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        process.wait()
        out.seek(0)
        err.seek(0)
        return code, wall, peak / 2**20, out.read(), err.read()


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.Error:
        return
    members = [*parent.children(recursive=True), parent]
    for member in members:
        with contextlib.suppress(psutil.Error):
            member.kill()
    psutil.wait_procs(members, timeout=10)


def run_contender(
    name: str, data: str, lines: Path, work: Path, args: argparse.Namespace, timeout: float
) -> Outcome:
    out = work / "results" / f"{name}-{data}.parquet"
    shutil.rmtree(out, ignore_errors=True)
    out.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "contender",
        name,
        "--lines",
        str(lines),
        "--out",
        str(out),
        "--min-support",
        repr(args.min_support),
        "--max-basket-size",
        str(args.max_basket_size),
        "--memory",
        args.memory,
        "--fpgrowth-stack",
        args.fpgrowth_stack,
    ]
    print(f"  {name} on {data} ...", flush=True)
    code, wall, peak, stdout, stderr = measure(command, timeout, {**os.environ, **ENV})
    outcome = Outcome(name, data, wall_s=round(wall, 2), peak_rss_mb=round(peak))
    if code is None:
        outcome.status = "timeout"
        outcome.detail = f"killed after the {timeout:.0f} s limit"
        return outcome
    if code != 0:
        outcome.status = "failed"
        outcome.detail = _failure(stderr)
        return outcome
    report = json.loads(stdout.strip().splitlines()[-1])
    outcome.compute_s = round(report["compute_s"], 2)
    outcome.startup_s = round(report["startup_s"], 2)
    outcome.extra = report.get("extra", {})
    outcome.rules = _rule_count(out)
    return outcome


def run_whole_job(data: str, lines: Path, work: Path, args: argparse.Namespace) -> Outcome:
    """The affinity application itself through spark-submit, every output included."""
    import pyspark

    folder = work / "job" / data
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    params = {
        "product": "product-affinity",
        "inputs": {"order_lines": str(lines)},
        # NOTE: windows of ~4,000 baskets at 0.001 would make rules of pairs seen twice
        "thresholds": {"min_support": args.min_support, "min_support_count": 20},
        "max_basket_size": args.max_basket_size or 10**9,
        "oversize_policy": "exclude",
        "period": "month",
        "trailing_periods": 3,
        "interval": None,
        "outputs": {
            name: str(folder / name)
            for name in ("item_support", "pair_rules", "period_rules", "order_attach")
        },
        "stats_path": str(folder / "stats.json"),
    }
    params_file = folder / "params.json"
    params_file.write_text(json.dumps(params), encoding="utf-8")
    command = [
        str(Path(pyspark.__file__).parent / "bin" / "spark-submit"),
        "--master",
        os.environ.get("BENCH_MASTER", "local[*]"),
        "--driver-memory",
        args.memory,
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.driver.host=127.0.0.1",
        str(JOBS / "affinity.py"),
        "--params",
        str(params_file),
    ]
    print(f"  ours-job on {data} ...", flush=True)
    code, wall, peak, _, stderr = measure(command, 3600, {**os.environ, **ENV})
    outcome = Outcome("ours-job", data, wall_s=round(wall, 2), peak_rss_mb=round(peak))
    if code != 0:
        outcome.status = "failed"
        outcome.detail = _failure(stderr)
        return outcome
    stats = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
    outcome.compute_s = stats["timings"]["total"]
    outcome.rules = stats["pair_rules"]
    outcome.extra = {"timings": stats["timings"]}
    return outcome


def _failure(stderr: str) -> str:
    for marker in ("StackOverflowError", "OutOfMemoryError", "Error", "Exception"):
        for line in stderr.splitlines():
            if marker in line:
                return line.strip()[:300]
    return (stderr.strip().splitlines() or ["no output"])[-1][:300]


def _rule_count(path: Path) -> int:
    import duckdb

    return int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{_glob(path)}')").fetchall()[0][0])


def _glob(path: Path) -> str:
    return f"{path}/*.parquet" if path.is_dir() else str(path)


def compare(left: Path, right: Path, scale: int = 1) -> str:
    """'identical' when both hold the same rules (counts of ``right`` times ``scale``) with
    equal metrics (1e-12 relative for the floating ones); otherwise what differs."""
    import duckdb

    cols = ", ".join(RULE_COLUMNS)
    a = {
        r[:2]: r[2:]
        for r in duckdb.sql(f"SELECT {cols} FROM read_parquet('{_glob(left)}')").fetchall()
    }
    b = {
        r[:2]: r[2:]
        for r in duckdb.sql(f"SELECT {cols} FROM read_parquet('{_glob(right)}')").fetchall()
    }
    if set(a) != set(b):
        return (
            f"different rules: {len(set(a) - set(b))} only left, {len(set(b) - set(a))} only right"
        )
    worst = 0.0
    for key, values in a.items():
        other = b[key]
        if tuple(values[:4]) != tuple(v * scale for v in other[:4]):
            return f"different counts for {key}: {values[:4]} vs {other[:4]}"
        for x, y in zip(values[4:], other[4:], strict=True):
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return "identical" if worst <= 1e-12 else f"metrics differ by up to {worst:.2e} (relative)"


def _ingest_params(lake: Path, stats: Path) -> dict[str, Any]:
    """The ingest step of the reference manifest, as Airflow would submit it, on the bench's
    lake: the same source, column mapping and rejection rules as ``make demo``."""
    sys.path.insert(0, str(REPO / "src"))
    from lodestar.manifest import load_folder
    from lodestar.manifest.model import SparkStep
    from lodestar.plan import plan_product, spark_params
    from lodestar.settings import load_settings

    settings = load_settings(
        home=lake.parent / "home", lake_root=str(lake), manifests_dir=REPO / "manifests"
    )
    catalog = load_folder(settings.manifests_dir)
    plan = plan_product(catalog.products["retail-orders"], catalog.products, settings)
    step = next(s for s in plan.product.build.steps if isinstance(s, SparkStep))
    return {**spark_params(plan, step), "stats_path": str(stats)}


def prepare(work: Path, args: argparse.Namespace) -> dict[str, Path]:
    """Order lines from the shipped file (our ingest job), and the 10x copy (ids re-keyed)."""
    import duckdb

    lake = work / "lake"
    one = lake / "retail-orders" / "order_lines"
    if not one.exists() or args.fresh:
        shutil.rmtree(lake, ignore_errors=True)
        params = _ingest_params(lake, work / "ingest-stats.json")
        params_file = work / "ingest-params.json"
        params_file.write_text(json.dumps(params), encoding="utf-8")
        import pyspark

        print("preparing: ingest of the shipped Online Retail file (spark-submit) ...", flush=True)
        subprocess.run(
            [
                str(Path(pyspark.__file__).parent / "bin" / "spark-submit"),
                "--master",
                "local[*]",
                "--driver-memory",
                args.memory,
                "--conf",
                "spark.driver.host=127.0.0.1",
                str(JOBS / "ingest.py"),
                "--params",
                str(params_file),
            ],
            env={**os.environ, **ENV},
            check=True,
            capture_output=True,
        )
    ten = lake / "retail-orders-10x" / "order_lines"
    if "10x" not in (args.only or "10x").split(","):
        return {"1x": one}
    if not ten.exists() or args.fresh:
        shutil.rmtree(ten, ignore_errors=True)
        ten.parent.mkdir(parents=True, exist_ok=True)
        print("preparing: 10x copy with re-keyed order ids (DuckDB) ...", flush=True)
        duckdb.sql(
            f"""
            COPY (
                SELECT copy || '-' || order_id AS order_id, * EXCLUDE (order_id)
                FROM read_parquet('{one}/*/*.parquet', hive_partitioning = true),
                     range(10) AS copies(copy)
            ) TO '{ten}' (FORMAT parquet, PARTITION_BY (period))
            """
        )
    return {"1x": one, "10x": ten}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("contender", help="(internal) run one contender")
    child.add_argument("name", choices=sorted(CONTENDERS))
    for p in (parser, child):
        p.add_argument("--min-support", type=float, default=0.001)
        p.add_argument(
            "--max-basket-size", type=int, default=0, help="0: keep every basket (default)"
        )
        p.add_argument("--memory", default="4g", help="Spark driver memory (local mode)")
        p.add_argument(
            "--fpgrowth-stack",
            default="256m",
            help="thread stack of the FPGrowth JVM ('' for the JVM default, which overflows)",
        )
    child.add_argument("--lines", required=True)
    child.add_argument("--out", required=True)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder")
    parser.add_argument("--fpgrowth-timeout", type=float, default=300.0)
    parser.add_argument("--fresh", action="store_true", help="rebuild the prepared data")
    parser.add_argument("--only", default="", help="comma-separated data sizes, e.g. 1x")
    args = parser.parse_args(argv)

    if args.command == "contender":
        report = CONTENDERS[args.name](args)
        print(json.dumps(report))
        return 0

    home = Path(os.environ.get("LODESTAR_HOME", REPO / ".lodestar"))
    work = (args.work or home / "bench" / "affinity").resolve()
    (work / "results").mkdir(parents=True, exist_ok=True)
    datasets = prepare(work, args)
    if args.only:
        datasets = {k: v for k, v in datasets.items() if k in args.only.split(",")}

    outcomes: list[Outcome] = []
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cpus {os.cpu_count()}")
    for data, lines in datasets.items():
        print(f"{data}: {lines}", flush=True)
        for name in ("duckdb", "ours"):
            outcomes.append(run_contender(name, data, lines, work, args, timeout=3600))
        previous = next((o for o in outcomes if o.contender == "fpgrowth" and o.data == "1x"), None)
        if previous is not None and previous.status != "ok":
            outcomes.append(
                Outcome("fpgrowth", data, status="skipped", detail=f"1x: {previous.status}")
            )
        else:
            outcomes.append(
                run_contender("fpgrowth", data, lines, work, args, args.fpgrowth_timeout)
            )
        outcomes.append(run_whole_job(data, lines, work, args))

    checks = _checks(outcomes, work, datasets)
    report = _report(outcomes, checks, args, load)
    print(report)
    (work / "results.json").write_text(
        json.dumps(
            {"outcomes": [asdict(o) for o in outcomes], "checks": checks, "load": load}, indent=2
        ),
        encoding="utf-8",
    )
    print(f"results: {work / 'results.json'}")
    return 0


def _checks(outcomes: list[Outcome], work: Path, datasets: dict[str, Path]) -> dict[str, str]:
    results = work / "results"
    done = {(o.contender, o.data) for o in outcomes if o.status == "ok"}
    checks: dict[str, str] = {}
    for data in datasets:
        for other in ("duckdb", "fpgrowth"):
            if ("ours", data) in done and (other, data) in done:
                checks[f"ours = {other} ({data})"] = compare(
                    results / f"ours-{data}.parquet", results / f"{other}-{data}.parquet"
                )
    if ("ours", "1x") in done and ("ours", "10x") in done:
        checks["ours 10x = 10 x ours 1x"] = compare(
            results / "ours-10x.parquet", results / "ours-1x.parquet", scale=10
        )
    return checks


def _report(
    outcomes: list[Outcome], checks: dict[str, str], args: argparse.Namespace, load: Any
) -> str:
    size = args.max_basket_size
    lines = [
        "",
        f"pair rules at min_support {args.min_support}, confidence >= 0, lift >= 0; "
        f"baskets: {f'at most {size} items' if size else 'all kept'}",
        f"{'contender':<10} {'data':<4} {'status':<8} {'wall s':>8} {'start s':>8} "
        f"{'compute s':>10} {'warm s':>8} {'peak MB':>8} {'rules':>9}  detail",
    ]
    for o in outcomes:
        lines.append(
            f"{o.contender:<10} {o.data:<4} {o.status:<8} {_num(o.wall_s):>8} "
            f"{_num(o.startup_s):>8} {_num(o.compute_s):>10} "
            f"{_num(o.extra.get('warm_compute_s')):>8} {_num(o.peak_rss_mb, 0):>8} "
            f"{_num(o.rules, 0):>9}  {o.detail}"
        )
    by = {(o.contender, o.data): o for o in outcomes}
    lines.append("")
    lines.append("checks:")
    lines.extend(f"  {name}: {result}" for name, result in checks.items())
    lines.append("targets:")
    for data in ("1x", "10x"):
        ours, duck, fp = (
            by.get(("ours", data)),
            by.get(("duckdb", data)),
            by.get(("fpgrowth", data)),
        )
        if ours and ours.status == "ok" and duck and duck.status == "ok":
            ratio = (ours.compute_s or 0) / max(duck.compute_s or 0, 1e-9)
            lines.append(
                f"  {data}: ours / duckdb compute, session start excluded = {ratio:.2f}x "
                f"(target <= 3x: {'met' if ratio <= 3 else 'missed'})"
            )
            warm = ours.extra.get("warm_compute_s"), duck.extra.get("warm_compute_s")
            if all(warm):
                ratio = warm[0] / max(warm[1], 1e-9)
                lines.append(
                    f"  {data}: ours / duckdb compute, second run in the same process = "
                    f"{ratio:.2f}x (target <= 3x: {'met' if ratio <= 3 else 'missed'})"
                )
        if ours and ours.status == "ok" and fp:
            if fp.status == "ok":
                speedup = (fp.wall_s or 0) / max(ours.wall_s or 0, 1e-9)
                lines.append(f"  {data}: fpgrowth / ours wall = {speedup:.1f}x (target >= 3x)")
            elif fp.status in ("timeout", "failed"):
                bound = (fp.wall_s or 0) / max(ours.wall_s or 0, 1e-9)
                lines.append(
                    f"  {data}: fpgrowth {fp.status} after {fp.wall_s:.0f} s: ours is at least "
                    f"{bound:.1f}x faster (target >= 3x: {'met' if bound >= 3 else 'unknown'})"
                )
    one, ten = by.get(("ours", "1x")), by.get(("ours", "10x"))
    if one and ten and one.status == ten.status == "ok":
        for label, a, b in (
            ("compute", one.compute_s, ten.compute_s),
            ("wall", one.wall_s, ten.wall_s),
        ):
            scale = (b or 0) / max(a or 0, 1e-9)
            lines.append(
                f"  ours 10x / 1x {label} = {scale:.2f}x (target <= 11x: "
                f"{'met' if scale <= 11 else 'missed'})"
            )
    lines.append(f"load average before the runs: {load[0]:.2f} (cpus: {os.cpu_count()})")
    return "\n".join(lines)


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    sys.exit(main())
