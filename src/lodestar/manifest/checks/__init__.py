"""Checks within and across the manifests of a folder.

The model validates each file on its own; these checks need the whole folder:

- ``unique-id``: ids and names are unique where something refers to them;
- ``reference``: every reference resolves (hypothesis -> goal and initiative, use case ->
  hypotheses, output -> use cases and step, measure -> output and column, step parameters ->
  inputs, quality check -> output and column, derivedFrom -> input or output and column,
  input -> another product's output, northStarRef -> a declared NSM);
- ``dependency``: an input or NSM reference to a product whose own file is invalid;
- ``cycle``: products never read each other's outputs in a cycle;
- ``measure``: every measure the NSM and the goals need is produced by an output;
- ``traceability``: building right to left, every output traces to a use case, hypothesis,
  goal and the NSM, either directly or because a traced output is built from it (in the same
  product or in a product that reads it); an output may opt out only with
  ``traceability.exempt`` and a reason.

Every error names the file, the line and the field path of the node at fault.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Set
from pathlib import Path

from lodestar.errors import ManifestError
from lodestar.manifest.checks import across, within
from lodestar.manifest.checks.context import Checks
from lodestar.manifest.model import DataProduct
from lodestar.manifest.source import SourceMap

log = logging.getLogger(__name__)


def check_products(
    products: Mapping[str, DataProduct],
    *,
    files: Mapping[str, Path] | None = None,
    source_maps: Mapping[str, SourceMap] | None = None,
    broken: Mapping[Path, str | None] | None = None,
    reads_of_broken: Set[tuple[str, str]] = frozenset(),
    unparsed: Sequence[Path] = (),
) -> list[ManifestError]:
    """Every problem found within and across ``products`` (valid models, by name).

    ``broken`` names the files that could not be loaded (with the product they declare, when
    readable); ``reads_of_broken`` the (product, output) pairs their inputs name. An output
    that only such a file reads cannot be traced until that file is fixed, so it is not
    reported as an orphan. ``unparsed`` lists the files that could not even be parsed: what
    they read is unknown, so no output is reported as an orphan while any is left.
    """
    ctx = Checks(
        products, files or {}, source_maps or {}, broken or {}, reads_of_broken, tuple(unparsed)
    )
    for name in sorted(products):
        within.check_unique_ids(ctx, name)
        within.check_chain_references(ctx, name)
        within.check_measures(ctx, name)
        within.check_build_references(ctx, name)
        within.check_column_references(ctx, name)
        across.check_product_references(ctx, name)
    across.check_cycles(ctx)
    across.check_traceability(ctx)

    log.debug("checked %d products: %d errors", len(products), len(ctx.errors))
    return ctx.errors


#: the rule named by each error, and what it asks
RULES: dict[str, str] = {
    "unique-id": "ids and names are unique where something refers to them",
    "reference": "every reference resolves to something declared",
    "dependency": "a referenced product's own manifest is valid",
    "cycle": "products never read each other's outputs in a cycle",
    "measure": "every measure the NSM and the goals need is produced by an output column",
    "traceability": "every output traces to a use case, hypothesis, goal and the NSM",
}
