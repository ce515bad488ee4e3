"""Timeouts and cancellation common to both facades."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pypgz import errors


async def test_query_timeout_cancels_on_server(db: Any) -> None:
    start = time.monotonic()
    with pytest.raises(errors.QueryTimeoutError) as ei:
        await db.execute("SELECT pg_sleep(10)", timeout=0.5)
    assert time.monotonic() - start < 4
    # The server itself cancelled the query (SQLSTATE 57014), and the connection is idle.
    assert isinstance(ei.value.__cause__, errors.QueryCanceledError)
    assert db.transaction_status == "idle"
    assert await db.fetchval("SELECT 7") == 7


async def test_timeout_on_every_query_method(db: Any) -> None:
    for call in (
        lambda: db.fetch("SELECT pg_sleep(5)", timeout=0.2),
        lambda: db.fetchrow("SELECT pg_sleep(5)", timeout=0.2),
        lambda: db.fetchval("SELECT pg_sleep($1)", 5, timeout=0.2),
        lambda: db.execute("SELECT pg_sleep($1)", 5, timeout=0.2),
        lambda: db.executemany("SELECT pg_sleep($1)", [(5,)], timeout=0.2),
    ):
        with pytest.raises(errors.QueryTimeoutError):
            await call()
        assert await db.fetchval("SELECT 1") == 1


async def test_command_timeout(facade: str, dsn: str) -> None:
    from facades import open_facade

    db = await open_facade(facade, dsn, command_timeout=0.3)
    try:
        with pytest.raises(errors.QueryTimeoutError):
            await db.fetchval("SELECT pg_sleep(5)")
        assert await db.fetchval("SELECT 1") == 1
        # An explicit timeout wins over the connection's.
        assert await db.fetchval("SELECT pg_sleep(0.5)::text", timeout=5) == ""
    finally:
        await db.close()


async def test_timeout_inside_transaction_leaves_it_failed(db: Any) -> None:
    await db.execute("BEGIN")
    with pytest.raises(errors.QueryTimeoutError):
        await db.execute("SELECT pg_sleep(5)", timeout=0.2)
    assert db.transaction_status == "in_error"
    await db.execute("ROLLBACK")
    assert await db.fetchval("SELECT 1") == 1


async def test_unanswered_cancel_closes_the_connection(facade: str, dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that stops answering (its backend frozen with SIGSTOP) ignores the cancel
    request too: after a bounded wait the connection is closed instead of hanging."""
    import os
    import signal

    import pypgz.aconn
    import pypgz.conn
    from facades import open_facade

    monkeypatch.setattr(pypgz.conn, "CANCEL_GRACE", 1.0)
    monkeypatch.setattr(pypgz.aconn, "CANCEL_GRACE", 1.0)
    db = await open_facade(facade, dsn)
    pid = db.get_server_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises((errors.QueryTimeoutError, errors.ConnectionLostError)):
            await db.fetchval("SELECT 1", timeout=0.5)
        assert time.monotonic() - start < 6
        assert db.is_closed()
    finally:
        os.kill(pid, signal.SIGCONT)
        await db.close()


async def test_stream_timeout_cancels(db: Any) -> None:
    start = time.monotonic()
    with pytest.raises(errors.QueryTimeoutError):
        async for _ in db.stream("SELECT pg_sleep(5), i FROM generate_series(1, 3) i", timeout=0.3):
            pass
    assert time.monotonic() - start < 4
    assert await db.fetchval("SELECT 8") == 8
