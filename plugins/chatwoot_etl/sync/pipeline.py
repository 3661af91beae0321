"""The sync's stages at once instead of in turn: the source sends and pandas parses chunk N+1
(Prefetched), Python transforms chunk N, the analytics database writes chunk N-1 (OneInFlight).

The two databases work while Python does (pandas' CSV tokenizer and psycopg's waits release the
GIL). Each stage holds one chunk at a time, so memory stays bounded; a stage's error is raised in the
main thread where its result would have been used; leaving early stops the other threads (a
query still running on the source is cancelled) before the caller touches their connections again.
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


class OneInFlight:
    """Work run in order in one worker thread, at most one piece at a time: submit() waits for the
    previous piece (raising its error) before it hands over the next; leaving waits for the last."""

    def __init__(self, *, name: str = "writer") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: Future[None] | None = None

    def __enter__(self) -> OneInFlight:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def submit(self, work: Callable[[], None]) -> None:
        self.wait()
        self._pending = self._pool.submit(work)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
