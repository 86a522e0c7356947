"""What every check shares: the products, where their nodes are, and the error list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

from lodestar.errors import Location, ManifestError
from lodestar.manifest.dataflow import declared_columns
from lodestar.manifest.diagnostics import suggestion
from lodestar.manifest.model import Column, DataProduct
from lodestar.manifest.source import DataPath, SourceMap, format_path

INPUTS: DataPath = ("build", "inputs")
OUTPUTS: DataPath = ("build", "outputs")
STEPS: DataPath = ("build", "steps")


@dataclass
class Names:
    """Where each declared name of one product sits (its index in its list)."""

    goals: dict[str, int] = field(default_factory=dict)
    initiatives: dict[str, int] = field(default_factory=dict)
    hypotheses: dict[str, int] = field(default_factory=dict)
    use_cases: dict[str, int] = field(default_factory=dict)
    measures: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, product: DataProduct) -> Names:
        business, build = product.business, product.build

        def first(keys: Sequence[str]) -> dict[str, int]:
            found: dict[str, int] = {}
            for i, key in enumerate(keys):
                found.setdefault(key, i)
            return found

        return cls(
            goals=first([g.id for g in business.goals]),
            initiatives=first([i.id for i in business.initiatives]),
            hypotheses=first([h.id for h in business.hypotheses]),
            use_cases=first([u.id for u in business.use_cases]),
            measures=first([m.name for m in business.measures]),
            inputs=first([i.name for i in build.inputs]),
            outputs=first([o.name for o in build.outputs]),
            steps=first([s.name for s in build.steps]),
        )


class Checks:
    """The products under check and the errors found so far, each located in its file."""

    def __init__(
        self,
        products: Mapping[str, DataProduct],
        files: Mapping[str, Path],
        source_maps: Mapping[str, SourceMap],
        broken: Mapping[Path, str | None],
        reads_of_broken: Set[tuple[str, str]],
        unparsed: tuple[Path, ...] = (),
    ) -> None:
        self.products = products
        self.reads_of_broken = reads_of_broken
        self.unparsed = unparsed
        self.files = files
        self.source_maps = source_maps
        self.broken = broken
        self.broken_names = {name: path for path, name in broken.items() if name}
        self.names = {name: Names.of(p) for name, p in products.items()}
        self.errors: list[ManifestError] = []

    def locate(self, product: str, path: DataPath, *, key: bool = False) -> Location:
        source = self.source_maps.get(product)
        if source is None:
            return Location(self.files.get(product))
        return source.locate(path, key=key)

    def error(
        self, product: str, path: DataPath, message: str, hint: str = "", *, rule: str
    ) -> None:
        self.errors.append(
            ManifestError(
                message,
                location=self.locate(product, path),
                field=format_path(path),
                hint=hint,
                rule=rule,
            )
        )

    def line(self, product: str, path: DataPath) -> str:
        location = self.locate(product, path)
        return f"line {location.line}" if location.line else "an earlier entry"

    def unique(
        self, product: str, keys: Sequence[str], path: DataPath, attr: str, what: str
    ) -> None:
        seen: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in seen:
                seen[key] = i
                continue
            where = self.line(product, (*path, seen[key], attr))
            self.error(
                product,
                (*path, i, attr),
                f"{what} {key!r} is declared twice (first on {where})",
                "names must be unique within a product; rename or remove one",
                rule="unique-id",
            )

    def ref(
        self,
        product: str,
        path: DataPath,
        value: str,
        targets: Mapping[str, int],
        message: str,
        declared_at: str,
        rule: str = "reference",
    ) -> bool:
        if value in targets:
            return True
        hint = suggestion(value, targets, f"ids declared under {declared_at}")
        self.error(product, path, message, hint, rule=rule)
        return False

    def column(
        self,
        product: str,
        path: DataPath,
        container: str,
        columns: Sequence[Column],
        column: str,
        who: str,
        rule: str = "reference",
    ) -> None:
        known = declared_columns(columns)
        if known is None or column in known:
            return
        self.error(
            product,
            path,
            f"{who} reads column {column!r}, which {container!r} does not declare",
            suggestion(column, known, f"columns of {container}"),
            rule=rule,
        )
