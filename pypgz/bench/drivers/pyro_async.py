"""pyro-postgres's async ``Conn`` on asyncio's default loop (see pyro_common).

Its I/O runs on a Rust (tokio) thread; that thread's CPU time counts as client CPU.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from pyro_postgres.async_ import Conn

from pypgz.bench.clients import Args, AsyncClient, Rows
from pypgz.bench.drivers import pyro_common
from pypgz.bench.drivers.base import AsyncDriver, Driver
from pypgz.bench.target import Target


class PyroAsyncClient:
    family = "pyro"

    def __init__(self, conn: Conn) -> None:
        self.raw = conn

    async def fetcher(self, sql: str, args: Args) -> Callable[[], Awaitable[Rows]]:
        return partial(self.raw.exec, await self.raw.prepare(sql), args)

    async def executor(self, sql: str, args: Args) -> Callable[[], Awaitable[object]]:
        return partial(self.raw.exec_drop, await self.raw.prepare(sql), args)

    async def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], Awaitable[object]]:
        return partial(self.raw.exec_batch, await self.raw.prepare(sql), rows)

    async def close(self) -> None:
        await self.raw.close()


class PyroAsync(AsyncDriver):
    name = "pyro-async"
    family = "pyro"
    dist = "pyro-postgres"

    def unavailable(self, target: Target) -> str | None:
        return pyro_common.unavailable(target)

    async def connect(self, target: Target) -> AsyncClient:
        return PyroAsyncClient(await Conn.new(pyro_common.options(target)))


def make(name: str) -> Driver:
    return PyroAsync()
