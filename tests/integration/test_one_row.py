"""Results of exactly one row take their own reader (pypgz/codecs/row.py) once the row
shape is known, i.e. from a statement's second run on. Each case runs a query several times
so that both the bulk path (first run) and the one-row reader answer, and they must agree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from pypgz import errors

UTC = dt.timezone.utc

ROW_SQL = """SELECT $1::int4 AS i, $2::text AS t, $3::float8 AS f, $4::timestamptz AS ts, $5::bool AS b,
                    $6::bytea AS by, $7::numeric AS n, $8::date AS d, $9::int8 AS big, $10::timestamp AS naive"""
ROW_ARGS = (
    7, "grüße", 2.5, dt.datetime(2024, 2, 29, 12, 34, 56, 789, tzinfo=UTC), True, b"\x00\xff", Decimal("12.50"),
    dt.date(1999, 12, 31), -(2**62), dt.datetime(2001, 2, 3, 4, 5, 6),
)  # fmt: skip


async def test_one_row_reader_agrees_with_the_bulk_path(db: Any) -> None:
    first = await db.fetchrow(ROW_SQL, *ROW_ARGS)
    for _ in range(3):
        row = await db.fetchrow(ROW_SQL, *ROW_ARGS)
        assert row == first == ROW_ARGS
        assert [type(v) for v in row] == [type(v) for v in ROW_ARGS]
        assert row["ts"].tzinfo is UTC and row["naive"].tzinfo is None
        assert row["t"] == "grüße"


@pytest.mark.parametrize("null_at", range(len(ROW_ARGS)))
async def test_one_row_reader_nulls_in_each_column(db: Any, null_at: int) -> None:
    args = list(ROW_ARGS)
    args[null_at] = None
    for _ in range(3):
        assert await db.fetchrow(ROW_SQL, *args) == tuple(args)


async def test_one_row_reader_after_many_rows(db: Any) -> None:
    """The shape is learned from a multi-row result; one-row results of it use the reader."""
    sql = "SELECT i, i::text AS s, now() AS at FROM generate_series(1, $1::int) i"
    assert [r[0] for r in await db.fetch(sql, 5)] == [1, 2, 3, 4, 5]
    for _ in range(3):
        rows = await db.fetch(sql, 1)
        assert len(rows) == 1 and rows[0]["i"] == 1 and rows[0]["s"] == "1"
        assert rows[0]["at"].tzinfo is UTC


async def test_one_row_reader_unrepresentable_value(db: Any) -> None:
    """A value Python cannot hold fails with DecodeError in the reader's path too, and the
    connection stays usable."""
    sql = "SELECT $1::int4 AS i, ($2::text)::timestamptz AS ts"
    assert await db.fetchrow(sql, 1, "2020-01-01 00:00+00") == (1, dt.datetime(2020, 1, 1, tzinfo=UTC))
    assert await db.fetchrow(sql, 2, "2021-01-01 00:00+00") == (2, dt.datetime(2021, 1, 1, tzinfo=UTC))
    with pytest.raises(errors.DecodeError, match="timestamptz"):
        await db.fetchrow(sql, 3, "10000-01-01 00:00+00")
    assert await db.fetchrow(sql, 4, "2022-01-01 00:00+00") == (4, dt.datetime(2022, 1, 1, tzinfo=UTC))
    assert await db.fetchval("SELECT 1") == 1


async def test_unrepresentable_value_in_many_rows(db: Any) -> None:
    """The bulk path and streams fail the same way, and leave the connection usable."""
    sql = "SELECT ($1::text)::timestamptz + i * interval '1 day' FROM generate_series(1, 3) i"
    assert len(await db.fetch(sql, "2020-01-01 00:00+00")) == 3
    with pytest.raises(errors.DecodeError, match="timestamptz"):
        await db.fetch(sql, "9999-12-30 00:00+00")  # the second row is in the year 10000
    with pytest.raises(errors.DecodeError, match="timestamptz"):
        async for _ in db.stream(sql, "10000-01-01 00:00+00", batch_rows=1):
            pass
    assert len(await db.fetch(sql, "2021-01-01 00:00+00")) == 3
