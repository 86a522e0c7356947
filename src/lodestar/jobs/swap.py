"""Replace a whole output folder with a snapshot written next to it, through Hadoop's file
system (any scheme Spark can write: ``file:``, ``hdfs:``, ``s3a:``).

Spark's overwrite of a folder stages its files in ``<output>/_temporary``, a name shared by
every application writing that folder: two runs overwriting the same output at once delete
each other's files. A run therefore writes its snapshot to a hidden sibling unique to it and
swaps it in with two renames:

1. ``<output>`` is renamed to ``.<name>.old-<token>-<attempt>``, if it exists;
2. ``.<name>.staging-<token>`` is renamed to ``<output>``;
3. the old snapshot is deleted.

The output is missing only between the two renames, two metadata operations on HDFS and a
local disk.

Runs writing the same output at once each swap in a complete snapshot and the last swap
wins; no run fails because of another. When another run's snapshot arrives between a run's
two renames, the second rename is refused (local disk, S3A) or, on HDFS, moves the staged
folder *into* that snapshot, whence the run takes it back out; either way the run moves the
newcomer aside and tries again. Should a third run replace the output while the staged
folder sits inside it, taking the folder along, the run ends with that run's snapshot in
place, as if it had swapped first and been overwritten.

NOTE: object stores have no rename: S3A copies object by object, so there the output is
missing for as long as the copy takes, and two swaps that overlap in time may still mix.

Names starting with ``.`` are skipped by Spark, pyarrow and Hadoop's input formats, so the
siblings never show up in a read of the output or of its parent. A run that dies between its
writes leaves them behind under its own token, which no other run reuses; the next run of the
output removes those older than :data:`LEFTOVER_AGE_SECONDS` (younger ones may belong to a
run still writing).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lodestar.errors import JobError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: age after which a staged or old snapshot of another run is taken for a crash's leftover
LEFTOVER_AGE_SECONDS = 2 * 24 * 3600
#: renames tried before a run gives up; each retry means another run swapped in between
SWAP_ATTEMPTS = 8
STAGING = "staging"
OLD = "old"


@dataclass(frozen=True)
class Sibling:
    """The hidden siblings of one run's write of one output."""

    parent: str
    name: str
    token: str

    @classmethod
    def of(cls, location: str) -> Sibling:
        parent, _, name = location.rstrip("/").rpartition("/")
        if not parent or not name:
            raise JobError(f"output location {location!r} has no parent folder to stage in")
        return cls(parent, name, uuid.uuid4().hex)

    @property
    def prefix(self) -> str:
        return f".{self.name}."

    @property
    def output(self) -> str:
        return f"{self.parent}/{self.name}"

    @property
    def staging(self) -> str:
        return f"{self.parent}/{self.prefix}{STAGING}-{self.token}"

    def old(self, attempt: int) -> str:
        return f"{self.parent}/{self.prefix}{OLD}-{self.token}-{attempt}"


def write_swapped(spark: SparkSession, location: str, write: Callable[[str], None]) -> None:
    """Call ``write`` with a fresh staging folder, then swap that folder in at ``location``.

    A failed write removes its staging folder and raises; the output stays as it was.
    """
    names = Sibling.of(location)
    files = _Files(spark, names.output)

    log.debug("writing %s to its staging folder %s", names.output, names.staging)
    try:
        write(names.staging)
    except BaseException:
        files.delete(names.staging, "the staging folder of a failed write")
        raise

    _swap(files, names)
    _remove_leftovers(files, names)
    spark.catalog.refreshByPath(names.output)


def _swap(files: _Files, names: Sibling) -> None:
    moved_out: list[str] = []
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        if attempt > 1:
            # another run swapped in between; a random pause keeps two runs out of lock step
            time.sleep(random.uniform(0.0, 0.05 * attempt))
        old = names.old(attempt)
        if files.exists(names.output) and files.rename(names.output, old):
            moved_out.append(old)
            log.debug("moved the previous snapshot of %s to %s", names.output, old)
        if not files.rename(names.staging, names.output):
            if not files.exists(names.staging):
                raise JobError(
                    f"the staged snapshot {names.staging} of {names.output} disappeared "
                    "before it was swapped in"
                )
            log.debug("%s reappeared before the swap (attempt %d)", names.output, attempt)
            continue
        nested = f"{names.output}/{names.prefix}{STAGING}-{names.token}"
        if not files.exists(nested):
            log.debug("swapped %s into place (attempt %d)", names.output, attempt)
            break
        # another run's snapshot arrived between the two renames and ours moved into it
        if not files.rename(nested, names.staging):
            log.debug(
                "%s was replaced by another run while this run's snapshot sat inside it; "
                "the other run's snapshot stands",
                names.output,
            )
            break
        log.debug("took the staged snapshot back out of %s (attempt %d)", names.output, attempt)
    else:
        raise JobError(
            f"could not swap the snapshot {names.staging} into {names.output}: other runs "
            f"replaced it {SWAP_ATTEMPTS} times in a row"
        )

    for old in moved_out:
        files.delete(old, "a replaced snapshot")


def _remove_leftovers(files: _Files, names: Sibling) -> None:
    """Delete the staged and old snapshots of this output that crashed runs left behind."""
    cutoff_ms = (time.time() - LEFTOVER_AGE_SECONDS) * 1000
    for path, modified_ms in files.children(names.parent):
        leftover = path.rpartition("/")[2]
        if not leftover.startswith(names.prefix) or names.token in leftover:
            continue
        kind = leftover.removeprefix(names.prefix).partition("-")[0]
        if kind in (STAGING, OLD) and modified_ms < cutoff_ms:
            files.delete(path, f"a leftover of a run that ended before cleaning up ({kind})")


class _Files:
    """The Hadoop file system of one output, through the session's JVM."""

    def __init__(self, spark: SparkSession, location: str) -> None:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        self._path = jvm.org.apache.hadoop.fs.Path
        config = spark.sparkContext._jsc.hadoopConfiguration()
        self._fs = self._path(location).getFileSystem(config)
        # NOTE: Hadoop's local rename copies file by file when the system rename fails (a
        # target in the way, a source just moved), which interleaves two runs' snapshots; the
        # JVM's own rename (rename(2)) fails instead, which is what the swap needs.
        self._local = str(self._fs.getScheme()) == "file"

    def exists(self, location: str) -> bool:
        return bool(self._fs.exists(self._path(location)))

    def rename(self, source: str, target: str) -> bool:
        """Rename a folder; False where it fails or raises (a source gone, a target in the
        way)."""
        from py4j.protocol import Py4JJavaError

        try:
            if self._local:
                local = self._fs.pathToFile
                return bool(local(self._path(source)).renameTo(local(self._path(target))))
            return bool(self._fs.rename(self._path(source), self._path(target)))
        except Py4JJavaError as exc:
            log.debug("rename %s to %s failed: %s", source, target, _java_message(exc))
            return False

    def delete(self, location: str, what: str) -> None:
        """Delete a folder; a failure is logged, not raised (the output is already in place)."""
        from py4j.protocol import Py4JJavaError

        try:
            deleted = bool(self._fs.delete(self._path(location), True))
        except Py4JJavaError as exc:
            log.warning(
                "could not delete %s, %s: %s; a later run of the output removes it",
                location,
                what,
                _java_message(exc),
            )
            return
        if deleted:
            log.debug("deleted %s, %s", location, what)

    def children(self, location: str) -> list[tuple[str, int]]:
        """The entries of a folder with their modification times (milliseconds)."""
        statuses: Any = self._fs.listStatus(self._path(location))
        return [(str(s.getPath().toString()), int(s.getModificationTime())) for s in statuses]


def _java_message(exc: Any) -> str:
    java = getattr(exc, "java_exception", None)
    return str(java.toString()) if java is not None else str(exc).splitlines()[0]
