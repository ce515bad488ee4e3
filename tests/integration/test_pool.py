"""Pool (blocking, threads) against the real server. tests/integration/test_apool.py holds
the same cases for AsyncPool, in the same order."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pypgz
from pypgz import errors
from pypgz.server import Cluster


@pytest.fixture
def app() -> str:
    """An application_name of its own, to count the test's server connections."""
    return f"pgz_pool_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def monitor(dsn: str) -> Iterator[pypgz.Conn]:
    """A connection outside the pool, to look at the server (and kill backends)."""
    with pypgz.connect(dsn, application_name="pgz_pool_monitor") as conn:
        yield conn


def server_count(monitor: pypgz.Conn, app: str) -> int:
    return int(monitor.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app))


def kill(monitor: pypgz.Conn, pid: int) -> None:
    """pg_terminate_backend, waiting until the backend has gone."""
    assert monitor.fetchval("SELECT pg_terminate_backend($1, 5000)", pid) is True


def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def make_pool(dsn: str, app: str, **kw: Any) -> pypgz.Pool:
    kw.setdefault("timeout", 10.0)
    return pypgz.create_pool(dsn, application_name=app, **kw)


# --------------------------------------------------------------------------- basics


def test_acquire_release_and_shortcuts(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    with make_pool(dsn, app, min_size=2, max_size=3) as pool:
        assert server_count(monitor, app) == 2
        assert pool.stats() == pypgz.PoolStats(size=2, idle=2, in_use=0, waiting=0, min_size=2, max_size=3)
        with pool.acquire() as conn:
            assert isinstance(conn, pypgz.PooledConn)
            assert conn.fetchval("SELECT $1::int + 1", 41) == 42
            assert pool.stats().in_use == 1
        conn = pool.acquire()
        assert conn.fetchrow("SELECT 1 AS a, 'x' AS b") == (1, "x")
        assert conn.get_server_pid() > 0  # forwarded to the Conn
        pool.release(conn)
        assert pool.stats().in_use == 0

        pool.execute("CREATE TEMP TABLE IF NOT EXISTS pool_t (id int)")
        assert pool.fetchval("SELECT 2") == 2
        assert pool.fetchrow("SELECT 1, 2") == (1, 2)
        assert [tuple(r) for r in pool.fetch("SELECT generate_series(1, 3)")] == [(1,), (2,), (3,)]
        pool.executemany("SELECT $1::int", [(1,), (2,)])
        assert pool.get_size() == 2 and pool.get_idle_size() == 2
        assert (pool.get_min_size(), pool.get_max_size()) == (2, 3)
        assert not pool.is_closing()
    assert pool.is_closing()
    with pytest.raises(errors.PoolClosedError):
        pool.acquire()
    eventually(lambda: server_count(monitor, app) == 0)


def test_arguments_are_checked(dsn: str) -> None:
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
            pypgz.create_pool(dsn, **kw)
        assert isinstance(ei.value, ValueError)
        assert next(iter(kw)) in str(ei.value)
    with pytest.raises(errors.DSNError, match='port "abc"'):
        pypgz.create_pool("postgresql://u@localhost:abc/db")
    pool = pypgz.Pool(dsn)
    with pytest.raises(errors.InterfaceError, match="not open"):
        pool.acquire()


def test_wrong_password_fails_at_creation(cluster: Cluster) -> None:
    with pytest.raises(errors.InvalidPasswordError):
        pypgz.create_pool(cluster.dsn(Cluster.SCRAM_USER, password="wrong"))


def test_ways_to_open(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    with pypgz.create_pool(dsn, application_name=app, min_size=1) as pool:
        assert pool.fetchval("SELECT 1") == 1
    assert pool.is_closing()
    with pypgz.Pool(dsn, application_name=app) as pool:
        assert pool.fetchval("SELECT 1") == 1
    pool = pypgz.Pool(dsn, application_name=app)
    assert pool.open() is pool and pool.open() is pool  # opening twice does nothing
    assert pool.stats().size == 1
    pool.close()
    eventually(lambda: server_count(monitor, app) == 0)


# --------------------------------------------------------------------------- limits under load


def test_fifty_users_on_five_connections(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    pool = make_pool(dsn, app, min_size=1, max_size=5, timeout=30.0)
    failures: list[BaseException] = []
    done = threading.Event()
    peak = {"server": 0, "size": 0, "in_use": 0}

    def user(n: int) -> None:
        try:
            for i in range(10):
                with pool.acquire() as conn:
                    assert conn.fetchval("SELECT $1::int FROM pg_sleep(0.002)", n * 100 + i) == n * 100 + i
        except BaseException as e:
            failures.append(e)

    def watch() -> None:
        with pypgz.connect(dsn) as own:
            while not done.is_set():
                s = pool.stats()
                peak["size"] = max(peak["size"], s.size)
                peak["in_use"] = max(peak["in_use"], s.in_use)
                peak["server"] = max(peak["server"], server_count(own, app))

    watcher = threading.Thread(target=watch)
    watcher.start()
    users = [threading.Thread(target=user, args=(n,)) for n in range(50)]
    for t in users:
        t.start()
    for t in users:
        t.join(60)
    done.set()
    watcher.join()
    try:
        assert not failures, failures[:3]
        assert peak["server"] <= 5 and peak["size"] <= 5, peak
        assert peak["in_use"] == 5, peak  # the pool did grow to its limit
        s = pool.stats()
        assert (s.in_use, s.waiting) == (0, 0) and s.size <= 5
        assert server_count(monitor, app) <= 5
    finally:
        pool.close()


def test_waiters_are_served_first_come_first_served(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1) as pool:
        order: list[int] = []
        held = pool.acquire()

        def user(n: int) -> None:
            with pool.acquire():
                order.append(n)

        threads = []
        for n in range(5):
            t = threading.Thread(target=user, args=(n,))
            t.start()
            threads.append(t)
            eventually(lambda: pool.stats().waiting == n + 1)
        pool.release(held)
        for t in threads:
            t.join(10)
        assert order == [0, 1, 2, 3, 4]


def test_acquire_timeout_error(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1, timeout=0.2) as pool:
        with pool.acquire():
            started = time.monotonic()
            with pytest.raises(errors.PoolTimeoutError) as ei:
                pool.acquire()
            assert 0.15 < time.monotonic() - started < 2
            assert str(ei.value) == "could not acquire a connection within 0.2 s: 1 of 1 connections in use, 1 waiting"
            assert isinstance(ei.value, TimeoutError)
            assert ei.value.stats is not None and ei.value.stats.in_use == 1
            with pytest.raises(errors.PoolTimeoutError, match="within 0.05 s"):
                pool.acquire(timeout=0.05)
        assert pool.stats().waiting == 0
        assert pool.fetchval("SELECT 1") == 1


# --------------------------------------------------------------------------- hooks


def test_hooks_are_called_when_they_should_be(dsn: str, app: str) -> None:
    calls: dict[str, list[Any]] = {"init": [], "setup": [], "reset": []}

    def init(conn: pypgz.Conn) -> None:
        assert isinstance(conn, pypgz.Conn)
        calls["init"].append(conn.get_server_pid())

    def setup(conn: pypgz.PooledConn) -> None:
        assert isinstance(conn, pypgz.PooledConn)
        calls["setup"].append(conn.get_server_pid())

    def reset(conn: pypgz.Conn) -> None:
        assert not conn.is_in_transaction()  # the pool rolled back first
        calls["reset"].append(conn.get_server_pid())

    with make_pool(dsn, app, min_size=2, max_size=3, init=init, setup=setup, reset=reset) as pool:
        assert len(calls["init"]) == 2 and not calls["setup"] and not calls["reset"]
        for _ in range(4):
            with pool.acquire() as conn:
                conn.execute("BEGIN")
        held = [pool.acquire() for _ in range(3)]  # the pool grows by one
        for c in held:
            pool.release(c)
        assert len(calls["init"]) == 3
        assert len(calls["setup"]) == len(calls["reset"]) == 7
        assert set(calls["setup"]) <= set(calls["init"])

        # A reset hook replaces the default reset: what it does not undo stays.
        with pool.acquire() as conn:
            conn.execute("SET search_path = custom_reset")
            pid = conn.get_server_pid()
        with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert conn.fetchval("SHOW search_path") == "custom_reset"


def test_failing_hooks(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    def bad_init(conn: pypgz.Conn) -> None:
        raise RuntimeError("init failed")

    with pytest.raises(RuntimeError, match="init failed"):
        make_pool(dsn, app, init=bad_init)
    eventually(lambda: server_count(monitor, app) == 0)

    def bad_setup(conn: pypgz.PooledConn) -> None:
        raise RuntimeError("setup failed")

    with make_pool(dsn, app, max_size=1, setup=bad_setup) as pool:
        with pytest.raises(RuntimeError, match="setup failed"):
            pool.acquire()
        assert pool.stats().in_use == 0  # the connection went back

    def bad_reset(conn: pypgz.Conn) -> None:
        raise RuntimeError("reset failed")

    with make_pool(dsn, app, max_size=1, reset=bad_reset) as pool:
        with pool.acquire() as conn:
            pid = conn.get_server_pid()
        with pool.acquire() as conn:  # the connection was closed and replaced
            assert conn.get_server_pid() != pid


# --------------------------------------------------------------------------- nothing leaks


def test_session_state_does_not_leak(cluster: Cluster, app: str) -> None:
    with make_pool(cluster.dsn(), app, min_size=1, max_size=1) as pool:
        pool.execute("DROP TABLE IF EXISTS pool_leak; CREATE TABLE pool_leak (id int); GRANT ALL ON pool_leak TO PUBLIC")
        with pool.acquire() as a:
            pid = a.get_server_pid()
            a.execute(
                "SET search_path = nowhere, public; SET statement_timeout = 12345; "
                "CREATE TEMP TABLE pool_tmp (x int); SELECT pg_advisory_lock(4242); LISTEN pool_chan"
            )
            assert a.fetchval("SELECT $1::int", 7) == 7  # leaves a cached statement
            a.execute("SET ROLE pgz_scram; SET SESSION AUTHORIZATION pgz_md5")
            assert a.fetchval("SELECT session_user") == "pgz_md5"
            a.execute("BEGIN")
            a.execute("INSERT INTO public.pool_leak VALUES (1)")
        with pool.acquire() as b:
            assert b.get_server_pid() == pid  # the same connection, reset
            assert not b.is_in_transaction()
            assert b.fetchval("SHOW search_path") == '"$user", public'
            assert b.fetchval("SHOW statement_timeout") == "0"
            assert b.fetchval("SELECT to_regclass('pg_temp.pool_tmp')") is None
            assert b.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", pid) == 0
            assert b.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
            assert b.fetchrow("SELECT current_user, session_user") == ("postgres", "postgres")
            assert b.fetchval("SELECT count(*) FROM pool_leak") == 0  # the transaction was rolled back
            # Start-up settings survive, and so does the statement cache.
            assert b.fetchval("SHOW application_name") == app
            assert b.fetchval("SHOW DateStyle").startswith("ISO")
            assert b.fetchval("SELECT $1::int", 8) == 8
        pool.execute("DROP TABLE pool_leak")


def test_reset_as_an_ordinary_role(cluster: Cluster, app: str) -> None:
    dsn = cluster.dsn(Cluster.SCRAM_USER, password=Cluster.TEST_PASSWORD)
    with make_pool(dsn, app, min_size=1, max_size=1) as pool:
        with pool.acquire() as conn:
            pid = conn.get_server_pid()
            conn.execute("SET work_mem = '1MB'; CREATE TEMP TABLE t (x int)")
        with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert conn.fetchval("SHOW work_mem") != "1MB"


def test_unfinished_blocks_and_streams(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1) as pool:
        # A stream left half read is closed by the release; the connection stays in the pool.
        with pool.acquire() as conn:
            pid = conn.get_server_pid()
            rows = conn.stream("SELECT generate_series(1, 100000)", batch_rows=100)
            assert next(rows)[0] == 1
        with pytest.raises(errors.InterfaceError, match="released"):
            next(rows)
        with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert conn.fetchval("SELECT 5") == 5
            # A transaction block left open: the connection is closed, not reset.
            conn.transaction().start()
        with pool.acquire() as conn:
            assert conn.get_server_pid() != pid
            assert not conn.is_in_transaction()
            with conn.transaction():
                assert conn.fetchval("SELECT 1") == 1


# --------------------------------------------------------------------------- misuse


def test_release_of_a_foreign_connection(dsn: str, app: str) -> None:
    with make_pool(dsn, app, max_size=2) as pool, make_pool(dsn, app, max_size=1) as other:
        with pypgz.connect(dsn) as raw:
            with pytest.raises(errors.InterfaceError, match="Conn object: it was not acquired from this pool"):
                pool.release(raw)  # type: ignore[arg-type]
        theirs = other.acquire()
        with pytest.raises(errors.InterfaceError, match="not acquired from this pool"):
            pool.release(theirs)
        other.release(theirs)
        conn = pool.acquire()
        pool.release(conn)
        with pytest.raises(errors.InterfaceError, match="already released"):
            pool.release(conn)
        assert pool.stats().in_use == 0 and other.stats().in_use == 0


def test_use_after_release(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1) as pool:
        with pool.acquire() as stale:
            st = stale.prepare("SELECT $1::int")
            assert st.fetchval(3) == 3
        with pool.acquire() as current:
            for use in (
                lambda: stale.fetchval("SELECT 1"),
                lambda: stale.execute("SELECT 1"),
                lambda: stale.transaction(),
                lambda: stale.get_server_pid(),
                lambda: st.fetchval(4),
            ):
                with pytest.raises(errors.InterfaceError, match="released back to the pool"):
                    use()
            assert current.fetchval("SELECT 1") == 1
        assert "released" in repr(stale)


# --------------------------------------------------------------------------- broken connections


def test_backend_killed_while_idle(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    with make_pool(dsn, app, min_size=2, max_size=2) as pool:
        held = [pool.acquire() for _ in range(2)]
        pids = {c.get_server_pid() for c in held}
        for c in held:
            pool.release(c)
        for pid in pids:
            kill(monitor, pid)
        for _ in range(3):
            with pool.acquire() as conn:
                assert conn.fetchval("SELECT 1") == 1
                assert conn.get_server_pid() not in pids
        eventually(lambda: pool.stats().size == 2 and server_count(monitor, app) == 2)


def test_backend_killed_while_idle_is_replaced_in_the_background(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    with make_pool(dsn, app, min_size=2, max_size=2, max_inactive_connection_lifetime=0.4) as pool:
        pids = set(monitor.fetchval(
            "SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = $1", app))
        for pid in pids:
            kill(monitor, pid)
        # Maintenance notices the dead connections without any acquire, and replaces them.
        eventually(lambda: server_count(monitor, app) == 2 and pool.stats().idle == 2)
        now = set(monitor.fetchval("SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = $1", app))
        assert not now & pids


def test_backend_killed_while_in_use(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1) as pool:
        with pool.acquire() as conn:
            pid = conn.get_server_pid()
            active = "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1"

            def kill_when_running() -> None:
                eventually(lambda: monitor.fetchval(active, pid) is True)
                kill(monitor, pid)

            killer = threading.Thread(target=kill_when_running)
            killer.start()
            with pytest.raises(errors.ConnectionLostError):
                conn.fetchval("SELECT pg_sleep(10)")
            killer.join()
        eventually(lambda: pool.stats().idle == 1)  # replaced in the background
        with pool.acquire() as conn:
            assert conn.get_server_pid() != pid
            assert conn.fetchval("SELECT 1") == 1


def test_server_restart_heals(cluster: Cluster, app: str) -> None:
    dsn = cluster.dsn()
    with make_pool(dsn, app, min_size=2, max_size=3, timeout=30.0) as pool:
        before = {pool.fetchval("SELECT pg_backend_pid()") for _ in range(3)}
        try:
            cluster.restart()
        finally:
            cluster.start()
        held = [pool.acquire() for _ in range(3)]
        try:
            after = {c.fetchval("SELECT pg_backend_pid()") for c in held}
        finally:
            for c in held:
                pool.release(c)
        assert len(after) == 3 and not before & after
        assert pool.stats().size <= 3


def test_server_down_then_up(cluster: Cluster, app: str) -> None:
    dsn = cluster.dsn()
    with make_pool(dsn, app, min_size=1, max_size=2) as pool:
        assert pool.fetchval("SELECT 1") == 1
        try:
            cluster.stop()
            started = time.monotonic()
            with pytest.raises(errors.PoolTimeoutError, match="the last attempt to open a connection failed") as ei:
                pool.acquire(timeout=1.0)
            assert time.monotonic() - started < 3
            assert isinstance(ei.value.__cause__, errors.ConnectionFailedError)
        finally:
            cluster.start()
        with pool.acquire(timeout=30) as conn:  # heals without the application doing anything
            assert conn.fetchval("SELECT 1") == 1


# --------------------------------------------------------------------------- closing and lifetimes


def test_close_waits_for_connections_in_use(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    pool = make_pool(dsn, app, min_size=2, max_size=2)
    conn = pool.acquire()
    results: list[Any] = []

    def late_release() -> None:
        time.sleep(0.5)
        results.append(conn.fetchval("SELECT 1"))  # still usable while the pool closes
        pool.release(conn)

    t = threading.Thread(target=late_release)
    t.start()
    started = time.monotonic()
    pool.close(timeout=10)
    assert 0.4 < time.monotonic() - started < 5
    t.join()
    assert results == [1]
    assert pool.stats().size == 0
    with pytest.raises(errors.PoolClosedError):
        pool.acquire()
    eventually(lambda: server_count(monitor, app) == 0)


def test_close_terminates_connections_still_in_use(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    pool = make_pool(dsn, app, min_size=1, max_size=2)
    outcome: list[BaseException] = []
    running = threading.Event()
    holder = pool.acquire()

    def stuck() -> None:
        running.set()
        try:
            holder.execute("SELECT pg_sleep(30)")
        except BaseException as e:
            outcome.append(e)

    waiting: list[BaseException] = []

    def wait_for_one() -> None:
        try:
            pool.acquire(timeout=30)
        except BaseException as e:
            waiting.append(e)

    other = pool.acquire()
    t = threading.Thread(target=stuck)
    t.start()
    running.wait()
    w = threading.Thread(target=wait_for_one)
    w.start()
    eventually(lambda: pool.stats().waiting == 1)
    started = time.monotonic()
    pool.close(timeout=0.3)
    assert time.monotonic() - started < 3
    t.join(5)
    w.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], errors.ConnectionLostError)
    assert len(waiting) == 1 and isinstance(waiting[0], errors.PoolClosedError)
    with pytest.raises(errors.InterfaceError, match="terminated"):
        other.fetchval("SELECT 1")
    pool.release(holder)  # the holders may still release: nothing happens
    pool.release(other)
    # Nothing is left but the backend still sleeping: it sees its client gone when it next writes.
    idle = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'active'"
    eventually(lambda: monitor.fetchval(idle, app) == 0)
    monitor.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'")


def test_terminate(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    pool = make_pool(dsn, app, min_size=2, max_size=2)
    held = pool.acquire()
    pool.terminate()
    assert pool.is_closing()
    with pytest.raises(errors.InterfaceError, match="terminated"):
        held.fetchval("SELECT 1")
    with pytest.raises(errors.PoolClosedError):
        pool.acquire()
    pool.close()  # nothing left to do
    eventually(lambda: server_count(monitor, app) == 0)


def test_expire_connections(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=2, max_size=2) as pool:
        held = pool.acquire()
        held_pid = held.get_server_pid()
        with pool.acquire() as c:
            idle_pid = c.get_server_pid()
        pool.expire_connections()
        assert held.fetchval("SELECT 1") == 1  # a connection in use is left alone...
        pool.release(held)  # ...and replaced when it comes back
        conns = [pool.acquire() for _ in range(2)]
        assert not {held_pid, idle_pid} & {c.get_server_pid() for c in conns}
        for c in conns:
            pool.release(c)


def test_max_queries(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1, max_queries=3) as pool:
        pids = [pool.fetchval("SELECT pg_backend_pid()") for _ in range(7)]
        assert pids[0] == pids[1] == pids[2] != pids[3]
        assert pids[3] == pids[4] == pids[5] != pids[6]


def test_max_inactive_connection_lifetime(dsn: str, app: str, monitor: pypgz.Conn) -> None:
    with make_pool(dsn, app, min_size=1, max_size=3, max_inactive_connection_lifetime=0.3) as pool:
        held = [pool.acquire() for _ in range(3)]
        for c in held:
            pool.release(c)
        assert pool.stats().size == 3
        eventually(lambda: pool.stats().size == 1 and server_count(monitor, app) == 1)  # never below min_size


def test_max_lifetime(dsn: str, app: str) -> None:
    with make_pool(dsn, app, min_size=1, max_size=1, max_lifetime=0.3) as pool:
        first = pool.fetchval("SELECT pg_backend_pid()")
        time.sleep(0.5)
        assert pool.fetchval("SELECT pg_backend_pid()") != first
