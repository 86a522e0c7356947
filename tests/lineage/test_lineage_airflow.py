"""The Airflow OpenLineage provider builds Lodestar's transport from its ``[openlineage]
transport`` config and sends through it to a Marquez-like server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lineage_events import as_dicts
from marquez_stub import MarquezStub, event_id

from lodestar.lineage.transport import SpoolingTransport
from lodestar.settings import Settings

pytestmark = pytest.mark.airflow

CLASS_PATH = "lodestar.lineage.transport.SpoolingTransport"


def test_airflow_provider_builds_the_transport_from_its_config(
    settings: Settings,
    marquez: MarquezStub,
    events: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("LODESTAR_HOME", str(settings.home))
    monkeypatch.setenv(
        "AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": CLASS_PATH, "url": marquez.url})
    )
    from airflow.providers.openlineage import conf
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

    client = OpenLineageAdapter().get_or_create_openlineage_client()
    client.emit(events[0])

    assert not conf.is_disabled()
    assert isinstance(client.transport, SpoolingTransport)
    assert [event_id(e) for e in marquez.events] == [event_id(as_dicts(events[:1])[0])]
