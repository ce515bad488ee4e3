"""What only AsyncConn has: many tasks on one connection, cancellation of tasks, the event
loop staying free, and the loss of the server with tasks waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

import pypgz
from pypgz import errors
from pypgz.server import Cluster


@pytest.fixture
async def aconn(dsn: str) -> AsyncIterator[pypgz.AsyncConn]:
    conn = await pypgz.connect_async(dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def test_many_tasks_share_one_connection(aconn: pypgz.AsyncConn) -> None:
    async def one(i: int) -> tuple[int, str]:
        row = await aconn.fetchrow("SELECT $1::int AS n, repeat('x', $1::int) AS s", i)
        assert row is not None
        return row[0], row[1]

    results = await asyncio.gather(*(one(i) for i in range(300)))
    assert results == [(i, "x" * i) for i in range(300)]


async def test_each_task_gets_its_own_error(aconn: pypgz.AsyncConn) -> None:
    calls = [aconn.fetchval("SELECT $1::int", i) if i % 3 else aconn.fetchval("SELECT 1/$1::int", 0) for i in range(30)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    for i, r in enumerate(results):
        if i % 3:
            assert r == i
        else:
            assert isinstance(r, errors.DivisionByZeroError)


async def test_pipelined_queries_run_in_order(aconn: pypgz.AsyncConn) -> None:
    await aconn.execute("CREATE TEMP TABLE seq (n int)")
    await asyncio.gather(*(aconn.execute("INSERT INTO seq VALUES ($1)", i) for i in range(100)))
    assert [r[0] for r in await aconn.fetch("SELECT n FROM seq")] == list(range(100))


async def test_transaction_holds_the_connection(aconn: pypgz.AsyncConn) -> None:
    await aconn.execute("CREATE TEMP TABLE held (n int)")
    order: list[str] = []

    async def in_tx() -> None:
        async with aconn.transaction():
            await aconn.execute("INSERT INTO held VALUES (1)")
            order.append("tx-insert")
            await asyncio.sleep(0.2)
            order.append("tx-end")

    async def outside() -> None:
        await asyncio.sleep(0.05)
        # Must not run inside the other task's transaction.
        assert await aconn.fetchval("SELECT count(*) FROM held") == 1
        assert not aconn.is_in_transaction()
        order.append("outside")

    await asyncio.gather(in_tx(), outside())
    assert order == ["tx-insert", "tx-end", "outside"]


async def test_stream_holds_the_connection_and_bounds_memory(aconn: pypgz.AsyncConn) -> None:
    got = 0
    other = None
    async for row in aconn.stream("SELECT i FROM generate_series(1, 20000) i", batch_rows=500):
        got += row[0]
        if other is None:
            other = asyncio.ensure_future(aconn.fetchval("SELECT 'after'"))
        elif row[0] == 10000:
            assert not other.done()  # waits for the stream to finish
    assert got == 20000 * 20001 // 2
    assert other is not None and await other == "after"


async def test_cancelling_a_task_cancels_the_query(aconn: pypgz.AsyncConn) -> None:
    task = asyncio.ensure_future(aconn.execute("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.3)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The connection drains back to idle and stays usable.
    assert await aconn.fetchval("SELECT 5") == 5
    assert time.monotonic() - start < 5
    assert await aconn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'"
    ) == 0


async def test_wait_for_timeout_cancels(aconn: pypgz.AsyncConn) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(aconn.fetchval("SELECT pg_sleep(5)"), 0.3)
    assert await aconn.fetchval("SELECT 6") == 6


async def test_event_loop_is_never_blocked(aconn: pypgz.AsyncConn) -> None:
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    hb = asyncio.ensure_future(heartbeat())
    try:
        await aconn.execute("SELECT pg_sleep(1)")
    finally:
        hb.cancel()
    assert ticks >= 12, f"only {ticks} heartbeats in 1 s: the loop was blocked"


async def test_server_loss_fails_every_waiting_task(dsn: str) -> None:
    conn = await pypgz.connect_async(dsn)
    pid = conn.get_server_pid()
    tasks = [asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(5)")) for _ in range(3)]
    await asyncio.sleep(0.2)
    killer = await pypgz.connect_async(dsn)
    await killer.execute("SELECT pg_terminate_backend($1)", pid)
    await killer.close()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert all(isinstance(r, errors.ConnectionLostError) for r in results), results
    assert conn.is_closed()
    with pytest.raises(errors.ConnectionClosedError):
        await conn.fetchval("SELECT 1")


async def test_server_stopped_with_task_waiting(cluster: Cluster) -> None:
    conn = await pypgz.connect_async(cluster.dsn())
    task = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, cluster.stop)
        with pytest.raises(errors.ConnectionLostError):
            await asyncio.wait_for(task, 10)
        assert conn.is_closed()
    finally:
        await loop.run_in_executor(None, cluster.start)


def test_works_under_uvloop(dsn: str) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        conn = await pypgz.connect_async(dsn)
        try:
            rows = await asyncio.gather(*(conn.fetchval("SELECT $1::int * 2", i) for i in range(50)))
            assert rows == [i * 2 for i in range(50)]
            task = asyncio.ensure_future(conn.execute("SELECT pg_sleep(5)"))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await conn.fetchval("SELECT 1") == 1
            async with conn.transaction():
                assert [r[0] async for r in conn.stream("SELECT generate_series(1, 3)")] == [1, 2, 3]
        finally:
            await conn.close()

    uvloop.run(main())


async def test_results_are_decoded_by_their_tasks(dsn: str) -> None:
    """Results that arrive together are decoded one task at a time, as each task resumes,
    so one task's rows are made, read and dropped before the next task's exist: the GC's
    young generation never fills with the rows of several results at once (it would then
    promote them all, and every later full collection would walk them)."""
    import gc

    conns = [await pypgz.connect_async(dsn) for _ in range(8)]
    sql = "SELECT i, i::text FROM generate_series(1, $1::int) i"
    collections = 0

    def count(phase: str, info: dict[str, int]) -> None:
        nonlocal collections
        collections += phase == "start"

    async def reader(c: pypgz.AsyncConn) -> int:
        total = 0
        for _ in range(5):
            total += sum(r[0] for r in await c.fetch(sql, 600))
        return total

    old = gc.get_threshold()
    try:
        await asyncio.gather(*(reader(c) for c in conns))  # statements cached and described
        gc.collect()
        gc.set_threshold(700, 10, 10)
        gc.callbacks.append(count)
        totals = await asyncio.gather(*(reader(c) for c in conns))
    finally:
        if count in gc.callbacks:
            gc.callbacks.remove(count)
        gc.set_threshold(*old)
        for c in conns:
            await c.close()
    assert totals == [5 * 600 * 601 // 2] * 8
    # 40 results of 600 rows: decoded in the loop's callback, they caused dozens of collections
    assert collections <= 8, collections
