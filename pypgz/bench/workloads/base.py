"""The workload model: what one operation is, the tables it needs, how it binds to a client.

A workload is bound to a client once per slice (outside the timing) and yields an
operation the timing loop calls repeatedly. The common kinds (fetch, execute,
executemany) bind through the client's generic methods; a workload needing
driver-specific calls (COPY, say) subclasses ``Workload`` and binds through
``client.family`` and ``client.raw`` instead, all in its own file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pypgz.bench.clients import Args, AsyncClient, AsyncOp, Rows, SyncClient, SyncOp

# Checks one result and returns a note when a driver hands back something other than
# the decoded values (e.g. raw bytes), so the table can say so.
Check = Callable[[Rows], str | None]


class Unsupported(Exception):
    """Raised while binding when a driver has no API for the workload (e.g. no COPY)."""


@dataclass(frozen=True)
class Table:
    """A table a workload reads or writes; ``create`` makes and fills it."""

    name: str
    create: str


@dataclass(frozen=True)
class Bound:
    op: SyncOp
    note: str | None = None


@dataclass(frozen=True)
class AsyncBound:
    op: AsyncOp
    note: str | None = None


@dataclass(frozen=True)
class Workload:
    name: str  # short, for --workloads and the JSON
    title: str  # for the reports
    group: str  # "latency", "throughput", "bulk" or "floor"
    sql: str
    args: Args = ()
    # Connections run at once: 1, or None for the --concurrency setting.
    concurrency: int | None = 1
    tables: tuple[Table, ...] = ()
    reset_sql: str | None = None  # run before each slice (e.g. TRUNCATE a growing table)
    pgbench_script: str | None = None  # set when pgbench can run the same operation
    check: Check | None = field(default=None, compare=False)

    def bind_sync(self, client: SyncClient) -> Bound:
        raise NotImplementedError

    async def bind_async(self, client: AsyncClient) -> AsyncBound:
        raise NotImplementedError


def consume(rows: Rows) -> int:
    """Reads every value of every row, the same way for every driver, so a driver that
    decodes lazily is not flattered; returns the number of rows."""
    for row in rows:
        for _value in row:
            pass
    return len(rows)


@dataclass(frozen=True)
class FetchWorkload(Workload):
    """Runs a query and reads all of its rows."""

    def bind_sync(self, client: SyncClient) -> Bound:
        fetch = client.fetcher(self.sql, self.args)
        note = self.check(fetch()) if self.check else None

        def op() -> int:
            return consume(fetch())

        return Bound(op, note)

    async def bind_async(self, client: AsyncClient) -> AsyncBound:
        fetch = await client.fetcher(self.sql, self.args)
        note = self.check(await fetch()) if self.check else None

        async def op() -> int:
            return consume(await fetch())

        return AsyncBound(op, note)


@dataclass(frozen=True)
class ExecuteWorkload(Workload):
    """Runs a parameterised command that returns no rows; counts one row per operation."""

    def bind_sync(self, client: SyncClient) -> Bound:
        execute = client.executor(self.sql, self.args)

        def op() -> int:
            execute()
            return 1

        return Bound(op)

    async def bind_async(self, client: AsyncClient) -> AsyncBound:
        execute = await client.executor(self.sql, self.args)

        async def op() -> int:
            await execute()
            return 1

        return AsyncBound(op)


@dataclass(frozen=True)
class ManyWorkload(Workload):
    """Runs a command once per argument set with the driver's executemany."""

    rows: Sequence[Args] = ()

    def bind_sync(self, client: SyncClient) -> Bound:
        many = client.batcher(self.sql, self.rows)
        count = len(self.rows)

        def op() -> int:
            many()
            return count

        return Bound(op)

    async def bind_async(self, client: AsyncClient) -> AsyncBound:
        many = await client.batcher(self.sql, self.rows)
        count = len(self.rows)

        async def op() -> int:
            await many()
            return count

        return AsyncBound(op)


def expect_types(*columns: tuple[str, type | tuple[type, ...]]) -> Check:
    """A check that the first row's values have these Python types: (column, type) pairs."""

    def check(rows: Rows) -> str | None:
        if not rows:
            return "returned no rows"
        for value, (name, want) in zip(tuple(rows[0]), columns):
            if not isinstance(value, want):
                return f"{name} came back as {type(value).__name__} {_short(value)}"
        return None

    return check


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."
