"""Airflow version differences live here, and only here (Airflow 3.x task SDK)."""

from __future__ import annotations

from airflow.sdk import DAG, Asset, BaseOperator, SyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

__all__ = ["DAG", "Asset", "BaseOperator", "DeadlineAlert", "DeadlineReference", "SyncCallback"]
