"""Print, as shell exports, the Airflow environment that the Lodestar switches imply.

The image's entrypoint evaluates this output, so Airflow in docker-compose takes its Spark
connection, DAG and plugin folders and lineage transport from the same switches
(docker/lodestar.env) through the same function as on a laptop
(:func:`lodestar.airflow.environment.airflow_env`). A variable the environment already sets wins.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from lodestar.airflow.environment import airflow_env
from lodestar.settings import load_settings


def exports(repo_root: Path) -> list[str]:
    """``export KEY=value`` lines, sorted, values quoted for a POSIX shell."""
    env = airflow_env(load_settings(), repo_root)
    return [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]


def main() -> int:
    sys.stdout.write("\n".join(exports(Path(__file__).resolve().parents[1])) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
