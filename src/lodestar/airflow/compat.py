"""Airflow version differences live here, and only here (Airflow 3.x task SDK)."""

from __future__ import annotations

from airflow.sdk import DAG, Asset, BaseOperator

__all__ = ["DAG", "Asset", "BaseOperator"]
