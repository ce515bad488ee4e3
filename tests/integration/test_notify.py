"""LISTEN/NOTIFY on both facades."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pypgz


def test_sync_listener_and_notifies(dsn: str) -> None:
    got: list[tuple[str, str]] = []
    with pypgz.connect(dsn) as listener, pypgz.connect(dsn) as sender:
        def on_notify(conn: Any, pid: int, ch: str, payload: str) -> None:
            got.append((ch, payload))

        listener.add_listener("pypgz chan", on_notify)
        sender.execute("NOTIFY \"pypgz chan\", 'during a query'")
        listener.fetchval("SELECT 1")  # delivered while the listener runs a query
        assert got == [("pypgz chan", "during a query")]

        threading.Timer(0.2, sender.execute, args=("SELECT pg_notify('pypgz chan', 'while waiting')",)).start()
        received = [(n.channel, n.payload, n.pid) for n in listener.notifies(timeout=3)]
        assert received == [("pypgz chan", "while waiting", sender.get_server_pid())]
        assert got[-1] == ("pypgz chan", "while waiting")

        listener.remove_listener("pypgz chan", on_notify)
        sender.execute("NOTIFY \"pypgz chan\", 'ignored'")
        assert list(listener.notifies(timeout=0.3)) == []


async def test_async_listener_delivers_while_idle(dsn: str) -> None:
    listener = await pypgz.connect_async(dsn)
    sender = await pypgz.connect_async(dsn)
    try:
        arrived = asyncio.Event()
        seen: list[Any] = []

        def on_notify(conn: Any, pid: int, channel: str, payload: str) -> None:
            seen.append((conn is listener, channel, payload))
            arrived.set()

        await listener.add_listener("jobs", on_notify)
        await sender.execute("SELECT pg_notify('jobs', 'job 1')")
        await asyncio.wait_for(arrived.wait(), 3)  # the listener ran no query meanwhile
        assert seen == [(True, "jobs", "job 1")]

        async def coro_cb(conn: Any, pid: int, channel: str, payload: str) -> None:
            seen.append(("coro", payload))

        await listener.add_listener("jobs", coro_cb)
        await sender.execute("NOTIFY jobs, 'job 2'")
        for _ in range(50):
            if ("coro", "job 2") in seen:
                break
            await asyncio.sleep(0.05)
        assert ("coro", "job 2") in seen and (True, "jobs", "job 2") in seen
        await listener.remove_listener("jobs", on_notify)
        await listener.remove_listener("jobs", coro_cb)
        assert await listener.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
    finally:
        await listener.close()
        await sender.close()
