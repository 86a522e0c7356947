"""The ``lodestar`` commands in-process: validate, schema, explain, and the parser itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lodestar.cli import COMMAND_MODULES, build_parser
from lodestar.manifest.schema import SCHEMA_PATH, render_schema

from .conftest import MANIFESTS, REPO, Folder, run

pytestmark = pytest.mark.unit

PA = "product-affinity"
RO = "retail-orders"


# --- validate -------------------------------------------------------------------------------


def test_validate_defaults_to_the_configured_folder(
    folder: Folder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LODESTAR_MANIFESTS", str(folder.path))
    folder.edit(RO, "  version: 1.0.0", "  version: one")

    result = run("validate")

    assert result.code == 1
    assert result.out.splitlines()[0].startswith(f"{folder.file(PA)}:")


def test_validate_json_report(folder: Folder) -> None:
    result = run("validate", str(folder.path), "--format", "json")

    assert result.code == 0
    assert json.loads(result.out) == {
        "valid": True,
        "files": [str(folder.file(PA)), str(folder.file(RO))],
        "products": {PA: str(folder.file(PA)), RO: str(folder.file(RO))},
        "errors": [],
    }


def test_a_file_is_checked_with_its_folder_and_reports_only_its_own_problems(
    folder: Folder,
) -> None:
    folder.edit(RO, "  purpose: >-", "  owner: x\n  purpose: >-")

    alone = run("validate", str(folder.file(PA)), "--format", "json")
    broken = run("validate", str(folder.file(RO)), "--format", "json")

    assert alone.code == 1
    assert {(e["file"], e["rule"]) for e in json.loads(alone.out)["errors"]} == {
        (str(folder.file(PA)), "dependency")
    }
    assert broken.code == 1
    report = json.loads(broken.out)
    assert {e["file"] for e in report["errors"]} == {str(folder.file(RO))}
    assert [e["field"] for e in report["errors"]] == ["metadata.owner"]


def test_a_valid_file_validates_alone_thanks_to_its_folder() -> None:
    result = run("validate", str(MANIFESTS / f"{PA}.yaml"))

    assert (result.code, result.out) == (0, "1 manifest(s) valid: product-affinity\n")


def test_validate_reports_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    result = run("validate", str(missing))

    assert result.code == 1
    assert result.out.splitlines() == [
        f"{missing}: no such file or folder [io]",
        "    hint: give manifest files (.yaml) or folders that hold them",
        "1 problem: 0 of 0 file(s) with errors, 1 path(s) not found",
    ]


def test_validate_an_empty_folder_warns(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path))

    assert (result.code, result.out) == (0, "")
    assert result.err == "warning: no manifest files (.yaml, .yml) found\n"


# --- schema ---------------------------------------------------------------------------------


def test_schema_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "schema.json"

    printed = run("schema")
    written = run("schema", "-o", str(target))

    assert (printed.code, printed.out) == (0, render_schema())
    assert (written.code, written.out) == (0, f"wrote {target}\n")
    assert target.read_text(encoding="utf-8") == render_schema()


def test_schema_check(tmp_path: Path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}\n", encoding="utf-8")

    current = run("schema", "--check", "-o", str(REPO / SCHEMA_PATH))
    outdated = run("schema", "--check", "-o", str(stale))
    no_file = run("schema", "--check")

    assert (current.code, current.out) == (0, f"{REPO / SCHEMA_PATH} is up to date\n")
    assert outdated.code == 1
    assert outdated.err == (
        f"error: {stale} is out of date; regenerate it: lodestar schema -o {stale}\n"
    )
    assert stale.read_text(encoding="utf-8") == "{}\n"
    assert no_file.code == 2


# --- explain --------------------------------------------------------------------------------


def test_explain_json(folder: Folder) -> None:
    result = run("explain", RO, "--manifests", str(folder.path), "--format", "json")

    assert result.code == 0
    report = json.loads(result.out)
    assert report["product"] == RO
    assert report["file"] == str(folder.file(RO))
    assert report["chain"]["label"] == (
        "retail-orders 1.0.0: Retail orders (source-aligned, domain sales)"
    )
    assert report["sourceColumns"] == {
        "data/online-retail/online_retail.parquet": ["InvoiceDate", "InvoiceNo", "StockCode"]
    }


def test_explain_an_unknown_product(folder: Folder) -> None:
    result = run("explain", "retail-order", "--manifests", str(folder.path))

    assert result.code == 1
    assert result.err == (
        f"error: no product 'retail-order' in {folder.path} (did you mean 'retail-orders'?)\n"
    )


def test_explain_a_product_whose_manifest_is_invalid(folder: Folder) -> None:
    folder.edit(RO, "  version: 1.0.0", "  version: one")

    result = run("explain", RO, "--manifests", str(folder.path))

    assert result.code == 1
    assert result.err == f"error: the manifest of 'retail-orders' ({folder.file(RO)}) is invalid:\n"
    assert result.out.splitlines()[0] == (
        f"{folder.at(RO, 'version: one', shift=9)}: metadata.version: 'one' is not a valid "
        "version [schema]"
    )


def test_explain_warns_when_the_folder_has_problems(folder: Folder) -> None:
    folder.edit(PA, "  sla: 4h\n", "  sla: 4h\n  owner: me\n")

    result = run("explain", RO, "--manifests", str(folder.path))

    assert result.code == 0
    assert result.err.startswith("warning: 2 problem(s) in ")
    assert "Source columns reached:" not in result.out


# --- the parser -----------------------------------------------------------------------------


def test_the_parser_registers_the_written_commands() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")

    assert {"validate", "schema", "explain"} <= set(commands.choices)
    assert COMMAND_MODULES[:3] == (
        "lodestar.cli.validate",
        "lodestar.cli.schema",
        "lodestar.cli.explain",
    )


def test_planned_command_modules_are_skipped_until_written() -> None:
    parser = build_parser(("lodestar.cli.validate", "lodestar.cli.not_written_yet"))
    commands = next(a for a in parser._actions if a.dest == "command")

    assert set(commands.choices) == {"validate"}


def test_a_command_module_that_fails_to_import_is_not_hidden() -> None:
    with pytest.raises(ModuleNotFoundError):
        build_parser(("lodestar.nowhere.validate",))


def test_no_command_prints_the_usage() -> None:
    result = run()

    assert result.code == 2
    assert result.err.startswith("usage: lodestar")
