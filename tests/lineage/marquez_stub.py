"""A small HTTP server on 127.0.0.1 that follows Marquez's ``POST /api/v1/lineage`` contract.

What it checks, as Marquez does: the body is JSON (else 400); a run event has ``eventTime``,
``producer``, ``run.runId``, ``job.namespace`` and ``job.name`` (else 422 with the list of
violations, like Dropwizard's validation); every namespace matches Marquez's pattern and every
job or dataset name is non-blank (else 400, Marquez's IllegalArgumentException); runId is a
UUID (else 400). Accepted events answer 201 with an empty body.

Test controls: ``fail_next(n, status)`` answers the next ``n`` posts with ``status`` (503 by
default) without recording them; ``stop()`` then ``start()`` on the same port simulates an
outage. ``events`` holds what was accepted, ``keys`` their ids (runId + eventType + job), so
``duplicates`` shows anything received twice.

Reuse it from other test folders by putting ``tests/lineage`` on ``sys.path``::

    sys.path.insert(0, str(Path(__file__).parents[1] / "lineage"))
    from marquez_stub import MarquezStub
"""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LINEAGE_PATH = "/api/v1/lineage"
NAMESPACE = re.compile(r"^[a-zA-Z0-9:;=/_\-.]{1,1024}$")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def event_id(event: dict[str, Any]) -> tuple[str, str, str, str]:
    run = event.get("run") or {}
    job = event.get("job") or {}
    return (
        str(run.get("runId")),
        str(event.get("eventType")),
        str(job.get("namespace")),
        str(job.get("name")),
    )


def violations(event: Any) -> tuple[int, list[str]]:
    """(status, messages) Marquez would answer for this body; (201, []) when accepted."""
    if not isinstance(event, dict):
        return 400, ["the body is not a JSON object"]
    missing = [f"{k} must not be null" for k in ("eventTime", "producer") if not event.get(k)]
    run, job = event.get("run"), event.get("job")
    if not isinstance(run, dict) or not run.get("runId"):
        missing.append("run.runId must not be null")
    if not isinstance(job, dict):
        missing.append("job must not be null")
    else:
        missing += [f"job.{k} must not be null" for k in ("namespace", "name") if k not in job]
    if missing:
        return 422, missing

    assert isinstance(run, dict) and isinstance(job, dict)
    try:
        uuid.UUID(str(run["runId"]))
    except ValueError:
        return 400, [f"runId {run['runId']!r} is not a UUID"]
    identities = [("job", job)]
    identities += [("input", d) for d in event.get("inputs") or []]
    identities += [("output", d) for d in event.get("outputs") or []]
    for kind, item in identities:
        namespace, name = str(item.get("namespace", "")), str(item.get("name", ""))
        if not NAMESPACE.match(namespace):
            return 400, [
                f"{kind} namespace {namespace!r} must contain only letters, digits, _-:;=/."
            ]
        if not name.strip():
            return 400, [f"{kind} name must not be blank"]
    return 201, []


class MarquezStub:
    """The server; use as a context manager or call ``start`` / ``stop``."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.events: list[dict[str, Any]] = []
        self.rejected: list[tuple[int, list[str]]] = []
        self.posts = 0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def keys(self) -> list[tuple[str, str, str, str]]:
        with self._lock:
            return [event_id(e) for e in self.events]

    @property
    def duplicates(self) -> dict[tuple[str, str, str, str], int]:
        return {k: n for k, n in Counter(self.keys).items() if n > 1}

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures += [status] * count

    def start(self) -> MarquezStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests assert on what was received, not on access logs."""

            def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.split("?")[0] != LINEAGE_PATH:
                    self._answer(404, {"code": 404, "message": "HTTP 404 Not Found"})
                    return
                with stub._lock:
                    stub.posts += 1
                    failure = stub._failures.pop(0) if stub._failures else None
                if failure is not None:
                    self._answer(failure, {"code": failure, "message": "unavailable"})
                    return
                try:
                    event = json.loads(raw)
                except ValueError:
                    self._answer(400, {"code": 400, "message": "Unable to process JSON"})
                    return
                status, messages = violations(event)
                if status != 201:
                    with stub._lock:
                        stub.rejected.append((status, messages))
                    key = "errors" if status == 422 else "message"
                    self._answer(status, {key: messages if status == 422 else messages[0]})
                    return
                with stub._lock:
                    stub.events.append(event)
                self._answer(201)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/api/v1/namespaces":
                    with stub._lock:
                        names = sorted({e["job"]["namespace"] for e in stub.events})
                    self._answer(200, {"namespaces": [{"name": n} for n in names]})
                    return
                self._answer(404, {"code": 404, "message": "HTTP 404 Not Found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> MarquezStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running(port: int = 0) -> Iterator[MarquezStub]:
    with MarquezStub(port) as stub:
        yield stub
