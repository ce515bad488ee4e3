"""A value is stored the same way whatever an earlier call of the same query passed.

The statement cache holds one statement per query text and set of declared parameter
types, so a naive datetime before an aware one, or a bool before an int, cannot fix the
types later values are encoded to; and a call that fails leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import pypgz
from pypgz import errors
from facades import open_facade

NEW_YORK = {"TimeZone": "America/New_York"}
PLUS_TWO = timezone(timedelta(hours=2))


async def test_aware_datetime_after_a_naive_one_keeps_its_instant(facade: str, dsn: str) -> None:
    db = await open_facade(facade, dsn, server_settings=NEW_YORK)
    try:
        naive = datetime(2024, 5, 6, 3, 4, 5)
        aware = datetime(2024, 5, 6, 3, 4, 5, tzinfo=PLUS_TWO)
        # Naive for timestamptz: the server reads it in the session's TimeZone.
        assert await db.fetchval("SELECT $1::timestamptz", naive) == datetime(2024, 5, 6, 7, 4, 5, tzinfo=timezone.utc)
        assert await db.fetchval("SELECT $1::timestamptz", aware) == aware
        assert await db.fetchval("SELECT $1::timestamptz", naive) == datetime(2024, 5, 6, 7, 4, 5, tzinfo=timezone.utc)
    finally:
        await db.close()


async def test_aware_time_after_a_naive_one_keeps_its_offset(facade: str, dsn: str) -> None:
    db = await open_facade(facade, dsn, server_settings=NEW_YORK)
    try:
        await db.execute("CREATE TEMP TABLE times (t timetz)")
        await db.execute("INSERT INTO times VALUES ($1)", time(3, 4, 5))
        await db.execute("INSERT INTO times VALUES ($1)", time(3, 4, 5, tzinfo=PLUS_TWO))
        rendered = [r[0] for r in await db.fetch("SELECT t::text FROM times")]
        assert rendered[1] == "03:04:05+02"
    finally:
        await db.close()


async def test_int_after_a_bool_is_an_int(db: Any) -> None:
    assert await db.fetchval("SELECT $1::int", True) == 1
    assert await db.fetchval("SELECT $1::int", 5) == 5
    assert await db.fetchval("SELECT $1::int", False) == 0


async def test_executemany_mixing_naive_and_aware_datetimes(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE mixed_ts (i int, t timestamptz)")
    aware = datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO)
    naive = datetime(2024, 1, 2, 3, 4, 5)
    await db.executemany("INSERT INTO mixed_ts VALUES ($1, $2)", [(1, naive), (2, aware), (3, None)])
    rows = await db.fetch("SELECT t FROM mixed_ts ORDER BY i")
    assert rows[1][0] == aware  # the aware value keeps its instant whatever came before it
    assert rows[2][0] is None
    # The same call again stores the same values.
    await db.executemany("INSERT INTO mixed_ts VALUES ($1, $2)", [(4, naive), (5, aware)])
    again = await db.fetch("SELECT t FROM mixed_ts WHERE i IN (4, 5) ORDER BY i")
    assert [r[0] for r in again] == [rows[0][0], aware]


async def test_executemany_mixing_ints_and_floats(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE mixed_num (x float8)")
    await db.executemany("INSERT INTO mixed_num VALUES ($1)", [(1,), (2.5,), (None,)])
    await db.executemany("INSERT INTO mixed_num VALUES ($1)", [(1,), (2.5,), (None,)])
    assert [r[0] for r in await db.fetch("SELECT x FROM mixed_num")] == [1.0, 2.5, None] * 2


async def test_an_encode_error_leaves_nothing_behind(db: Any) -> None:
    for _ in range(2):
        with pytest.raises(errors.EncodeError):
            await db.fetchval("SELECT $1::text", "bad \ud800 surrogate")
    assert await db.fetchval("SELECT $1::text", "good") == "good"
    with pytest.raises(errors.EncodeError):
        await db.fetchval("SELECT $1::numeric", Decimal("1e-20000"))
    assert await db.fetchval("SELECT $1::numeric", Decimal("1.5")) == Decimal("1.5")
    with pytest.raises(errors.EncodeError):
        await db.executemany("INSERT INTO nowhere VALUES ($1)", [("bad \ud800",)])
    with pytest.raises(errors.UndefinedTableError):
        await db.executemany("INSERT INTO nowhere VALUES ($1)", [("fine",)])


async def test_an_encode_error_in_a_pool_leaves_nothing_behind(dsn: str) -> None:
    pool = await pypgz.create_async_pool(dsn, min_size=1, max_size=1)
    try:
        with pytest.raises(errors.EncodeError):
            await pool.fetchval("SELECT $1::text", "bad \ud800")
        assert await pool.fetchval("SELECT $1::text", "ok") == "ok"
    finally:
        await pool.close()


async def test_an_arity_error_is_raised_before_anything_is_sent(db: Any) -> None:
    assert await db.fetchval("SELECT $1::int + $2::int", 1, 2) == 3
    with pytest.raises(errors.InterfaceError, match="2 parameters but 1 argument was given"):
        await db.fetchval("SELECT $1::int + $2::int", 1.5)
    assert await db.fetchval("SELECT $1::int + $2::int", 2, 2) == 4


# ---- property: a cached connection answers as a fresh statement would --------------------

QUERIES = [
    "SELECT $1::text",
    "SELECT $1::timestamptz",
    "SELECT $1::timestamp",
    "SELECT $1::timetz::text",
    "SELECT $1::int8",
    "SELECT $1::numeric",
    "SELECT $1::float8",
    "SELECT pg_typeof($1)::text",
]

_offsets = hs.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_datetimes = hs.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
VALUES = hs.one_of(
    hs.none(),
    hs.booleans(),
    hs.integers(-(2**63), 2**63 - 1),
    hs.floats(allow_nan=False, allow_infinity=False, width=64),
    hs.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9),
    hs.text(hs.characters(codec="utf-8", exclude_characters="\x00"), max_size=10),
    _datetimes,
    hs.builds(lambda d, tz: d.replace(tzinfo=tz), _datetimes, _offsets),
    hs.times(),
    hs.builds(lambda t, tz: t.replace(tzinfo=tz), hs.times(), _offsets),
)


def _outcome(conn: pypgz.Conn, sql: str, value: Any) -> tuple[str, Any]:
    try:
        return "value", conn.fetchval(sql, value)
    except errors.PostgresError as e:
        return "error", e.sqlstate
    except errors.EncodeError:
        return "error", "encode"


def test_cached_statements_answer_as_fresh_ones(dsn: str) -> None:
    """Random sequences of calls of one query text with values of mixed types: the cached
    connection gives what a connection that parses every query afresh gives."""
    with pypgz.connect(dsn, server_settings=NEW_YORK) as cached, \
            pypgz.connect(dsn, server_settings=NEW_YORK, statement_cache_size=0) as fresh:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(hs.sampled_from(QUERIES), hs.lists(VALUES, min_size=2, max_size=8))
        def check(sql: str, values: list[Any]) -> None:
            for v in values:
                assert _outcome(cached, sql, v) == _outcome(fresh, sql, v), (sql, v)

        check()
