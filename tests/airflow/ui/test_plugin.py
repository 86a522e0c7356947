"""The plugin registers the app and the navigation entry, and stays cheap to import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow

SCRIPT = """
import sys
from starlette.testclient import TestClient

from lodestar.airflow.plugin import LodestarPlugin

heavy = "airflow.api_fastapi.core_api.security"
print("imported at plugin load:", heavy in sys.modules)
(app,) = LodestarPlugin.fastapi_apps
response = TestClient(app["app"]).get("/static/icon.svg")
print("icon:", response.status_code, response.headers["content-type"])
print("imported after first request:", heavy in sys.modules)
"""


def test_the_app_is_built_on_its_first_request_only(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    said = [line for line in done.stdout.splitlines() if line.startswith(("imported", "icon"))]
    assert said == [
        "imported at plugin load: False",
        "icon: 200 image/svg+xml",
        "imported after first request: True",
    ]
