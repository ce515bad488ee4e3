"""COPY in and out of 100,000 rows on one connection (4 columns: int, text, float8,
timestamptz), through each driver's own COPY API.

- in: pypgz's and asyncpg's ``copy_records_to_table`` (binary COPY of Python tuples);
  psycopg's ``Copy.write_row`` per tuple (its default text format);
- out: the table's rows as COPY's text format, handed over in chunks to a sink that
  counts the bytes (pypgz's and asyncpg's ``copy_from_table(output=...)``, iterating
  psycopg's ``Copy``).

pyro-postgres 0.3 has no COPY API: its cells say so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from pypgz.bench.clients import Args, AsyncClient, SyncClient
from pypgz.bench.workloads.base import AsyncBound, Bound, Table, Unsupported, Workload

COPY_COUNT = 100_000
COLUMNS = ("id", "name", "score", "created")
_DDL = "(id int, name text, score float8, created timestamptz)"

IN_TABLE = Table("pypgz_bench_copy_in", f"CREATE TABLE pypgz_bench_copy_in {_DDL}")
OUT_TABLE = Table(
    "pypgz_bench_copy_out",
    f"CREATE TABLE pypgz_bench_copy_out {_DDL};"
    " INSERT INTO pypgz_bench_copy_out SELECT i, 'row number ' || i, i * 1.25,"
    " timestamptz '2024-01-01 00:00:00+00' + i * interval '1.5 seconds'"
    f" FROM generate_series(1, {COPY_COUNT}) AS i",
)
IN_SQL = f"COPY {IN_TABLE.name} ({', '.join(COLUMNS)}) FROM STDIN"
OUT_SQL = f"COPY {OUT_TABLE.name} TO STDOUT"


@cache
def copy_rows() -> tuple[Args, ...]:
    """The records sent by COPY IN, built once (on first use, not at import)."""
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return tuple((i, f"row number {i}", i * 1.25, start + timedelta(seconds=i)) for i in range(COPY_COUNT))


def _no_copy(family: str) -> Unsupported:
    return Unsupported(f"{ {'pyro': 'pyro-postgres'}.get(family, family)} has no COPY API")


class _Counter:
    """A COPY OUT sink: counts the bytes it is handed."""

    def __init__(self) -> None:
        self.bytes = 0

    def __call__(self, data: bytes) -> None:
        self.bytes += len(data)

    async def acall(self, data: bytes) -> None:
        self.bytes += len(data)


# ---------------------------------------------------------------- COPY IN


def _sync_in(client: SyncClient, rows: tuple[Args, ...]) -> Callable[[], object]:
    raw = client.raw
    if client.family == "pypgz":
        return lambda: raw.copy_records_to_table(IN_TABLE.name, records=rows, columns=COLUMNS)
    if client.family == "psycopg":
        cur = raw.cursor()

        def psycopg_in() -> None:
            with cur.copy(IN_SQL) as cp:
                for row in rows:
                    cp.write_row(row)

        return psycopg_in
    raise _no_copy(client.family)


def _async_in(client: AsyncClient, rows: tuple[Args, ...]) -> Callable[[], Awaitable[object]]:
    raw = client.raw
    if client.family in ("pypgz", "asyncpg"):
        async def records_in() -> object:
            return await raw.copy_records_to_table(IN_TABLE.name, records=rows, columns=COLUMNS)

        return records_in
    if client.family == "psycopg":
        cur = raw.cursor()

        async def psycopg_in() -> None:
            async with cur.copy(IN_SQL) as cp:
                for row in rows:
                    await cp.write_row(row)

        return psycopg_in
    raise _no_copy(client.family)


@dataclass(frozen=True)
class CopyInWorkload(Workload):
    def bind_sync(self, client: SyncClient) -> Bound:
        send = _sync_in(client, copy_rows())

        def op() -> int:
            send()
            return COPY_COUNT

        return Bound(op)

    async def bind_async(self, client: AsyncClient) -> AsyncBound:
        send = _async_in(client, copy_rows())

        async def op() -> int:
            await send()
            return COPY_COUNT

        return AsyncBound(op)


# ---------------------------------------------------------------- COPY OUT


def _sync_out(client: SyncClient, sink: _Counter) -> Callable[[], object]:
    raw: Any = client.raw
    if client.family == "pypgz":
        return lambda: raw.copy_from_table(OUT_TABLE.name, output=sink)
    if client.family == "psycopg":
        cur = raw.cursor()

        def psycopg_out() -> None:
            with cur.copy(OUT_SQL) as cp:
                for data in cp:
                    sink(data)

        return psycopg_out
    raise _no_copy(client.family)


def _async_out(client: AsyncClient, sink: _Counter) -> Callable[[], Awaitable[object]]:
    raw: Any = client.raw
    if client.family in ("pypgz", "asyncpg"):
        async def table_out() -> object:
            return await raw.copy_from_table(OUT_TABLE.name, output=sink.acall)

        return table_out
    if client.family == "psycopg":
        cur = raw.cursor()

        async def psycopg_out() -> None:
            async with cur.copy(OUT_SQL) as cp:
                async for data in cp:
                    sink(data)

        return psycopg_out
    raise _no_copy(client.family)


def _out_note(sink: _Counter) -> str | None:
    return None if sink.bytes > COPY_COUNT * 20 else f"COPY OUT delivered only {sink.bytes} bytes"


@dataclass(frozen=True)
class CopyOutWorkload(Workload):
    def bind_sync(self, client: SyncClient) -> Bound:
        sink = _Counter()
        receive = _sync_out(client, sink)
        receive()  # once, to check the data arrived

        def op() -> int:
            receive()
            return COPY_COUNT

        return Bound(op, _out_note(sink))

    async def bind_async(self, client: AsyncClient) -> AsyncBound:
        sink = _Counter()
        receive = _async_out(client, sink)
        await receive()

        async def op() -> int:
            await receive()
            return COPY_COUNT

        return AsyncBound(op, _out_note(sink))


WORKLOADS: tuple[Workload, ...] = (
    CopyInWorkload(
        name="copy-in-100k",
        title=f"COPY IN, {COPY_COUNT:,} rows of 4 columns",
        group="bulk",
        sql=IN_SQL,
        tables=(IN_TABLE,),
        reset_sql=f"TRUNCATE {IN_TABLE.name}",
    ),
    CopyOutWorkload(
        name="copy-out-100k",
        title=f"COPY OUT, {COPY_COUNT:,} rows of 4 columns (text format)",
        group="bulk",
        sql=OUT_SQL,
        tables=(OUT_TABLE,),
    ),
)
