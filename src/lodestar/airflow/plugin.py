"""The Lodestar Airflow plugin (Airflow 3 plugin API)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class LodestarPlugin(AirflowPlugin):
    """Registers Lodestar with Airflow; the Data Products UI is added to this class."""

    name = "lodestar"
