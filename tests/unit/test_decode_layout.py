"""decode.py against the documented column layout (core/batch/LAYOUT.md).

Sections are built here with struct, by the layout alone, so these tests pin the Python
reader to the document; end-to-end tests against a server check the writer side.
"""

from __future__ import annotations

import json
import pickle
import struct
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_interface, ip_network
from typing import Any, Sequence

import pytest

from pypgz.codecs import decode as D
from pypgz.codecs.row import one_row_reader
from pypgz.errors import DecodeError

ENTRY = struct.Struct("<BBHIIIQQQQQII")

INT4, INT8, FLOAT8, BOOL, TEXT, BYTEA = 23, 20, 701, 16, 25, 17
NUMERIC, DATE, TIME, TIMETZ, TIMESTAMP, TIMESTAMPTZ = 1700, 1082, 1083, 1266, 1114, 1184
JSON, JSONB, INET, CIDR, UUID_OID, INTERVAL = 114, 3802, 869, 650, 2950, 1186


@dataclass
class Col:
    kind: int
    oid: int
    count: int
    data: bytes = b""
    aux: bytes = b""
    nulls: Sequence[int] = ()
    flags: int = 0
    child: int = 0


@dataclass
class Section:
    """Writes a column section exactly as LAYOUT.md describes it."""

    cols: list[Col] = field(default_factory=list)

    def add(self, col: Col) -> int:
        self.cols.append(col)
        return len(self.cols) - 1

    def build(self, prefix: int = 0) -> memoryview:
        out = bytearray(len(self.cols) * 64)
        entries = []
        for c in self.cols:
            offs = []
            for blob in (c.data, c.aux, struct.pack(f"<{len(c.nulls)}I", *c.nulls)):
                out += bytes(-len(out) % 8)
                offs.append(len(out))
                out += blob
            flags = c.flags | (D.COL_HAS_NULLS if c.nulls else 0)
            entries.append(
                ENTRY.pack(
                    c.kind, flags, 0, c.oid, c.count, len(c.nulls), offs[0], len(c.data), offs[1], len(c.aux),
                    offs[2], c.child, 0,
                )  # fmt: skip
            )
        out[: len(entries) * 64] = b"".join(entries)
        return memoryview(b"\xee" * prefix + bytes(out))[prefix:]


def decode(cols: Sequence[Col], ncols: int | None = None) -> list[list[Any]]:
    s = Section()
    for c in cols:
        s.add(c)
    n = len(cols) if ncols is None else ncols
    view = s.build(prefix=24)
    got = D.decode_columns(view, len(cols), n)
    # the session's way: the whole result buffer and the section's offset in it
    assert repr(D.decode_columns(view.obj, len(cols), n, 24)) == repr(got)  # repr: NaN != NaN
    return got


def text(values: Sequence[str | None], oid: int = TEXT, flags: int = 0) -> Col:
    arena = "".join((v or "") + "\0" for v in values).encode()
    nulls = [i for i, v in enumerate(values) if v is None]
    return Col(D.KIND_TEXT, oid, len(values), arena, nulls=nulls, flags=flags)


def bytes_col(values: Sequence[bytes | None], kind: int = D.KIND_BYTES, oid: int = BYTEA) -> Col:
    offs = [0]
    for v in values:
        offs.append(offs[-1] + len(v or b""))
    data = b"".join(v or b"" for v in values)
    nulls = [i for i, v in enumerate(values) if v is None]
    return Col(kind, oid, len(values), data, struct.pack(f"<{len(offs)}Q", *offs), nulls)


def one(col: Col) -> list[Any]:
    return decode([col])[0]


def row(cols: Sequence[Col]) -> tuple[Any, ...]:
    """The single-row path: the reader generated for the section's shape, over it."""
    s = Section()
    for c in cols:
        s.add(c)
    view = s.build(prefix=16)
    read = one_row_reader(view, len(cols), tuple)
    assert read is not None
    values: tuple[Any, ...] = read(view.obj, 16)  # as the session calls it: the whole buffer, the section's offset
    return values


def dt_state(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> bytes:
    """A DATETIME slot: datetime's pickle state, written by the layout alone."""
    return struct.pack(">HBBBBB", y, mo, d, h, mi, s) + us.to_bytes(3, "big")


def date_state(y: int, mo: int, d: int) -> bytes:
    return struct.pack(">HBB", y, mo, d)


DT_MIN, DT_MAX = dt_state(1, 1, 1), dt_state(9999, 12, 31, 23, 59, 59, 999999)
DATE_MIN, DATE_MAX = date_state(1, 1, 1), date_state(9999, 12, 31)


def states(kind: int, oid: int, values: Sequence[bytes | None], aux: str = "") -> Col:
    """A DATETIME or DATE entry; NULL slots hold the minimum state, as libpgz writes them;
    `aux` is the text of the first value Python cannot hold (its slot: the zero marker)."""
    null = DT_MIN if kind == D.KIND_DATETIME else DATE_MIN
    data = b"".join(null if v is None else v for v in values)
    nulls = [i for i, v in enumerate(values) if v is None]
    return Col(kind, oid, len(values), data, aux.encode(), nulls)


# ---------------------------------------------------------------- fixed-width kinds


def test_i64_f64_bool_with_nulls() -> None:
    ints = Col(D.KIND_I64, INT8, 3, struct.pack("<3q", -(2**63), 0, 2**63 - 1), nulls=[1])
    floats = Col(D.KIND_F64, FLOAT8, 3, struct.pack("<3d", 1.5, 0.0, float("inf")), nulls=[1])
    bools = Col(D.KIND_BOOL, BOOL, 3, bytes([1, 0, 0]), nulls=[1])
    got = decode([ints, floats, bools])
    assert got == [[-(2**63), None, 2**63 - 1], [1.5, None, float("inf")], [True, None, False]]
    assert type(got[2][0]) is bool


def test_zero_rows() -> None:
    cols = [Col(D.KIND_I64, INT4, 0), text([]), bytes_col([]), Col(D.KIND_UUID, UUID_OID, 0)]
    cols += [Col(D.KIND_DATETIME, TIMESTAMPTZ, 0), Col(D.KIND_DATE, DATE, 0)]
    assert decode(cols) == [[], [], [], [], [], []]


def test_all_null() -> None:
    assert one(Col(D.KIND_I64, INT4, 2, bytes(16), nulls=[0, 1])) == [None, None]
    assert one(text([None, None], NUMERIC)) == [None, None]


# ---------------------------------------------------------------- TEXT


def test_text_is_str_with_nulls() -> None:
    assert one(text(["héllo", None, "", "x y"])) == ["héllo", None, "", "x y"]


def test_numeric() -> None:
    vals = ["0", "0.00", "-1.5", "10000", "0.0001", "1e-20", "NaN", "Infinity", "-Infinity", None]
    got = one(text(vals, NUMERIC))
    assert [str(v) for v in got[:6]] == ["0", "0.00", "-1.5", "10000", "0.0001", "1E-20"]
    assert got[6].is_nan() and got[7] == Decimal("Infinity") and got[8] == Decimal("-Infinity")
    assert got[9] is None
    assert all(type(v) is Decimal for v in got[:9])


def test_times() -> None:
    assert one(text(["00:00:00", "23:59:59.999999", None], TIME)) == [time(0), time(23, 59, 59, 999999), None]
    tz = one(text(["01:00:00+01:00", "12:30:00.500000-05:30", "00:00:00+00:00:01", None], TIMETZ))
    assert tz[0] == time(1, tzinfo=timezone(timedelta(hours=1)))
    assert tz[1] == time(12, 30, 0, 500000, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
    assert tz[2].utcoffset() == timedelta(seconds=1)
    assert tz[3] is None


# ---------------------------------------------------------------- DATETIME, DATE


def test_slots_are_the_pickle_states_python_writes() -> None:
    v = datetime(2024, 2, 29, 12, 34, 56, 789)
    assert dt_state(2024, 2, 29, 12, 34, 56, 789) == v.__reduce__()[1][0]
    assert date_state(2024, 2, 29) == date(2024, 2, 29).__reduce__()[1][0]
    assert (DT_MAX, DATE_MIN) == (datetime.max.__reduce__()[1][0], date.min.__reduce__()[1][0])


def test_timestamps() -> None:
    vals = [dt_state(2000, 1, 1), None, dt_state(1999, 12, 31, 23, 59, 59, 999999), dt_state(2024, 2, 29, 1, 2, 3, 4)]
    naive = one(states(D.KIND_DATETIME, TIMESTAMP, [*vals, DT_MAX, DT_MIN]))
    expected = [datetime(2000, 1, 1), None, datetime(1999, 12, 31, 23, 59, 59, 999999), datetime(2024, 2, 29, 1, 2, 3, 4)]
    assert naive == [*expected, datetime.max, datetime.min]  # +/-infinity
    assert all(type(v) is datetime and v.tzinfo is None for v in naive if v is not None)
    aware = one(states(D.KIND_DATETIME, TIMESTAMPTZ, [*vals, DT_MAX, DT_MIN]))
    utc = timezone.utc
    ends = [datetime.max.replace(tzinfo=utc), datetime.min.replace(tzinfo=utc)]
    assert aware == [v and v.replace(tzinfo=utc) for v in expected] + ends
    assert all(v.tzinfo is utc for v in aware if v is not None)


def test_dates() -> None:
    vals = [date_state(2000, 1, 1), None, date_state(2024, 2, 29), DATE_MAX, DATE_MIN, None]
    got = one(states(D.KIND_DATE, DATE, vals))
    assert got == [date(2000, 1, 1), None, date(2024, 2, 29), date.max, date.min, None]
    assert all(type(v) is date for v in got if v is not None)


def test_all_null_dates_and_timestamps() -> None:
    assert one(states(D.KIND_DATETIME, TIMESTAMPTZ, [None, None])) == [None, None]
    assert one(states(D.KIND_DATE, DATE, [None])) == [None]


@pytest.mark.parametrize(
    ("kind", "oid", "value", "pytype"),
    [
        (D.KIND_DATE, DATE, "10000-01-01", "date"),
        (D.KIND_DATE, DATE, "0044-03-15 BC", "date"),
        (D.KIND_DATETIME, TIMESTAMP, "0044-03-15T00:00:00 BC", "datetime"),
        (D.KIND_DATETIME, TIMESTAMP, "294277-01-09T04:00:54.775806", "datetime"),
        (D.KIND_DATETIME, TIMESTAMPTZ, "0001-12-31T23:59:59+00:00 BC", "datetime"),
    ],
)
def test_unrepresentable_dates_raise_decode_error(kind: int, oid: int, value: str, pytype: str) -> None:
    good, marker = (dt_state(2000, 1, 1), bytes(10)) if kind == D.KIND_DATETIME else (date_state(2000, 1, 1), bytes(4))
    name = {DATE: "date", TIMESTAMP: "timestamp", TIMESTAMPTZ: "timestamptz"}[oid]
    with pytest.raises(DecodeError) as info:
        one(states(kind, oid, [good, marker, None, marker], aux=value))
    message = f"cannot represent the {name} value {value!r} in Python ({pytype} supports years 1 to 9999)"
    assert str(info.value) == message
    with pytest.raises(DecodeError, match="supports years 1 to 9999"):
        row([states(kind, oid, [marker], aux=value)])


def test_single_row_dates_and_timestamps() -> None:
    utc = timezone.utc
    cols = [
        Col(D.KIND_I64, INT4, 1, struct.pack("<q", 7)),
        states(D.KIND_DATETIME, TIMESTAMPTZ, [dt_state(2024, 2, 29, 12, 0, 0, 5)]),
        states(D.KIND_DATETIME, TIMESTAMP, [DT_MAX]),
        states(D.KIND_DATE, DATE, [DATE_MIN]),
        states(D.KIND_DATETIME, TIMESTAMPTZ, [None]),
        states(D.KIND_DATE, DATE, [None]),
    ]
    got = row(cols)
    assert got == (7, datetime(2024, 2, 29, 12, 0, 0, 5, tzinfo=utc), datetime.max, date.min, None, None)
    assert got[1].tzinfo is utc and got[2].tzinfo is None
    assert row(cols) == tuple(c[0] for c in decode(cols))


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        (DATE, "10000-01-01"),
        (DATE, "0001-12-31 BC"),
        (TIMESTAMP, "0044-03-15 00:00:00 BC"),
        (TIMESTAMPTZ, "0001-12-31 23:59:59+00 BC"),
        (TIME, "24:00:00"),
        (NUMERIC, "12x"),
        (JSONB, "{bad"),
        (INET, "1.2.3.400"),
        (CIDR, "10.0.0.1/8"),
    ],
)
def test_unrepresentable_text_raises_decode_error(oid: int, value: str) -> None:
    # dates and timestamps reach TEXT only in text format (binary ones are DATE/DATETIME)
    flags = D.COL_TEXT_FORMAT if oid in (DATE, TIMESTAMP, TIMESTAMPTZ) else 0
    with pytest.raises(DecodeError) as info:
        one(text(["2000-01-01" if oid == DATE else None, value, None], oid, flags))
    assert repr(value) in str(info.value)
    name = {DATE: "date", TIMESTAMP: "timestamp", TIMESTAMPTZ: "timestamptz", TIME: "time", NUMERIC: "numeric",
            JSONB: "jsonb", INET: "inet", CIDR: "cidr"}[oid]  # fmt: skip
    assert name in str(info.value)


def test_invalid_utf8_raises_decode_error() -> None:
    col = Col(D.KIND_TEXT, TEXT, 1, b"\xff\xfe\0")
    with pytest.raises(DecodeError):
        one(col)


def test_json_and_jsonb() -> None:
    vals = ['{"a": [1, 2, {"b": null}]}', None, "1", '"s,t"', "[]", "null", '{"x": "é"}']
    for oid in (JSON, JSONB):
        assert one(text(vals, oid)) == [{"a": [1, 2, {"b": None}]}, None, 1, "s,t", [], None, {"x": "é"}]


def test_inet_and_cidr() -> None:
    v4 = one(text(["192.168.0.1", None, "10.0.0.1"], INET))
    assert v4 == [IPv4Address("192.168.0.1"), None, IPv4Address("10.0.0.1")]
    v6 = one(text(["::1", "2001:db8::1", None, "::ffff:1.2.3.4"], INET))
    assert v6 == [IPv6Address("::1"), IPv6Address("2001:db8::1"), None, ip_address("::ffff:1.2.3.4")]
    mixed = one(text(["1.2.3.4", "::2", None], INET))
    assert mixed == [IPv4Address("1.2.3.4"), IPv6Address("::2"), None]
    prefixed = one(text(["10.0.0.1/24", "1.2.3.4", None, "2001:db8::1/64"], INET))
    assert prefixed == [ip_interface("10.0.0.1/24"), ip_address("1.2.3.4"), None, ip_interface("2001:db8::1/64")]
    assert one(text(["10.0.0.0/8", None, "2001:db8::/32"], CIDR)) == [
        ip_network("10.0.0.0/8"), None, ip_network("2001:db8::/32"),
    ]  # fmt: skip


def test_fast_built_addresses_behave_like_parsed_ones() -> None:
    for texts in (["10.1.2.3", "0.0.0.0"], ["fe80::1", "::"]):
        got = one(text(texts, INET))
        for g, t in zip(got, texts):
            ref = ip_address(t)
            assert type(g) is type(ref) and g == ref and hash(g) == hash(ref) and str(g) == t
            assert pickle.loads(pickle.dumps(g)) == ref


def test_text_format_columns() -> None:
    flag = D.COL_TEXT_FORMAT
    assert one(text(["42", None, "-7"], INT4, flag)) == [42, None, -7]
    assert one(text(["t", "f", None], BOOL, flag)) == [True, False, None]
    assert one(text(["1.5", "NaN", None], FLOAT8, flag))[0] == 1.5
    assert one(text(["\\x00ff", None], BYTEA, flag)) == [b"\x00\xff", None]
    assert one(text(["12345678-1234-5678-1234-567812345678"], UUID_OID, flag)) == [
        uuid.UUID("12345678-1234-5678-1234-567812345678")
    ]
    assert one(text(["infinity", "-infinity", "2000-01-01"], DATE, flag)) == [date.max, date.min, date(2000, 1, 1)]
    assert one(text(["2024-01-01 12:00:00+01", "infinity"], TIMESTAMPTZ, flag)) == [
        datetime(2024, 1, 1, 11, tzinfo=timezone.utc),
        datetime.max.replace(tzinfo=timezone.utc),
    ]
    # a type with no converter stays text; without the flag, an int4 oid on TEXT is text too
    assert one(text(["(1,2)", None], 600, flag)) == ["(1,2)", None]
    assert one(text(["42"], INT4)) == ["42"]


# ---------------------------------------------------------------- BYTES, RAW, UUID, INTERVAL


def test_bytes_and_raw() -> None:
    vals: list[bytes | None] = [b"\x00\x01", b"", None, b"\xff" * 100]
    assert one(bytes_col(vals)) == vals
    assert one(bytes_col(vals, D.KIND_RAW, 600)) == vals
    assert all(type(v) is bytes for v in one(bytes_col(vals)) if v is not None)
    # large values (copied out one by one) and small ones (sliced from one copy) alike
    big: list[bytes | None] = [bytes([i]) * (300 + i) for i in range(5)] + [None, b""]
    assert one(bytes_col(big)) == big
    assert all(type(v) is bytes for v in one(bytes_col(big)) if v is not None)


def test_uuid() -> None:
    u = [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    col = Col(D.KIND_UUID, UUID_OID, 4, u[0].bytes + bytes(16) + u[1].bytes + u[2].bytes, nulls=[1])
    got = one(col)
    assert got == [u[0], None, u[1], u[2]]
    g = got[0]
    assert type(g) is uuid.UUID and hash(g) == hash(u[0]) and str(g) == str(u[0])
    assert g.is_safe is uuid.SafeUUID.unknown and g.version == 4
    assert pickle.loads(pickle.dumps(g)) == u[0]
    with pytest.raises(TypeError):
        g.int = 5  # type: ignore[misc]  # still immutable


def test_interval() -> None:
    raw = struct.pack("<qii", -1_500_000, 3, 0) + bytes(16) + struct.pack("<qii", 86_400_000_001, -1, 14)
    got = one(Col(D.KIND_INTERVAL, INTERVAL, 3, raw, nulls=[1]))
    assert got == [
        timedelta(days=3, microseconds=-1_500_000),
        None,
        timedelta(days=-1 + 14 * 30, microseconds=86_400_000_001),
    ]


def test_interval_out_of_range() -> None:
    raw = struct.pack("<qii", 0, 2**31 - 1, 2**31 - 1)
    with pytest.raises(DecodeError, match="interval"):
        one(Col(D.KIND_INTERVAL, INTERVAL, 1, raw))


# ---------------------------------------------------------------- ARRAY


def array_col(oid: int, shapes: Sequence[Sequence[int] | None], child: int, nelems: int) -> Col:
    """An ARRAY entry: `shapes` per value is its dimension list ([] = empty, None = NULL)."""
    starts = [0]
    aux = b""
    for shape in shapes:
        n = 1
        for d in shape or ():
            n *= d
        starts.append(starts[-1] + (n if shape else 0))
        dims = list(shape or ())
        aux += struct.pack(f"<{1 + len(dims)}I", len(dims), *dims)
    assert starts[-1] == nelems
    nulls = [i for i, s in enumerate(shapes) if s is None]
    return Col(D.KIND_ARRAY, oid, len(shapes), struct.pack(f"<{len(starts)}I", *starts), aux, nulls, child=child)


def test_arrays_1d_2d_3d_empty_null() -> None:
    shapes: list[Sequence[int] | None] = [[3], [2, 3], [], None, [1, 1, 2]]
    elems = [1, 0, 3, 1, 2, 3, 4, 0, 6, 7, 8]
    child = Col(D.KIND_I64, INT4, 11, struct.pack("<11q", *elems), nulls=[1, 7])
    got = decode([array_col(1007, shapes, 1, 11), child], ncols=1)
    assert got == [[[1, None, 3], [[1, 2, 3], [4, None, 6]], [], None, [[[7, 8]]]]]


def test_arrays_all_1d_fast_path() -> None:
    child = text(["a", None, "b", "c"])
    got = decode([array_col(1009, [[2], [1], [1]], 1, 4), child], ncols=1)
    assert got == [[["a", None], ["b"], ["c"]]]
    # the sub-lists are independent lists
    got[0][0].append("z")
    assert got[0][1] == ["b"]


def test_arrays_of_converted_elements() -> None:
    nums = text(["1.50", None, "-2"], NUMERIC)
    dates = states(D.KIND_DATE, DATE, [date_state(2020, 1, 1), date_state(2020, 1, 2)])
    cols = [array_col(1231, [[3], None], 2, 3), array_col(1182, [[1, 2]], 3, 2), nums, dates]
    got = decode(cols, ncols=2)
    assert got == [[[Decimal("1.50"), None, Decimal("-2")], None], [[[date(2020, 1, 1), date(2020, 1, 2)]]]]


def test_arrays_of_timestamps() -> None:
    utc = timezone.utc
    elems = states(D.KIND_DATETIME, TIMESTAMPTZ, [dt_state(2020, 1, 1, 0, 0, 0, 1), None, DT_MAX, DT_MIN])
    got = decode([array_col(1185, [[2], None, [1, 2], []], 1, 4), elems], ncols=1)
    t = datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=utc)
    assert got == [[[t, None], None, [[datetime.max.replace(tzinfo=utc), datetime.min.replace(tzinfo=utc)]], []]]


def test_arrays_of_uuid_bytes_interval() -> None:
    u = uuid.uuid4()
    uuids = Col(D.KIND_UUID, UUID_OID, 2, u.bytes + bytes(16), nulls=[1])
    blobs = bytes_col([b"ab", None])
    ivs = Col(D.KIND_INTERVAL, INTERVAL, 1, struct.pack("<qii", 1, 1, 1))
    cols = [array_col(2951, [[2]], 3, 2), array_col(1001, [[2]], 4, 2), array_col(1187, [[1]], 5, 1), uuids, blobs, ivs]
    got = decode(cols, ncols=3)
    assert got == [[[u, None]], [[b"ab", None]], [[timedelta(days=31, microseconds=1)]]]


def test_array_of_bad_dates_raises() -> None:
    cols = [array_col(1182, [[2]], 1, 2), states(D.KIND_DATE, DATE, [date_state(2020, 1, 1), bytes(4)], "20000-01-01")]
    with pytest.raises(DecodeError, match="20000-01-01"):
        decode(cols, ncols=1)


# ---------------------------------------------------------------- entries


def test_column_kinds_and_offsets_inside_a_larger_buffer() -> None:
    s = Section()
    s.add(Col(D.KIND_I64, INT4, 1, struct.pack("<q", 5)))
    s.add(bytes_col([b"x"], D.KIND_RAW, 600))
    s.add(text(["a"]))
    view = s.build(prefix=40)
    assert D.column_kinds(view, 3) == [D.KIND_I64, D.KIND_RAW, D.KIND_TEXT]
    assert D.decode_columns(view, 3, 3) == [[5], [b"x"], ["a"]]
    assert D.decode_columns(bytes(view), 3, 3) == [[5], [b"x"], ["a"]]


def test_unknown_kind_raises() -> None:
    with pytest.raises(DecodeError):
        one(Col(42, 0, 0))


def test_rows_zip() -> None:
    cols = decode([Col(D.KIND_I64, INT4, 2, struct.pack("<2q", 1, 2)), text(["a", None])])
    assert list(zip(*cols)) == [(1, "a"), (2, None)]


def test_json_column_with_one_bad_document_names_it() -> None:
    # "1, 2" is not one document: the joined parse would see three values for two pieces
    with pytest.raises(DecodeError, match="'1, 2'"):
        one(text(["1, 2", "3"], JSON))
    assert json.loads("[1]") == [1]
