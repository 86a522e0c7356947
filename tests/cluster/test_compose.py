"""Static checks of the docker-compose stack, its switches and the Lodestar image.

No Docker engine runs here, so these read the files: the compose file parses and is
consistent (dependencies, volumes, ports), every image is pinned, every variable has a value,
Spark in the image is the lock's pyspark, and the switches in docker/lodestar.env agree with the
services they point at and with the settings Lodestar reads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from lodestar.settings import ENVIRONMENT

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
ENV_FILE = REPO_ROOT / "docker" / "lodestar.env"
SPARK_DEFAULTS = REPO_ROOT / "docker" / "spark" / "spark-defaults.conf"
PROFILES = REPO_ROOT / "dbt_project" / "profiles.yml"

AIRFLOW_COMMANDS = {"api-server", "scheduler", "dag-processor", "triggerer"}
SPARK_MASTER_CLASS = "org.apache.spark.deploy.master.Master"
SPARK_WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
#: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $VAR; "$$" is a literal dollar
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VARIABLE = re.compile(
    rf"(?<!\$)\$(?:\{{(?P<braced>{_NAME})(?P<op>:?[-?+])?[^}}]*\}}|(?P<bare>{_NAME}))"
)


# --- readers ------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def services() -> dict[str, dict[str, Any]]:
    return dict(compose()["services"])


def env_file() -> dict[str, str]:
    """KEY=VALUE lines of docker/lodestar.env (comments on their own lines only)."""
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_FILE.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        assert sep, f"{ENV_FILE.name}:{number}: not KEY=VALUE: {line!r}"
        assert " #" not in value, f"{ENV_FILE.name}:{number}: env files have no trailing comments"
        assert key not in values, f"{ENV_FILE.name}:{number}: {key} set twice"
        values[key] = value
    return values


def locked_version(package: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    versions = {p["version"] for p in lock["package"] if p["name"] == package}
    assert len(versions) == 1, f"uv.lock pins {package} {sorted(versions) or 'nowhere'}"
    return versions.pop()


def project_version() -> str:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(pyproject["project"]["version"])


def dockerfile_args() -> dict[str, str]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency -> condition, for both the list and the mapping form."""
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Named volume (or host path) -> mount point inside the container."""
    found: dict[str, str] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found[str(volume["source"])] = str(volume["target"])
        else:
            source, target = str(volume).split(":")[:2]
            found[source] = target
    return found


def option(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def by_command(word: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services().items() if word in command_of(s)}


def lodestar_image() -> str:
    return f"lodestar:{project_version()}"


def lodestar_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services().items() if s.get("image") == lodestar_image()}


# --- the compose file ---------------------------------------------------------------------------


def test_compose_parses_and_declares_the_stack() -> None:
    stack = services()

    airflow = {command_of(s)[1] for s in stack.values() if command_of(s)[:1] == ["airflow"]}
    assert airflow >= AIRFLOW_COMMANDS, f"Airflow components missing: {AIRFLOW_COMMANDS - airflow}"
    assert len(by_command(SPARK_MASTER_CLASS)) == 1
    assert len(by_command(SPARK_WORKER_CLASS)) >= 2
    assert len(by_command(THRIFT_CLASS)) == 1
    images = [str(s.get("image", "")) for s in stack.values()]
    assert any("marquez-web" in i for i in images), "Marquez web is part of the stack"
    assert any("marquez" in i and "web" not in i for i in images), "Marquez API too"
    assert sum(i.startswith("postgres:") for i in images) >= 2, "Airflow's and Marquez's Postgres"


def test_every_dependency_exists_and_there_is_no_cycle() -> None:
    stack = services()
    for name, service in stack.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in stack, f"{name} depends on unknown service {dependency}"
            assert condition in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }, f"{name}: unknown condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in stack[dependency], (
                    f"{name} waits for {dependency} to be healthy, which has no healthcheck"
                )

    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in visiting, f"dependency cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        visiting.add(name)
        for dependency in depends_on(stack[name]):
            visit(dependency, (*path, name))
        visiting.discard(name)
        done.add(name)

    for name in stack:
        visit(name, ())


def test_every_image_is_pinned() -> None:
    for name, service in services().items():
        image = service.get("image")
        assert image, f"{name} names no image (a built service names its tag too)"
        reference = str(image).partition("@")[0]
        repository, _, tag = reference.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"
        assert "$" not in str(image), f"{name}: the image tag must not depend on a variable"
        if "build" in service:
            assert image == lodestar_image(), f"{name} builds {image}, not {lodestar_image()}"
            assert service["build"]["dockerfile"] == "docker/Dockerfile"


def test_every_variable_has_a_default() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for match in _VARIABLE.finditer(line):
            name = match.group("braced") or match.group("bare")
            assert match.group("op") in (":-", "-"), (
                f"docker-compose.yml:{number}: ${{{name}}} has no default; write "
                f"${{{name}:-value}} so the stack starts without a .env file"
            )


def test_spark_everywhere_is_the_locked_pyspark() -> None:
    import pyspark

    spark = locked_version("pyspark")
    assert dockerfile_args()["SPARK_VERSION"] == spark == pyspark.__version__
    # pyspark-client installs into the same package as pyspark; at another version it
    # overwrites pyspark's own files (its version among them), so the lock must leave it out.
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    assert "pyspark-client" not in {p["name"] for p in lock["package"]}
    spark_services = {
        **by_command(SPARK_MASTER_CLASS),
        **by_command(SPARK_WORKER_CLASS),
        **by_command(THRIFT_CLASS),
    }
    for name, service in spark_services.items():
        image = str(service["image"])
        if image.startswith(("apache/spark:", "spark:")):
            assert image.split(":")[1].split("-")[0] == spark, f"{name}: {image} is not {spark}"
        else:
            assert image == lodestar_image(), f"{name}: Spark from {image}"


def test_airflow_in_the_image_is_the_locked_one() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pinned = re.search(r'"apache-airflow==([0-9.]+)"', pyproject)
    assert pinned and pinned.group(1) == locked_version("apache-airflow")
    assert locked_version("apache-airflow").startswith("3.3.")
    for name, service in services().items():
        if command_of(service)[:1] == ["airflow"]:
            assert service["image"] == lodestar_image(), f"{name} runs Airflow from another image"
            assert service.get("env_file") == ["docker/lodestar.env"], name


def test_named_volumes_are_declared_and_mounted_where_the_switches_say() -> None:
    stack = services()
    declared = set((compose().get("volumes") or {}).keys())
    env = env_file()
    lake = env["LODESTAR_LAKE_ROOT"]
    warehouse_dir = _spark_defaults()["spark.sql.warehouse.dir"]
    for name, service in stack.items():
        for source, target in mounts(service).items():
            if source.startswith("."):
                assert (REPO_ROOT / source).exists(), f"{name} mounts missing {source}"
            elif not source.startswith("/"):
                assert source in declared, f"{name} mounts undeclared volume {source}"
            if source == "lake":
                assert target == lake, f"{name} mounts the lake at {target}, not {lake}"
            if source == "warehouse":
                assert warehouse_dir.startswith(target + "/"), (
                    f"{name} mounts the warehouse at {target}; spark.sql.warehouse.dir is "
                    f"{warehouse_dir}"
                )

    # Whoever runs a Spark driver or executor, or dbt, must see the lake at the same path.
    readers = {
        **by_command(SPARK_WORKER_CLASS),
        **by_command(THRIFT_CLASS),
        **{n: s for n, s in stack.items() if command_of(s)[:2] == ["airflow", "scheduler"]},
    }
    for name, service in readers.items():
        assert mounts(service).get("lake") == lake, f"{name} does not mount the lake at {lake}"
    for name, service in {**by_command(SPARK_WORKER_CLASS), **by_command(THRIFT_CLASS)}.items():
        assert "warehouse" in mounts(service), f"{name} does not mount the warehouse"
    airflow = [s for s in stack.values() if command_of(s)[:1] == ["airflow"]]
    homes = {mounts(s).get("lodestar-home") for s in airflow}
    assert homes == {env["LODESTAR_HOME"]}, "Airflow components share one Lodestar home"


def test_published_ports_are_unique() -> None:
    published: dict[str, str] = {}
    for name, service in services().items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 1)[0]
            assert host not in published, f"{name} and {published.get(host)} both publish {host}"
            published[host] = name


# --- the switches -------------------------------------------------------------------------------


def test_the_env_file_names_every_setting() -> None:
    env = env_file()

    missing = [variable for variable in ENVIRONMENT.values() if variable not in env]
    assert not missing, f"docker/lodestar.env does not set {missing} (lodestar.settings)"
    for switch in (
        "LODESTAR_SPARK_MASTER",
        "LODESTAR_DBT_TARGET",
        "LODESTAR_LAKE_ROOT",
        "OPENLINEAGE_URL",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    ):
        assert env.get(switch), f"docker/lodestar.env leaves {switch} empty"
    for name, service in lodestar_services().items():
        assert service.get("env_file") == ["docker/lodestar.env"], f"{name} misses the switches"


def test_the_image_carries_the_repository_manifests_unchanged() -> None:
    """The cluster reads the very manifests and dbt project of the repository."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    workdir = re.findall(r"^WORKDIR (\S+)$", text, flags=re.MULTILINE)[-1]
    env = env_file()

    for switch, folder in (
        ("LODESTAR_MANIFESTS", "manifests"),
        ("LODESTAR_DBT_PROJECT", "dbt_project"),
    ):
        assert env[switch] == f"{workdir}/{folder}", switch
        assert f"COPY {folder}/ {folder}/" in text, f"the image does not copy {folder}/"
    assert "manifests" not in str(compose()), "no service replaces the manifests by a mount"


def test_the_switches_point_at_the_services() -> None:
    stack = services()
    env = env_file()

    (master_name, master), *_ = by_command(SPARK_MASTER_CLASS).items()
    command = command_of(master)
    master_url = f"spark://{option(command, '--host')}:{option(command, '--port')}"
    assert option(command, "--host") == master_name
    assert env["LODESTAR_SPARK_MASTER"] == master_url
    for name, service in {**by_command(SPARK_WORKER_CLASS), **by_command(THRIFT_CLASS)}.items():
        assert master_url in command_of(service), f"{name} does not join {master_url}"
        assert depends_on(service).get(master_name) == "service_healthy", name

    (thrift_name, thrift), *_ = by_command(THRIFT_CLASS).items()
    assert env["LODESTAR_SPARK_THRIFT_HOST"] == thrift_name
    assert f"hive.server2.thrift.port={env['LODESTAR_SPARK_THRIFT_PORT']}" in command_of(thrift)
    assert any(c.startswith("spark.cores.max=") for c in command_of(thrift)), (
        "the Thrift server is a long-running application: cap its cores or it starves the jobs"
    )

    database = urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert database.scheme == "postgresql+psycopg2"
    db = stack[str(database.hostname)]["environment"]
    assert (database.username, database.password, database.path.lstrip("/")) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
        db["POSTGRES_DB"],
    )

    api_url = urlparse(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    api = stack[str(api_url.hostname)]
    assert command_of(api)[:2] == ["airflow", "api-server"]
    assert option(command_of(api), "--port") == str(api_url.port)

    lineage = urlparse(env["OPENLINEAGE_URL"])
    marquez = stack.get(str(lineage.hostname))
    assert marquez is not None, f"OPENLINEAGE_URL names {lineage.hostname}, not a service"
    assert "marquez" in str(marquez["image"]) and "web" not in str(marquez["image"])


def test_the_dbt_target_is_a_profile_output() -> None:
    profiles = yaml.safe_load(PROFILES.read_text(encoding="utf-8"))
    outputs = next(iter(profiles.values()))["outputs"]
    target = env_file()["LODESTAR_DBT_TARGET"]
    assert target in outputs
    assert outputs[target].get("method") == "thrift"


def test_airflow_takes_its_spark_connection_from_the_switches() -> None:
    """The image's entrypoint derives Airflow's environment; the env file's values win."""
    env = {**os.environ, **env_file()}
    env.pop("AIRFLOW_CONN_SPARK_DEFAULT", None)
    printed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "docker" / "airflow_env.py")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script = f"set -e\n{printed}\nprintf '%s\\n' \"$AIRFLOW_CONN_SPARK_DEFAULT\" " + (
        '"$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" "$AIRFLOW__OPENLINEAGE__TRANSPORT" "$AIRFLOW_HOME"'
    )
    spark, database, transport, home = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, env={}
    ).stdout.splitlines()

    switches = env_file()
    assert f'"host": "{switches["LODESTAR_SPARK_MASTER"]}"' in spark
    assert database == switches["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert f'"url": "{switches["OPENLINEAGE_URL"]}"' in transport
    assert home == f"{switches['LODESTAR_HOME']}/airflow"


# --- the image ----------------------------------------------------------------------------------


def _spark_defaults() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in SPARK_DEFAULTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split(maxsplit=1)
            values[key] = value.strip()
    return values


def test_the_dockerfile_installs_the_lock_and_the_project() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    args = dockerfile_args()

    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), f"base image {base} is not pinned"
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"UV_VERSION := {args['UV_VERSION']}" in makefile, "uv as in the Makefile"
    syncs = re.findall(r"uv sync[^\n&]*", text)
    assert syncs and all("--frozen" in s for s in syncs), "the image installs exactly the lock"
    assert all("--group cluster" in s and "--no-dev" in s for s in syncs)
    assert "uv lock" not in text and "pip install -r" not in text
    assert "COPY pyproject.toml uv.lock" in text
    for line in re.findall(r"^COPY (.+)$", text, flags=re.MULTILINE):
        *sources, _target = [w for w in line.split() if not w.startswith("--")]
        for source in sources:
            assert (REPO_ROOT / source.rstrip("/")).exists(), f"COPY {source}: no such path"
    entrypoint = REPO_ROOT / "docker" / "entrypoint.sh"
    assert os.access(entrypoint, os.X_OK)
    subprocess.run(["bash", "-n", str(entrypoint)], check=True)
    assert "openjdk-17-jre-headless" in text, "Spark 4 needs Java 17"


def test_the_cluster_group_holds_the_drivers() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    group = " ".join(pyproject["dependency-groups"]["cluster"])
    for requirement in ("psycopg2-binary", "asyncpg", "dbt-spark[PyHive]"):
        assert requirement in group


def test_the_image_installs_airflow_spark_and_the_drivers_but_no_dev_tools() -> None:
    """The Dockerfile's own ``uv sync`` lines, dry-run against the lock (nothing installed)."""
    uv = REPO_ROOT / ".tools" / "bin" / "uv"
    if not uv.exists():
        pytest.fail(f"no uv at {uv}: run `make setup`", pytrace=False)
    text = DOCKERFILE.read_text(encoding="utf-8")
    sync = re.findall(r"uv sync([^\n&\\]*)", text)[-1].split()
    planned = subprocess.run(
        [str(uv), "sync", *sync, "--dry-run"],
        cwd=REPO_ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(REPO_ROOT / ".venv-image-dry-run")},
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    packages = dict(re.findall(r"^ \+ ([\w.-]+)==(\S+)", planned, flags=re.MULTILINE))

    assert packages["pyspark"] == locked_version("pyspark")
    assert packages["apache-airflow"] == locked_version("apache-airflow")
    for driver in ("psycopg2-binary", "asyncpg", "pyhive", "dbt-spark"):
        assert driver in packages, f"the image misses {driver}"
    for tool in ("pytest", "ruff", "mypy", "hypothesis"):
        assert tool not in packages, f"the image installs the dev tool {tool}"
    assert not (REPO_ROOT / ".venv-image-dry-run").exists()


def test_the_env_file_is_valid_shell_too() -> None:
    """The image sources it at build time (dbt parse with the deployment's switches)."""
    shown = subprocess.run(
        ["bash", "-c", f"set -a; . {ENV_FILE}; set +a; env -0"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sourced = dict(item.split("=", 1) for item in shown.split("\0") if "=" in item)
    for key, value in env_file().items():
        assert sourced.get(key) == value, f"{key}: the shell reads {sourced.get(key)!r}"
