"""Airflow plugin entry point: registers the Lodestar plugin."""

from lodestar.airflow.plugin import LodestarPlugin

__all__ = ["LodestarPlugin"]
