"""A real Airflow api-server on 127.0.0.1 for the UI tests: project-local home in a temporary
folder, SQLite, SimpleAuthManager with test users, the project's DAGs and plugin.

Run states are made the way a person would make them without a scheduler: trigger a run through
the public API, then set its task and run states through the same API.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lodestar.airflow.environment import airflow_env
from lodestar.settings import load_settings

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
AIRFLOW = Path(sys.executable).with_name("airflow")

#: test users: name -> (role, password); "sales" may read only the DAGs its scope lists
USERS = {
    "admin": ("admin", "admin-pass-1"),
    "viewer": ("viewer", "viewer-pass-1"),
    "sales": ("viewer", "sales-pass-1"),
}
#: which DAGs a scoped user may read (see scoped_auth.py)
SCOPES = {"sales": ["retail-orders"]}

STARTUP_SECONDS = 180
COMMAND_SECONDS = 420


class ServerError(RuntimeError):
    """The api-server or an Airflow command did not come up or failed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    root: Path, port: int, manifests: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment of every Airflow command of the test server (the project's, then overrides)."""
    home = root / "lodestar"
    settings = load_settings(home=home, manifests_dir=manifests)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LODESTAR_"))}
    env.update(airflow_env(settings, REPO))
    airflow_home = settings.airflow_home
    passwords = root / "passwords.json"
    passwords.write_text(json.dumps({u: p for u, (_, p) in USERS.items()}), encoding="utf-8")
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": "scoped_auth.ScopedSimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{u}:{role}" for u, (role, _) in USERS.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "lodestar-ui-test-secret-not-for-production",
            "AIRFLOW__API__SECRET_KEY": "lodestar-ui-test-key-not-for-production",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
            "LODESTAR_TEST_DAG_SCOPES": json.dumps(SCOPES),
            "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO / "src")]),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    env.update(extra or {})
    return env


def run_airflow(env: Mapping[str, str], *args: str, log: Path) -> None:
    """One Airflow CLI command, bounded in time; its output goes to ``log``."""
    with log.open("ab") as out:
        out.write(f"\n$ airflow {' '.join(args)}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                [str(AIRFLOW), *args],
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=COMMAND_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"airflow {' '.join(args)} took over {COMMAND_SECONDS}s") from exc
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise ServerError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{tail}")


@dataclass
class AirflowServer:
    """A running api-server and what the tests need to talk to it."""

    url: str
    env: dict[str, str]
    root: Path
    process: subprocess.Popen[bytes]
    log: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def lodestar_home(self) -> Path:
        return Path(self.env["LODESTAR_HOME"])

    @property
    def warehouse(self) -> Path:
        return Path(self.env["LODESTAR_WAREHOUSE"])

    def token(self, user: str) -> str:
        """A JWT for ``user`` from the auth manager's token endpoint."""
        if user not in self._tokens:
            password = USERS[user][1]
            response = httpx.post(
                f"{self.url}/auth/token",
                json={"username": user, "password": password},
                timeout=30,
            )
            response.raise_for_status()
            self._tokens[user] = response.json()["access_token"]
        return self._tokens[user]

    def request(
        self, method: str, path: str, user: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return httpx.request(
            method,
            f"{self.url}{path}",
            headers=headers,
            timeout=60,
            follow_redirects=False,
            **kwargs,
        )

    def trigger(self, dag_id: str, run_id: str, logical_date: str) -> dict[str, Any]:
        response = self.request(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            user="admin",
            json={"dag_run_id": run_id, "logical_date": logical_date},
        )
        if response.status_code != 200:
            raise ServerError(f"trigger {dag_id}: {response.status_code} {response.text}")
        return dict(response.json())

    def task_ids(self, dag_id: str, run_id: str) -> list[str]:
        response = self.request(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", user="admin"
        )
        response.raise_for_status()
        return sorted(ti["task_id"] for ti in response.json()["task_instances"])

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        response = self.request(
            "PATCH",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}",
            user="admin",
            json={"new_state": state},
        )
        if response.status_code != 200:
            raise ServerError(f"set {task_id} {state}: {response.status_code} {response.text}")

    def set_run_state(self, dag_id: str, run_id: str, state: str) -> None:
        response = self.request(
            "PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", user="admin", json={"state": state}
        )
        if response.status_code != 200:
            raise ServerError(f"set run {run_id} {state}: {response.status_code} {response.text}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise ServerError(f"api-server exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/api/v2/monitor/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise ServerError(f"api-server not healthy after {seconds:.0f}s; see {log}")


def start_server(
    root: Path, manifests: Path, extra: Mapping[str, str] | None = None
) -> AirflowServer:
    """Migrate the database, parse the DAGs of ``manifests`` and start the api-server."""
    port = free_port()
    env = server_env(root, port, manifests, extra)
    log = root / "airflow.log"
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    run_airflow(env, "db", "migrate", log=log)
    run_airflow(env, "dags", "reserialize", log=log)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(port), "-w", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = AirflowServer(url, env, root, process, log)
    try:
        wait_ready(url, process, log, STARTUP_SECONDS)
    except BaseException:
        server.stop()
        raise
    return server
