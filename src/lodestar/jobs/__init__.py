"""The Spark applications of Lodestar: ``ingest`` and ``affinity``.

Each is a plain ``spark-submit`` application file that reads one JSON parameter file::

    spark-submit --master local[*] src/lodestar/jobs/ingest.py --params /path/params.json
    spark-submit --master local[*] src/lodestar/jobs/affinity.py --params /path/params.json

They import pyspark and their own parameters only (never Airflow, never the manifest models):
the Airflow layer refers to them by file path and hands them plain JSON built by
:func:`lodestar.plan.spark_params`. They use DataFrame expressions only (no Python UDFs), so
executors on a cluster need no Lodestar code.
"""
