"""psycopg 3's ``AsyncConnection`` on asyncio's default loop (settings as psycopg_sync)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import psycopg

from pypgz.bench.clients import Args, AsyncClient, Rows
from pypgz.bench.drivers.base import AsyncDriver, Driver
from pypgz.bench.drivers.psycopg_common import implementation, to_psycopg
from pypgz.bench.target import Target


class PsycopgAsyncClient:
    family = "psycopg"

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.raw = conn
        self.cursor = conn.cursor()

    async def fetcher(self, sql: str, args: Args) -> Callable[[], Awaitable[Rows]]:
        query, cur = to_psycopg(sql), self.cursor

        async def fetch() -> Rows:
            await cur.execute(query, args)
            return await cur.fetchall()

        return fetch

    async def executor(self, sql: str, args: Args) -> Callable[[], Awaitable[object]]:
        return partial(self.cursor.execute, to_psycopg(sql), args)

    async def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], Awaitable[object]]:
        return partial(self.cursor.executemany, to_psycopg(sql), rows)

    async def close(self) -> None:
        await self.raw.close()


class PsycopgAsync(AsyncDriver):
    name = "psycopg-async"
    family = "psycopg"
    dist = "psycopg"

    def version(self) -> str:
        return f"{super().version()} ({implementation()})"

    async def connect(self, target: Target) -> AsyncClient:
        return PsycopgAsyncClient(await psycopg.AsyncConnection.connect(target.dsn, autocommit=True))


def make(name: str) -> Driver:
    return PsycopgAsync()
