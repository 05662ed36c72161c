"""`Journal`: the ledger's write on the answer path — one append to a local file.

A record is appended to this process's current segment (one `os.write` of one JSON line: in
the OS page cache before the answer leaves, so `kill -9` loses nothing; with `fsync=True` each
append is also `fdatasync`ed, so a power cut loses nothing either) and the store is written
later, off the answer path (`SpooledLedger`). A segment is deleted once the store (or the
spool) holds every record in it.

Every live segment is held under an exclusive `flock` by its process. A process that starts
takes over the segments nobody holds — those of a process that died — and reads them back
(`orphans`, `read`), so their records reach the store before it serves. Lines hold ids,
routes, counts and prices, never text (the same columns as the store).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from gateway.ledger.schema import from_row
from gateway.ledger.sqlite import parse_ts, sqlite_row
from kernel.protocols import LedgerEntry

log = logging.getLogger(__name__)

SEGMENT_RECORDS = 10_000
"""Records per segment before the next one starts (a segment is deleted when all are stored)."""

SUFFIX = ".jsonl"
_counter = itertools.count()


@dataclass(eq=False)
class Segment:
    """One journal file of this process: how many records it got, how many are committed."""

    path: Path
    fd: int
    appended: int = 0
    committed: int = 0
    sealed: bool = False  # no more appends: deleted once every record is committed

    @property
    def settled(self) -> bool:
        return self.sealed and self.committed == self.appended


@dataclass
class Journal:
    """This process's segments in `directory` (see the module docstring)."""

    directory: Path
    fsync: bool = False
    segment_records: int = SEGMENT_RECORDS
    _current: Segment | None = field(default=None, init=False)
    _open: list[Segment] = field(default_factory=list, init=False)

    def append(self, entry: LedgerEntry) -> Segment:
        """Write `entry` (durable on return, see the module docstring); its segment, to pass
        to `committed` once the store has it. Raises `OSError` if the file cannot be written."""
        segment = self._current
        if segment is None or segment.appended >= self.segment_records:
            segment = self._start_segment()
        os.write(segment.fd, encode(entry))
        if self.fsync:
            os.fdatasync(segment.fd)
        segment.appended += 1
        return segment

    def committed(self, segment: Segment, count: int = 1) -> None:
        """`count` records of `segment` are in the store or the spool now."""
        segment.committed += count
        if segment.settled:
            self._delete(segment)

    def close(self) -> None:
        """Seal every segment; delete those fully committed, release the rest (the next
        process to start takes them over)."""
        for segment in list(self._open):
            segment.sealed = True
            if segment.settled:
                self._delete(segment)
            else:
                os.close(segment.fd)
                self._open.remove(segment)
        self._current = None

    def pending(self) -> int:
        """Records appended by this process and not yet committed."""
        return sum(s.appended - s.committed for s in self._open)

    @contextlib.contextmanager
    def orphans(self) -> Iterator[list[Path]]:
        """The segments no live process holds, locked for the caller for the block."""
        held: list[tuple[Path, int]] = []
        try:
            for path in sorted(self.directory.glob(f"*{SUFFIX}")):
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:  # taken over and deleted meanwhile
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a live process's segment
                    os.close(fd)
                    continue
                held.append((path, fd))
            yield [path for path, _ in held]
        finally:
            for _, fd in held:
                os.close(fd)

    def _start_segment(self) -> Segment:
        if self._current is not None:
            self._current.sealed = True
            if self._current.settled:
                self._delete(self._current)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{time.time_ns()}-{next(_counter)}{SUFFIX}"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new file: nobody else holds it
        segment = Segment(path, fd)
        self._current = segment
        self._open.append(segment)
        return segment

    def _delete(self, segment: Segment) -> None:
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()
        os.close(segment.fd)
        self._open.remove(segment)
        if self._current is segment:
            self._current = None


def encode(entry: LedgerEntry) -> bytes:
    return orjson.dumps(sqlite_row(entry)) + b"\n"


def read(path: Path) -> list[LedgerEntry]:
    """The records of one segment. A torn last line (a power cut mid-append, possible only
    without `fsync`) is skipped with a warning: that append never returned."""
    entries = []
    lines = path.read_bytes().split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            row = orjson.loads(line)
            entries.append(from_row(tuple(row), parse_ts(row[1])))
        except (ValueError, TypeError, IndexError, KeyError):
            log.warning("ledger journal %s: line %d unreadable, skipped", path.name, number)
    return entries
