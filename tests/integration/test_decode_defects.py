"""Values decoded as the server means them, and as asyncpg and psycopg give them (issue 10.4).

Intervals count a year as 365 days and a month as 30; anonymous records (and composites)
decode from binary as tuples of their fields, in one round trip; void is None; arrays of
enums and of domains are lists; xid8 is an int. Every case runs against both facades, and
through each path a query takes: its first run, its cached runs, ``stream()``,
``prepare()``, and with ``statement_cache_size=0``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import pypgz
from facades import open_facade
from pypgz.session import Session

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)


class Counter:
    """Counts the statements a connection sends besides the caller's: type lookups and
    conversions of values to their text form."""

    def __init__(self, db: Any) -> None:
        session: Session = db.conn._session
        self.lookups = 0
        self.conversions = 0
        lookup = getattr(session, "submit_type_query", None)
        convert = session.submit_text_conversion

        def counted_lookup(*a: Any) -> Any:
            self.lookups += 1
            assert lookup is not None
            return lookup(*a)

        def counted_convert(*a: Any) -> Any:
            self.conversions += 1
            return convert(*a)

        if lookup is not None:
            session.submit_type_query = counted_lookup  # type: ignore[method-assign]
        session.submit_text_conversion = counted_convert  # type: ignore[method-assign]


async def every_path(db: Any, sql: str, *args: Any) -> list[Any]:
    """The first value of ``sql`` as each path gives it: first run, cached runs, stream,
    prepared statement (each must agree, so one list comes back)."""
    got = [await db.fetchval(sql, *args) for _ in range(3)]
    got += [r[0] async for r in db.stream(sql, *args)][:1]
    got.append(await (await db.prepare(sql)).fetchval(*args))
    assert all(g == got[0] for g in got), got
    return got


async def fresh(facade: str, dsn: str, **kw: Any) -> Any:
    return await open_facade(facade, dsn, **kw)


# ---------------------------------------------------------------- intervals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 year", dt.timedelta(days=365)),
        ("1 year 2 mons 3 days 04:05:06.000007", dt.timedelta(days=365 + 60 + 3, hours=4, minutes=5, seconds=6, microseconds=7)),
        ("10 years", dt.timedelta(days=3650)),
        ("123 years 11 mons", dt.timedelta(days=123 * 365 + 330)),
        ("-1 year", dt.timedelta(days=-365)),
        ("-14 mons", dt.timedelta(days=-(365 + 60))),  # the sign kept: not floor division
        ("-1 year -2 mons +3 days -00:00:01", dt.timedelta(days=-425 + 3, seconds=-1)),
        ("-25 mons 40 days", dt.timedelta(days=-(2 * 365 + 30) + 40)),
    ],
)
async def test_interval_year_is_365_days(db: Any, text: str, expected: dt.timedelta) -> None:
    assert await every_path(db, f"SELECT '{text}'::interval") == [expected] * 5


async def test_intervals_in_arrays_records_and_many_rows(db: Any) -> None:
    rows = await db.fetch(
        "SELECT v, ARRAY[v, NULL], ROW(v) FROM (VALUES ('1 year'::interval), ('-13 mons'), (NULL)) t(v)"
    )
    y, m13 = dt.timedelta(days=365), dt.timedelta(days=-395)
    assert [tuple(r) for r in rows] == [(y, [y, None], (y,)), (m13, [m13, None], (m13,)), (None, [None, None], (None,))]
    # under a year, months are 30 days as before
    row = await db.fetchrow("SELECT '1 mon'::interval, '1 year -1 mons'::interval, '0'::interval, '-11 mons'::interval")
    assert tuple(row) == (dt.timedelta(days=30), dt.timedelta(days=330), dt.timedelta(0), dt.timedelta(days=-330))


def _server_days_and_us(months: int, days: int, us: int) -> str:
    return (
        "SELECT iv, (extract(year from iv) * 365 + extract(month from iv) * 30 + extract(day from iv))::int8,"
        " ((extract(epoch from iv) - extract(epoch from date_trunc('day', iv))) * 1000000)::int8"
        f" FROM (SELECT make_interval(months => {months}, days => {days}) + {us} * interval '1 microsecond') s(iv)"
    )


INTERVALS = hs.tuples(
    hs.one_of(hs.integers(-30, 30), hs.integers(-2_000_000, 2_000_000)),  # months
    hs.one_of(hs.integers(-40, 40), hs.integers(-1_000_000, 1_000_000)),  # days
    hs.one_of(hs.integers(-10**6, 10**6), hs.integers(-10**12, 10**12)),  # microseconds
)


def test_intervals_property_against_the_server(facade: str, dsn: str) -> None:
    """The server's own reading of each interval (its years, months and days fields, and
    the microseconds of its time) gives the timedelta the 365/30 rule makes of it."""
    loop = asyncio.new_event_loop()
    db = loop.run_until_complete(open_facade(facade, dsn))
    try:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(hs.lists(INTERVALS, min_size=1, max_size=10))
        def check(values: list[tuple[int, int, int]]) -> None:
            sql = " UNION ALL ".join(f"({_server_days_and_us(*v)})" for v in values)
            for (months, days, us), row in zip(values, loop.run_until_complete(db.fetch(sql))):
                got, server_days, server_us = row
                assert got == dt.timedelta(days=server_days, microseconds=server_us), (months, days, us)
                whole, part = divmod(abs(months), 12)
                sign = -1 if months < 0 else 1
                assert got == dt.timedelta(days=days + sign * (whole * 365 + part * 30), microseconds=us)

        check()
    finally:
        loop.run_until_complete(db.close())
        loop.close()


# ---------------------------------------------------------------- anonymous records


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT ROW(1, 'a')", (1, "a")),
        ("SELECT (1, 'a')", (1, "a")),
        ("SELECT s FROM (SELECT 1, 'a') s", (1, "a")),
        ("SELECT json_each('{\"a\": 1}')", ("a", 1)),
        ("SELECT ROW(NULL, NULL::int, 2.5::numeric)", (None, None, Decimal("2.5"))),
        ("SELECT ROW()", ()),
        ("SELECT NULL::record", None),
        ("SELECT ROW('héllo wörld ✓ 🐘', 'x'::bytea, true)", ("héllo wörld ✓ 🐘", b"x", True)),
        ("SELECT ROW(ROW(1, ROW('deep')), ARRAY[1, NULL], '{}'::int[])", ((1, ("deep",)), [1, None], [])),
        (
            "SELECT ROW('2024-02-29 12:00+00'::timestamptz, '2024-02-29'::date, '{\"k\": [1]}'::jsonb, '1 year'::interval)",
            (dt.datetime(2024, 2, 29, 12, tzinfo=UTC), dt.date(2024, 2, 29), {"k": [1]}, dt.timedelta(days=365)),
        ),
    ],
)
async def test_anonymous_records_are_tuples(db: Any, sql: str, expected: Any) -> None:
    count = Counter(db)
    assert await every_path(db, sql) == [expected] * 5
    assert (count.lookups, count.conversions) == (0, 0)  # decoded from binary, no second query


async def test_arrays_of_records(db: Any) -> None:
    count = Counter(db)
    sql = "SELECT array_agg((a, b) ORDER BY a) FROM (VALUES (1, 'x'), (2, NULL), (3, 'ü')) v(a, b)"
    assert await every_path(db, sql) == [[(1, "x"), (2, None), (3, "ü")]] * 5
    assert await every_path(db, "SELECT ARRAY[ROW(1), NULL, ROW(2)]") == [[(1,), None, (2,)]] * 5
    assert await every_path(db, "SELECT ARRAY[]::record[]") == [[]] * 5
    assert await every_path(db, "SELECT NULL::record[]") == [None] * 5
    assert await every_path(db, "SELECT ARRAY[[ROW(1), ROW(2)], [ROW(3), ROW(4)]]") == [[[(1,), (2,)], [(3,), (4,)]]] * 5
    assert await every_path(db, "SELECT ROW(ARRAY[ROW(1, 'a'), ROW(2, 'b')], 0)") == [([(1, "a"), (2, "b")], 0)] * 5
    assert (count.lookups, count.conversions) == (0, 0)


async def test_records_in_many_rows(db: Any) -> None:
    rows = await db.fetch(
        "SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE ROW(i, i::text, CASE WHEN i % 2 = 0 THEN NULL ELSE i END) END, "
        "json_each(json_build_object('k' || i, i)) FROM generate_series(1, 2000) i"
    )
    assert len(rows) == 2000
    for i, rec, kv in rows:
        assert rec == (None if i % 3 == 0 else (i, str(i), None if i % 2 == 0 else i))
        assert kv == (f"k{i}", i)
    streamed = [r async for r in db.stream("SELECT ROW(i, 'é') FROM generate_series(1, 2500) i", batch_rows=300)]
    assert [r[0] for r in streamed] == [(i, "é") for i in range(1, 2501)]


async def test_record_arguments_still_go_as_text(db: Any) -> None:
    # a record parameter's type is the server's to infer; the value comes back decoded
    assert await db.fetchval("SELECT $1::text::int", "5") == 5
    assert await db.fetchval("SELECT ROW($1::int, $2::text)", 7, "z") == (7, "z")


# ---------------------------------------------------------------- void, xid8, xid, cid, reg*


async def test_void_is_none(db: Any) -> None:
    assert await every_path(db, "SELECT pg_sleep(0)") == [None] * 5
    rows = await db.fetch("SELECT pg_sleep(0), i FROM generate_series(1, 3) i")
    assert [tuple(r) for r in rows] == [(None, 1), (None, 2), (None, 3)]
    assert await db.fetchval("SELECT ROW(pg_sleep(0), 1)") == (None, 1)


async def test_xid8_is_an_int_and_xid_cid_oids_too(db: Any) -> None:
    assert await every_path(db, "SELECT '18446744073709551615'::xid8") == [2**64 - 1] * 5
    current = await db.fetchval("SELECT pg_current_xact_id()")
    assert type(current) is int and current > 0
    assert await every_path(db, "SELECT ARRAY['1'::xid8, NULL, '42']") == [[1, None, 42]] * 5
    assert await every_path(db, "SELECT ROW('7'::xid8)") == [(7,)] * 5
    # xid and cid are ints, as asyncpg gives them; reg* types are their oids (see LAYOUT.md)
    assert await every_path(db, "SELECT ROW('4294967295'::xid, '3'::cid, 'pg_class'::regclass, 'int4'::regtype)") == [
        (4294967295, 3, 1259, 23)
    ] * 5
    assert await every_path(db, "SELECT ARRAY['9'::xid]") == [[9]] * 5


# ---------------------------------------------------------------- enums, domains, composites


async def _types(db: Any, tag: str) -> None:
    await db.execute(
        f"""DROP TYPE IF EXISTS comp_{tag}, mood_{tag} CASCADE;
        DROP DOMAIN IF EXISTS pos_{tag}, num_{tag}, stamp_{tag}, ints_{tag} CASCADE;
        CREATE TYPE mood_{tag} AS ENUM ('sad', 'happy', 'ünïcode');
        CREATE DOMAIN pos_{tag} AS int CHECK (VALUE > 0);
        CREATE DOMAIN num_{tag} AS numeric(10, 2);
        CREATE DOMAIN stamp_{tag} AS timestamptz;
        CREATE DOMAIN ints_{tag} AS int[];
        CREATE TYPE comp_{tag} AS (m mood_{tag}, p pos_{tag}, t text)"""
    )


async def _drop(db: Any, tag: str) -> None:
    await db.execute(f"DROP TYPE comp_{tag}, mood_{tag} CASCADE; DROP DOMAIN pos_{tag}, num_{tag}, stamp_{tag}, ints_{tag}")


async def test_arrays_of_enums_are_lists(facade: str, dsn: str) -> None:
    db = await fresh(facade, dsn)
    try:
        await _types(db, "a")
        count = Counter(db)
        assert await every_path(db, "SELECT ARRAY['sad', 'happy']::mood_a[]") == [["sad", "happy"]] * 5
        assert count.lookups == 1  # one lookup for the connection's new types, then none
        assert await every_path(db, "SELECT ARRAY['ünïcode', NULL]::mood_a[]") == [["ünïcode", None]] * 5
        assert await every_path(db, "SELECT '{}'::mood_a[]") == [[]] * 5
        assert await every_path(db, "SELECT '{{sad},{happy}}'::mood_a[]") == [[["sad"], ["happy"]]] * 5
        assert await every_path(db, "SELECT 'happy'::mood_a") == ["happy"] * 5
        assert await every_path(db, "SELECT NULL::mood_a[]") == [None] * 5
        assert (count.lookups, count.conversions) == (1, 0)
        await _drop(db, "a")
    finally:
        await db.close()


async def test_arrays_of_domains_are_lists_of_the_base_values(facade: str, dsn: str) -> None:
    db = await fresh(facade, dsn)
    try:
        await _types(db, "d")
        count = Counter(db)
        assert await every_path(db, "SELECT ARRAY[1, NULL, 3]::pos_d[]") == [[1, None, 3]] * 5
        assert await every_path(db, "SELECT ARRAY[1.5]::num_d[]") == [[Decimal("1.50")]] * 5
        stamp = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert await every_path(db, "SELECT ARRAY['2024-01-02 03:04:05+00']::stamp_d[]") == [[stamp]] * 5
        # a domain over a base type decodes as that type, at the top level and in a record
        assert await every_path(db, "SELECT 7::pos_d") == [7] * 5
        assert await every_path(db, "SELECT 2.5::num_d") == [Decimal("2.50")] * 5
        assert await every_path(db, "SELECT '2024-01-02 03:04:05+00'::stamp_d") == [stamp] * 5
        assert await every_path(db, "SELECT '{1,2}'::ints_d") == [[1, 2]] * 5
        assert await every_path(db, "SELECT ROW(3::pos_d, 1.25::num_d, '{4}'::ints_d)") == [(3, Decimal("1.25"), [4])] * 5
        assert count.conversions == 0
        await _drop(db, "d")
    finally:
        await db.close()


async def test_records_holding_enums_domains_and_composites(facade: str, dsn: str) -> None:
    db = await fresh(facade, dsn)
    try:
        await _types(db, "r")
        count = Counter(db)
        sql = "SELECT ROW('sad'::mood_r, ARRAY['happy', NULL]::mood_r[], 5::pos_r, ROW('happy', 2, 'ü')::comp_r)"
        assert await every_path(db, sql) == [("sad", ["happy", None], 5, ("happy", 2, "ü"))] * 5
        assert await every_path(db, "SELECT ROW('sad', 1, NULL)::comp_r") == [("sad", 1, None)] * 5
        assert await every_path(db, "SELECT ARRAY[ROW('happy', 1, 'x')::comp_r, NULL]") == [[("happy", 1, "x"), None]] * 5
        assert count.conversions == 0
        await db.execute("CREATE TEMP TABLE moods_r (id int, m mood_r, ms mood_r[], c comp_r)")
        await db.execute("INSERT INTO moods_r VALUES (1, 'sad', '{sad,happy}', ('happy', 3, 't')), (2, NULL, NULL, NULL)")
        rows = await db.fetch("SELECT m, ms, c, moods_r FROM moods_r ORDER BY id")
        assert [tuple(r) for r in rows] == [
            ("sad", ["sad", "happy"], ("happy", 3, "t"), (1, "sad", ["sad", "happy"], ("happy", 3, "t"))),
            (None, None, None, (2, None, None, None)),
        ]
        await _drop(db, "r")
    finally:
        await db.close()


@pytest.mark.parametrize("path", ["stream", "prepare", "list argument"])
async def test_new_types_on_a_fresh_connection_whatever_the_first_call(facade: str, dsn: str, path: str) -> None:
    """A stream's (or a prepared statement's) result formats are fixed when it is
    described: its new types are looked up then, before it runs."""
    setup = await fresh(facade, dsn)
    await _types(setup, "f")
    db = await fresh(facade, dsn)
    try:
        sql = "SELECT ARRAY['sad', 'happy']::mood_f[], ARRAY[2]::pos_f[], ROW('sad', 1, 'x')::comp_f, $1::int[]"
        expected = (["sad", "happy"], [2], ("sad", 1, "x"), [1])
        if path == "stream":
            got = [tuple(r) async for r in db.stream(sql, [1])]
        elif path == "prepare":
            got = [tuple(await (await db.prepare(sql)).fetchrow([1]))]
        else:
            got = [tuple(await db.fetchrow(sql, [1]))]
        assert got == [expected]
        assert tuple(await db.fetchrow(sql, [1])) == expected
    finally:
        await db.close()
        await _drop(setup, "f")
        await setup.close()


async def test_without_a_statement_cache(facade: str, dsn: str) -> None:
    setup = await fresh(facade, dsn)
    await _types(setup, "z")
    db = await fresh(facade, dsn, statement_cache_size=0)
    try:
        count = Counter(db)
        lookups = []
        for _ in range(3):
            assert await db.fetchval("SELECT ARRAY['happy']::mood_z[]") == ["happy"]
            assert await db.fetchval("SELECT ROW(ROW(1, 'a'), 'sad'::mood_z)") == ((1, "a"), "sad")
            assert await db.fetchval("SELECT ROW('sad', 1, 'x')::comp_z") == ("sad", 1, "x")
            assert [r[0] async for r in db.stream("SELECT ARRAY[3]::pos_z[]")] == [[3]]
            assert await db.fetchval("SELECT pg_sleep(0)") is None
            assert await db.fetchval("SELECT '2 years'::interval") == dt.timedelta(days=730)
            lookups.append(count.lookups)
        # a lookup for each query that brought new types (mood_z[] and mood_z, then comp_z,
        # then pos_z[]), none when they came again
        assert lookups == [3, 3, 3] and count.conversions == 0
    finally:
        await db.close()
        await _drop(setup, "z")
        await setup.close()


async def test_types_with_no_decoder_still_come_as_text(db: Any) -> None:
    """Ranges and geometric types: their text form, at the top level; inside a record,
    the bytes the server sent (as on every run: a record's fields cannot be asked for
    in text)."""
    assert await every_path(db, "SELECT '[1,5)'::int4range") == ["[1,5)"] * 5
    assert await every_path(db, "SELECT ARRAY['(1,2)'::point]") == ['{"(1,2)"}'] * 5
    got = await every_path(db, "SELECT ROW('(1,2)'::point, 1)")
    assert got[0][1] == 1 and isinstance(got[0][0], bytes)


async def test_values_of_new_types_over_many_batches(facade: str, dsn: str) -> None:
    """A result too big for one batch (32 MB), whose first run meets new types: every batch is
    decoded again in place, the rows in order."""
    setup = await fresh(facade, dsn)
    await _types(setup, "b")
    db = await fresh(facade, dsn)
    try:
        sql = (
            "SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE ARRAY['sad', 'happy']::mood_b[] END,"
            " ROW(i, 'happy'::mood_b), CASE WHEN i % 7 = 0 THEN NULL ELSE point(i, 0) END, repeat('x', 2500)"
            " FROM generate_series(1, 30000) i"
        )
        for _ in range(2):
            rows = await db.fetch(sql)
            assert [r[0] for r in rows] == list(range(1, 30001))
            assert all(r[1] == (None if r[0] % 5 == 0 else ["sad", "happy"]) for r in rows)
            assert all(r[2] == (r[0], "happy") for r in rows)
            assert all(r[3] == (None if r[0] % 7 == 0 else f"({r[0]},0)") for r in rows)
    finally:
        await db.close()
        await _drop(setup, "b")
        await setup.close()
