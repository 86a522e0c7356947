"""``lodestar lineage show / check / replay / emit`` through the real command line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from lineage_events import MANIFESTS, SOURCE
from marquez_stub import MarquezStub, free_port

from lodestar.cli import main
from lodestar.cli.console import Console
from lodestar.settings import Settings

pytestmark = pytest.mark.unit


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Console(out, err, color=False))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_DISABLED", "LODESTAR_LINEAGE_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LODESTAR_HOME", str(settings.home))
    monkeypatch.setenv("LODESTAR_MANIFESTS", str(MANIFESTS))
    monkeypatch.setenv("LODESTAR_DBT_PROJECT", str(settings.dbt_project_dir))
    return settings


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_check_accepts_the_reference_events(
    tmp_path: Path, event_dicts: list[dict[str, Any]]
) -> None:
    code, out, err = _run(["lineage", "check", str(_write(tmp_path / "e.jsonl", event_dicts))])
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "all events valid"
    assert " 32 events, " in out


def test_check_lists_problems_and_fails(tmp_path: Path, event_dicts: list[dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(event_dicts[:4]))
    broken[3]["job"]["namespace"] = ""
    code, out, err = _run(["lineage", "check", str(_write(tmp_path / "e.jsonl", broken))])

    assert code == 1
    assert "event 4: job: the namespace is empty" in out
    assert err.strip().endswith("problem(s) in " + str(tmp_path / "e.jsonl"))


def test_emit_then_show_from_the_lineage_file(home: Settings) -> None:
    emitted = _run(["lineage", "emit", "retail-orders"])
    emitted_too = _run(["lineage", "emit", "product-affinity"])
    code, out, _ = _run(["lineage", "show", "product-affinity"])

    assert emitted[:2] == (
        0,
        f"retail-orders: 10 event(s) sent to {home.lineage_file}, 0 spooled, 0 rejected\n",
    )
    assert emitted_too[0] == 0
    assert code == 0
    assert out.splitlines()[0] == f"product-affinity: lineage (events in {home.lineage_file})"
    assert "jobs of product-affinity: 10" in out
    trace = out.splitlines()[-1]
    assert trace.endswith(f"<- job retail-orders.ingest <- file://{SOURCE}")
    assert "product_affinity.nsm_history <- job product-affinity.models.nsm_history" in trace


def test_show_from_the_plan_as_json(home: Settings) -> None:
    code, out, _ = _run(["lineage", "show", "retail-orders", "--plan", "--format", "json"])
    shown = json.loads(out)
    assert code == 0
    assert [j["name"] for j in shown["jobs"]] == [
        "retail-orders.check_inputs",
        "retail-orders.ingest",
        "retail-orders.checks",
        "retail-orders.publish_measures",
    ]
    assert shown["jobs"][1]["inputs"] == [f"file://{SOURCE}"]


def test_replay_reports_what_it_did(home: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{port}")
    down = _run(["lineage", "emit", "retail-orders"])
    still_down = _run(["lineage", "replay"])
    with MarquezStub(port) as marquez:
        back = _run(["lineage", "replay"])

    assert down[0] == 0 and "0 event(s) sent" in down[1] and "10 spooled" in down[1]
    assert still_down[0] == 1 and "10 still spooled" in still_down[1]
    assert "the backend is still unavailable" in still_down[2]
    assert back[:2] == (
        0,
        f"replayed 10 event(s) to {marquez.url}/api/v1/lineage; 0 already sent, 0 rejected, "
        f"0 still spooled in {home.spool_dir}\n",
    )
    assert len(marquez.events) == 10 and marquez.duplicates == {}


def test_lineage_without_a_command_says_what_to_give() -> None:
    code, _, err = _run(["lineage"])
    assert code == 2 and "give a lineage command: show, check, replay or emit" in err
