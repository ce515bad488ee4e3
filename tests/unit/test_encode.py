"""Query-argument encoding (pypgz.codecs.encode).

Expected bytes are written out from PostgreSQL's binary formats (the *recv functions of
src/backend/utils/adt), not produced by the encoder's own helpers.  The byte vectors were also
checked against real PostgreSQL 15 and 18 servers during development.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pypgz.codecs import oids
from pypgz.codecs.encode import NULL_ENTRY, encode_first, encode_text, encoder_for
from pypgz.errors import EncodeError


def entry(fmt: int, payload: bytes) -> bytes:
    return struct.pack("!hi", fmt, len(payload)) + payload


def binary(payload: bytes) -> bytes:
    return entry(1, payload)


def text(s: str) -> bytes:
    return entry(0, s.encode())


def h(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr.replace(" ", ""))


def enc(oid: int, value: object) -> bytes:
    return encoder_for(oid)(value)


def split(e: bytes) -> tuple[int, bytes | None]:
    fmt, n = struct.unpack("!hi", e[:6])
    assert len(e) == 6 + max(n, 0)
    return fmt, None if n == -1 else e[6:]


UTC = timezone.utc
PLUS2 = timezone(timedelta(hours=2))
MINUS530 = timezone(timedelta(hours=-5, minutes=-30))


# --------------------------------------------------------------------------------------- NULL


def test_null_entry() -> None:
    assert NULL_ENTRY == h("0001 ffffffff")
    assert encode_text(None) == NULL_ENTRY
    assert encode_first(None) == (0, NULL_ENTRY)
    for oid in (oids.INT4, oids.TEXT, oids.JSONB, oids.INT4_ARRAY, 123456):
        assert split(enc(oid, None))[1] is None


# ----------------------------------------------------------------------------- fixed-size types


def test_bool() -> None:
    assert enc(oids.BOOL, True) == h("0001 00000001 01")
    assert enc(oids.BOOL, False) == h("0001 00000001 00")


@pytest.mark.parametrize(
    ("oid", "value", "payload"),
    [
        (oids.INT2, 0, "0000"),
        (oids.INT2, -1, "ffff"),
        (oids.INT2, 32767, "7fff"),
        (oids.INT2, -32768, "8000"),
        (oids.INT4, 1, "00000001"),
        (oids.INT4, -2, "fffffffe"),
        (oids.INT4, 2**31 - 1, "7fffffff"),
        (oids.INT4, -(2**31), "80000000"),
        (oids.INT8, 2**40, "0000010000000000"),
        (oids.INT8, -(2**63), "8000000000000000"),
        (oids.INT8, 2**63 - 1, "7fffffffffffffff"),
        (oids.OID, 4294967295, "ffffffff"),
        (oids.OID, 26, "0000001a"),
    ],
)
def test_integers(oid: int, value: int, payload: str) -> None:
    assert enc(oid, value) == binary(h(payload))


@pytest.mark.parametrize(
    ("oid", "value", "message"),
    [
        (oids.INT2, 32768, "32768 (out of range for int2)"),
        (oids.INT2, -32769, "-32769 (out of range for int2)"),
        (oids.INT4, 2**40, "1099511627776 (out of range for int4)"),
        (oids.INT8, 2**63, "(out of range for int8)"),
        (oids.OID, -1, "-1 (out of range for oid)"),
        (oids.FLOAT4, 1e300, "(out of range for float4)"),
        (oids.FLOAT8, 10**400, "(out of range for float8)"),
    ],
)
def test_range_errors(oid: int, value: object, message: str) -> None:
    with pytest.raises(EncodeError, match="invalid input for query argument: ") as info:
        enc(oid, value)
    assert message in str(info.value)


def test_range_error_message_exact() -> None:
    with pytest.raises(EncodeError) as info:
        enc(oids.INT4, 2**40)
    assert str(info.value) == "invalid input for query argument: 1099511627776 (out of range for int4)"


def test_floats() -> None:
    assert enc(oids.FLOAT8, 1.5) == binary(h("3ff8000000000000"))
    assert enc(oids.FLOAT8, -2.0) == binary(h("c000000000000000"))
    assert enc(oids.FLOAT8, math.inf) == binary(h("7ff0000000000000"))
    assert enc(oids.FLOAT8, -math.inf) == binary(h("fff0000000000000"))
    fmt, payload = split(enc(oids.FLOAT8, math.nan))
    assert fmt == 1 and payload is not None and math.isnan(struct.unpack("!d", payload)[0])
    assert enc(oids.FLOAT4, 1.5) == binary(h("3fc00000"))
    assert enc(oids.FLOAT4, -math.inf) == binary(h("ff800000"))
    # ints are exact enough for floats: sent in binary
    assert enc(oids.FLOAT8, 3) == binary(h("4008000000000000"))
    assert enc(oids.FLOAT4, 3) == binary(h("40400000"))


def test_uuid() -> None:
    u = UUID("12345678-9abc-def0-1234-56789abcdef0")
    expected = binary(h("123456789abcdef0123456789abcdef0"))
    assert enc(oids.UUID, u) == expected
    assert enc(oids.UUID, str(u)) == expected
    assert enc(oids.UUID, "{12345678-9ABC-DEF0-1234-56789ABCDEF0}") == expected
    # not a UUID Python can parse: text, the server judges
    assert enc(oids.UUID, "nope") == text("nope")


# ------------------------------------------------------------------------------ dates and times


def test_date() -> None:
    assert enc(oids.DATE, date(2000, 1, 1)) == binary(h("00000000"))
    assert enc(oids.DATE, date(2000, 1, 2)) == binary(h("00000001"))
    assert enc(oids.DATE, date(1999, 12, 31)) == binary(h("ffffffff"))
    assert enc(oids.DATE, date(2024, 2, 29)) == binary(struct.pack("!i", 8825))
    assert enc(oids.DATE, date.max) == binary(h("7fffffff"))  # infinity
    assert enc(oids.DATE, date.min) == binary(h("80000000"))  # -infinity
    # a datetime for a date parameter keeps its date, as '2024-01-01 10:00'::date does
    assert enc(oids.DATE, datetime(2000, 1, 2, 10)) == binary(h("00000001"))


def test_time_and_timetz() -> None:
    assert enc(oids.TIME, time(0, 0)) == binary(h("0000000000000000"))
    assert enc(oids.TIME, time(0, 0, 1, 5)) == binary(struct.pack("!q", 1_000_005))
    assert enc(oids.TIME, time(23, 59, 59, 999999)) == binary(struct.pack("!q", 86_399_999_999))
    # aware time for a time parameter: wall clock
    assert enc(oids.TIME, time(1, tzinfo=PLUS2)) == binary(struct.pack("!q", 3_600_000_000))
    # timetz: µs, then the offset in seconds WEST of UTC
    assert enc(oids.TIMETZ, time(10, 30, tzinfo=PLUS2)) == binary(
        struct.pack("!q", 37_800_000_000) + h("ffffe3e0")  # -7200
    )
    assert enc(oids.TIMETZ, time(10, 30, tzinfo=MINUS530)) == binary(
        struct.pack("!q", 37_800_000_000) + h("00004d58")  # +19800
    )
    # naive time for timetz: UTC
    assert enc(oids.TIMETZ, time(0, 0, 1)) == binary(h("00000000000f4240 00000000"))


def test_timestamp() -> None:
    assert enc(oids.TIMESTAMP, datetime(2000, 1, 1)) == binary(h("0000000000000000"))
    assert enc(oids.TIMESTAMP, datetime(2000, 1, 1, 0, 0, 0, 1)) == binary(h("0000000000000001"))
    last_1999 = datetime(1999, 12, 31, 23, 59, 59, 999999)
    assert enc(oids.TIMESTAMP, last_1999) == binary(h("ffffffffffffffff"))
    # 2000-01-02 00:00:01 = 86401 s
    second = datetime(2000, 1, 2, 0, 0, 1)
    assert enc(oids.TIMESTAMP, second) == binary(struct.pack("!q", 86_401_000_000))
    # 1970-01-01 = -946684800 s
    assert enc(oids.TIMESTAMP, datetime(1970, 1, 1)) == binary(struct.pack("!q", -946_684_800_000_000))
    assert enc(oids.TIMESTAMP, datetime.max) == binary(h("7fffffffffffffff"))
    assert enc(oids.TIMESTAMP, datetime.min) == binary(h("8000000000000000"))
    # aware datetime for a timestamp parameter: its wall clock
    assert enc(oids.TIMESTAMP, datetime(2000, 1, 1, 2, tzinfo=PLUS2)) == binary(
        struct.pack("!q", 7_200_000_000)
    )
    # a date for a timestamp parameter: text, the server makes it midnight
    assert enc(oids.TIMESTAMP, date(2000, 1, 1)) == text("2000-01-01")


def test_timestamptz() -> None:
    assert enc(oids.TIMESTAMPTZ, datetime(2000, 1, 1, tzinfo=UTC)) == binary(h("0000000000000000"))
    # 02:00+02 is midnight UTC
    assert enc(oids.TIMESTAMPTZ, datetime(2000, 1, 1, 2, tzinfo=PLUS2)) == binary(h("0000000000000000"))
    assert enc(oids.TIMESTAMPTZ, datetime(1999, 12, 31, 18, 30, tzinfo=MINUS530)) == binary(
        h("0000000000000000")
    )
    # naive: taken as UTC
    assert enc(oids.TIMESTAMPTZ, datetime(2000, 1, 1, 0, 0, 1)) == binary(struct.pack("!q", 1_000_000))
    inf, ninf = binary(h("7fffffffffffffff")), binary(h("8000000000000000"))
    assert enc(oids.TIMESTAMPTZ, datetime.max) == inf
    assert enc(oids.TIMESTAMPTZ, datetime.min) == ninf
    # max/min by wall clock, whatever the zone
    assert enc(oids.TIMESTAMPTZ, datetime.max.replace(tzinfo=UTC)) == inf
    assert enc(oids.TIMESTAMPTZ, datetime.max.replace(tzinfo=PLUS2)) == inf
    assert enc(oids.TIMESTAMPTZ, datetime.max.replace(tzinfo=MINUS530)) == inf
    assert enc(oids.TIMESTAMPTZ, datetime.min.replace(tzinfo=PLUS2)) == ninf
    # near the end but not max: a real value (10000-01-01 00:30 UTC)
    late = datetime(9999, 12, 31, 19, tzinfo=MINUS530)
    delta = datetime(10000 - 1, 12, 31, 0, 0) - datetime(2000, 1, 1)
    micros = (delta.days * 86400 + 24 * 3600 + 30 * 60) * 1_000_000
    assert enc(oids.TIMESTAMPTZ, late) == binary(struct.pack("!q", micros))


def test_interval() -> None:
    def iv(micros: int, days: int, months: int = 0) -> bytes:
        return binary(struct.pack("!qii", micros, days, months))

    assert enc(oids.INTERVAL, timedelta(0)) == iv(0, 0)
    assert enc(oids.INTERVAL, timedelta(days=1, hours=2, microseconds=3)) == iv(7_200_000_003, 1)
    # days and time part share the sign
    assert enc(oids.INTERVAL, timedelta(microseconds=-1)) == iv(-1, 0)
    assert enc(oids.INTERVAL, timedelta(hours=-1)) == iv(-3_600_000_000, 0)
    assert enc(oids.INTERVAL, timedelta(days=-3, hours=5)) == iv(-68_400_000_000, -2)
    assert enc(oids.INTERVAL, timedelta(days=-2)) == iv(0, -2)


# --------------------------------------------------------------------------------------- numeric


def numeric(ndigits: int, weight: int, sign: int, dscale: int, *digits: int) -> bytes:
    return binary(struct.pack(f"!hhHH{len(digits)}H", ndigits, weight, sign, dscale, *digits))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", h("0000 0000 0000 0000")),
        ("-0", h("0000 0000 0000 0000")),
        ("0.00", h("0000 0000 0000 0002")),
        ("1", h("0001 0000 0000 0000 0001")),
        ("-1", h("0001 0000 4000 0000 0001")),
        ("12345.678", h("0003 0001 0000 0003 0001 0929 1a7c")),
        ("-12345.678", h("0003 0001 4000 0003 0001 0929 1a7c")),
        ("0.0001", h("0001 ffff 0000 0004 0001")),
        ("0.00012", h("0002 ffff 0000 0005 0001 07d0")),
        ("10000", h("0001 0001 0000 0000 0001")),
        ("1E+5", h("0001 0001 0000 0000 000a")),
        ("1.2E+5", h("0001 0001 0000 0000 000c")),
        ("1E-7", h("0001 fffe 0000 0007 000a")),
        ("123.4500", h("0002 0000 0000 0004 007b 1194")),
        ("99999999.99999999", h("0004 0001 0000 0008 270f 270f 270f 270f")),
        ("NaN", h("0000 0000 c000 0000")),
        ("-NaN", h("0000 0000 c000 0000")),
        ("Infinity", h("0000 0000 d000 0000")),
        ("-Infinity", h("0000 0000 f000 0000")),
    ],
)
def test_numeric_vectors(value: str, expected: bytes) -> None:
    assert enc(oids.NUMERIC, Decimal(value)) == binary(expected)


def test_numeric_from_int_and_float() -> None:
    assert enc(oids.NUMERIC, 10**12) == numeric(1, 3, 0, 0, 1)
    assert enc(oids.NUMERIC, -123456789) == numeric(3, 2, 0x4000, 0, 1, 2345, 6789)
    assert enc(oids.NUMERIC, 0.1) == numeric(1, -1, 0, 1, 1000)
    assert enc(oids.NUMERIC, 1e20) == enc(oids.NUMERIC, Decimal("1e20"))
    assert enc(oids.NUMERIC, math.inf) == numeric(0, 0, 0xD000, 0)
    assert enc(oids.NUMERIC, math.nan) == numeric(0, 0, 0xC000, 0)


def test_numeric_errors() -> None:
    with pytest.raises(EncodeError, match="sNaN"):
        enc(oids.NUMERIC, Decimal("sNaN"))
    with pytest.raises(EncodeError, match="out of range for numeric"):
        enc(oids.NUMERIC, Decimal("1E+200000"))  # weight beyond int16
    with pytest.raises(EncodeError, match="out of range for numeric"):
        enc(oids.NUMERIC, Decimal("1E-20000"))  # scale beyond 16383
    with pytest.raises(EncodeError, match="out of range for numeric"):
        encode_first(Decimal("1E+200000"))
    with pytest.raises(EncodeError, match="sNaN"):
        encode_first(Decimal("sNaN"))


def decode_numeric(payload: bytes) -> tuple[Decimal, int]:
    """An independent numeric_recv: (value, dscale)."""
    ndigits, weight, sign, dscale = struct.unpack("!hhHH", payload[:8])
    digits = struct.unpack(f"!{ndigits}H", payload[8:])
    assert len(payload) == 8 + 2 * ndigits
    if sign == 0xC000:
        return Decimal("NaN"), dscale
    if sign == 0xD000:
        return Decimal("Infinity"), dscale
    if sign == 0xF000:
        return Decimal("-Infinity"), dscale
    assert sign in (0, 0x4000)
    assert all(0 <= d < 10000 for d in digits)
    if digits:  # normalised: no zero digit at either end
        assert digits[0] != 0 and digits[-1] != 0
    if not digits:
        return Decimal(0).scaleb(-dscale), dscale
    # Exact: the digits as one coefficient, the last base-10000 digit at 10000**(weight-ndigits+1).
    coefficient = "".join("%04d" % d for d in digits)
    exponent = 4 * (weight - ndigits + 1)
    value = Decimal((1 if sign == 0x4000 else 0, tuple(int(c) for c in coefficient), exponent))
    return value, dscale


@settings(max_examples=400)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_numeric_round_trip(value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    fmt, payload = split(enc(oids.NUMERIC, value))
    assert fmt == 1 and payload is not None
    decoded, dscale = decode_numeric(payload)
    assert decoded == value
    assert dscale == max(0, -exponent)


@given(st.integers(min_value=-(10**60), max_value=10**60))
def test_numeric_round_trip_int(value: int) -> None:
    _, payload = split(enc(oids.NUMERIC, value))
    assert payload is not None
    assert decode_numeric(payload) == (Decimal(value), 0)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numeric_round_trip_float(value: float) -> None:
    _, payload = split(enc(oids.NUMERIC, value))
    assert payload is not None
    assert float(decode_numeric(payload)[0]) == value


# ---------------------------------------------------------------------------- text, bytea, json


def test_text_like() -> None:
    for oid in (oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME, oids.XML, oids.UNKNOWN):
        assert enc(oid, "héllo") == binary("héllo".encode())
        assert enc(oid, "") == binary(b"")
        assert enc(oid, b"raw") == binary(b"raw")  # bytes are the text's bytes
    assert enc(oids.CHAR, "x") == binary(b"x")
    assert enc(oids.CHAR, "xy") == text("xy")  # not one byte: the server's charin decides
    assert enc(oids.CHAR, "é") == text("é")


def test_text_surrogates() -> None:
    with pytest.raises(EncodeError, match="UTF-8"):
        enc(oids.TEXT, "a\ud800")
    with pytest.raises(EncodeError, match="UTF-8"):
        encode_first("a\ud800")
    with pytest.raises(EncodeError, match="UTF-8"):
        enc(oids.TEXT_ARRAY, ["ok", "a\ud800"])


def test_bytea() -> None:
    assert enc(oids.BYTEA, b"\x00\xff") == binary(b"\x00\xff")
    assert enc(oids.BYTEA, bytearray(b"ab")) == binary(b"ab")
    assert enc(oids.BYTEA, memoryview(b"abc")[1:]) == binary(b"bc")
    assert enc(oids.BYTEA, "\\x00") == text("\\x00")


def test_json() -> None:
    assert enc(oids.JSON, {"a": [1, "é", None, True]}) == binary('{"a":[1,"é",null,true]}'.encode())
    assert enc(oids.JSONB, {"a": 1}) == binary(b'\x01{"a":1}')
    # a str is sent as is: pre-serialised JSON
    assert enc(oids.JSON, '{"x" : 1}') == binary(b'{"x" : 1}')
    assert enc(oids.JSONB, '"s"') == binary(b'\x01"s"')
    assert enc(oids.JSONB, [1, 2]) == binary(b"\x01[1,2]")
    assert enc(oids.JSONB, 5) == binary(b"\x015")
    assert enc(oids.JSONB, False) == binary(b"\x01false")
    with pytest.raises(EncodeError, match="JSON"):
        enc(oids.JSONB, {"a": object()})
    with pytest.raises(EncodeError, match="JSON"):
        enc(oids.JSON, {"a": math.nan})


# ----------------------------------------------------------------------------------- inet, cidr


def test_inet_cidr() -> None:
    assert enc(oids.INET, ipaddress.ip_address("192.168.0.1")) == binary(h("02 20 00 04 c0a80001"))
    assert enc(oids.INET, ipaddress.ip_interface("10.1.2.3/8")) == binary(h("02 08 00 04 0a010203"))
    assert enc(oids.INET, "10.1.2.3/8") == binary(h("02 08 00 04 0a010203"))
    assert enc(oids.INET, ipaddress.ip_network("10.0.0.0/8")) == binary(h("02 08 00 04 0a000000"))
    assert enc(oids.INET, ipaddress.ip_address("::1")) == binary(h("03 80 00 10" + "00" * 15 + "01"))
    assert enc(oids.CIDR, ipaddress.ip_network("10.0.0.0/8")) == binary(h("02 08 01 04 0a000000"))
    assert enc(oids.CIDR, "2001:db8::/32") == binary(h("03 20 01 10 20010db8" + "00" * 12))
    # forms Python does not parse go as text
    assert enc(oids.CIDR, "10/8") == text("10/8")
    assert enc(oids.INET, "garbage") == text("garbage")


# ------------------------------------------------------------------------------- binary arrays


def array(elem_oid: int, dims: list[int], has_null: int, elements: list[bytes | None]) -> bytes:
    head = struct.pack("!iii", len(dims), has_null, elem_oid)
    for d in dims:
        head += struct.pack("!ii", d, 1)
    body = b"".join(h("ffffffff") if e is None else struct.pack("!i", len(e)) + e for e in elements)
    return binary(head + body)


def test_int4_array() -> None:
    assert enc(oids.INT4_ARRAY, [1, 2, 3]) == array(
        oids.INT4, [3], 0, [h("00000001"), h("00000002"), h("00000003")]
    )
    assert enc(oids.INT4_ARRAY, (7,)) == array(oids.INT4, [1], 0, [h("00000007")])
    assert enc(oids.INT4_ARRAY, [[1, 2], [3, None]]) == array(
        oids.INT4, [2, 2], 1, [h("00000001"), h("00000002"), h("00000003"), None]
    )
    assert enc(oids.INT4_ARRAY, [None]) == array(oids.INT4, [1], 1, [None])
    three = enc(oids.INT2_ARRAY, [[[1]], [[2]]])
    assert three == array(oids.INT2, [2, 1, 1], 0, [h("0001"), h("0002")])


def test_empty_arrays() -> None:
    empty = binary(struct.pack("!iii", 0, 0, oids.INT4))
    assert enc(oids.INT4_ARRAY, []) == empty
    assert enc(oids.INT4_ARRAY, ()) == empty
    assert enc(oids.INT4_ARRAY, [[]]) == empty
    assert enc(oids.TEXT_ARRAY, []) == binary(struct.pack("!iii", 0, 0, oids.TEXT))


def test_arrays_of_other_types() -> None:
    assert enc(oids.TEXT_ARRAY, ["a", None, ""]) == array(oids.TEXT, [3], 1, [b"a", None, b""])
    assert enc(oids.FLOAT8_ARRAY, [1.5]) == array(oids.FLOAT8, [1], 0, [h("3ff8000000000000")])
    assert enc(oids.BOOL_ARRAY, [True, False]) == array(oids.BOOL, [2], 0, [b"\x01", b"\x00"])
    assert enc(oids.BOOL_ARRAY, [True, None]) == array(oids.BOOL, [2], 1, [b"\x01", None])
    assert enc(oids.INT8_ARRAY, [1, None]) == array(oids.INT8, [2], 1, [h("0000000000000001"), None])
    assert enc(oids.NUMERIC_ARRAY, [Decimal("1"), 2, None]) == array(
        oids.NUMERIC, [3], 1, [h("0001 0000 0000 0000 0001"), h("0001 0000 0000 0000 0002"), None]
    )
    assert enc(oids.DATE_ARRAY, [date(2000, 1, 2), date.max]) == array(
        oids.DATE, [2], 0, [h("00000001"), h("7fffffff")]
    )
    assert enc(oids.TIMETZ_ARRAY, [time(0, 0, 1, tzinfo=PLUS2)]) == array(
        oids.TIMETZ, [1], 0, [h("00000000000f4240 ffffe3e0")]
    )
    assert enc(oids.JSONB_ARRAY, [{"a": 1}, None]) == array(oids.JSONB, [2], 1, [b'\x01{"a":1}', None])
    u = UUID(int=1)
    assert enc(oids.UUID_ARRAY, [u, str(u)]) == array(oids.UUID, [2], 0, [u.bytes, u.bytes])
    assert enc(oids.INET_ARRAY, [ipaddress.ip_address("1.2.3.4")]) == array(
        oids.INET, [1], 0, [h("02 20 00 04 01020304")]
    )
    # mixed int and float elements for float8 both have binary forms
    assert enc(oids.FLOAT8_ARRAY, [1, 2.5]) == array(
        oids.FLOAT8, [2], 0, [h("3ff0000000000000"), h("4004000000000000")]
    )


def test_array_text_fallback() -> None:
    # an element with no binary form sends the whole array as a literal
    assert enc(oids.INT4_ARRAY, ["1", "2"]) == text("{1,2}")
    assert enc(oids.INT4_ARRAY, [1, 2.5]) == text("{1,2.5}")
    assert enc(oids.INT4_ARRAY, [True, False]) == text("{true,false}")
    assert enc(oids.UUID_ARRAY, [UUID(int=1), "nope"]) == text(
        "{00000000-0000-0000-0000-000000000001,nope}"
    )
    assert enc(oids.CHAR_ARRAY, ["ab"]) == text("{ab}")
    # not a sequence: its text (an array literal string is passed through)
    assert enc(oids.INT4_ARRAY, "{5,6}") == text("{5,6}")


def test_array_errors() -> None:
    with pytest.raises(EncodeError, match=r"1099511627776 \(out of range for int4\)"):
        enc(oids.INT4_ARRAY, [1, 2**40])
    with pytest.raises(EncodeError, match="out of range for int2"):
        enc(oids.INT2_ARRAY, [[1, None], [2, 40000]])
    for ragged in ([1, [2]], [[1, 2], [3]], [[1], 2], [[1, [2]], [3, 4]], [[], [1]]):
        with pytest.raises(EncodeError, match="rectangular"):
            enc(oids.INT4_ARRAY, ragged)
        with pytest.raises(EncodeError, match="rectangular"):
            encode_text(ragged)
    with pytest.raises(EncodeError, match="6 dimensions"):
        enc(oids.INT4_ARRAY, [[[[[[[1]]]]]]])


# -------------------------------------------------------------------------------- text literals


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ([1, 2, 3], "{1,2,3}"),
        ([], "{}"),
        ([None], "{NULL}"),
        (["a b", "", "NULL", "null", "Null"], '{"a b","","NULL","null","Null"}'),
        (['q"', "b\\", "x,y", "{", "}", " s ", "\t"], '{"q\\"","b\\\\","x,y","{","}"," s ","\t"}'),
        (["plain", "é", "NULLX"], "{plain,é,NULLX}"),
        ([[1, 2], [3, None]], "{{1,2},{3,NULL}}"),
        ([[["x"]]], "{{{x}}}"),
        ((1, 2), "{1,2}"),
        ([True, False], "{true,false}"),
        ([1.5, math.inf, math.nan], "{1.5,Infinity,NaN}"),
        ([Decimal("1.50"), Decimal("-Infinity")], "{1.50,-Infinity}"),
        ([b"\x00\\"], '{"\\\\x005c"}'),
        ([date(2020, 1, 2), date.max], "{2020-01-02,infinity}"),
        ([datetime(2020, 1, 2, 3, 4, 5)], '{"2020-01-02 03:04:05"}'),
        ([timedelta(hours=-1)], '{"0 days -01:00:00.000000"}'),
        ([{"a": 1}], '[{"a":1}]'),  # a list of dicts is JSON array text
        ([None, {"a": "b"}], '[null,{"a":"b"}]'),
    ],
)
def test_array_literals(value: Any, literal: str) -> None:
    assert encode_text(value) == text(literal)
    assert encode_first(value) == (0, text(literal))


def parse_literal(s: str) -> Any:
    """An independent array_in for one-dimensional literals of text elements."""
    assert s[0] == "{" and s[-1] == "}"
    items: list[str | None] = []
    i, n = 1, len(s) - 1
    if i == n:
        return items
    while True:
        if s[i] == '"':
            i += 1
            buf = []
            while s[i] != '"':
                if s[i] == "\\":
                    i += 1
                buf.append(s[i])
                i += 1
            i += 1
            items.append("".join(buf))
        else:
            j = i
            while s[j] not in ",}":
                assert s[j] not in '{"\\' and not s[j].isspace()
                j += 1
            word = s[i:j]
            assert word
            items.append(None if word.upper() == "NULL" else word)
            i = j
        if i == n:
            return items
        assert s[i] == ","
        i += 1


ELEMENT_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@given(st.lists(st.one_of(st.none(), ELEMENT_TEXT)))
def test_array_literal_round_trip(values: list[str | None]) -> None:
    fmt, payload = split(encode_text(values))
    assert fmt == 0 and payload is not None
    assert parse_literal(payload.decode()) == values


# ------------------------------------------------------------------------------ text of scalars


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (42, "42"),
        (-(10**30), "-" + "1" + "0" * 30),
        ("héllo", "héllo"),
        (True, "true"),
        (1.5, "1.5"),
        (Decimal("1E+5"), "1E+5"),
        (b"\x01\xab", "\\x01ab"),
        (UUID(int=255), "00000000-0000-0000-0000-0000000000ff"),
        (datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=PLUS2), "2020-01-02 03:04:05.000006+02:00"),
        (datetime.max, "infinity"),
        (datetime.min.replace(tzinfo=UTC), "-infinity"),
        (date(2020, 1, 2), "2020-01-02"),
        (time(1, 2, 3, tzinfo=MINUS530), "01:02:03-05:30"),
        (timedelta(days=1, seconds=1, microseconds=2), "1 days 00:00:01.000002"),
        (timedelta(microseconds=-1), "0 days -00:00:00.000001"),
        ({"a": [1, None]}, '{"a":[1,null]}'),
        (ipaddress.ip_network("10.0.0.0/8"), "10.0.0.0/8"),
        (ipaddress.ip_interface("::1/64"), "::1/64"),
    ],
)
def test_encode_text(value: object, literal: str) -> None:
    assert encode_text(value) == text(literal)


def test_unsupported_type() -> None:
    class Thing:
        pass

    with pytest.raises(EncodeError, match="Thing"):
        encode_first(Thing())
    with pytest.raises(EncodeError, match="Thing"):
        enc(oids.INT4, Thing())
    with pytest.raises(EncodeError, match="complex"):
        encode_text(1j)
    with pytest.raises(EncodeError, match="set"):
        enc(oids.TEXT, {1})


# ------------------------------------------------------------------------------------- fallback


def test_text_fallback_for_mismatched_types() -> None:
    assert enc(oids.INT4, "12") == text("12")
    assert enc(oids.INT8, Decimal("5")) == text("5")
    assert enc(oids.INT4, 1.0) == text("1.0")
    assert enc(oids.TEXT, 42) == text("42")
    assert enc(oids.TEXT, date(2020, 1, 2)) == text("2020-01-02")
    assert enc(oids.DATE, "2020-01-02") == text("2020-01-02")
    assert enc(oids.INTERVAL, "1 day") == text("1 day")
    assert enc(oids.NUMERIC, "1.5") == text("1.5")


def test_bool_is_not_int() -> None:
    for oid in (oids.INT2, oids.INT4, oids.INT8, oids.OID, oids.NUMERIC, oids.FLOAT8):
        assert enc(oid, True) == text("true")
    assert enc(oids.BOOL, 1) == text("1")
    assert enc(oids.BOOL, 0) == text("0")
    assert encode_first(True) == (oids.BOOL, h("0001 00000001 01"))
    assert encode_first(1) == (0, text("1"))


def test_unknown_oid_is_text() -> None:
    e = encoder_for(999_999)
    assert e(5) == text("5")
    assert e("x") == text("x")
    assert e(True) == text("true")
    assert e([1, None]) == text("{1,NULL}")
    assert e(None) == NULL_ENTRY


def test_encoders_are_cached() -> None:
    assert encoder_for(oids.INT4) is encoder_for(oids.INT4)
    assert encoder_for(oids.INT4_ARRAY) is encoder_for(oids.INT4_ARRAY)


class Color(enum.Enum):
    RED = "red"
    ONE = 1


class Level(enum.IntEnum):
    HIGH = 3


class Mood(str, enum.Enum):
    GOOD = "good"


class MyInt(int):
    def __str__(self) -> str:
        return "not a number"


class MyDateTime(datetime):
    pass


def test_subclasses() -> None:
    assert enc(oids.INT4, Level.HIGH) == binary(h("00000003"))
    assert enc(oids.INT4, MyInt(7)) == binary(h("00000007"))
    assert encode_first(MyInt(7)) == (0, text("7"))
    assert encode_text(MyInt(7)) == text("7")
    assert enc(oids.TEXT, Mood.GOOD) == binary(b"good")
    assert enc(oids.INT4, Color.ONE) == text("1")  # plain Enum: its value's text
    assert encode_first(Color.RED) == (0, text("red"))
    assert encode_first(Level.HIGH) == (0, text("3"))
    assert encode_first(Mood.GOOD) == (0, text("good"))
    dt = MyDateTime(2000, 1, 1, tzinfo=UTC)
    assert encode_first(dt) == (oids.TIMESTAMPTZ, binary(h("0000000000000000")))
    assert enc(oids.TIMESTAMPTZ, dt) == binary(h("0000000000000000"))


# ---------------------------------------------------------------------------------- encode_first


def test_encode_first_declares_pinned_types() -> None:
    u = UUID(int=1)
    cases: list[tuple[object, int, bytes]] = [
        (True, oids.BOOL, binary(b"\x01")),
        (1.5, oids.FLOAT8, binary(h("3ff8000000000000"))),
        (Decimal("-1"), oids.NUMERIC, binary(h("0001 0000 4000 0000 0001"))),
        (b"ab", oids.BYTEA, binary(b"ab")),
        (bytearray(b"ab"), oids.BYTEA, binary(b"ab")),
        (memoryview(b"ab"), oids.BYTEA, binary(b"ab")),
        (u, oids.UUID, binary(u.bytes)),
        (datetime(2000, 1, 1, tzinfo=UTC), oids.TIMESTAMPTZ, binary(bytes(8))),
        (datetime(2000, 1, 1), oids.TIMESTAMP, binary(bytes(8))),
        (date(2000, 1, 1), oids.DATE, binary(bytes(4))),
        (time(0, 0), oids.TIME, binary(bytes(8))),
        (time(0, 0, tzinfo=PLUS2), oids.TIMETZ, binary(bytes(8) + h("ffffe3e0"))),
        (timedelta(days=1), oids.INTERVAL, binary(h("0000000000000000 00000001 00000000"))),
    ]
    for value, oid, expected in cases:
        assert encode_first(value) == (oid, expected), value


def test_encode_first_sends_the_rest_as_unknown_text() -> None:
    assert encode_first(2**40) == (0, text("1099511627776"))
    assert encode_first(-5) == (0, text("-5"))
    assert encode_first("x y") == (0, text("x y"))
    assert encode_first({"k": "v"}) == (0, text('{"k":"v"}'))
    assert encode_first(ipaddress.ip_address("10.0.0.1")) == (0, text("10.0.0.1"))
    assert encode_first([1, 2]) == (0, text("{1,2}"))


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_int4_matches_struct(value: int) -> None:
    assert enc(oids.INT4, value) == b"\x00\x01\x00\x00\x00\x04" + value.to_bytes(4, "big", signed=True)


@given(st.datetimes(timezones=st.sampled_from([UTC, PLUS2, MINUS530])))
def test_timestamptz_matches_timestamp_of_utc(value: datetime) -> None:
    if value.replace(tzinfo=None) in (datetime.max, datetime.min):
        return
    try:
        as_utc = value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return
    assert enc(oids.TIMESTAMPTZ, value) == enc(oids.TIMESTAMP, as_utc)
