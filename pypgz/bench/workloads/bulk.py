"""Bulk writes: executemany of 10,000 rows on one connection (COPY is in copy.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pypgz.bench.clients import Args
from pypgz.bench.workloads.base import ManyWorkload, Table, Workload

MANY_TABLE = Table(
    "pypgz_bench_many",
    "CREATE TABLE pypgz_bench_many (id int, name text, score float8, created timestamptz)",
)

MANY_COUNT = 10_000


def many_rows(count: int) -> tuple[Args, ...]:
    """The same argument sets for every driver, built once."""
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return tuple((i, f"row number {i}", i * 1.25, start + timedelta(seconds=i)) for i in range(count))


WORKLOADS: tuple[Workload, ...] = (
    ManyWorkload(
        name="executemany-10k",
        title=f"executemany, {MANY_COUNT:,} rows of 4 parameters",
        group="bulk",
        sql="INSERT INTO pypgz_bench_many (id, name, score, created) VALUES ($1, $2, $3, $4)",
        rows=many_rows(MANY_COUNT),
        tables=(MANY_TABLE,),
        reset_sql="TRUNCATE pypgz_bench_many",
    ),
)
