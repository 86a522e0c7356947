"""OpenLineage datasets of a plan: one identity per place, with the same facets in every event.

A name used by a step (an output of the product, or one of its inputs) resolves to the dataset
that :mod:`lodestar.naming` gives through the plan, so the Parquet folder that Spark writes and
that dbt reads as a source is one node. Its facets describe the dataset from the point of view
of the product that *produces* it (schema, documentation, owners, business facet), so two
products emitting the same dataset never overwrite each other's description in Marquez.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    DatasetFacet,
    InputDatasetFacet,
    OutputDatasetFacet,
    column_lineage_dataset,
    documentation_dataset,
    output_statistics_output_dataset,
    ownership_dataset,
    schema_dataset,
)

from lodestar import naming
from lodestar.lineage.business import Products, business_facet, upstream_facet
from lodestar.lineage.facets import BUSINESS, PRODUCER
from lodestar.lineage.names import LineageError, check_dataset
from lodestar.manifest.model import Column, DataProduct, Person
from lodestar.plan import ProductPlan


@dataclass(frozen=True)
class Resolved:
    """A name of the plan resolved to its dataset and to the product that produces it."""

    local: str  # the name the plan's product uses (input or output name)
    dataset: naming.DatasetName
    product: str  # producing product (for a raw source: the product that reads it)
    name: str  # output name in the producing product, or the input name for a raw source
    columns: tuple[Column, ...]
    description: str | None
    owners: tuple[Person, ...]
    known: bool  # False when the producing product's manifest is not in the folder


def resolve(plan: ProductPlan, products: Products, local: str) -> Resolved:
    """Resolve an input or output name of ``plan`` (raises LineageError when it is neither)."""
    own = plan.product
    if local in plan.outputs:
        out = plan.outputs[local]
        return Resolved(
            local,
            out.dataset,
            plan.name,
            local,
            tuple(out.output.columns),
            out.output.description,
            tuple(own.metadata.owners),
            True,
        )
    if local not in plan.inputs:
        raise LineageError(
            f"{plan.name}: {local!r} is neither an input nor an output of the product "
            f"(inputs: {sorted(plan.inputs)}, outputs: {sorted(plan.outputs)})"
        )
    item = plan.inputs[local]
    if item.upstream is None:
        description = "Source data" + (f". {item.input.citation}" if item.input.citation else "")
        return Resolved(
            local,
            item.dataset,
            plan.name,
            local,
            tuple(item.input.columns),
            description,
            tuple(own.metadata.owners),
            True,
        )
    product, output = item.upstream
    upstream: DataProduct | None = products.get(product)
    declared = upstream.output(output) if upstream else None
    if upstream is None or declared is None:
        return Resolved(
            local, item.dataset, product, output, tuple(item.input.columns), None, (), False
        )
    return Resolved(
        local,
        item.dataset,
        product,
        output,
        tuple(declared.columns),
        declared.description,
        tuple(upstream.metadata.owners),
        True,
    )


def dataset_facets(products: Products, ref: Resolved) -> dict[str, DatasetFacet]:
    """Schema, documentation, ownership and the business facet of one dataset."""
    facets: dict[str, DatasetFacet] = {}
    if ref.columns:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=c.name, type=c.type, description=c.description, ordinal_position=i
                )
                for i, c in enumerate(ref.columns, start=1)
            ],
            producer=PRODUCER,
        )
    if ref.description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=ref.description, contentType="text/plain", producer=PRODUCER
        )
    if ref.owners:
        facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name=o.name, type=o.role) for o in ref.owners],
            producer=PRODUCER,
        )
    facets[BUSINESS] = (
        business_facet(products, ref.product, ref.name)
        if ref.known
        else upstream_facet(ref.product, ref.name)
    )
    return facets


def column_lineage(
    plan: ProductPlan, products: Products, output: str
) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
    """The manifest's ``derivedFrom`` of each column of an output, as column-level lineage."""
    declared = plan.outputs[output].output
    fields: dict[str, column_lineage_dataset.Fields] = {}
    for column in declared.columns:
        sources: list[column_lineage_dataset.InputField] = []
        for reference in column.derived_from:
            local, _, field = reference.partition(".")
            if local == output or not field:
                continue  # NOTE: a column computed from others of the same row has no edge
            try:
                ref = resolve(plan, products, local)
            except LineageError:
                continue  # NOTE: unresolved references are reported by the manifest checks
            sources.append(
                column_lineage_dataset.InputField(
                    namespace=ref.dataset.namespace, name=ref.dataset.name, field=field
                )
            )
        if sources:
            fields[column.name] = column_lineage_dataset.Fields(inputFields=sources)
    if not fields:
        return None
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)


def input_dataset(
    plan: ProductPlan,
    products: Products,
    local: str,
    input_facets: Mapping[str, InputDatasetFacet] | None = None,
    extra: Mapping[str, DatasetFacet] | None = None,
) -> InputDataset:
    ref = resolve(plan, products, local)
    check_dataset(ref.dataset.namespace, ref.dataset.name, f"{plan.name} input {local}")
    return InputDataset(
        namespace=ref.dataset.namespace,
        name=ref.dataset.name,
        facets={**dataset_facets(products, ref), **(extra or {})},
        inputFacets=dict(input_facets or {}),
    )


def output_dataset(
    plan: ProductPlan,
    products: Products,
    local: str,
    stats: OutputStats | None = None,
    output_facets: Mapping[str, OutputDatasetFacet] | None = None,
) -> OutputDataset:
    if local not in plan.outputs:
        raise LineageError(f"{plan.name}: {local!r} is not an output of the product")
    ref = resolve(plan, products, local)
    check_dataset(ref.dataset.namespace, ref.dataset.name, f"{plan.name} output {local}")
    facets = dataset_facets(products, ref)
    lineage = column_lineage(plan, products, local)
    if lineage is not None:
        facets["columnLineage"] = lineage
    out_facets: dict[str, OutputDatasetFacet] = dict(output_facets or {})
    if stats is not None and stats.rows is not None:
        out_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=stats.rows, fileCount=stats.files, size=stats.bytes, producer=PRODUCER
            )
        )
    return OutputDataset(
        namespace=ref.dataset.namespace,
        name=ref.dataset.name,
        facets=facets,
        outputFacets=out_facets,
    )


@dataclass(frozen=True)
class OutputStats:
    rows: int | None = None
    files: int | None = None
    bytes: int | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


_ROW_KEYS = ("rows", "row_count", "rowCount", "count", "rows_written")
_FILE_KEYS = ("files", "file_count", "fileCount")
_BYTE_KEYS = ("bytes", "size", "size_bytes")


#: top-level counts of the ingest job's stats that are an output's row count
_ROWS_OF = {"order_lines": "rows_kept", "quarantine": "rows_quarantined"}


def output_stats(stats: Mapping[str, Any] | None, output: str) -> OutputStats | None:
    """Row, file and byte counts of one output from a job's stats JSON.

    Accepted shapes, first match wins: ``{"outputs": {name: {"rows": n, "files": f, "bytes":
    b}}}`` (or the entry being the row count itself; a location string is not a count);
    ``{"rows": {name: n}}`` or ``{"row_counts": {name: n}}``; ``{name: n}`` and
    ``{"<name>_rows": n}``; and the ingest job's ``rows_kept`` (order_lines) and
    ``rows_quarantined`` (quarantine).
    """
    if not stats:
        return None
    outputs = stats.get("outputs")
    entry = outputs.get(output) if isinstance(outputs, Mapping) else None
    if isinstance(entry, Mapping):
        rows = next((_int(entry[k]) for k in _ROW_KEYS if k in entry), None)
        files = next((_int(entry[k]) for k in _FILE_KEYS if k in entry), None)
        size = next((_int(entry[k]) for k in _BYTE_KEYS if k in entry), None)
        return OutputStats(rows, files, size)
    candidates = [entry]
    for key in ("rows", "row_counts", "rowCounts"):
        table = stats.get(key)
        candidates.append(table.get(output) if isinstance(table, Mapping) else None)
    candidates += [stats.get(output), stats.get(f"{output}_rows")]
    if output in _ROWS_OF:
        candidates.append(stats.get(_ROWS_OF[output]))
    rows = next((_int(c) for c in candidates if _int(c) is not None), None)
    return OutputStats(rows) if rows is not None else None
