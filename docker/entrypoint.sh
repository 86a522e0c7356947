#!/usr/bin/env bash
# Entrypoint of the Lodestar image: derive Airflow's environment from the Lodestar switches
# (docker/lodestar.env, passed in by docker-compose), then run the container's command.
set -euo pipefail

mkdir -p "${LODESTAR_HOME:-/var/lib/lodestar}"
exports="$(python /opt/lodestar/docker/airflow_env.py)"
eval "${exports}"

exec "$@"
