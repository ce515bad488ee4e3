"""Seed 000's latency table: one connection, one operation at a time.

SELECT of 1, 10, 100 and 1000 rows of a 4-column table (int, text, float8,
timestamptz), and a single-row parameterised INSERT.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pypgz.bench.clients import Rows
from pypgz.bench.workloads.base import ExecuteWorkload, FetchWorkload, Table, Workload

ROWS_TABLE = Table(
    "pypgz_bench_rows",
    "CREATE TABLE pypgz_bench_rows (id int PRIMARY KEY, name text NOT NULL,"
    " score float8 NOT NULL, created timestamptz NOT NULL);"
    " INSERT INTO pypgz_bench_rows SELECT i, 'row number ' || i, i * 1.25,"
    " timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute 1.5 seconds'"
    " FROM generate_series(1, 1000) AS i;"
    " ANALYZE pypgz_bench_rows;",
)

INSERT_TABLE = Table(
    "pypgz_bench_insert",
    "CREATE TABLE pypgz_bench_insert (id int, name text, score float8, created timestamptz)",
)

# Without ORDER BY the plan is a sequential scan that stops after $1 rows, whatever $1 is.
SELECT_SQL = "SELECT id, name, score, created FROM pypgz_bench_rows LIMIT $1"
INSERT_SQL = "INSERT INTO pypgz_bench_insert (id, name, score, created) VALUES ($1, $2, $3, $4)"
INSERT_ARGS = (42, "a new row", 3.25, datetime(2024, 5, 17, 12, 30, 15, 250000, tzinfo=timezone.utc))


def check_rows(rows: Rows) -> str | None:
    """Each row should be (int, str, float, aware datetime)."""
    if not rows:
        return "returned no rows"
    ident, name, score, created = rows[0]
    for value, want in ((ident, int), (name, str), (score, float), (created, datetime)):
        if not isinstance(value, want):
            return f"{want.__name__} column came back as {type(value).__name__}"
    if created.tzinfo is None:
        return "timestamptz came back as a naive datetime"
    return None


def select(count: int) -> Workload:
    noun = "row" if count == 1 else "rows"
    return FetchWorkload(
        name=f"select-{count}",
        title=f"SELECT {count} {noun} (int, text, float8, timestamptz)",
        group="latency",
        sql=SELECT_SQL,
        args=(count,),
        tables=(ROWS_TABLE,),
        check=check_rows,
    )


INSERT = ExecuteWorkload(
    name="insert-1",
    title="INSERT 1 row, 4 parameters",
    group="latency",
    sql=INSERT_SQL,
    args=INSERT_ARGS,
    tables=(INSERT_TABLE,),
    reset_sql="TRUNCATE pypgz_bench_insert",
)

WORKLOADS: tuple[Workload, ...] = (select(1), select(10), select(100), select(1000), INSERT)
