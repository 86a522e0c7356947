"""Loading one manifest: every schema problem located, named by its camelCase path, with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from lodestar.errors import ManifestError
from lodestar.manifest import load_folder, load_manifest
from lodestar.manifest.loader import InvalidManifest, read_manifest
from lodestar.manifest.model import AffinityStep, IngestStep

from .conftest import MANIFESTS, Workspace

pytestmark = pytest.mark.unit

PA = "product-affinity"
RO = "retail-orders"


def problems(workspace: Workspace, product: str) -> list[str]:
    with pytest.raises(InvalidManifest) as raised:
        load_manifest(workspace.path(product))
    return [str(e) for e in raised.value.errors]


def test_reference_manifests_load() -> None:
    affinity = load_manifest(MANIFESTS / f"{PA}.yaml")
    orders = load_manifest(MANIFESTS / f"{RO}.yaml")

    assert affinity.name == PA and orders.name == RO
    assert isinstance(affinity.build.steps[0], AffinityStep)
    assert isinstance(orders.build.steps[0], IngestStep)
    assert affinity.business.north_star is not None
    assert affinity.business.north_star.measure == "attach_rate"
    assert orders.business.north_star_ref is not None


def test_unknown_field_with_did_you_mean(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "      useCases: [affinity-reports]\n      columns:\n        - {name: "
        "product_id, derivedFrom: [order_lines.product_id]}\n        - {name: basket",
        "      useCase: [affinity-reports]\n      columns:\n        - {name: "
        "product_id, derivedFrom: [order_lines.product_id]}\n        - {name: basket",
    )

    assert problems(workspace, PA) == [
        f"{workspace.at(PA, 'useCase:')}: build.outputs[0].useCase: unknown field 'useCase' "
        "(hint: did you mean 'useCases'?)"
    ]


def test_snake_case_keys_are_unknown_and_not_also_missing(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "      producedBy: models\n      useCases: [fbt-recommendations]\n",
        "      produced_by: models\n      useCases: [fbt-recommendations]\n",
    )

    assert problems(workspace, PA) == [
        f"{workspace.at(PA, 'produced_by')}: build.outputs[4].produced_by: unknown field "
        "'produced_by' (hint: did you mean 'producedBy'?)"
    ]


def test_unknown_field_without_a_close_match_lists_the_fields(workspace: Workspace) -> None:
    workspace.edit(PA, "  sla: 4h\n", "  sla: 4h\n  owner: me\n")

    assert problems(workspace, PA) == [
        f"{workspace.at(PA, 'owner: me')}: build.owner: unknown field 'owner' (hint: fields "
        "here: inputs, outputs, retries, schedule, sla, steps, timeout)"
    ]


def test_unknown_field_deep_in_step_parameters(workspace: Workspace) -> None:
    workspace.edit(PA, "          minLift: 4.0\n", "          minLift: 4.0\n          maxLift: 9\n")

    assert problems(workspace, PA) == [
        f"{workspace.at(PA, 'maxLift')}: build.steps[0].params.thresholds.maxLift: unknown "
        "field 'maxLift' (hint: did you mean 'minLift'?)"
    ]


def test_missing_required_field(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "      format: table\n      producedBy: models\n      role: report\n",
        "      format: table\n      role: report\n",
    )

    assert problems(workspace, PA) == [
        f"{workspace.at(PA, 'name: product_affinity_report')}: build.outputs[6].producedBy: "
        "missing required field 'producedBy' (hint: add a producedBy: key under "
        "build.outputs[6] (Step that writes it))"
    ]


def test_every_problem_of_a_file_is_reported(workspace: Workspace) -> None:
    workspace.edit(PA, "  name: product-affinity", "  name: Product Affinity")
    workspace.edit(PA, "  version: 1.0.0", "  version: 1.0")
    workspace.edit(PA, "      priority: 1\n", "      priority: 0\n")
    workspace.edit(
        PA,
        "      deadline: 2012-06-30\n    - id: raise-basket-breadth",
        "      deadline: soon\n    - id: raise-basket-breadth",
    )
    workspace.edit(
        PA, "      useCases: [cross-sell-campaigns]\n", "      useCases: cross-sell-campaigns\n"
    )
    workspace.edit(
        PA,
        "      direction: increase\n      period: monthly\n      deadline: "
        "2012-06-30\n    - id: raise-revenue",
        "      direction: up\n      period: monthly\n      deadline: 2012-06-30\n"
        "    - id: raise-revenue",
    )

    assert problems(workspace, PA) == [
        f"{workspace.at(PA, 'Product Affinity')}: metadata.name: 'Product Affinity' is not a "
        "valid name (hint: use lower-case letters and digits, words joined by -, e.g. "
        "retail-orders)",
        f"{workspace.at(PA, '1.0', 1)}: metadata.version: expected text, got number 1.0 "
        '(hint: YAML reads this as a number; quote it: "1.0")',
        f"{workspace.at(PA, 'soon')}: business.goals[0].deadline: expected a date such as "
        "2024-01-31, got text 'soon'",
        f"{workspace.at(PA, 'direction: up', shift=11)}: business.goals[1].direction: 'up' is "
        "not one of increase, decrease, maintain",
        f"{workspace.at(PA, 'priority: 0', shift=10)}: business.useCases[0].priority: must be "
        ">= 1, got 0",
        f"{workspace.at(PA, 'useCases: cross-sell', shift=10)}: build.outputs[5].useCases: "
        "expected a list, got text 'cross-sell-campaigns' (hint: write a list as [a, b] or as "
        "one '- item' line per entry)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "      baseline: 24.0",
            "      baseline: 30.0",
            "id: raise-basket-breadth",
            "business.goals[1]: direction is increase but target is not above baseline",
        ),
        (
            "          minSupport: 0.015\n",
            "          minSupport: 0.015\n          minSupportCount: 20\n",
            "minSupport: 0.015",
            "build.steps[0].params.thresholds: give exactly one of minSupport or minSupportCount",
        ),
        (
            "assertion: row_count_min, min: 1}",
            "assertion: unique}",
            "{name: rules_present",
            "build.steps[2].checks[0]: assertion unique needs a column",
        ),
        (
            "      product: retail-orders\n      output: products\n",
            "      uri: data/p.parquet\n      product: retail-orders\n      output: products\n",
            "name: products\n      uri",
            "build.inputs[2]: give either uri (with format) or product and output",
        ),
        (
            "  vision: >-\n",
            "  northStarRef: {product: retail-orders, id: x}\n  vision: >-\n",
            "northStarRef",
            "business: declare exactly one of northStar or northStarRef",
        ),
    ],
)
def test_rules_of_the_model_are_located(
    workspace: Workspace, old: str, new: str, needle: str, expected: str
) -> None:
    workspace.edit(PA, old, new)

    assert problems(workspace, PA) == [f"{workspace.at(PA, needle)}: {expected}"]


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "      type: dbt\n",
            "      type: dbtt\n",
            "dbtt",
            "build.steps[1].type: unknown step type 'dbtt' (hint: did you mean 'dbt'?)",
        ),
        (
            "      job: affinity\n",
            "      job: afinity\n",
            "afinity",
            "build.steps[0].job: unknown Spark job 'afinity' (hint: did you mean 'affinity'?)",
        ),
        (
            "      job: affinity\n",
            "",
            "- name: affinity",
            "build.steps[0]: missing required field 'job' (hint: a spark step names a "
            "registered job: ingest, affinity)",
        ),
        (
            "      type: quality\n",
            "",
            "- name: checks",
            "build.steps[2]: missing required field 'type' (hint: add type: one of spark, dbt, "
            "quality)",
        ),
    ],
)
def test_steps_are_told_apart_by_type_and_job(
    workspace: Workspace, old: str, new: str, needle: str, expected: str
) -> None:
    workspace.edit(PA, old, new)
    shift = 2 if needle.startswith("- ") else 0

    assert problems(workspace, PA) == [f"{workspace.at(PA, needle, shift=shift)}: {expected}"]


def test_booleans_where_text_is_expected_get_a_quoting_hint(workspace: Workspace) -> None:
    workspace.edit(RO, "          country: Country\n", "          country: no\n")

    assert problems(workspace, RO) == [
        f"{workspace.at(RO, 'country: no', shift=9)}: build.steps[0].params.columns.country: "
        "expected text, got boolean false (hint: YAML reads yes/no/on/off/true/false as "
        "booleans; quote the value to keep it text)"
    ]


def test_not_a_mapping_at_the_top(workspace: Workspace) -> None:
    path = workspace.write(PA, "- apiVersion: lodestar/v1\n")

    assert problems(workspace, PA) == [
        f"{path}:1:1: expected a mapping of fields, got a list (hint: indent the fields under "
        "this key, one 'key: value' per line)"
    ]


def test_an_empty_file(workspace: Workspace) -> None:
    path = workspace.write(PA, "# nothing yet\n")

    assert problems(workspace, PA) == [
        f"{path}:1:1: the file holds no manifest (hint: a manifest starts with apiVersion: "
        "lodestar/v1 and kind: DataProduct)"
    ]


def test_invalid_manifest_reads_as_all_its_errors(workspace: Workspace) -> None:
    workspace.edit(PA, "  version: 1.0.0", "  version: 1.0")
    workspace.edit(PA, "  vision: >-", "  visoin: >-")

    with pytest.raises(ManifestError) as raised:
        load_manifest(workspace.path(PA))

    error = raised.value
    assert isinstance(error, InvalidManifest)
    assert len(error.errors) == 2
    assert str(error) == "\n".join(str(e) for e in error.errors)
    assert (error.location, error.field) == (error.errors[0].location, "metadata.version")


def test_read_manifest_keeps_the_declared_name_of_an_invalid_file(workspace: Workspace) -> None:
    workspace.edit(PA, "  version: 1.0.0", "  version: 1.0")

    loaded = read_manifest(workspace.path(PA))

    assert loaded.product is None
    assert loaded.declared_name == PA
    assert loaded.declared_reads == {(RO, "order_lines"), (RO, "orders"), (RO, "products")}


def test_one_bad_file_never_hides_the_others(workspace: Workspace) -> None:
    (workspace.folder / "broken.yaml").write_text("a: [\n", encoding="utf-8")
    (workspace.folder / "notes.txt").write_text("not a manifest", encoding="utf-8")

    catalog = load_folder(workspace.folder)

    assert sorted(catalog.products) == [PA, RO]
    assert [e.location.file for e in catalog.errors] == [workspace.folder / "broken.yaml"]
    assert catalog.broken == {workspace.folder / "broken.yaml": None}
    assert catalog.is_valid(PA) and not catalog.is_valid("broken")


def test_a_missing_folder_is_an_error_not_a_crash(tmp_path: Path) -> None:
    catalog = load_folder(tmp_path / "nowhere")

    assert catalog.products == {}
    assert [(e.rule, e.location.file) for e in catalog.errors] == [("io", tmp_path / "nowhere")]


def test_validation_by_name_stays_available_to_python_code() -> None:
    affinity = load_manifest(MANIFESTS / f"{PA}.yaml")
    output = affinity.build.outputs[0]

    rebuilt = type(output)(name="x", format="parquet", produced_by="affinity")

    assert rebuilt.produced_by == "affinity" and output.produced_by == "affinity"
