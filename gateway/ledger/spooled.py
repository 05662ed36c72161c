"""`SpooledLedger`: the gateway's ledger. An answer never waits long for it; no row is lost.

With a `Journal` (the default), `record()` appends the row to it — one write to a local file,
durable against `kill -9` — and returns; a committer task then writes the store, off the answer
path. Without one, `record()` itself waits for that commit. Either way the commit gives the
store `wait_s` (`HYBRIDGW_LEDGER_WAIT_MS`); if it fails or is slower, the record is committed
to the local `Spool` instead: the row is durable before the answer leaves. A store write that
was merely slow may still land later; that is harmless, because every store ignores a repeated
request id. Reads (`summarize`, `fetch`) first wait for this process's journaled rows to be
committed, so a report sees every answer this process gave.

The committer hands a store that can (`BatchSubmitting`) each gathered batch as one write, one
transaction, with one bounded wait: if it misses, the whole batch goes to the spool, and it
counts one miss per row, as its rows one by one would (so a failed batch of `failures` rows
opens the circuit, as before). Other stores get a commit per row.

After `failures` consecutive misses the store's circuit opens and records go straight to the
spool, so an outage costs no wait at all. A background task drains the spool into the store —
which doubles as the circuit's probe, with backoff — and forgets what the store committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.circuit import Circuit
from gateway.ledger.base import BatchSubmitting, RecordSource
from gateway.ledger.journal import Journal, Segment, read
from gateway.ledger.spool import Spool
from gateway.ledger.verdicts import Verdict, VerdictStore
from kernel.protocols import Ledger, LedgerEntry
from kernel.reporting import GroupBy, ReportRow

log = logging.getLogger(__name__)

_DRAIN_BATCH = 256
_DRAIN_TIMEOUT_S = 10.0
_IDLE_CHECK_S = 5.0  # an idle drainer still looks now and then (other workers share the spool)
_COMMIT_BATCH = 512
_COMMIT_WINDOW_S = 0.02  # journaled rows gather this long, so the store commits them together
_FLUSH_TIMEOUT_S = 10.0  # a read or a shutdown waits at most this long for journaled rows
_RETRY_S = 1.0  # after the spool itself failed, journaled rows are retried this often


class SpooledLedger:
    def __init__(
        self,
        store: Ledger,
        spool: Spool,
        circuit: Circuit,
        *,
        wait_s: float,
        journal: Journal | None = None,
    ) -> None:
        self.store = store
        self.spool = spool
        self.circuit = circuit
        self.journal = journal
        self._wait_s = wait_s
        self._submit_many = store.submit_many if isinstance(store, BatchSubmitting) else None
        self._late: set[asyncio.Future[None]] = set()
        self._spooled = asyncio.Event()
        self._drainer: asyncio.Task[None] | None = None
        self._closing = False
        self._journaled: deque[tuple[LedgerEntry, Segment]] = deque()
        self._to_commit = asyncio.Event()
        self._all_committed = asyncio.Event()
        self._all_committed.set()
        self._flush_now = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None

    def start(self) -> SpooledLedger:
        """Start draining (at once: a previous process may have left records behind) and,
        with a journal, committing what it holds."""
        self._drainer = asyncio.create_task(self._drain_loop(), name="ledger-drain")
        if self.journal is not None:
            self._committer = asyncio.create_task(self._commit_loop(), name="ledger-commit")
        return self

    async def record(self, entry: LedgerEntry) -> None:
        """Returns once `entry` is durable: appended to the journal, else committed to the
        store or the spool (a journal that cannot be written is logged and bypassed)."""
        if self.journal is not None:
            try:
                segment = self.journal.append(entry)
            except OSError as exc:
                log.error(
                    "ledger journal not writable (%s); request %s waits for the store",
                    exc.strerror or type(exc).__name__,
                    entry.request_id,
                )
            else:
                self._journaled.append((entry, segment))
                self._all_committed.clear()
                self._to_commit.set()
                return
        await self.commit(entry)

    async def commit(self, entry: LedgerEntry) -> None:
        """Returns once `entry` is committed to the store or to the spool."""
        await self._commit((entry,))

    async def _commit(self, entries: Sequence[LedgerEntry]) -> None:
        """Returns once `entries` (one, or a batch for a `BatchSubmitting` store) are committed
        by one store write, else all to the spool.

        A caller cancelled meanwhile (a client gone) must not leave its rows in neither place:
        the wait for the store, and the spooling after it, then go on in a background task."""
        if not self.circuit.allow():
            await asyncio.shield(self._to_spool(entries))
            return
        write = self._write(entries)
        try:
            async with asyncio.timeout(self._wait_s):
                await asyncio.shield(write)  # a timeout or cancel stops the wait, not the write
        except asyncio.CancelledError:
            self._keep(asyncio.ensure_future(self._settle(write, entries)))
            raise
        except Exception as exc:
            await asyncio.shield(self._missed(write, entries, exc))
        else:
            self._stored()

    def _write(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]:
        """The store's write of `entries`, running whether or not anyone awaits it: one
        `submit_many` for a `BatchSubmitting` store, else one task recording them all at once."""
        if self._submit_many is not None:
            return self._submit_many(entries)
        return asyncio.ensure_future(self._record_all(entries))

    async def _record_all(self, entries: Sequence[LedgerEntry]) -> None:
        await asyncio.gather(*(self.store.record(e) for e in entries))

    async def _settle(self, write: asyncio.Future[None], entries: Sequence[LedgerEntry]) -> None:
        """What `_commit` does after its caller was cancelled: the same bounded wait, else spool."""
        try:
            async with asyncio.timeout(self._wait_s):
                await asyncio.shield(write)
        except Exception as exc:
            await self._missed(write, entries, exc)
        else:
            self._stored()

    def _stored(self) -> None:
        if self.circuit.state != "closed":
            self._spooled.set()  # the store is back: drain what it missed now
        self.circuit.succeeded()

    async def _missed(
        self, write: asyncio.Future[None], entries: Sequence[LedgerEntry], exc: Exception
    ) -> None:
        for _ in entries:  # one miss per row: the circuit's meaning does not depend on batching
            self.circuit.failed()
        self._keep_late(write)
        more = f" and {len(entries) - 1} more" if len(entries) > 1 else ""
        log.warning("ledger store %s; request %s%s spooled", _why(exc), entries[0].request_id, more)
        await self._to_spool(entries)

    async def _to_spool(self, entries: Sequence[LedgerEntry]) -> None:
        await self.spool.submit_many(entries)
        self._spooled.set()

    def _keep(self, task: asyncio.Future[None]) -> None:
        self._late.add(task)
        task.add_done_callback(_settled(self._late))

    def _keep_late(self, write: asyncio.Future[None]) -> None:
        """Hold a slow write until it settles (its outcome no longer matters: the spool has it)."""
        if write.done():
            write.exception()  # retrieved, so asyncio does not log it again
            return
        self._late.add(write)
        write.add_done_callback(_settled(self._late))

    async def summarize(
        self,
        *,
        since: datetime,
        until: datetime,
        group_by: GroupBy,
        tenant: str | None = None,
    ) -> list[ReportRow]:
        """From the store: spooled records count once they are drained."""
        await self.flush()
        return await self.store.summarize(
            since=since, until=until, group_by=group_by, tenant=tenant
        )

    async def fetch(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[LedgerEntry]:
        """The store's records (what-if replay); spooled ones count once drained."""
        if not isinstance(self.store, RecordSource):
            raise TypeError(f"{type(self.store).__name__} cannot list its records")
        await self.flush()
        return await self.store.fetch(since=since, until=until, tenant=tenant)

    async def record_verdict(self, verdict: Verdict) -> None:
        """Shadow verdicts go to the store directly: they are off the answer path."""
        if isinstance(self.store, VerdictStore):
            await self.store.record_verdict(verdict)

    async def fetch_verdicts(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[Verdict]:
        if not isinstance(self.store, VerdictStore):
            return []
        return await self.store.fetch_verdicts(since=since, until=until, tenant=tenant)

    async def drain_once(self) -> int:
        """Move one batch from the spool into the store; the number moved (0: none, or failed)."""
        if not self.circuit.allow():
            return 0
        batch = await self.spool.oldest(_DRAIN_BATCH)
        if not batch:
            self.circuit.abandoned()
            return 0
        try:
            async with asyncio.timeout(_DRAIN_TIMEOUT_S):
                await self._write(batch)
        except Exception as exc:
            self.circuit.failed()
            log.warning("ledger store %s; %d+ records stay spooled", _why(exc), len(batch))
            return 0
        except BaseException:
            self.circuit.abandoned()
            raise
        self.circuit.succeeded()
        await self.spool.forget([e.request_id for e in batch])
        return len(batch)

    async def _drain_loop(self) -> None:
        while not self._closing:
            try:
                moved = await self.drain_once()
            except Exception:  # the spool file itself failed: keep trying, loudly
                log.exception("ledger spool drain failed")
                moved = 0
            if moved:
                continue
            self._spooled.clear()
            view = self.circuit.view()
            if view.state == "open":  # wait for the probe time; records keep spooling meanwhile
                await asyncio.sleep(max(view.retry_in_s, 0.05))
                continue
            with contextlib.suppress(TimeoutError):
                # Not wait_for: on Python 3.11 it swallows a cancel that lands as the event is
                # set, and the drainer then outlived aclose() (a hung store: forever).
                async with asyncio.timeout(_IDLE_CHECK_S):
                    await self._spooled.wait()

    async def flush(self) -> None:
        """Wait (at most `_FLUSH_TIMEOUT_S`) until every row journaled so far is committed."""
        if self._committer is None or self._all_committed.is_set():
            return
        self._flush_now.set()  # no gathering window: commit what is there now
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_FLUSH_TIMEOUT_S):
                await self._all_committed.wait()

    async def recover(self) -> int:
        """Commit the journal segments of processes that died (run before serving); the number
        of records committed. A segment is deleted once all its records are committed."""
        if self.journal is None:
            return 0
        moved = 0
        with self.journal.orphans() as paths:
            for path in paths:
                entries = read(path)
                failures = 0
                for start in range(0, len(entries), _COMMIT_BATCH):
                    done = await self._commit_rows(entries[start : start + _COMMIT_BATCH])
                    failures += done.count(False)
                if failures:  # neither store nor spool took them: the file stays for a retry
                    log.error("ledger journal %s: %d records not committed", path.name, failures)
                    continue
                path.unlink(missing_ok=True)
                moved += len(entries)
                log.info("ledger journal %s: %d records committed", path.name, len(entries))
        return moved

    async def _commit_loop(self) -> None:
        """Commit journaled rows in arrival order: those that gathered within
        `_COMMIT_WINDOW_S` of the first (or until a reader asks) go to the store together."""
        assert self.journal is not None
        while True:
            if not self._journaled:
                self._all_committed.set()
                self._flush_now.clear()
                self._to_commit.clear()
                await self._to_commit.wait()
                continue
            if len(self._journaled) < _COMMIT_BATCH:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_COMMIT_WINDOW_S):
                        await self._flush_now.wait()
            batch = [
                self._journaled.popleft() for _ in range(min(len(self._journaled), _COMMIT_BATCH))
            ]
            done = await self._commit_rows([entry for entry, _ in batch])
            failed = [row for row, ok in zip(batch, done, strict=True) if not ok]
            took = Counter(segment for (_, segment), ok in zip(batch, done, strict=True) if ok)
            for segment, count in took.items():
                try:
                    self.journal.committed(segment, count)
                except OSError:  # a segment left behind is committed again, harmlessly
                    log.exception("ledger journal segment %s not deleted", segment.path.name)
            if failed:  # neither store nor spool took them: they wait in the journal file
                log.error("ledger: %d journaled rows not committed; retrying", len(failed))
                self._journaled.extendleft(reversed(failed))
                await asyncio.sleep(_RETRY_S)

    async def _commit_rows(self, entries: list[LedgerEntry]) -> list[bool]:
        """Commit `entries` together (as one batch if the store can); for each, whether the
        store or the spool took it (a commit that raised or ended cancelled did not)."""
        if self._submit_many is not None:
            try:
                await self._commit(entries)
            except Exception:
                log.exception("ledger: %d rows neither stored nor spooled", len(entries))
                return [False] * len(entries)
            return [True] * len(entries)
        results = await asyncio.gather(*(self.commit(e) for e in entries), return_exceptions=True)
        return [not isinstance(r, BaseException) for r in results]

    async def aclose(self) -> None:
        """Commit what is journaled, stop draining, give slow writes a moment, close store,
        spool and journal (a row still uncommitted stays in the journal for the next process)."""
        if self._committer is not None:
            await self.flush()
            self._committer.cancel()
            await asyncio.gather(self._committer, return_exceptions=True)
        if self.journal is not None:
            self.journal.close()
        self._closing = True  # ends the drain loop even if a cancel were lost
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        if self._late:  # their rows are in the spool: a short grace, then let them go
            await asyncio.wait(self._late, timeout=self._wait_s)
            for write in list(self._late):
                write.cancel()
        await self.store.aclose()
        await self.spool.aclose()


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "too slow"
    return f"failed ({type(exc).__name__})"


def _settled(pending: set[asyncio.Future[None]]) -> Callable[[asyncio.Future[None]], None]:
    def done(write: asyncio.Future[None]) -> None:
        pending.discard(write)
        if not write.cancelled():
            write.exception()

    return done
