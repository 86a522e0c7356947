"""Real services for the cluster tests, started on 127.0.0.1 and stopped by the fixtures.

- a Spark standalone master and worker, launched from pyspark's own ``bin/spark-class``, the
  command the docker-compose services run;
- a Spark Thrift server on that master (pyspark 4.3 ships the hive-thriftserver jar), the
  server dbt-spark's ``thrift`` method talks to;
- a private PostgreSQL cluster made with ``initdb`` in a temporary folder (Debian's
  ``postgresql`` package; as root the server runs as ``nobody``, since postgres refuses root).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
POSTGRES_INSTALL_HINT = "install it with `apt-get install -y postgresql` (Debian's package)"


class ServiceError(RuntimeError):
    """A test service did not start; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def wait_for(
    what: str, ready: Callable[[], bool], timeout: float, alive: Callable[[], bool], logs: Path
) -> None:
    """Poll ``ready`` until it holds; fail early when the process died, late on the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive():
            raise ServiceError(f"{what} exited while starting; its log ends:\n{log_tail(logs)}")
        time.sleep(0.5)
    raise ServiceError(f"{what} not ready after {timeout:.0f} s; its log ends:\n{log_tail(logs)}")


def stop_process(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process group we started, then SIGKILL it after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def start_logged(
    args: list[str], log_file: Path, env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    """Start ``args`` in its own process group, output to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as sink:
        return subprocess.Popen(
            args,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


# --- Spark standalone ---------------------------------------------------------------------------


def spark_home() -> Path:
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home())


def spark_env(conf_dir: Path) -> dict[str, str]:
    """Environment of every Spark process here: loopback only, no REST server, own conf dir."""
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_CONF_DIR": str(conf_dir),
            "SPARK_LOCAL_IP": LOOPBACK,
            "SPARK_LOCAL_HOSTNAME": LOOPBACK,
            "SPARK_PUBLIC_DNS": LOOPBACK,
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
            "SPARK_DAEMON_MEMORY": "512m",
        }
    )
    return env


@dataclass
class SparkStandalone:
    """A standalone master with one worker, both on loopback."""

    master_url: str
    ui_url: str
    workdir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def state(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as response:
            return dict(json.loads(response.read()))

    def completed_apps(self) -> list[dict[str, object]]:
        return list(self.state().get("completedapps", []))  # type: ignore[call-overload]

    def stop(self) -> None:
        for proc in reversed(self.processes):
            stop_process(proc)


def start_spark_standalone(
    workdir: Path, cores: int = 1, memory: str = "2g", timeout: float = 120.0
) -> SparkStandalone:
    """``spark-class`` Master and Worker from pyspark; returns once the worker is ALIVE."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ServiceError(
            "no Java on this machine: Spark 4 needs Java 17 "
            "(apt-get install -y openjdk-17-jre-headless)"
        )
    conf_dir = workdir / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    env = spark_env(conf_dir)
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui_port, worker_ui_port = free_port(), free_port(), free_port()
    cluster = SparkStandalone(
        f"spark://{LOOPBACK}:{port}", f"http://{LOOPBACK}:{ui_port}", workdir, env
    )
    master_log = workdir / "master.log"
    cluster.processes.append(
        start_logged(
            [
                spark_class,
                "org.apache.spark.deploy.master.Master",
                "--host", LOOPBACK,
                "--port", str(port),
                "--webui-port", str(ui_port),
            ],
            master_log,
            env,
            workdir,
        )
    )  # fmt: skip
    worker_log = workdir / "worker.log"
    cluster.processes.append(
        start_logged(
            [
                spark_class,
                "org.apache.spark.deploy.worker.Worker",
                cluster.master_url,
                "--host", LOOPBACK,
                "--webui-port", str(worker_ui_port),
                "--cores", str(cores),
                "--memory", memory,
                "--work-dir", str(workdir / "work"),
            ],
            worker_log,
            env,
            workdir,
        )
    )  # fmt: skip

    def worker_alive() -> bool:
        try:
            workers = cluster.state().get("workers", [])
        except OSError:
            return False
        return any(w.get("state") == "ALIVE" for w in workers)  # type: ignore[union-attr]

    def both_running() -> bool:
        return all(p.poll() is None for p in cluster.processes)

    try:
        wait_for("Spark master and worker", worker_alive, timeout, both_running, worker_log)
    except ServiceError:
        cluster.stop()
        raise ServiceError(
            f"Spark standalone did not start.\nmaster log:\n{log_tail(master_log)}\n"
            f"worker log:\n{log_tail(worker_log)}"
        ) from None
    log.info("Spark standalone up at %s (UI %s)", cluster.master_url, cluster.ui_url)
    return cluster


@dataclass
class ThriftServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_file: Path

    def stop(self) -> None:
        stop_process(self.process)


def start_thrift_server(
    cluster: SparkStandalone, workdir: Path, cores_max: int = 1, timeout: float = 180.0
) -> ThriftServer:
    """HiveThriftServer2 submitted to ``cluster``, Derby metastore and warehouse in ``workdir``."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_file = workdir / "thrift.log"
    metastore = workdir / "metastore_db"
    args = [
        str(spark_home() / "bin" / "spark-submit"),
        "--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--master", cluster.master_url,
        "--name", "lodestar-thrift-test",
        "--conf", f"spark.cores.max={cores_max}",
        "--conf", "spark.executor.memory=1g",
        "--conf", "spark.driver.memory=1g",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.session.timeZone=UTC",
        "--conf", f"spark.sql.warehouse.dir={workdir / 'warehouse'}",
        "--conf", f"spark.hadoop.javax.jdo.option.ConnectionURL="
                  f"jdbc:derby:;databaseName={metastore};create=true",
        "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={workdir}",
        "--hiveconf", f"hive.server2.thrift.port={port}",
        "--hiveconf", f"hive.server2.thrift.bind.host={LOOPBACK}",
        "spark-internal",
    ]  # fmt: skip
    process = start_logged(args, log_file, cluster.env, workdir)
    server = ThriftServer(LOOPBACK, port, process, log_file)

    def listening() -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            return sock.connect_ex((LOOPBACK, port)) == 0

    try:
        wait_for("Thrift server", listening, timeout, lambda: process.poll() is None, log_file)
    except ServiceError:
        server.stop()
        raise
    log.info("Spark Thrift server on %s:%d", LOOPBACK, port)
    return server


# --- PostgreSQL ---------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are: PATH first, then Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


@dataclass
class PostgresServer:
    port: int
    user: str
    folder: Path
    bindir: Path
    run_as: list[str]

    def url(self, database: str, driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://{self.user}@{LOOPBACK}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg2

        connection = psycopg2.connect(
            host=LOOPBACK, port=self.port, user=self.user, dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
             "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(user: str = "lodestar", timeout: float = 60.0) -> PostgresServer:
    """A private cluster on 127.0.0.1 and a free port, trust auth, durability off (tests)."""
    bindir = postgres_bindir()
    if bindir is None:
        raise ServiceError(f"PostgreSQL's initdb and pg_ctl not found: {POSTGRES_INSTALL_HINT}")
    folder = Path(tempfile.mkdtemp(prefix="lodestar-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        # NOTE: postgres refuses to run as root; nobody owns the private folder instead.
        shutil.chown(folder, user="nobody")
        run_as = ["runuser", "-u", "nobody", "--"]
    port = free_port()
    initdb = subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(folder / "data"), "-U", user,
         "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if initdb.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServiceError(f"initdb failed (exit {initdb.returncode}): {initdb.stderr[-1500:]}")
    options = " ".join(
        [
            f"-h {LOOPBACK}",
            f"-p {port}",
            f"-k {folder}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=200",
        ]
    )
    started = subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-l",
         str(folder / "postgres.log"), "-w", "-t", str(int(timeout)), "-o", options, "start"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    server = PostgresServer(port, user, folder, bindir, run_as)
    if started.returncode != 0:
        tail = log_tail(folder / "postgres.log")
        server.stop()
        raise ServiceError(f"pg_ctl start failed (exit {started.returncode}): {tail}")
    log.info("PostgreSQL %s on %s:%d", bindir.parent.name, LOOPBACK, port)
    return server


# --- Airflow on PostgreSQL ----------------------------------------------------------------------


@dataclass
class AirflowStack:
    """API server, scheduler (LocalExecutor) and DAG processor on one metadata database."""

    api_url: str
    env: dict[str, str]
    home: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def request(self, method: str, path: str, body: object | None = None) -> object:
        """A call to the REST API (all users are admins in this test deployment)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.api_url}/api/v2/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes.values())

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            stop_process(proc, grace=30)


def airflow_environment(
    base: dict[str, str], database_url: str, home: Path, api_port: int
) -> dict[str, str]:
    """Airflow's test deployment: Postgres, LocalExecutor, loopback ports, schedules off."""
    env = dict(base)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (f"http://{LOOPBACK}:{api_port}/execution/"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API_AUTH__JWT_SECRET": "lodestar-cluster-test",
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # NOTE: runs come only from the test's triggers: no cron runs, no asset-triggered
            # runs of product-affinity while retail-orders finishes.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        }
    )
    return env


def start_airflow(env: dict[str, str], home: Path, timeout: float = 240.0) -> AirflowStack:
    """``airflow db migrate``, then the three components; ready once the API answers."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    home.mkdir(parents=True, exist_ok=True)
    migrate = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False
    )
    if migrate.returncode != 0:
        raise ServiceError(
            f"airflow db migrate failed: {migrate.stdout[-1500:]}{migrate.stderr[-1500:]}"
        )
    port = env["AIRFLOW__API__PORT"]
    stack = AirflowStack(f"http://{LOOPBACK}:{port}", env, home)
    logs = home / "service-logs"
    for name, args in (
        ("api-server", ["api-server", "--host", LOOPBACK, "--port", port]),
        ("scheduler", ["scheduler"]),
        ("dag-processor", ["dag-processor"]),
    ):
        stack.processes[name] = start_logged([airflow, *args], logs / f"{name}.log", env, home)

    def api_ready() -> bool:
        try:
            stack.request("GET", "monitor/health")
        except OSError:
            return False
        return True

    try:
        wait_for("Airflow API server", api_ready, timeout, stack.alive, logs / "api-server.log")
    except ServiceError:
        stack.stop()
        raise
    return stack
