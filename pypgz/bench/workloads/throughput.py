"""Seed 002's throughput queries (asyncpg's "1M rows/s" post), at N connections at once.

The post ran each with 8 concurrent connections: async drivers run one task per
connection on one event loop, sync drivers one thread per connection.
"""

from __future__ import annotations

from pypgz.bench.clients import Rows
from pypgz.bench.workloads.base import FetchWorkload, Table, Workload, expect_types

PG_TYPE_SQL = (
    "SELECT typname, typnamespace, typowner, typlen, typbyval, typcategory,"
    " typispreferred, typisdefined, typdelim, typrelid, typelem, typarray"
    " FROM pg_type WHERE typtypmod = $1 AND typisdefined = $2"
)

BYTES_TABLE = Table(
    "pypgz_bench_bytes",
    "CREATE TABLE pypgz_bench_bytes (b bytea NOT NULL);"
    " INSERT INTO pypgz_bench_bytes SELECT repeat('a', 1000)::bytea FROM generate_series(1, 100)",
)

ARRAYS_TABLE = Table(
    "pypgz_bench_arrays",
    "CREATE TABLE pypgz_bench_arrays (a int[] NOT NULL);"
    " INSERT INTO pypgz_bench_arrays"
    " SELECT (SELECT array_agg(i) FROM generate_series(1, 100) AS s(i)) FROM generate_series(1, 100)",
)


def check_bytes(rows: Rows) -> str | None:
    value = rows[0][0] if rows else None
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != 1000:
        return f"bytea came back as {type(value).__name__}"
    return None


def check_array(rows: Rows) -> str | None:
    value = rows[0][0] if rows else None
    if not isinstance(value, list) or len(value) != 100 or not isinstance(value[0], int):
        return f"int[] came back undecoded, as {type(value).__name__}"
    return None


WORKLOADS: tuple[Workload, ...] = (
    FetchWorkload(
        name="pg-type",
        title="pg_type, 12 columns (typtypmod = -1 AND typisdefined)",
        group="throughput",
        sql=PG_TYPE_SQL,
        args=(-1, True),
        concurrency=None,
        check=expect_types(
            ("typname (name)", str), ("typnamespace (oid)", int), ("typowner (oid)", int),
            ("typlen (int2)", int), ("typbyval (bool)", bool), ('typcategory ("char")', str),
            ("typispreferred (bool)", bool), ("typisdefined (bool)", bool), ('typdelim ("char")', str),
            ("typrelid (oid)", int), ("typelem (oid)", int), ("typarray (oid)", int),
        ),
    ),
    FetchWorkload(
        name="series-1000",
        title="SELECT i FROM generate_series(1, 1000)",
        group="throughput",
        sql="SELECT i FROM generate_series(1, $1) AS i",
        args=(1000,),
        concurrency=None,
        check=expect_types(("i (int)", int)),
    ),
    FetchWorkload(
        name="bytea-100x1k",
        title="100 rows of 1 KB bytea",
        group="throughput",
        sql="SELECT b FROM pypgz_bench_bytes",
        concurrency=None,
        tables=(BYTES_TABLE,),
        check=check_bytes,
    ),
    FetchWorkload(
        name="int-array-100x100",
        title="100 rows of int[100]",
        group="throughput",
        sql="SELECT a FROM pypgz_bench_arrays",
        concurrency=None,
        tables=(ARRAYS_TABLE,),
        check=check_array,
    ),
)
