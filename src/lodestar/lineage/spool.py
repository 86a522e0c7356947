"""Durable spool of events that could not be sent, and their replay: nothing lost, none twice.

One file per event, named by the event's key (runId + eventType + job for run events), written
to a temporary file, fsynced and renamed into place, so a crash never leaves half an event and
spooling the same event twice keeps one file.

Replay holds a lock on the spool for its whole duration (one replay at a time), then, per event
in event-time order (START before COMPLETE):

1. *claim*: rename ``<key>.json`` to ``<key>.sending`` (atomic), which marks the send in progress
   for the recovery below;
2. *send*;
3. on acceptance, *acknowledge*: append the key to the ``sent.keys`` ledger and fsync, then
   delete the claimed file; on a rejection (4xx) move it to ``rejected/`` with the reason; when
   the backend is still unavailable, rename it back and stop.

After a crash, a leftover ``.sending`` file whose key is in the ledger was delivered and is
deleted without resending; one whose key is not was never acknowledged and goes back to the
queue. NOTE: the only window left is a crash between the backend's acknowledgement and the
ledger's fsync (microseconds); that event is resent once. Marquez keys runs by runId, so the
repeat updates the same run and adds no node or edge to the graph.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lodestar.lineage.sinks import Outcome, Sink

log = logging.getLogger(__name__)

READY = ".json"
CLAIMED = ".sending"
LEDGER = "sent.keys"
REJECTED = "rejected"
_ORDER = {"START": 0, "RUNNING": 1, "OTHER": 2, "COMPLETE": 3, "FAIL": 3, "ABORT": 3}


def event_key(event: Mapping[str, Any]) -> str:
    """A stable id of one event: runId, eventType and job, or the whole event for others."""
    run = event.get("run")
    job = event.get("job")
    job = job if isinstance(job, Mapping) else {}
    if isinstance(run, Mapping) and run.get("runId"):
        parts = [str(run["runId"]), str(event.get("eventType") or "")]
        parts += [str(job.get("namespace", "")), str(job.get("name", ""))]
        basis = "\x1f".join(parts)
    else:
        basis = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _sort_key(event: Mapping[str, Any], key: str) -> tuple[datetime, int, str]:
    try:
        moment = datetime.fromisoformat(str(event.get("eventTime")).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    except ValueError:
        moment = datetime.max.replace(tzinfo=UTC)
    return moment, _ORDER.get(str(event.get("eventType")), 2), key


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Spooled:
    """One spooled event, ready to be claimed."""

    path: Path
    key: str
    body: str
    order: tuple[datetime, int, str]


@dataclass
class ReplayReport:
    """What one replay did; ``remaining`` is what still waits for the backend."""

    target: str
    replayed: int = 0
    rejected: int = 0
    recovered: int = 0
    already_sent: int = 0
    remaining: int = 0
    last_error: str = ""


class Spool:
    """The spool folder: ``<key>.json`` ready, ``<key>.sending`` claimed, ledger, rejected/."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # --- writing --------------------------------------------------------------------------

    def put(self, body: str, key: str) -> Path:
        """Write one event durably (temporary file, fsync, atomic rename); return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{key}{READY}"
        temporary = self.folder / f".{key}.{uuid.uuid4().hex}.tmp"
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(self.folder)
        return final

    # --- reading --------------------------------------------------------------------------

    def pending(self) -> list[Spooled]:
        """Ready events in the order they should be sent (event time, START before COMPLETE)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob(f"*{READY}"):
            try:
                body = path.read_text(encoding="utf-8")
                event = json.loads(body)
            except FileNotFoundError:
                continue  # NOTE: claimed by a concurrent replay meanwhile
            except (OSError, ValueError) as exc:
                self._set_aside(path, path.stem, f"unreadable spool file: {exc}")
                continue
            found.append(Spooled(path, path.stem, body, _sort_key(event, path.stem)))
        return sorted(found, key=lambda s: s.order)

    def count(self) -> int:
        return len(list(self.folder.glob(f"*{READY}"))) if self.folder.is_dir() else 0

    def sent_keys(self) -> set[str]:
        ledger = self.folder / LEDGER
        if not ledger.exists():
            return set()
        return {line.strip() for line in ledger.read_text(encoding="utf-8").splitlines() if line}

    # --- the replay protocol ----------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, name: str = ".lock") -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / name).open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def recover(self) -> tuple[int, int]:
        """Settle claims left by a crash: (deleted as already sent, put back to send)."""
        if not self.folder.is_dir():
            return 0, 0
        done = requeued = 0
        with self._locked():
            sent = self.sent_keys()
            for claimed in self.folder.glob(f"*{CLAIMED}"):
                key = claimed.stem
                ready = self.folder / f"{key}{READY}"
                if key in sent or ready.exists():
                    claimed.unlink(missing_ok=True)
                    done += key in sent
                    continue
                os.replace(claimed, ready)
                requeued += 1
        if done or requeued:
            log.info("lineage spool: %d interrupted sends settled, %d requeued", done, requeued)
        return done, requeued

    def claim(self, item: Spooled) -> Path | None:
        claimed = item.path.with_suffix(CLAIMED)
        try:
            os.rename(item.path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    def release(self, claimed: Path) -> None:
        os.replace(claimed, claimed.with_suffix(READY))

    def acknowledge(self, claimed: Path, key: str) -> None:
        """Record ``key`` as delivered (fsynced) before deleting its file."""
        with self._locked():
            with (self.folder / LEDGER).open("a", encoding="utf-8") as ledger:
                ledger.write(key + "\n")
                ledger.flush()
                os.fsync(ledger.fileno())
            claimed.unlink(missing_ok=True)

    def reject(self, claimed: Path, key: str, reason: str) -> Path:
        return self._set_aside(claimed, key, reason)

    def _set_aside(self, path: Path, key: str, reason: str) -> Path:
        folder = self.folder / REJECTED
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{key}{READY}"
        os.replace(path, target)
        (folder / f"{key}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        return target

    def compact(self) -> None:
        """Drop ledger keys whose files are gone (they can no longer be resent)."""
        ledger = self.folder / LEDGER
        if not ledger.exists():
            return
        with self._locked():
            live = {p.stem for p in self.folder.glob(f"*{CLAIMED}")}
            live |= {p.stem for p in self.folder.glob(f"*{READY}")}
            keep = sorted(self.sent_keys() & live)
            temporary = ledger.with_suffix(".tmp")
            temporary.write_text("".join(k + "\n" for k in keep), encoding="utf-8")
            os.replace(temporary, ledger)

    # --- replay -----------------------------------------------------------------------------

    def replay(self, sink: Sink) -> ReplayReport:
        """Resend every ready event in order; stop at the first sign the backend is down.

        One replay at a time per spool (a lock held for the whole replay, released by the OS if
        the process dies), so a claimed file found at the start can only be a crash's leftover.
        """
        with self._locked(".replay.lock"):
            return self._replay(sink)

    def _replay(self, sink: Sink) -> ReplayReport:
        report = ReplayReport(target=sink.target)
        report.recovered = self.recover()[0]
        sent = self.sent_keys()
        for item in self.pending():
            claimed = self.claim(item)
            if claimed is None:
                continue
            if item.key in sent:
                claimed.unlink(missing_ok=True)
                report.already_sent += 1
                continue
            result = sink.send(item.body)
            if result.outcome is Outcome.ACCEPTED:
                self.acknowledge(claimed, item.key)
                report.replayed += 1
            elif result.outcome is Outcome.REJECTED:
                self.reject(claimed, item.key, result.detail)
                report.rejected += 1
                log.warning(
                    "lineage replay: %s rejected event %s (%s); kept in %s",
                    sink.target,
                    item.key,
                    result.detail,
                    self.folder / REJECTED,
                )
            else:
                self.release(claimed)
                report.last_error = result.detail
                break
        self.compact()
        report.remaining = self.count()
        log.info(
            "lineage replay to %s: %d replayed, %d rejected, %d already sent, %d still spooled%s",
            report.target,
            report.replayed,
            report.rejected,
            report.already_sent + report.recovered,
            report.remaining,
            f" ({report.last_error})" if report.last_error else "",
        )
        return report
