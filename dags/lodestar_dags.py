"""Airflow DAG file: one DAG per data product manifest (folder: LODESTAR_MANIFESTS)."""

from lodestar.airflow.loader import build_dags

globals().update(build_dags())
