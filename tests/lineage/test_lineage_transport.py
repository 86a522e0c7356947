"""The spooling transport against a real HTTP server on 127.0.0.1 that follows Marquez's
contract: delivery, outage and replay, rejected events, crash recovery, concurrent replays."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
from lineage_events import as_dicts
from marquez_stub import MarquezStub, event_id, free_port, violations
from openlineage.client import OpenLineageClient
from openlineage.client.transport import get_default_factory

from lodestar.lineage.sinks import HttpSink
from lodestar.lineage.spool import CLAIMED, LEDGER, Spool, event_key
from lodestar.lineage.transport import SpoolingConfig, SpoolingTransport, replay, serialize
from lodestar.settings import Settings, with_overrides

pytestmark = pytest.mark.unit

CLASS_PATH = "lodestar.lineage.transport.SpoolingTransport"


def _transport(settings: Settings, url: str | None) -> SpoolingTransport:
    settings = with_overrides(settings, lineage_url=url)
    return SpoolingTransport(SpoolingConfig.from_settings(settings), settings)


def test_marquez_stub_follows_the_lineage_contract(
    marquez: MarquezStub, event_dicts: list[dict[str, Any]]
) -> None:
    good = event_dicts[0]
    empty_namespace = json.loads(json.dumps(good)) | {"job": {"namespace": "", "name": "x"}}
    spaced = json.loads(json.dumps(event_dicts[3]))
    spaced["outputs"][0]["namespace"] = "my lake"
    blank = json.loads(json.dumps(good)) | {"job": {"namespace": "lodestar", "name": " "}}
    no_time = {k: v for k, v in good.items() if k != "eventTime"}
    sink = HttpSink(marquez.url)

    results = [sink.send(json.dumps(e)) for e in (good, empty_namespace, spaced, blank, no_time)]
    results.append(sink.send("{not json"))

    assert [(r.outcome.value, r.detail.split(":")[0]) for r in results] == [
        ("accepted", "HTTP 201"),
        ("rejected", "HTTP 400"),
        ("rejected", "HTTP 400"),
        ("rejected", "HTTP 400"),
        ("rejected", "HTTP 422"),
        ("rejected", "HTTP 400"),
    ]
    assert marquez.events == [good]
    assert violations(no_time) == (422, ["eventTime must not be null"])


def test_every_event_of_both_products_is_accepted(
    settings: Settings, marquez: MarquezStub, events: list[Any]
) -> None:
    transport = _transport(settings, marquez.url)
    for event in events:
        transport.emit(event)

    assert transport.counts == {"sent": 32, "spooled": 0, "rejected": 0, "dropped": 0}
    assert marquez.rejected == []
    assert marquez.events == as_dicts(events)
    assert marquez.duplicates == {}
    assert not settings.spool_dir.exists()


def test_without_a_url_events_are_appended_to_the_jsonl_file(
    settings: Settings, events: list[Any]
) -> None:
    transport = _transport(settings, None)
    for event in events:
        transport.emit(event)

    assert settings.lineage_file is not None
    lines = settings.lineage_file.read_text().splitlines()
    assert [json.loads(line) for line in lines] == as_dicts(events)
    assert transport.counts["sent"] == 32


def test_outage_spools_then_replay_delivers_each_event_once(
    settings: Settings, events: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens: the backend is down
    transport = _transport(settings, f"http://127.0.0.1:{port}")

    with caplog.at_level(logging.INFO, logger="lodestar.lineage"):
        for event in events:
            transport.emit(event)  # the task goes on: nothing is raised
        transport.close()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "the task is unaffected" in warnings[0].getMessage()
    assert "32 spooled" in caplog.records[-1].getMessage()
    assert transport.counts == {"sent": 0, "spooled": 32, "rejected": 0, "dropped": 0}
    assert Spool(settings.spool_dir).count() == 32

    with MarquezStub(port) as marquez:
        first = replay(with_overrides(settings, lineage_url=marquez.url))
        second = replay(with_overrides(settings, lineage_url=marquez.url))

    assert (first.replayed, first.remaining, first.rejected) == (32, 0, 0)
    assert (second.replayed, second.remaining) == (0, 0)
    assert len(marquez.events) == 32 and marquez.duplicates == {}
    assert sorted(map(event_id, marquez.events)) == sorted(map(event_id, as_dicts(events)))
    # replay keeps each run's START before its COMPLETE
    order = {event_id(e): i for i, e in enumerate(marquez.events)}
    for run_id in {e["run"]["runId"] for e in marquez.events}:
        states = [e for e in marquez.events if e["run"]["runId"] == run_id]
        start = next(e for e in states if e["eventType"] == "START")
        done = next(e for e in states if e["eventType"] == "COMPLETE")
        assert order[event_id(start)] < order[event_id(done)]
    assert sorted(p.name for p in settings.spool_dir.iterdir()) == [".lock", ".replay.lock", LEDGER]


def test_server_errors_spool_and_replay_stops_while_still_down(
    settings: Settings, marquez: MarquezStub, events: list[Any]
) -> None:
    transport = _transport(settings, marquez.url)
    marquez.fail_next(3, status=503)
    for event in events[:10]:
        transport.emit(event)
    assert transport.counts["sent"] == 7 and transport.counts["spooled"] == 3

    marquez.fail_next(1, status=500)
    stalled = replay(with_overrides(settings, lineage_url=marquez.url))
    done = replay(with_overrides(settings, lineage_url=marquez.url))

    assert (stalled.replayed, stalled.remaining, stalled.last_error[:8]) == (0, 3, "HTTP 500")
    assert (done.replayed, done.remaining) == (3, 0)
    assert sorted(map(event_id, marquez.events)) == sorted(map(event_id, as_dicts(events[:10])))


def test_rejected_events_are_kept_aside_and_never_replayed(
    settings: Settings, marquez: MarquezStub, event_dicts: list[dict[str, Any]]
) -> None:
    bad = json.loads(json.dumps(event_dicts[3]))
    bad["job"]["namespace"] = "lodestar local"
    transport = _transport(settings, marquez.url)
    transport.emit(bad)

    report = replay(with_overrides(settings, lineage_url=marquez.url))

    assert transport.counts["rejected"] == 1 and report.replayed == 0
    kept = settings.spool_dir / "rejected"
    key = event_key(bad)
    assert json.loads((kept / f"{key}.json").read_text()) == bad
    assert (kept / f"{key}.reason.txt").read_text().startswith("HTTP 400: ")


def test_a_crash_after_delivery_does_not_resend(
    settings: Settings, marquez: MarquezStub, event_dicts: list[dict[str, Any]]
) -> None:
    spool = Spool(settings.spool_dir)
    delivered, interrupted = event_dicts[4], event_dicts[5]
    for event in (delivered, interrupted):
        spool.put(serialize(event), event_key(event))
        ready = settings.spool_dir / f"{event_key(event)}.json"
        ready.rename(ready.with_suffix(CLAIMED))  # a replay claimed both, then died
    # ... after the backend acknowledged the first and the ledger recorded it
    (settings.spool_dir / LEDGER).write_text(event_key(delivered) + "\n")

    report = replay(with_overrides(settings, lineage_url=marquez.url))

    assert (report.recovered, report.replayed, report.remaining) == (1, 1, 0)
    assert marquez.events == [interrupted]
    assert list(settings.spool_dir.glob("*.json")) == []
    assert (settings.spool_dir / LEDGER).read_text() == ""


def test_concurrent_replays_send_each_event_once(
    settings: Settings, marquez: MarquezStub, events: list[Any]
) -> None:
    spool = Spool(settings.spool_dir)
    for event in as_dicts(events):
        spool.put(serialize(event), event_key(event))
    spool.put(serialize(as_dicts(events)[0]), event_key(as_dicts(events)[0]))  # spooled twice
    assert spool.count() == 32

    target = with_overrides(settings, lineage_url=marquez.url)
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(replay(target))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(r.replayed for r in reports) == 32
    assert len(marquez.events) == 32 and marquez.duplicates == {}


def test_openlineage_client_resolves_the_transport_by_class_path(
    settings: Settings, marquez: MarquezStub, events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LODESTAR_HOME", str(settings.home))
    config = {"type": CLASS_PATH, "url": marquez.url, "spool_dir": str(settings.spool_dir)}

    made = get_default_factory().create(dict(config))
    client = OpenLineageClient(config={"transport": dict(config)})
    client.emit(events[0])
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", CLASS_PATH)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", marquez.url)
    from_env = OpenLineageClient()
    from_env.emit(events[1])

    assert isinstance(made, SpoolingTransport) and made.sink.target.startswith(marquez.url)
    assert isinstance(client.transport, SpoolingTransport)
    assert isinstance(from_env.transport, SpoolingTransport)
    assert [event_id(e) for e in marquez.events] == [event_id(e) for e in as_dicts(events[:2])]


def test_unknown_options_are_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lodestar.lineage"):
        config = SpoolingConfig.from_dict({"type": CLASS_PATH, "ulr": "http://x", "timeout": "2"})
    assert config.timeout == 2.0 and config.url is None
    assert "unknown options ulr ignored" in caplog.records[0].getMessage()


def test_disabled_lineage_drops_events_without_sending(
    settings: Settings, marquez: MarquezStub, events: list[Any]
) -> None:
    off = with_overrides(settings, lineage_disabled=True, lineage_url=marquez.url)
    transport = SpoolingTransport(SpoolingConfig.from_settings(off), off)
    transport.emit(events[0])
    assert transport.counts["dropped"] == 1 and marquez.posts == 0
