"""An openlineage-python transport that never fails a task and never loses an event.

Use it from the Airflow OpenLineage provider by class path, in ``airflow.cfg``::

    [openlineage]
    transport = {"type": "lodestar.lineage.transport.SpoolingTransport"}

or ``AIRFLOW__OPENLINEAGE__TRANSPORT`` with the same JSON, or the client's own
``OPENLINEAGE__TRANSPORT__TYPE=lodestar.lineage.transport.SpoolingTransport``. The provider
hands that dict to ``OpenLineageClient(config={"transport": ...})``; the client's transport
factory finds no registered transport called like the ``type`` and imports it as a class path,
then builds its config with ``SpoolingConfig.from_dict(the whole dict)``.

Options (all optional; unset ones come from Lodestar's settings, i.e. ``OPENLINEAGE_URL``,
``LODESTAR_LINEAGE_FILE``, ``LODESTAR_HOME``): ``url`` (Marquez base URL: POST there; unset:
append to the JSONL file), ``endpoint`` (default ``api/v1/lineage``), ``file``, ``spool_dir``,
``timeout`` (seconds, default 5), ``api_key``.

When the backend is unreachable or answers 5xx, the event is spooled durably (one file per
event) for ``lodestar lineage replay``; one warning says so and that the task is unaffected.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attr
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from lodestar.lineage.sinks import DEFAULT_ENDPOINT, FileSink, HttpSink, Outcome, Sink
from lodestar.lineage.spool import ReplayReport, Spool, event_key
from lodestar.settings import Settings, load_settings

if TYPE_CHECKING:
    from openlineage.client.client import Event

log = logging.getLogger(__name__)

_OPTIONS = ("url", "endpoint", "file", "spool_dir", "timeout", "api_key")


@attr.define
class SpoolingConfig(Config):
    """Options of :class:`SpoolingTransport`; unset ones come from Lodestar's settings."""

    url: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    file: str | None = None
    spool_dir: str | None = None
    timeout: float = 5.0
    api_key: str | None = None

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> SpoolingConfig:
        unknown = sorted(set(params) - {*_OPTIONS, "type", "name", "priority"})
        if unknown:
            log.warning(
                "lineage transport: unknown options %s ignored (known: %s)",
                ", ".join(unknown),
                ", ".join(_OPTIONS),
            )
        return cls(
            url=params.get("url") or None,
            endpoint=str(params.get("endpoint") or DEFAULT_ENDPOINT),
            file=params.get("file") or None,
            spool_dir=params.get("spool_dir") or None,
            timeout=float(params.get("timeout") or 5.0),
            api_key=params.get("api_key") or None,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SpoolingConfig:
        return cls(
            url=settings.lineage_url,
            file=str(settings.lineage_file) if settings.lineage_file else None,
            spool_dir=str(settings.spool_dir),
        )


def airflow_transport(settings: Settings | None = None) -> dict[str, Any]:
    """The ``[openlineage] transport`` value that routes Airflow's events through Lodestar."""
    config: dict[str, Any] = {"type": f"{__name__}.SpoolingTransport"}
    if settings is not None:
        resolved = SpoolingConfig.from_settings(settings)
        config |= {k: v for k, v in attr.asdict(resolved).items() if v is not None}
    return config


def serialize(event: Any) -> str:
    """One event as compact JSON (an attrs event of the client, or an already-parsed dict)."""
    if isinstance(event, dict):
        return json.dumps(event, sort_keys=True, separators=(",", ":"))
    return Serde.to_json(event, separators=(",", ":"))


def _describe(event: dict[str, Any]) -> str:
    """``COMPLETE event of lodestar/retail-orders.ingest`` (or the event key for others)."""
    job = event.get("job") if isinstance(event.get("job"), dict) else {}
    if event.get("eventType") and job:
        return f"{event['eventType']} event of {job.get('namespace')}/{job.get('name')}"
    return f"event {event_key(event)}"


def make_sink(config: SpoolingConfig, settings: Settings) -> Sink:
    """HTTP when a URL is configured (config, then ``OPENLINEAGE_URL``), else the JSONL file."""
    url = config.url or settings.lineage_url
    if url:
        return HttpSink(url, config.endpoint, config.timeout, config.api_key)
    file = Path(config.file) if config.file else settings.lineage_file
    return FileSink(file or settings.home / "lineage" / "events.jsonl")


class SpoolingTransport(Transport):
    """JSONL file by default, HTTP to Marquez when a URL is set; spools what it cannot send."""

    kind = "lodestar"
    config_class = SpoolingConfig

    def __init__(self, config: SpoolingConfig, settings: Settings | None = None) -> None:
        settings = settings or load_settings()
        self.disabled = settings.lineage_disabled
        self.sink = make_sink(config, settings)
        self.spool = Spool(Path(config.spool_dir) if config.spool_dir else settings.spool_dir)
        self.counts = {"sent": 0, "spooled": 0, "rejected": 0, "dropped": 0}
        self._lock = threading.Lock()
        self._warned = False
        log.info(
            "lineage transport: events go to %s (spool %s)", self.sink.target, self.spool.folder
        )

    def emit(self, event: Event | dict[str, Any]) -> None:
        """Send one event; on failure spool it. Never raises: lineage never fails a task."""
        if self.disabled:
            log.debug("lineage disabled by OPENLINEAGE_DISABLED: event dropped")
            self._count("dropped")
            return
        try:
            body = serialize(event)
            parsed = json.loads(body)
            key = event_key(parsed)
            what = _describe(parsed)
        except Exception as exc:
            log.warning("lineage event could not be serialized (%s); the task is unaffected", exc)
            log.debug("serialization failure", exc_info=True)
            self._count("dropped")
            return

        result = self.sink.send(body)

        if result.outcome is Outcome.ACCEPTED:
            self._count("sent")
            log.info("lineage: %s sent to %s (%s)", what, self.sink.target, self._tally())
            return
        if result.outcome is Outcome.REJECTED:
            self._count("rejected")
            log.warning(
                "lineage backend %s rejected %s (%s); kept in %s; the task is unaffected",
                self.sink.target,
                what,
                result.detail,
                self.spool.folder / "rejected",
            )
            self._keep(body, key, rejected_reason=result.detail)
            return
        self._keep(body, key)
        self._count("spooled")
        if not self._warned:
            self._warned = True
            log.warning(
                "lineage backend %s unavailable (%s): %s spooled to %s; the task is "
                "unaffected; run `lodestar lineage replay` once the backend is back",
                self.sink.target,
                result.detail,
                what,
                self.spool.folder,
            )
        else:
            log.info("lineage: %s spooled (%s)", what, self._tally())

    def _keep(self, body: str, key: str, rejected_reason: str | None = None) -> None:
        try:
            path = self.spool.put(body, key)
            if rejected_reason is not None:
                self.spool.reject(path, key, rejected_reason)
        except Exception as exc:  # NOTE: even a full disk must not fail the task
            log.warning("lineage event %s lost: cannot spool it (%s)", key, exc)
            log.debug("spool failure", exc_info=True)

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def _tally(self) -> str:
        c = self.counts
        return f"this process: {c['sent']} sent, {c['spooled']} spooled, {c['rejected']} rejected"

    def close(self, timeout: float = -1) -> bool:
        log.info(
            "lineage transport to %s: %d sent, %d spooled, %d rejected, %d dropped",
            self.sink.target,
            self.counts["sent"],
            self.counts["spooled"],
            self.counts["rejected"],
            self.counts["dropped"],
        )
        return True


def replay(settings: Settings | None = None, *, sink: Sink | None = None) -> ReplayReport:
    """Resend the spooled events to the configured backend (see :mod:`lodestar.lineage.spool`)."""
    settings = settings or load_settings()
    sink = sink or make_sink(SpoolingConfig.from_settings(settings), settings)
    return Spool(settings.spool_dir).replay(sink)
