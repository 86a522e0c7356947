"""The Airflow layer: DAG builder, operators, callbacks, plugin; the only Airflow importer."""
