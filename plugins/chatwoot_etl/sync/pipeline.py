"""The sync's stages at once instead of in turn: the source sends and pandas parses chunk N+1
(Prefetched), Python transforms chunk N, the analytics database writes chunks N-1 and N-2 on two
connections (InOrder: they overlap, but each commits only after the one before it).

The two databases work while Python does (pandas' CSV tokenizer and psycopg's waits release the
GIL). Each stage holds a bounded number of chunks, so memory stays bounded; a stage's error is
raised in the main thread where its result would have been used; leaving early stops the other
threads (a query still running on the source is cancelled) before the caller touches their
connections again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = "item", "done", "error"
_POLL_SECONDS = 0.1
STOP_GRACE_SECONDS = 1.0


class Prefetched(Generic[T]):
    """`with Prefetched(items, cancel=...) as ahead: for item in ahead: ...`

    cancel: called when the producer does not stop within STOP_GRACE_SECONDS of leaving early
    (a query still running on the server); it must make the producer's blocking call return.
    """

    def __init__(self, items: Iterator[T], *, cancel: Callable[[], None] | None = None,
                 name: str = "prefetch") -> None:
        self._items = items
        self._cancel = cancel
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
        self._taken = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._finished = False

    def __enter__(self) -> Prefetched[T]:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            self._taken.set()
            return value  # type: ignore[return-value]
        self._finished = True
        if kind == _ERROR:
            raise value  # type: ignore[misc]
        raise StopIteration

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put((_ITEM, item)) or not self._handed_over():
                    return
            self._put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put((_ERROR, exc))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()  # a generator's cleanup (its COPY, its cursor) runs here, in this thread

    def _put(self, entry: tuple[str, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _handed_over(self) -> bool:
        """Wait until the consumer took the item: the next is produced only then, so one item is
        ever waiting or being produced, never both (a chunk is tens of MB)."""
        while not self._taken.wait(_POLL_SECONDS):
            if self._stop.is_set():
                return False
        self._taken.clear()
        return True

    def close(self) -> None:
        """Stop the producer and wait for it: afterwards nothing else uses what it read from."""
        self._finished = True
        self._stop.set()
        if not self._thread.is_alive():
            return
        self._drain()
        self._thread.join(STOP_GRACE_SECONDS)
        if self._thread.is_alive() and self._cancel is not None:
            self._cancel()
        while self._thread.is_alive():
            self._drain()
            self._thread.join(_POLL_SECONDS)

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass


class InOrder:
    """Work run in `lanes` worker threads, piece k in lane k % lanes, finishing in the order given.

    Each piece is called as work(lane, after_previous): it may start while the piece before it
    still runs (in the other lane), and calls after_previous() before its own point of no return
    (its commit): that waits for the previous piece to finish and raises the previous piece's error
    if it failed, so no piece completes after one before it failed. submit() waits until the new
    piece's lane is free (raising the error of a piece before); leaving waits for every piece.
    """

    def __init__(self, lanes: int = 1, *, name: str = "writer") -> None:
        self._pools = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-{lane}") for lane in range(lanes)]
        self._pending: list[Future[None]] = []   # the pieces not yet waited for, in order
        self._submitted = 0

    def __enter__(self) -> InOrder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self.wait()
        finally:
            for pool in self._pools:
                pool.shutdown(wait=True)

    def submit(self, work: Callable[[int, Callable[[], None]], None]) -> None:
        lanes = len(self._pools)
        while len(self._pending) >= lanes:   # this lane's previous piece, and any before it
            self._pending.pop(0).result()
        previous = self._pending[-1] if self._pending else None

        def after_previous() -> None:
            if previous is not None:
                previous.result()

        lane = self._submitted % lanes
        self._submitted += 1
        self._pending.append(self._pools[lane].submit(work, lane, after_previous))

    def wait(self) -> None:
        """Every piece finished; the first error among them raised."""
        pending, self._pending = self._pending, []
        first: BaseException | None = None
        for future in pending:
            try:
                future.result()
            except BaseException as exc:  # noqa: BLE001 - the first one is raised below
                first = first or exc
        if first is not None:
            raise first
