"""AsyncPool (asyncio, tasks) against the real server. tests/integration/test_pool.py holds
the same cases for Pool, in the same order."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import pypgz
from pypgz import errors
from pypgz.server import Cluster


@pytest.fixture
def app() -> str:
    """An application_name of its own, to count the test's server connections."""
    return f"pgz_apool_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def monitor(dsn: str) -> AsyncIterator[pypgz.AsyncConn]:
    """A connection outside the pool, to look at the server (and kill backends)."""
    async with await pypgz.connect_async(dsn, application_name="pgz_pool_monitor") as conn:
        yield conn


async def server_count(monitor: pypgz.AsyncConn, app: str) -> int:
    return int(await monitor.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app))


async def kill(monitor: pypgz.AsyncConn, pid: int) -> None:
    """pg_terminate_backend, waiting until the backend has gone."""
    assert await monitor.fetchval("SELECT pg_terminate_backend($1, 5000)", pid) is True


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def make_pool(dsn: str, app: str, **kw: Any) -> pypgz.AsyncPool:
    kw.setdefault("timeout", 10.0)
    return await pypgz.create_async_pool(dsn, application_name=app, **kw)


# --------------------------------------------------------------------------- basics


async def test_acquire_release_and_shortcuts(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    async with await make_pool(dsn, app, min_size=2, max_size=3) as pool:
        assert await server_count(monitor, app) == 2
        assert pool.stats() == pypgz.PoolStats(size=2, idle=2, in_use=0, waiting=0, min_size=2, max_size=3)
        async with pool.acquire() as conn:
            assert isinstance(conn, pypgz.AsyncPooledConn)
            assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
            assert pool.stats().in_use == 1
        conn = await pool.acquire()
        assert await conn.fetchrow("SELECT 1 AS a, 'x' AS b") == (1, "x")
        assert conn.get_server_pid() > 0  # forwarded to the AsyncConn
        await pool.release(conn)
        assert pool.stats().in_use == 0
        async with await pool.acquire() as conn:  # the connection itself releases, too
            assert pool.stats().in_use == 1
        assert pool.stats().in_use == 0

        await pool.execute("CREATE TEMP TABLE IF NOT EXISTS pool_t (id int)")
        assert await pool.fetchval("SELECT 2") == 2
        assert await pool.fetchrow("SELECT 1, 2") == (1, 2)
        assert [tuple(r) for r in await pool.fetch("SELECT generate_series(1, 3)")] == [(1,), (2,), (3,)]
        await pool.executemany("SELECT $1::int", [(1,), (2,)])
        assert pool.get_size() == 2 and pool.get_idle_size() == 2
        assert (pool.get_min_size(), pool.get_max_size()) == (2, 3)
        assert not pool.is_closing()
    assert pool.is_closing()
    with pytest.raises(errors.PoolClosedError):
        await pool.acquire()
    await eventually(lambda: _count_is(monitor, app, 0))


async def _count_is(monitor: pypgz.AsyncConn, app: str, n: int) -> bool:
    return await server_count(monitor, app) == n


async def test_arguments_are_checked(dsn: str) -> None:
    bad: list[dict[str, Any]] = [
        {"min_size": 3, "max_size": 2},
        {"max_size": 0},
        {"min_size": -1},
        {"max_size": 2.5},
        {"max_queries": -1},
        {"max_lifetime": -1},
        {"max_inactive_connection_lifetime": "300"},
        {"timeout": 0},
        {"setup": "not callable"},
    ]
    for kw in bad:
        with pytest.raises(errors.PoolOptionError) as ei:
            await pypgz.create_async_pool(dsn, **kw)
        assert isinstance(ei.value, ValueError)
        assert next(iter(kw)) in str(ei.value)
    with pytest.raises(errors.DSNError, match='port "abc"'):
        await pypgz.create_async_pool("postgresql://u@localhost:abc/db")
    with pytest.raises(errors.PoolOptionError):
        pypgz.create_async_pool(dsn, max_size=0)  # arguments fail at once, before any await
    pool = pypgz.create_async_pool(dsn)  # not awaited: not open
    with pytest.raises(errors.InterfaceError, match="not open"):
        await pool.acquire()


async def test_wrong_password_fails_at_creation(cluster: Cluster) -> None:
    with pytest.raises(errors.InvalidPasswordError):
        await pypgz.create_async_pool(cluster.dsn(Cluster.SCRAM_USER, password="wrong"))


async def test_ways_to_open(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    async with pypgz.create_async_pool(dsn, application_name=app, min_size=1) as pool:
        assert await pool.fetchval("SELECT 1") == 1
    assert pool.is_closing()
    async with await pypgz.create_async_pool(dsn, application_name=app) as pool:
        assert await pool.fetchval("SELECT 1") == 1
    pool = pypgz.AsyncPool(dsn, application_name=app)
    assert await pool is pool and await pool.open() is pool  # opening twice does nothing
    assert pool.stats().size == 1
    await pool.close()
    await eventually(lambda: _count_is(monitor, app, 0))


# --------------------------------------------------------------------------- limits under load


async def test_fifty_users_on_five_connections(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    pool = await make_pool(dsn, app, min_size=1, max_size=5, timeout=30.0)
    done = asyncio.Event()
    peak = {"server": 0, "size": 0, "in_use": 0}

    async def user(n: int) -> None:
        for i in range(10):
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT $1::int FROM pg_sleep(0.002)", n * 100 + i) == n * 100 + i

    async def watch() -> None:
        async with await pypgz.connect_async(dsn) as own:
            while not done.is_set():
                s = pool.stats()
                peak["size"] = max(peak["size"], s.size)
                peak["in_use"] = max(peak["in_use"], s.in_use)
                peak["server"] = max(peak["server"], await server_count(own, app))

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.wait_for(asyncio.gather(*(user(n) for n in range(50))), 60)
        done.set()
        await watcher
        assert peak["server"] <= 5 and peak["size"] <= 5, peak
        assert peak["in_use"] == 5, peak  # the pool did grow to its limit
        s = pool.stats()
        assert (s.in_use, s.waiting) == (0, 0) and s.size <= 5
        assert await server_count(monitor, app) <= 5
    finally:
        done.set()
        await pool.close()


async def test_waiters_are_served_first_come_first_served(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1) as pool:
        order: list[int] = []
        held = await pool.acquire()

        async def user(n: int) -> None:
            async with pool.acquire():
                order.append(n)
                await asyncio.sleep(0)

        tasks = []
        for n in range(5):
            tasks.append(asyncio.create_task(user(n)))
            await eventually(true_when(lambda: pool.stats().waiting == len(tasks)))
        await pool.release(held)
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert order == [0, 1, 2, 3, 4]


def true_when(cond: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return cond()

    return check


async def test_acquire_timeout_error(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1, timeout=0.2) as pool:
        async with pool.acquire():
            started = time.monotonic()
            with pytest.raises(errors.PoolTimeoutError) as ei:
                await pool.acquire()
            assert 0.15 < time.monotonic() - started < 2
            assert str(ei.value) == "could not acquire a connection within 0.2 s: 1 of 1 connections in use, 1 waiting"
            assert isinstance(ei.value, TimeoutError)
            assert ei.value.stats is not None and ei.value.stats.in_use == 1
            with pytest.raises(errors.PoolTimeoutError, match="within 0.05 s"):
                await pool.acquire(timeout=0.05)
        assert pool.stats().waiting == 0
        assert await pool.fetchval("SELECT 1") == 1


async def test_cancelled_acquire_leaves_nothing_behind(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1) as pool:
        held = await pool.acquire()
        task = asyncio.create_task(pool.acquire().__aenter__())
        await eventually(true_when(lambda: pool.stats().waiting == 1))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.stats().waiting == 0
        await pool.release(held)
        assert await pool.fetchval("SELECT 1") == 1
        assert pool.stats().in_use == 0


# --------------------------------------------------------------------------- hooks


async def test_hooks_are_called_when_they_should_be(dsn: str, app: str) -> None:
    calls: dict[str, list[Any]] = {"init": [], "setup": [], "reset": []}

    async def init(conn: pypgz.AsyncConn) -> None:
        assert isinstance(conn, pypgz.AsyncConn)
        calls["init"].append(conn.get_server_pid())

    async def setup(conn: pypgz.AsyncPooledConn) -> None:
        assert isinstance(conn, pypgz.AsyncPooledConn)
        calls["setup"].append(conn.get_server_pid())

    async def reset(conn: pypgz.AsyncConn) -> None:
        assert not conn.is_in_transaction()  # the pool rolled back first
        calls["reset"].append(conn.get_server_pid())

    async with await make_pool(dsn, app, min_size=2, max_size=3, init=init, setup=setup, reset=reset) as pool:
        assert len(calls["init"]) == 2 and not calls["setup"] and not calls["reset"]
        for _ in range(4):
            async with pool.acquire() as conn:
                await conn.execute("BEGIN")
        held = [await pool.acquire() for _ in range(3)]  # the pool grows by one
        for c in held:
            await pool.release(c)
        assert len(calls["init"]) == 3
        assert len(calls["setup"]) == len(calls["reset"]) == 7
        assert set(calls["setup"]) <= set(calls["init"])

        # A reset hook replaces the default reset: what it does not undo stays.
        async with pool.acquire() as conn:
            await conn.execute("SET search_path = custom_reset")
            pid = conn.get_server_pid()
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert await conn.fetchval("SHOW search_path") == "custom_reset"


async def test_failing_hooks(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    async def bad_init(conn: pypgz.AsyncConn) -> None:
        raise RuntimeError("init failed")

    with pytest.raises(RuntimeError, match="init failed"):
        await make_pool(dsn, app, init=bad_init)
    await eventually(lambda: _count_is(monitor, app, 0))

    async def bad_setup(conn: pypgz.AsyncPooledConn) -> None:
        raise RuntimeError("setup failed")

    async with await make_pool(dsn, app, max_size=1, setup=bad_setup) as pool:
        with pytest.raises(RuntimeError, match="setup failed"):
            await pool.acquire()
        assert pool.stats().in_use == 0  # the connection went back

    async def bad_reset(conn: pypgz.AsyncConn) -> None:
        raise RuntimeError("reset failed")

    async with await make_pool(dsn, app, max_size=1, reset=bad_reset) as pool:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
        async with pool.acquire() as conn:  # the connection was closed and replaced
            assert conn.get_server_pid() != pid


# --------------------------------------------------------------------------- nothing leaks


async def test_session_state_does_not_leak(cluster: Cluster, app: str) -> None:
    async with await make_pool(cluster.dsn(), app, min_size=1, max_size=1) as pool:
        await pool.execute(
            "DROP TABLE IF EXISTS apool_leak; CREATE TABLE apool_leak (id int); GRANT ALL ON apool_leak TO PUBLIC"
        )
        async with pool.acquire() as a:
            pid = a.get_server_pid()
            await a.execute(
                "SET search_path = nowhere, public; SET statement_timeout = 12345; "
                "CREATE TEMP TABLE pool_tmp (x int); SELECT pg_advisory_lock(4242); LISTEN pool_chan"
            )
            assert await a.fetchval("SELECT $1::int", 7) == 7  # leaves a cached statement
            await a.execute("SET ROLE pgz_scram; SET SESSION AUTHORIZATION pgz_md5")
            assert await a.fetchval("SELECT session_user") == "pgz_md5"
            await a.execute("BEGIN")
            await a.execute("INSERT INTO public.apool_leak VALUES (1)")
        async with pool.acquire() as b:
            assert b.get_server_pid() == pid  # the same connection, reset
            assert not b.is_in_transaction()
            assert await b.fetchval("SHOW search_path") == '"$user", public'
            assert await b.fetchval("SHOW statement_timeout") == "0"
            assert await b.fetchval("SELECT to_regclass('pg_temp.pool_tmp')") is None
            assert await b.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", pid) == 0
            assert await b.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
            assert await b.fetchrow("SELECT current_user, session_user") == ("postgres", "postgres")
            assert await b.fetchval("SELECT count(*) FROM apool_leak") == 0  # the transaction was rolled back
            # Start-up settings survive, and so does the statement cache.
            assert await b.fetchval("SHOW application_name") == app
            assert (await b.fetchval("SHOW DateStyle")).startswith("ISO")
            assert await b.fetchval("SELECT $1::int", 8) == 8
        await pool.execute("DROP TABLE apool_leak")


async def test_reset_as_an_ordinary_role(cluster: Cluster, app: str) -> None:
    dsn = cluster.dsn(Cluster.SCRAM_USER, password=Cluster.TEST_PASSWORD)
    async with await make_pool(dsn, app, min_size=1, max_size=1) as pool:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            await conn.execute("SET work_mem = '1MB'; CREATE TEMP TABLE t (x int)")
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert await conn.fetchval("SHOW work_mem") != "1MB"


async def test_unfinished_blocks_and_streams(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1) as pool:
        # A stream left half read is closed by the release; the connection stays in the pool.
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            rows = conn.stream("SELECT generate_series(1, 100000)", batch_rows=100)
            assert (await rows.__anext__())[0] == 1
        with pytest.raises(errors.InterfaceError, match="released"):
            await rows.__anext__()
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert await conn.fetchval("SELECT 5") == 5
            # A transaction block left open: the connection is closed, not reset.
            await conn.transaction().start()
        async with pool.acquire() as conn:
            assert conn.get_server_pid() != pid
            assert not conn.is_in_transaction()
            async with conn.transaction():
                assert await conn.fetchval("SELECT 1") == 1


# --------------------------------------------------------------------------- misuse


async def test_release_of_a_foreign_connection(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, max_size=2) as pool, await make_pool(dsn, app, max_size=1) as other:
        async with await pypgz.connect_async(dsn) as raw:
            with pytest.raises(errors.InterfaceError, match="AsyncConn object: it was not acquired from this pool"):
                await pool.release(raw)  # type: ignore[arg-type]
        theirs = await other.acquire()
        with pytest.raises(errors.InterfaceError, match="not acquired from this pool"):
            await pool.release(theirs)
        await other.release(theirs)
        conn = await pool.acquire()
        await pool.release(conn)
        with pytest.raises(errors.InterfaceError, match="already released"):
            await pool.release(conn)
        assert pool.stats().in_use == 0 and other.stats().in_use == 0


async def test_use_after_release(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1) as pool:
        async with pool.acquire() as stale:
            st = await stale.prepare("SELECT $1::int")
            assert await st.fetchval(3) == 3
        async with pool.acquire() as current:
            uses: list[Callable[[], Any]] = [
                lambda: stale.fetchval("SELECT 1"),
                lambda: stale.execute("SELECT 1"),
                lambda: stale.transaction(),
                lambda: stale.get_server_pid(),
                lambda: st.fetchval(4),
            ]
            for use in uses:
                with pytest.raises(errors.InterfaceError, match="released back to the pool"):
                    result = use()
                    if asyncio.iscoroutine(result):
                        await result
            assert await current.fetchval("SELECT 1") == 1
        assert "released" in repr(stale)


# --------------------------------------------------------------------------- broken connections


async def test_backend_killed_while_idle(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    async with await make_pool(dsn, app, min_size=2, max_size=2) as pool:
        held = [await pool.acquire() for _ in range(2)]
        pids = {c.get_server_pid() for c in held}
        for c in held:
            await pool.release(c)
        for pid in pids:
            await kill(monitor, pid)
        for _ in range(3):
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT 1") == 1
                assert conn.get_server_pid() not in pids

        async def healed() -> bool:
            return pool.stats().size == 2 and await server_count(monitor, app) == 2

        await eventually(healed)


async def test_backend_killed_while_idle_is_replaced_in_the_background(
    dsn: str, app: str, monitor: pypgz.AsyncConn
) -> None:
    query = "SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = $1"
    async with await make_pool(dsn, app, min_size=2, max_size=2, max_inactive_connection_lifetime=0.4) as pool:
        pids = set(await monitor.fetchval(query, app))
        for pid in pids:
            await kill(monitor, pid)

        async def replaced() -> bool:
            return await server_count(monitor, app) == 2 and pool.stats().idle == 2

        # Maintenance notices the dead connections without any acquire, and replaces them.
        await eventually(replaced)
        assert not set(await monitor.fetchval(query, app)) & pids


async def test_backend_killed_while_in_use(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1) as pool:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            running = asyncio.create_task(conn.fetchval("SELECT pg_sleep(10)"))
            await eventually(lambda: _active(monitor, pid))
            await kill(monitor, pid)
            with pytest.raises(errors.ConnectionLostError):
                await running
        await eventually(true_when(lambda: pool.stats().idle == 1))  # replaced in the background
        async with pool.acquire() as conn:
            assert conn.get_server_pid() != pid
            assert await conn.fetchval("SELECT 1") == 1


async def _active(monitor: pypgz.AsyncConn, pid: int) -> bool:
    return await monitor.fetchval("SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", pid) is True


async def test_server_restart_heals(cluster: Cluster, app: str) -> None:
    dsn = cluster.dsn()
    async with await make_pool(dsn, app, min_size=2, max_size=3, timeout=30.0) as pool:
        before = {await pool.fetchval("SELECT pg_backend_pid()") for _ in range(3)}
        try:
            await asyncio.get_running_loop().run_in_executor(None, cluster.restart)
        finally:
            cluster.start()
        held = [await pool.acquire() for _ in range(3)]
        try:
            after = {await c.fetchval("SELECT pg_backend_pid()") for c in held}
        finally:
            for c in held:
                await pool.release(c)
        assert len(after) == 3 and not before & after
        assert pool.stats().size <= 3


async def test_server_down_then_up(cluster: Cluster, app: str) -> None:
    dsn = cluster.dsn()
    loop = asyncio.get_running_loop()
    async with await make_pool(dsn, app, min_size=1, max_size=2) as pool:
        assert await pool.fetchval("SELECT 1") == 1
        try:
            await loop.run_in_executor(None, cluster.stop)
            started = time.monotonic()
            with pytest.raises(errors.PoolTimeoutError, match="the last attempt to open a connection failed") as ei:
                await pool.acquire(timeout=1.0)
            assert time.monotonic() - started < 3
            assert isinstance(ei.value.__cause__, errors.ConnectionFailedError)
        finally:
            await loop.run_in_executor(None, cluster.start)
        async with pool.acquire(timeout=30) as conn:  # heals without the application doing anything
            assert await conn.fetchval("SELECT 1") == 1


# --------------------------------------------------------------------------- closing and lifetimes


async def test_close_waits_for_connections_in_use(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    pool = await make_pool(dsn, app, min_size=2, max_size=2)
    conn = await pool.acquire()
    results: list[Any] = []

    async def late_release() -> None:
        await asyncio.sleep(0.5)
        results.append(await conn.fetchval("SELECT 1"))  # still usable while the pool closes
        await pool.release(conn)

    t = asyncio.create_task(late_release())
    started = time.monotonic()
    await pool.close(timeout=10)
    assert 0.4 < time.monotonic() - started < 5
    await t
    assert results == [1]
    assert pool.stats().size == 0
    with pytest.raises(errors.PoolClosedError):
        await pool.acquire()
    await eventually(lambda: _count_is(monitor, app, 0))


async def test_close_terminates_connections_still_in_use(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    pool = await make_pool(dsn, app, min_size=1, max_size=2)
    holder = await pool.acquire()
    other = await pool.acquire()
    stuck = asyncio.create_task(holder.execute("SELECT pg_sleep(30)"))
    waiting = asyncio.create_task(pool.acquire(timeout=30).__aenter__())
    await eventually(true_when(lambda: pool.stats().waiting == 1))
    started = time.monotonic()
    await pool.close(timeout=0.3)
    assert time.monotonic() - started < 3
    with pytest.raises(errors.ConnectionClosedError):
        await asyncio.wait_for(stuck, 5)
    with pytest.raises(errors.PoolClosedError):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(errors.InterfaceError, match="terminated"):
        await other.fetchval("SELECT 1")
    await pool.release(holder)  # the holders may still release: nothing happens
    await pool.release(other)
    # Nothing is left but the backend still sleeping: it sees its client gone when it next writes.
    idle = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'active'"

    async def no_idle() -> bool:
        return bool(await monitor.fetchval(idle, app) == 0)

    await eventually(no_idle)
    await monitor.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'")


async def test_terminate(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    pool = await make_pool(dsn, app, min_size=2, max_size=2)
    held = await pool.acquire()
    pool.terminate()
    assert pool.is_closing()
    with pytest.raises(errors.InterfaceError, match="terminated"):
        await held.fetchval("SELECT 1")
    with pytest.raises(errors.PoolClosedError):
        await pool.acquire()
    await pool.close()  # nothing left to do
    await eventually(lambda: _count_is(monitor, app, 0))


async def test_expire_connections(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=2, max_size=2) as pool:
        held = await pool.acquire()
        held_pid = held.get_server_pid()
        async with pool.acquire() as c:
            idle_pid = c.get_server_pid()
        await pool.expire_connections()
        assert await held.fetchval("SELECT 1") == 1  # a connection in use is left alone...
        await pool.release(held)  # ...and replaced when it comes back
        conns = [await pool.acquire() for _ in range(2)]
        assert not {held_pid, idle_pid} & {c.get_server_pid() for c in conns}
        for c in conns:
            await pool.release(c)


async def test_max_queries(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1, max_queries=3) as pool:
        pids = [await pool.fetchval("SELECT pg_backend_pid()") for _ in range(7)]
        assert pids[0] == pids[1] == pids[2] != pids[3]
        assert pids[3] == pids[4] == pids[5] != pids[6]


async def test_max_inactive_connection_lifetime(dsn: str, app: str, monitor: pypgz.AsyncConn) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=3, max_inactive_connection_lifetime=0.3) as pool:
        held = [await pool.acquire() for _ in range(3)]
        for c in held:
            await pool.release(c)
        assert pool.stats().size == 3

        async def shrunk() -> bool:  # never below min_size
            return pool.stats().size == 1 and await server_count(monitor, app) == 1

        await eventually(shrunk)


async def test_max_lifetime(dsn: str, app: str) -> None:
    async with await make_pool(dsn, app, min_size=1, max_size=1, max_lifetime=0.3) as pool:
        first = await pool.fetchval("SELECT pg_backend_pid()")
        await asyncio.sleep(0.5)
        assert await pool.fetchval("SELECT pg_backend_pid()") != first
