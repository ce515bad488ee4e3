"""pypgz's ``AsyncConn``, on asyncio's default loop and on uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import pypgz
from pypgz.bench.clients import Args, AsyncClient, Rows
from pypgz.bench.drivers.base import AsyncDriver, Driver
from pypgz.bench.target import Target


class PypgzAsyncClient:
    family = "pypgz"

    def __init__(self, conn: pypgz.AsyncConn) -> None:
        self.raw = conn

    async def fetcher(self, sql: str, args: Args) -> Callable[[], Awaitable[Rows]]:
        return partial(self.raw.fetch, sql, *args)

    async def executor(self, sql: str, args: Args) -> Callable[[], Awaitable[object]]:
        return partial(self.raw.execute, sql, *args)

    async def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], Awaitable[object]]:
        return partial(self.raw.executemany, sql, rows)

    async def close(self) -> None:
        await self.raw.close()


class PypgzAsync(AsyncDriver):
    name = "pypgz-async"
    family = "pypgz"
    dist = "pypgz"

    async def connect(self, target: Target) -> AsyncClient:
        return PypgzAsyncClient(await pypgz.connect_async(target.dsn))


class PypgzAsyncUvloop(PypgzAsync):
    name = "pypgz-async-uvloop"
    loop = "uvloop"

    def new_loop(self) -> asyncio.AbstractEventLoop:
        import uvloop

        return uvloop.new_event_loop()


def make(name: str) -> Driver:
    if name.endswith("-uvloop"):
        import uvloop  # noqa: F401  (ImportError: reported as "not installed")

        return PypgzAsyncUvloop()
    return PypgzAsync()
