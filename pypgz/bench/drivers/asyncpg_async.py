"""asyncpg, on asyncio's default loop and on uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from pypgz.bench.clients import Args, AsyncClient, Rows
from pypgz.bench.drivers.base import AsyncDriver, Driver
from pypgz.bench.target import Target


class AsyncpgClient:
    family = "asyncpg"

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    async def fetcher(self, sql: str, args: Args) -> Callable[[], Awaitable[Rows]]:
        fetch: Callable[[], Awaitable[Rows]] = partial(self.raw.fetch, sql, *args)
        return fetch

    async def executor(self, sql: str, args: Args) -> Callable[[], Awaitable[object]]:
        execute: Callable[[], Awaitable[object]] = partial(self.raw.execute, sql, *args)
        return execute

    async def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], Awaitable[object]]:
        many: Callable[[], Awaitable[object]] = partial(self.raw.executemany, sql, rows)
        return many

    async def close(self) -> None:
        await self.raw.close()


class Asyncpg(AsyncDriver):
    name = "asyncpg"
    family = "asyncpg"
    dist = "asyncpg"

    async def connect(self, target: Target) -> AsyncClient:
        return AsyncpgClient(await asyncpg.connect(target.dsn))


class AsyncpgUvloop(Asyncpg):
    name = "asyncpg-uvloop"
    loop = "uvloop"

    def new_loop(self) -> asyncio.AbstractEventLoop:
        import uvloop

        return uvloop.new_event_loop()


def make(name: str) -> Driver:
    if name.endswith("-uvloop"):
        import uvloop  # noqa: F401  (ImportError: reported as "not installed")

        return AsyncpgUvloop()
    return Asyncpg()
