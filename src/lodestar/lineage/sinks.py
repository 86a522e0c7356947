"""Where events go: the local JSONL file, or Marquez's ``POST /api/v1/lineage``.

A sink sends one serialized event and says what happened, without raising: accepted,
rejected by the backend (4xx: the event itself is wrong, resending cannot help) or
unavailable (no connection, a timeout, 5xx: resend later).
"""

from __future__ import annotations

import enum
import fcntl
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "api/v1/lineage"


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""


class Sink(Protocol):
    """Sends one JSON event; never raises."""

    @property
    def target(self) -> str: ...

    def send(self, body: str) -> Result: ...


class FileSink:
    """Appends one event per line to a JSONL file, under an exclusive lock (many writers)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def target(self) -> str:
        return str(self.path)

    def send(self, body: str) -> Result:
        line = body.replace("\n", " ") + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                try:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        except OSError as exc:
            return Result(Outcome.UNAVAILABLE, f"cannot append to {self.path}: {exc}")
        return Result(Outcome.ACCEPTED)


class HttpSink:
    """POSTs events to an OpenLineage HTTP backend such as Marquez (201 on accept)."""

    def __init__(
        self,
        url: str,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 5.0,
        api_key: str | None = None,
    ) -> None:
        self.url = f"{url.rstrip('/')}/{endpoint.lstrip('/')}"
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    @property
    def target(self) -> str:
        return self.url

    def send(self, body: str) -> Result:
        request = urllib.request.Request(
            self.url, data=body.encode("utf-8"), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code}: {_excerpt(exc.read())}"
            exc.close()
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                return Result(Outcome.REJECTED, detail)
            return Result(Outcome.UNAVAILABLE, detail)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Result(Outcome.UNAVAILABLE, f"{type(exc).__name__}: {reason}")
        if 200 <= status < 300:
            return Result(Outcome.ACCEPTED, f"HTTP {status}")
        return Result(Outcome.UNAVAILABLE, f"HTTP {status}")


def _excerpt(raw: bytes, limit: int = 300) -> str:
    text = raw.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."
