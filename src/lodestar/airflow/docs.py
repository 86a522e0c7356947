"""The DAG's own documentation: the business chain of its manifest, in Markdown."""

from __future__ import annotations

from lodestar.manifest.model import DataProduct, NorthStarMetric


def render_doc_md(product: DataProduct, nsm: NorthStarMetric | None, source: str) -> str:
    meta, business = product.metadata, product.business
    lines = [
        f"# {meta.title or meta.name} `{meta.version}`",
        "",
        f"**{meta.type.value}** data product of domain **{meta.domain}**. {meta.purpose}",
        "",
        f"> {business.vision}",
        "",
        "**Owners:** " + ", ".join(f"{p.name} ({p.role})" for p in meta.owners),
        "",
    ]
    if nsm is not None:
        lines += [
            f"## North Star Metric: {nsm.name}",
            f"{nsm.calculation} Target **{nsm.target:g} {nsm.unit}**, {nsm.direction.value}, "
            f"{nsm.frequency.value}; owner {nsm.owner}.",
            "",
        ]
    if business.goals:
        lines += [
            "## Goals",
            "| goal | measure | baseline | target | direction |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {g.name} | `{g.measure}` | {g.baseline:g} | {g.target:g} | {g.direction.value} |"
            for g in business.goals
        ]
        lines.append("")
    if business.use_cases:
        lines.append("## Use cases")
        for uc in sorted(business.use_cases, key=lambda u: u.priority):
            consumers = ", ".join(c.name for c in uc.consumers)
            lines.append(f"{uc.priority}. **{uc.name}** (`{uc.id}`) for {consumers}")
        lines.append("")
    lines += ["## Outputs", "| output | format | role | use cases |", "|---|---|---|---|"]
    lines += [
        f"| `{o.name}` | {o.format} | {o.role} | {', '.join(o.use_cases) or '-'} |"
        for o in product.build.outputs
    ]
    lines += ["", f"_Manifest: `{source}`_"]
    return "\n".join(lines)


def render_error_doc(source: str, errors: list[str]) -> str:
    body = "\n".join(f"- `{e}`" for e in errors)
    return (
        f"# Invalid manifest `{source}`\n\nThis manifest was not turned into a DAG:\n\n{body}\n\n"
        "Fix it, then check with `lodestar validate`."
    )
