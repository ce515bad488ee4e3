"""Clocking one slice: warm up, then run the operations until the slice's time is up.

Wall time comes from ``time.perf_counter`` and client CPU time from
``time.process_time`` (the whole process: every thread, including a driver's own
I/O threads). Each operation's latency is recorded. With several operations (one
per connection) they run at once: in threads for a sync driver, as tasks on one
event loop for an async one.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pypgz.bench.clients import AsyncOp, SyncOp


@dataclass
class SliceResult:
    wall: float  # seconds
    cpu: float  # client CPU seconds
    ops: int
    rows: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per operation
    note: str | None = None  # what a result check found (e.g. values left undecoded)


@dataclass(frozen=True)
class Plan:
    seconds: float  # timed part of the slice
    warmup: float  # untimed part before it


def _loop(op: SyncOp, deadline: float, latencies: list[float]) -> tuple[int, int]:
    """Runs ``op`` until ``deadline`` (at least once); returns (ops, rows)."""
    clock = time.perf_counter
    record = latencies.append
    ops = rows = 0
    while True:
        start = clock()
        rows += op()
        end = clock()
        record(end - start)
        ops += 1
        if end >= deadline:
            return ops, rows


async def _aloop(op: AsyncOp, deadline: float, latencies: list[float]) -> tuple[int, int]:
    clock = time.perf_counter
    record = latencies.append
    ops = rows = 0
    while True:
        start = clock()
        rows += await op()
        end = clock()
        record(end - start)
        ops += 1
        if end >= deadline:
            return ops, rows


def time_sync(ops: Sequence[SyncOp], plan: Plan) -> SliceResult:
    if len(ops) == 1:
        return _time_one(ops[0], plan)
    return _time_threads(ops, plan)


def _time_one(op: SyncOp, plan: Plan) -> SliceResult:
    _loop(op, time.perf_counter() + plan.warmup, [])
    gc.collect()
    latencies: list[float] = []
    cpu0, t0 = time.process_time(), time.perf_counter()
    count, rows = _loop(op, t0 + plan.seconds, latencies)
    t1, cpu1 = time.perf_counter(), time.process_time()
    return SliceResult(t1 - t0, cpu1 - cpu0, count, rows, latencies)


class _Start:
    """When the timed part began; set by the last thread to finish warming up."""

    wall = 0.0
    cpu = 0.0
    deadline = 0.0


def _time_threads(ops: Sequence[SyncOp], plan: Plan) -> SliceResult:
    start = _Start()

    def begin() -> None:
        gc.collect()
        start.cpu, start.wall = time.process_time(), time.perf_counter()
        start.deadline = start.wall + plan.seconds

    barrier = threading.Barrier(len(ops), action=begin)
    counts: list[tuple[int, int]] = []
    latencies: list[list[float]] = []
    failures: list[BaseException] = []

    def worker(op: SyncOp) -> None:
        mine: list[float] = []
        try:
            _loop(op, time.perf_counter() + plan.warmup, [])
            barrier.wait()
            counts.append(_loop(op, start.deadline, mine))
            latencies.append(mine)
        except threading.BrokenBarrierError:
            pass  # another worker failed; its error is the one reported
        except BaseException as e:  # re-raised in the calling thread
            failures.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(op,), daemon=True) for op in ops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end_wall, end_cpu = time.perf_counter(), time.process_time()
    if failures:
        raise failures[0]
    return SliceResult(
        end_wall - start.wall,
        end_cpu - start.cpu,
        sum(c for c, _ in counts),
        sum(r for _, r in counts),
        [x for part in latencies for x in part],
    )


async def time_async(ops: Sequence[AsyncOp], plan: Plan) -> SliceResult:
    warm_until = time.perf_counter() + plan.warmup
    await asyncio.gather(*(_aloop(op, warm_until, []) for op in ops))
    gc.collect()
    parts: list[list[float]] = [[] for _ in ops]
    cpu0, t0 = time.process_time(), time.perf_counter()
    deadline = t0 + plan.seconds
    counts = await asyncio.gather(*(_aloop(op, deadline, part) for op, part in zip(ops, parts)))
    t1, cpu1 = time.perf_counter(), time.process_time()
    return SliceResult(
        t1 - t0,
        cpu1 - cpu0,
        sum(c for c, _ in counts),
        sum(r for _, r in counts),
        [x for part in parts for x in part],
    )
