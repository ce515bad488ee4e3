"""What a workload may ask of a driver's connection.

A client wraps one connection of one driver. Each method returns a ready-to-call
operation with the statement and arguments already bound, so the timed loop calls
the driver with no extra layers in between; drivers that prepare explicitly do it
while binding, outside the timing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

Row = Sequence[Any]
Rows = Sequence[Row]
Args = tuple[Any, ...]


class SyncClient(Protocol):
    family: str  # "pypgz", "asyncpg", "psycopg", "pyro": lets a workload use `raw` directly
    raw: Any  # the driver's own connection object

    def fetcher(self, sql: str, args: Args) -> Callable[[], Rows]: ...

    def executor(self, sql: str, args: Args) -> Callable[[], object]: ...

    def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], object]: ...

    def close(self) -> None: ...


class AsyncClient(Protocol):
    family: str
    raw: Any

    async def fetcher(self, sql: str, args: Args) -> Callable[[], Awaitable[Rows]]: ...

    async def executor(self, sql: str, args: Args) -> Callable[[], Awaitable[object]]: ...

    async def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], Awaitable[object]]: ...

    async def close(self) -> None: ...


SyncOp = Callable[[], int]  # one operation; returns the rows it read or wrote
AsyncOp = Callable[[], Awaitable[int]]
