"""Types, both directions, against the real server, for both facades.

Each value goes to the server as a query argument and comes back as a result: the
server's own text form is checked too, so an encoder and a decoder that were wrong in the
same way would still fail.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest

from pypgz import errors

UTC = dt.timezone.utc

# (SQL type, Python value, the server's text form of it)
ROUND_TRIPS: list[tuple[str, Any, str]] = [
    ("bool", True, "true"),
    ("bool", False, "false"),
    ("int2", -32768, "-32768"),
    ("int4", 2147483647, "2147483647"),
    ("int8", -9223372036854775808, "-9223372036854775808"),
    ("oid", 4294967295, "4294967295"),
    ("float4", 1.5, "1.5"),
    ("float8", -2.25e100, "-2.25e+100"),
    ("float8", math.inf, "Infinity"),
    ("float8", -math.inf, "-Infinity"),
    ("numeric", Decimal("0"), "0"),
    ("numeric", Decimal("1.50"), "1.50"),
    ("numeric", Decimal("-12345678901234567890.000000000000000000001"), "-12345678901234567890.000000000000000000001"),
    ("numeric", Decimal("0.0000001"), "0.0000001"),
    ("numeric", Decimal("1E+30"), "1000000000000000000000000000000"),
    ("numeric", Decimal("NaN"), "NaN"),
    ("text", "héllo wörld ✓", "héllo wörld ✓"),
    ("text", "", ""),
    ("varchar", "v", "v"),
    ("bpchar", "abc", "abc"),
    ("name", "pg_class", "pg_class"),
    ('"char"', "x", "x"),
    ("bytea", b"\x00\x01\xffbinary\x00", "\\x0001ff62696e61727900"),
    ("bytea", b"", "\\x"),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
    ("date", dt.date(2024, 2, 29), "2024-02-29"),
    ("date", dt.date(1, 1, 2), "0001-01-02"),
    ("date", dt.date(1999, 12, 31), "1999-12-31"),
    ("time", dt.time(13, 14, 15, 123456), "13:14:15.123456"),
    ("time", dt.time(0, 0), "00:00:00"),
    ("timetz", dt.time(1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))), "01:02:03+05:30"),
    ("timetz", dt.time(23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=8))), "23:00:00-08"),
    ("timestamp", dt.datetime(2000, 1, 1), "2000-01-01 00:00:00"),
    ("timestamp", dt.datetime(1970, 1, 1, 0, 0, 0, 1), "1970-01-01 00:00:00.000001"),
    ("timestamp", dt.datetime(1900, 3, 1, 12), "1900-03-01 12:00:00"),
    ("timestamptz", dt.datetime(2021, 6, 1, 12, 30, tzinfo=UTC), "2021-06-01 12:30:00+00"),
    ("timestamp", dt.datetime(2024, 2, 29, 23, 59, 59, 999999), "2024-02-29 23:59:59.999999"),
    ("timestamp", dt.datetime(1, 1, 1, 0, 0, 1), "0001-01-01 00:00:01"),
    ("timestamptz", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "9999-12-31 23:59:59+00"),
    ("date", dt.date(9999, 12, 30), "9999-12-30"),
    ("interval", dt.timedelta(days=3, seconds=7, microseconds=5), "3 days 00:00:07.000005"),
    ("interval", dt.timedelta(microseconds=-1), "-00:00:00.000001"),
    ("json", {"a": [1, 2, None], "b": "ü"}, '{"a":[1,2,null],"b":"ü"}'),  # json keeps the text it got
    ("jsonb", {"a": [1, 2, None], "b": "ü"}, '{"a": [1, 2, null], "b": "ü"}'),
    ("jsonb", [1, "two", 3.5], '[1, "two", 3.5]'),
    ("inet", ipaddress.ip_address("192.168.0.1"), "192.168.0.1/32"),  # text(inet) always shows the mask
    ("inet", ipaddress.ip_interface("10.1.2.3/8"), "10.1.2.3/8"),
    ("inet", ipaddress.ip_address("2001:db8::1"), "2001:db8::1/128"),
    ("cidr", ipaddress.ip_network("10.0.0.0/8"), "10.0.0.0/8"),
    ("int4[]", [1, None, 3], "{1,NULL,3}"),
    ("int8[]", [[1, 2], [3, 4]], "{{1,2},{3,4}}"),
    ("text[]", ["a", "b,c", 'q"uote', None, "", "back\\slash"], '{a,"b,c","q\\"uote",NULL,"","back\\\\slash"}'),
    ("float8[]", [], "{}"),
    ("bool[]", [True, False], "{t,f}"),
    ("numeric[]", [Decimal("1.1"), Decimal("-2")], "{1.1,-2}"),
    ("date[]", [dt.date(2020, 1, 1)], "{2020-01-01}"),
    ("timestamptz[]", [dt.datetime(2020, 1, 1, tzinfo=UTC)], '{"2020-01-01 00:00:00+00"}'),
    (
        "timestamp[]",
        [dt.datetime(2020, 1, 1, 12, 0, 0, 1), None, dt.datetime.max, dt.datetime.min],
        '{"2020-01-01 12:00:00.000001",NULL,infinity,-infinity}',
    ),
    (
        "timestamptz[]",
        [[dt.datetime(2000, 2, 29, tzinfo=UTC), None], [dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None]],
        '{{"2000-02-29 00:00:00+00",NULL},{"1999-12-31 23:59:59.999999+00",NULL}}',
    ),
    ("date[]", [dt.date.max, None, dt.date(2000, 2, 29), dt.date.min], "{infinity,NULL,2000-02-29,-infinity}"),
    ("uuid[]", [uuid.UUID(int=1)], "{00000000-0000-0000-0000-000000000001}"),
    ("bytea[]", [b"\x01", None], '{"\\\\x01",NULL}'),
    ("jsonb[]", [{"k": 1}], '{"{\\"k\\": 1}"}'),
]


@pytest.fixture(autouse=True)
async def _utc(db: Any) -> None:
    await db.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 0")


def _id(case: tuple[str, Any, str]) -> str:
    return f"{case[0]}:{case[2][:20]}"


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=[_id(c) for c in ROUND_TRIPS])
async def test_round_trip(db: Any, case: tuple[str, Any, str]) -> None:
    sqltype, value, text = case
    row = await db.fetchrow(f"SELECT $1::{sqltype} AS v, $1::{sqltype}::text AS t", value)
    assert row is not None
    assert row["t"] == text
    back = row["v"]
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    elif sqltype == "float4":
        assert back == pytest.approx(value, rel=1e-6)
    elif sqltype == "bpchar":
        assert back.rstrip() == value
    elif isinstance(value, Decimal) and value.is_nan():
        assert back.is_nan()
    else:
        assert back == value
        assert type(back) is type(value) or sqltype in ("inet", "cidr")


async def test_server_literals_decode(db: Any) -> None:
    """Values the server makes itself (not echoed arguments)."""
    row = await db.fetchrow(
        """SELECT 'NaN'::float8, '-Infinity'::numeric, 'Infinity'::numeric, 1.5::float4,
                  '2024-02-29 23:59:59.999999+00'::timestamptz, '1 year 2 mons 3 days'::interval,
                  '12:00:00-03:30'::timetz, 'infinity'::date, '-infinity'::date,
                  'infinity'::timestamp, '-infinity'::timestamptz,
                  ARRAY[[1,2,3],[4,5,6]]::int4[], '{}'::text[], ARRAY[NULL]::int[], '[2:3]={7,8}'::int[],
                  '\\x'::bytea, 'abc'::char(5), '{"x": {"y": [true]}}'::jsonb"""
    )
    assert row is not None
    assert math.isnan(row[0])
    assert row[1] == Decimal("-Infinity") and row[2] == Decimal("Infinity")
    assert row[3] == 1.5
    assert row[4] == dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    assert row[5] == dt.timedelta(days=14 * 30 + 3)  # a month counts 30 days
    assert row[6] == dt.time(12, 0, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30)))
    assert row[7] == dt.date.max and row[8] == dt.date.min
    assert row[9] == dt.datetime.max and row[10] == dt.datetime.min.replace(tzinfo=UTC)
    assert row[11] == [[1, 2, 3], [4, 5, 6]]
    assert row[12] == [] and row[13] == [None] and row[14] == [7, 8]
    assert row[15] == b"" and row[16] == "abc  "
    assert row[17] == {"x": {"y": [True]}}


async def test_nulls_of_every_type(db: Any) -> None:
    types = ["bool", "int2", "int4", "int8", "float8", "numeric", "text", "bytea", "uuid", "date", "time",
             "timetz", "timestamp", "timestamptz", "interval", "jsonb", "inet", "int4[]"]
    sql = "SELECT " + ", ".join(f"NULL::{t}" for t in types)
    assert await db.fetchrow(sql) == tuple([None] * len(types))
    args = [None] * len(types)
    sql2 = "SELECT " + ", ".join(f"${i + 1}::{t}" for i, t in enumerate(types))
    assert await db.fetchrow(sql2, *args) == tuple(args)


async def test_dates_and_timestamps_in_many_rows(db: Any) -> None:
    """The bulk path (several rows), with NULLs, infinities and the ends of Python's range."""
    rows = await db.fetch(
        """SELECT d::date, t::timestamp, t::timestamptz, ARRAY[t::timestamp, NULL], ARRAY[d::date]
           FROM (VALUES ('2024-02-29', '2024-02-29 12:34:56.000789'), (NULL, NULL),
                        ('infinity', 'infinity'), ('-infinity', '-infinity'),
                        ('0001-01-01', '0001-01-01 00:00:00'), ('9999-12-31', '9999-12-31 23:59:59.999999')) v(d, t)"""
    )
    stamps = [dt.datetime(2024, 2, 29, 12, 34, 56, 789), None, dt.datetime.max, dt.datetime.min, dt.datetime.min,
              dt.datetime.max]  # fmt: skip
    dates = [dt.date(2024, 2, 29), None, dt.date.max, dt.date.min, dt.date.min, dt.date.max]
    assert [r[0] for r in rows] == dates
    assert [r[1] for r in rows] == stamps
    assert [r[2] for r in rows] == [s and s.replace(tzinfo=UTC) for s in stamps]
    assert all(r[2].tzinfo is UTC for r in rows if r[2] is not None)
    assert [r[3] for r in rows] == [[s, None] for s in stamps]
    assert [r[4] for r in rows] == [[d] for d in dates]


@pytest.mark.parametrize(
    ("sql", "shown"),
    [
        ("SELECT '0044-03-15 BC'::date", "date value '0044-03-15 BC'"),
        ("SELECT '10000-01-01'::date", "date value '10000-01-01'"),
        ("SELECT '0044-03-15 12:00 BC'::timestamp", "timestamp value '0044-03-15T12:00:00 BC'"),
        ("SELECT '294276-12-31 23:59:59.999999'::timestamptz", "timestamptz value '294276-12-31T23:59:59.999999+00:00'"),
        ("SELECT ARRAY['2000-01-01', '5874897-12-31']::date[]", "date value '5874897-12-31'"),
        (
            "SELECT CASE WHEN i = 7 THEN '0001-12-31 BC'::timestamp ELSE localtimestamp END FROM generate_series(1, 9) i",
            "timestamp value '0001-12-31T00:00:00 BC'",
        ),
    ],
)
async def test_dates_python_cannot_hold_raise_decode_error(db: Any, sql: str, shown: str) -> None:
    with pytest.raises(errors.DecodeError, match=re.escape(shown) + ".*years 1 to 9999"):
        await db.fetch(sql)
    assert await db.fetchval("SELECT 1") == 1  # the connection is still usable


async def test_single_row_date_python_cannot_hold(db: Any) -> None:
    # the first query teaches the row shape, so the second one takes the single-row path
    assert await db.fetchval("SELECT $1::timestamptz", "2000-01-01 00:00:00+00") == dt.datetime(2000, 1, 1, tzinfo=UTC)
    with pytest.raises(errors.DecodeError, match=re.escape("'0001-12-31T23:00:00+00:00 BC'")):
        await db.fetchval("SELECT $1::timestamptz", "0001-12-31 23:00 BC")
    assert await db.fetchval("SELECT $1::timestamptz", "infinity") == dt.datetime.max.replace(tzinfo=UTC)


async def test_infinity_arguments(db: Any) -> None:
    assert await db.fetchval("SELECT $1::date::text", dt.date.max) == "infinity"
    assert await db.fetchval("SELECT $1::timestamptz::text", dt.datetime.min.replace(tzinfo=UTC)) == "-infinity"


async def test_mixed_nulls_in_columns(db: Any) -> None:
    rows = await db.fetch(
        "SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i END, CASE WHEN i % 2 = 0 THEN NULL ELSE i::text END "
        "FROM generate_series(1, 9) i"
    )
    assert [r[0] for r in rows] == [1, 2, None, 4, 5, None, 7, 8, None]
    assert [r[1] for r in rows] == ["1", None, "3", None, "5", None, "7", None, "9"]


async def test_types_without_codec_come_back_as_text(db: Any) -> None:
    await db.execute("DROP TYPE IF EXISTS mood; CREATE TYPE mood AS ENUM ('sad', 'happy')")
    for _ in range(2):  # first (uncached) and second (cached) execution
        row = await db.fetchrow(
            "SELECT '(1,2)'::point, 'happy'::mood, '[1,5)'::int4range, 'a:1 b:2'::tsvector, '08:00:2b:01:02:03'::macaddr"
        )
        assert row == ("(1,2)", "happy", "[1,5)", "'a':1 'b':2", "08:00:2b:01:02:03")
    assert await db.fetchval("SELECT ARRAY['sad', 'happy']::mood[]") == "{sad,happy}"
    rows = [r async for r in db.stream("SELECT '(3,4)'::point FROM generate_series(1, 3)")]
    assert rows == [("(3,4)",)] * 3
    assert await db.fetchval("SELECT $1::mood::text", "sad") == "sad"
    await db.execute("DROP TYPE mood")


async def test_string_arguments_for_any_type(db: Any) -> None:
    """Text is accepted for any parameter type; the server parses it."""
    assert await db.fetchval("SELECT $1::int4 + 1", "41") == 42
    assert await db.fetchval("SELECT $1::date", "2020-05-17") == dt.date(2020, 5, 17)
    assert await db.fetchval("SELECT $1::point::text", "(1,2)") == "(1,2)"


async def test_untyped_parameters_are_inferred(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE inf (a int2, b numeric, c text, d int4[])")
    await db.execute("INSERT INTO inf VALUES ($1, $2, $3, $4)", 7, 12, "t", [1, 2])
    assert await db.fetchrow("SELECT * FROM inf") == (7, Decimal(12), "t", [1, 2])
    assert await db.fetchval("SELECT count(*) FROM inf WHERE a = ANY($1)", [7, 8]) == 1
    assert await db.fetchval("SELECT substr('abcdef', $1, $2)", 2, 3) == "bcd"


async def test_out_of_range_argument_is_a_clear_error(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE r (a int2)")
    await db.execute("INSERT INTO r VALUES ($1)", 1)  # now prepared: the parameter is int2
    with pytest.raises(errors.EncodeError, match="70000"):
        await db.execute("INSERT INTO r VALUES ($1)", 70000)
    with pytest.raises(errors.EncodeError):
        await db.fetchval("SELECT $1::int4", object())
    assert await db.fetchval("SELECT count(*) FROM r") == 1


async def test_large_values(db: Any) -> None:
    big = "x" * 5_000_000
    assert await db.fetchval("SELECT length($1::text)", big) == 5_000_000
    assert await db.fetchval("SELECT $1::text", big) == big
    blob = bytes(range(256)) * 20000
    assert await db.fetchval("SELECT $1::bytea", blob) == blob
