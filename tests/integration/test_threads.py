"""Threads: blocking calls release the GIL, and a shared Conn serialises its callers."""

from __future__ import annotations

import threading
import time

import pypgz


def test_two_connections_sleep_in_parallel(dsn: str) -> None:
    conns = [pypgz.connect(dsn) for _ in range(2)]
    try:
        start = time.monotonic()
        threads = [threading.Thread(target=c.execute, args=("SELECT pg_sleep(1)",)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        assert elapsed < 1.8, f"took {elapsed:.2f}s: the GIL was not released while waiting"
    finally:
        for c in conns:
            c.close()


def test_one_conn_shared_by_threads(dsn: str) -> None:
    errors: list[BaseException] = []
    with pypgz.connect(dsn) as conn:

        def worker(n: int) -> None:
            try:
                for i in range(200):
                    got = conn.fetchrow("SELECT $1::int AS a, $2::text AS b", n * 1000 + i, f"t{n}-{i}")
                    assert got == (n * 1000 + i, f"t{n}-{i}"), got
            except BaseException as e:  # collected and re-raised in the main thread
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[0]
        assert conn.fetchval("SELECT 1") == 1


def test_cancel_from_another_thread(dsn: str) -> None:
    with pypgz.connect(dsn) as conn:
        timer = threading.Timer(0.3, conn.cancel)
        timer.start()
        start = time.monotonic()
        try:
            conn.execute("SELECT pg_sleep(10)")
        except pypgz.errors.QueryCanceledError:
            pass
        else:
            raise AssertionError("the query was not cancelled")
        assert time.monotonic() - start < 5
        assert conn.fetchval("SELECT 2") == 2


def test_close_from_another_thread_ends_the_running_call(dsn: str) -> None:
    conn = pypgz.connect(dsn)
    timer = threading.Timer(0.3, conn.close)
    timer.start()
    start = time.monotonic()
    try:
        conn.execute("SELECT pg_sleep(10)")
    except pypgz.errors.ConnectionLostError:
        pass
    else:
        raise AssertionError("the running call did not end")
    assert time.monotonic() - start < 5
    assert conn.is_closed()
    try:
        conn.fetchval("SELECT 1")
    except pypgz.errors.ConnectionClosedError:
        pass
    else:
        raise AssertionError("a closed connection ran a query")
