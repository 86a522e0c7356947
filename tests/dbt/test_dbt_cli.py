"""``lodestar dbt``: generate --check, vars, and the errors a person sees."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from dbt_lake import affinity_plan, settings_for

from lodestar.cli import main
from lodestar.cli.console import Console
from lodestar.dbt import vars_for

pytestmark = pytest.mark.unit

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), console=Console(out, err, color=False))
    return code, out.getvalue(), err.getvalue()


def test_generate_check_reports_up_to_date_files() -> None:
    code, out, err = run("dbt", "--manifests", str(MANIFESTS), "generate", "--check")

    assert (code, out, err) == (0, "the generated dbt files are up to date\n", "")


def test_vars_print_the_product_vars_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LODESTAR_HOME", str(tmp_path))
    monkeypatch.setenv("LODESTAR_LAKE_ROOT", str(tmp_path / "lake"))

    code, out, _ = run("dbt", "--manifests", str(MANIFESTS), "vars", "product-affinity")

    assert code == 0
    assert json.loads(out) == vars_for(affinity_plan(settings_for(tmp_path)))


def test_unknown_product_is_named_with_the_known_ones() -> None:
    code, _, err = run("dbt", "--manifests", str(MANIFESTS), "vars", "product-afinity")

    assert code == 1
    assert "no product 'product-afinity'" in err
    assert "known: product-affinity, retail-orders" in err


def test_build_of_a_product_without_dbt_step_is_refused() -> None:
    code, _, err = run("dbt", "--manifests", str(MANIFESTS), "build", "retail-orders")

    assert code == 1
    assert "retail-orders has no dbt step: nothing to build" in err
