"""The one naming rule: where every output lives and what it is called.

Spark writes, dbt reads and lineage names the same location through these functions, so the
Parquet folder that Spark writes and dbt's source is one dataset node in Marquez, not two.

Layout under the lake root::

    <lake_root>/<product>/<output>/                 one Parquet dataset per output
    <lake_root>/<product>/<output>/period=YYYY-MM/  when the output is partitioned by period

Lineage names follow the OpenLineage naming spec: a local path is namespace ``file``, name the
absolute path; ``s3a://bucket/key`` is namespace ``s3://bucket``, name ``key``; ``hdfs://host:port/p``
is namespace ``hdfs://host:port``, name ``/p``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlparse

PERIOD_COLUMN = "period"
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class DatasetName:
    """An OpenLineage dataset identity."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return self.uri

    @property
    def uri(self) -> str:
        if self.namespace == "file":
            return f"file://{self.name}"
        return f"{self.namespace.rstrip('/')}/{self.name.lstrip('/')}"


def _check_slug(kind: str, value: str) -> None:
    if not _SLUG.match(value):
        raise ValueError(
            f"{kind} {value!r} is not a slug: use lower-case letters, digits, '-' or '_', "
            "starting with a letter"
        )


def output_location(lake_root: str, product: str, output: str) -> str:
    """The folder (or object prefix) that holds one product output."""
    _check_slug("product", product)
    _check_slug("output", output)
    return f"{lake_root.rstrip('/')}/{product}/{output}"


def period_location(lake_root: str, product: str, output: str, period: str) -> str:
    """The partition folder of one period of a partitioned output."""
    if not re.match(r"^\d{4}-\d{2}(-\d{2})?$", period):
        raise ValueError(f"period {period!r} must look like YYYY-MM or YYYY-MM-DD")
    return f"{output_location(lake_root, product, output)}/{PERIOD_COLUMN}={period}"


def dbt_source_name(product: str) -> str:
    """dbt source names are identifiers: ``retail-orders`` becomes ``retail_orders``."""
    _check_slug("product", product)
    return product.replace("-", "_")


def dataset_for_location(location: str) -> DatasetName:
    """The OpenLineage namespace and name of a file-system location."""
    parsed = urlparse(location)
    scheme = parsed.scheme
    # NOTE: credentials in a URI (user:password@host) never become part of a lineage name
    host = parsed.hostname or ""
    netloc = f"{host}:{parsed.port}" if parsed.port else host
    if scheme in ("", "file"):
        path = parsed.path if scheme == "file" else location
        return DatasetName("file", str(PurePosixPath(path)))
    if scheme in ("s3", "s3a", "s3n"):
        return DatasetName(f"s3://{netloc}", parsed.path.lstrip("/"))
    if scheme in ("gs", "abfss", "wasbs"):
        return DatasetName(f"{scheme}://{netloc}", parsed.path.lstrip("/"))
    if scheme == "hdfs":
        return DatasetName(f"hdfs://{netloc}", parsed.path)
    raise ValueError(f"no OpenLineage naming rule for scheme {scheme!r} in {location!r}")


def output_dataset(lake_root: str, product: str, output: str) -> DatasetName:
    """The lineage dataset of one product output (the same node for Spark and dbt)."""
    return dataset_for_location(output_location(lake_root, product, output))


def warehouse_dataset(warehouse_namespace: str, schema: str, table: str) -> DatasetName:
    """A table of the dbt warehouse, e.g. ``duckdb:///abs/path/warehouse.duckdb``."""
    return DatasetName(warehouse_namespace, f"{schema}.{table}")


def resolve_output_location(
    lake_root: str, product: str, output: str, override: str | None = None
) -> str:
    """The output's location: the manifest's override when it gives one, else the rule."""
    return override.rstrip("/") if override else output_location(lake_root, product, output)


def warehouse_relation(product: str, output: str) -> tuple[str, str]:
    """(schema, table) of a warehouse output built by dbt: schema is the product's identifier."""
    _check_slug("output", output)
    return dbt_source_name(product), output
