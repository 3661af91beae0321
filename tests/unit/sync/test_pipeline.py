"""The sync's stages in threads: order, errors where the result is used, bounded memory, clean stops."""

from __future__ import annotations

import threading
import time

import pytest

from chatwoot_etl.sync.pipeline import InOrder, Prefetched


def test_prefetched_gives_every_item_in_order_and_reads_at_most_one_ahead():
    produced: list[int] = []

    def items():
        for n in range(20):
            produced.append(n)
            yield n

    seen = []
    with Prefetched(items()) as ahead:
        for item in ahead:
            time.sleep(0.005)
            # the one being consumed and the next (waiting or being produced), never more
            assert len(produced) <= item + 2
            seen.append(item)
    assert seen == list(range(20))


def test_a_producer_error_arrives_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise LookupError("the source cannot compute row 3")

    got = []
    with pytest.raises(LookupError, match="row 3"), Prefetched(items()) as ahead:
        for item in ahead:
            got.append(item)
    assert got == [1, 2]


def test_leaving_early_stops_the_producer_and_runs_its_cleanup_in_its_thread():
    cleaned = threading.Event()

    def items():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            cleaned.set()

    with pytest.raises(RuntimeError), Prefetched(items()) as ahead:
        for item in ahead:
            if item == 3:
                raise RuntimeError("the write failed")
    assert cleaned.is_set()
    assert not any(t.name == "prefetch" for t in threading.enumerate())


def test_a_producer_blocked_on_the_server_is_cancelled_when_the_consumer_leaves():
    cancelled = threading.Event()

    def items():
        yield 1
        cancelled.wait(30)  # a query the source is still computing
        raise RuntimeError("canceling statement due to user request")

    started = time.monotonic()
    with Prefetched(items(), cancel=cancelled.set) as ahead:
        assert next(ahead) == 1
    assert cancelled.is_set()
    assert time.monotonic() - started < 10


def test_one_lane_runs_work_in_order_never_two_at_once():
    running, most, done = [0], [0], []
    lock = threading.Lock()

    def work(lane: int, after_previous, n: int) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        after_previous()
        done.append(n)
        with lock:
            running[0] -= 1

    with InOrder(1) as writer:
        for n in range(10):
            writer.submit(lambda lane, after, n=n: work(lane, after, n))
    assert done == list(range(10))
    assert most[0] == 1


def test_two_lanes_overlap_but_finish_in_order():
    finished, lanes = [], {}
    both_running = threading.Barrier(2, timeout=5)

    def work(lane: int, after_previous, n: int) -> None:
        lanes[n] = lane
        if n in (0, 1):
            both_running.wait()   # pieces 0 and 1 run at once, or this times out
        time.sleep(0.02 if n % 2 == 0 else 0.0)   # the even pieces are slower: the odd ones wait for them
        after_previous()
        finished.append(n)

    with InOrder(2) as writer:
        for n in range(8):
            writer.submit(lambda lane, after, n=n: work(lane, after, n))
    assert finished == list(range(8))
    assert lanes == {n: n % 2 for n in range(8)}


def test_a_piece_after_a_failed_one_never_finishes_and_the_first_error_is_raised():
    finished = []
    second_started = threading.Event()

    def fail(lane: int, after_previous) -> None:
        second_started.wait(5)
        raise ValueError("chunk 1 was not written")

    def work(lane: int, after_previous, n: int) -> None:
        second_started.set()
        after_previous()   # raises chunk 1's error: this piece does not commit
        finished.append(n)

    with pytest.raises(ValueError, match="chunk 1"), InOrder(2) as writer:
        writer.submit(fail)
        writer.submit(lambda lane, after: work(lane, after, 2))
        writer.submit(lambda lane, after: work(lane, after, 3))
    assert finished == []


def test_a_failed_piece_of_work_is_raised_before_the_next_is_handed_over():
    done = []

    def fail(lane: int, after_previous) -> None:
        raise ValueError("chunk 2 was not written")

    with pytest.raises(ValueError, match="chunk 2"), InOrder(1) as writer:
        writer.submit(lambda lane, after: done.append(1))
        writer.submit(fail)
        writer.submit(lambda lane, after: done.append(3))
    assert done == [1]


def test_leaving_waits_for_the_last_piece_of_work():
    done = []
    with InOrder(2) as writer:
        writer.submit(lambda lane, after: (time.sleep(0.05), done.append("written")))
    assert done == ["written"]
