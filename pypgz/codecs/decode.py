"""Bulk decoding of libpgz column sections (``core/batch/LAYOUT.md``) into Python values.

libpgz has already turned each binary value into a native array (int64, float64, bool), into
the pickle state of a ``date`` or ``datetime`` (which the constructor takes as it is), or into
text that a C-level constructor parses (``Decimal``, ``time.fromisoformat``, ``json.loads``).
So every column is decoded here with a handful of bulk operations —
``memoryview.cast(...).tolist()``, one ``decode()`` and ``split("\\0")`` per text column,
``map()`` with a constructor — and never a per-byte Python loop (DESIGN.md, rule 4).
NULLs are patched in afterwards from each column's list of NULL indexes.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from ipaddress import ip_address, ip_interface, ip_network
from itertools import repeat
from operator import add, mul
from socket import AF_INET6, inet_aton, inet_pton
from types import MemberDescriptorType
from typing import Any, Callable, Final, Literal
from uuid import UUID, SafeUUID

from pypgz.errors import DecodeError

__all__ = [
    "KIND_I64", "KIND_F64", "KIND_BOOL", "KIND_TEXT", "KIND_BYTES", "KIND_UUID",
    "KIND_INTERVAL", "KIND_ARRAY", "KIND_RAW", "KIND_DATETIME", "KIND_DATE", "COL_HAS_NULLS",
    "COL_TEXT_FORMAT", "ENTRY_SIZE", "column_kinds", "decode_columns", "row_reader",
]  # fmt: skip

KIND_I64: Final = 1
KIND_F64: Final = 2
KIND_BOOL: Final = 3
KIND_TEXT: Final = 4
KIND_BYTES: Final = 5
KIND_UUID: Final = 6
KIND_INTERVAL: Final = 7
KIND_ARRAY: Final = 8
KIND_RAW: Final = 9
KIND_DATETIME: Final = 10
KIND_DATE: Final = 11

COL_HAS_NULLS: Final = 1
COL_TEXT_FORMAT: Final = 2

ENTRY_SIZE: Final = 64
# kind, flags, reserved, oid, count, nnulls, data_off, data_len, aux_off, aux_len, nulls_off, child, pad
_ENTRY: Final = struct.Struct("<BBHIIIQQQQQII")
assert _ENTRY.size == ENTRY_SIZE

_Entry = tuple[int, int, int, int, int, int, int, int, int, int, int, int, int]
_Conv = Callable[[str], Any]


# ---------------------------------------------------------------- text converters


def _inet(text: str) -> IPv4Interface | IPv6Interface | IPv4Address | IPv6Address:
    return ip_interface(text) if "/" in text else ip_address(text)


def _cidr(text: str) -> IPv4Network | IPv6Network:
    return ip_network(text)


_new_object = object.__new__

# ipaddress objects keep the address as an int in a slot: plain addresses (the common inet
# value) are parsed by socket.inet_aton/inet_pton and built like UUIDs, ~8x faster than
# ip_address(text), which parses in Python.
_V4_IP = IPv4Address.__dict__.get("_ip")
_V6_IP = IPv6Address.__dict__.get("_ip")
_V6_SCOPE = IPv6Address.__dict__.get("_scope_id")
_FAST_INET: Final = all(isinstance(d, MemberDescriptorType) for d in (_V4_IP, _V6_IP, _V6_SCOPE))


def _plain_addresses(text: str, pieces: list[str], nulls: list[int]) -> list[Any] | None:
    """An inet column whose values are all IPv4, or all IPv6, addresses without a prefix
    length, decoded at C speed; None for any other column."""
    if not _FAST_INET or "/" in text:
        return None
    v6 = ":" in text
    for i in nulls:
        pieces[i] = "::" if v6 else "0.0.0.0"
    big: repeat[Literal["big"]] = repeat("big")
    try:
        if v6:
            ints = list(map(int.from_bytes, map(inet_pton, repeat(AF_INET6), pieces), big))
        else:
            ints = list(map(int.from_bytes, map(inet_aton, pieces), big))
    except OSError:  # IPv4 and IPv6 mixed in one column
        return None
    objs: list[Any] = list(map(_new_object, repeat(IPv6Address if v6 else IPv4Address, len(ints))))
    assert _V4_IP is not None and _V6_IP is not None and _V6_SCOPE is not None
    if v6:
        deque(map(_V6_IP.__set__, objs, ints), 0)
        deque(map(_V6_SCOPE.__set__, objs, repeat(None)), 0)
    else:
        deque(map(_V4_IP.__set__, objs, ints), 0)
    return objs


def _json_many(pieces: list[str]) -> list[Any]:
    """All values of a json column in one parse: each piece is one JSON document, and a JSON
    document has no top-level comma, so joining them with commas makes one array."""
    values: list[Any] = json.loads("[" + ",".join(pieces) + "]")
    if len(values) != len(pieces):  # only possible when a piece was not one valid document
        return list(map(json.loads, pieces))
    return values


def _text_bytea(text: str) -> bytes:
    if text.startswith("\\x"):
        return bytes.fromhex(text[2:])
    raise ValueError("not in hex format")


def _infinite(conv: _Conv, pos: str, neg: str) -> _Conv:
    """A date/time parser for text format that maps ``infinity`` as the binary path does."""

    def parse(text: str) -> Any:
        if text == "infinity":
            return conv(pos)
        if text == "-infinity":
            return conv(neg)
        return conv(text)

    return parse


# oid -> (converter, placeholder parsed in place of a NULL, type name for errors)
_TEXT: Final[dict[int, tuple[_Conv, str, str]]] = {
    1700: (Decimal, "0", "numeric"),
    1083: (time.fromisoformat, "00:00:00", "time"),
    1266: (time.fromisoformat, "00:00:00+00:00", "timetz"),
    114: (json.loads, "null", "json"),
    3802: (json.loads, "null", "jsonb"),
    869: (_inet, "0.0.0.0", "inet"),
    650: (_cidr, "0.0.0.0/0", "cidr"),
}
_JSON_OIDS: Final = frozenset((114, 3802))
_INET: Final = 869

# Columns the server sent in text format (types libpgz has no binary decoder for, or a text
# result): the same, plus the types whose binary form never reaches TEXT (dates and
# timestamps arrive as DATE/DATETIME states in binary).
_TEXT_FORMAT: Final[dict[int, tuple[_Conv, str, str]]] = {
    **_TEXT,
    1082: (_infinite(date.fromisoformat, "9999-12-31", "0001-01-01"), "2000-01-01", "date"),
    1114: (
        _infinite(datetime.fromisoformat, "9999-12-31T23:59:59.999999", "0001-01-01T00:00:00"),
        "2000-01-01T00:00:00",
        "timestamp",
    ),
    1184: (
        _infinite(datetime.fromisoformat, "9999-12-31T23:59:59.999999+00:00", "0001-01-01T00:00:00+00:00"),
        "2000-01-01T00:00:00+00:00",
        "timestamptz",
    ),
    16: ({"t": True, "f": False}.__getitem__, "f", "bool"),
    21: (int, "0", "int2"),
    23: (int, "0", "int4"),
    20: (int, "0", "int8"),
    26: (int, "0", "oid"),
    28: (int, "0", "xid"),
    29: (int, "0", "cid"),
    700: (float, "0", "float4"),
    701: (float, "0", "float8"),
    17: (_text_bytea, "\\x", "bytea"),
    2950: (UUID, "00000000-0000-0000-0000-000000000000", "uuid"),
}


def _bad_text(values: list[str], conv: _Conv, nulls: list[int], name: str, exc: BaseException) -> DecodeError:
    """The error for the first value of a column that its converter rejects."""
    skip = set(nulls)
    for i, text in enumerate(values):
        if i in skip:
            continue
        try:
            conv(text)
        except (ValueError, ArithmeticError, TypeError, KeyError) as e:
            return DecodeError(f"cannot represent the {name} value {text!r} in Python: {e}")
    return DecodeError(f"cannot decode a {name} column: {exc}")


def _decode_text(mv: memoryview, e: _Entry, nulls: list[int]) -> list[Any]:
    oid, flags, off, length = e[3], e[1], e[6], e[7]
    try:
        text = str(mv[off : off + length], "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"a text value of type oid {oid} is not valid UTF-8: {exc}") from None
    pieces = text.split("\0")
    pieces.pop()  # the arena ends with a NUL: the last piece is empty
    spec = (_TEXT_FORMAT if flags & COL_TEXT_FORMAT else _TEXT).get(oid)
    if spec is None:
        values: list[Any] = pieces
    else:
        conv, placeholder, name = spec
        for i in nulls:
            pieces[i] = placeholder
        try:
            if oid in _JSON_OIDS:
                values = _json_many(pieces)
            elif oid == _INET and (fast := _plain_addresses(text, pieces, nulls)) is not None:
                values = fast
            else:
                values = list(map(conv, pieces))
        except (ValueError, ArithmeticError, TypeError, KeyError) as exc:
            raise _bad_text(pieces, conv, nulls, name, exc) from None
    for i in nulls:
        values[i] = None
    return values


# ---------------------------------------------------------------- other kinds


def _decode_bytes(mv: memoryview, e: _Entry, src: bytes | None, base: int) -> list[Any]:
    """``src``: the bytes object the section lies in, at ``base``, when there is one: each
    value is then sliced straight out of it, one copy per value and no other."""
    offs = mv[e[8] : e[8] + e[9]].cast("Q").tolist()
    if src is not None:
        at = base + e[6]
        return [src[at + a : at + b] for a, b in zip(offs, offs[1:])]
    whole = mv[e[6] : e[6] + e[7]].tobytes()
    return [whole[a:b] for a, b in zip(offs, offs[1:])]  # faster than map() over slice objects


# uuid.UUID keeps its value in slots; filling them through the slot descriptors builds each
# UUID at C speed, where UUID(bytes=...) runs ~20 lines of Python per value.
_UUID_INT = UUID.__dict__.get("int")
_UUID_SAFE = UUID.__dict__.get("is_safe")
_FAST_UUID: Final = isinstance(_UUID_INT, MemberDescriptorType) and isinstance(_UUID_SAFE, MemberDescriptorType)


def _decode_uuid(mv: memoryview, e: _Entry) -> list[Any]:
    count = e[4]
    chunks = struct.unpack("16s" * count, mv[e[6] : e[6] + e[7]])
    big: repeat[Literal["big"]] = repeat("big")
    ints = list(map(int.from_bytes, chunks, big))
    if not _FAST_UUID:
        return [UUID(int=i) for i in ints]
    objs: list[Any] = list(map(_new_object, repeat(UUID, count)))
    assert _UUID_INT is not None and _UUID_SAFE is not None
    deque(map(_UUID_INT.__set__, objs, ints), 0)
    deque(map(_UUID_SAFE.__set__, objs, repeat(SafeUUID.unknown)), 0)
    return objs


_ONE_US: Final = timedelta(microseconds=1)
_US_PER_DAY: Final = 86_400_000_000


def _decode_interval(mv: memoryview, e: _Entry) -> list[Any]:
    """16 bytes per value: int64 µs, int32 days, int32 months; a month counts as 30 days."""
    data = mv[e[6] : e[6] + e[7]]
    us = data.cast("q").tolist()[0::2]
    i32 = data.cast("i").tolist()
    days = map(add, i32[2::4], map(mul, i32[3::4], repeat(30)))
    total = list(map(add, map(mul, days, repeat(_US_PER_DAY)), us))
    try:
        # timedelta * int is much faster than the keyword constructor
        return list(map(mul, repeat(_ONE_US), total))
    except OverflowError:
        for t in total:
            try:
                _ONE_US * t
            except OverflowError:
                raise DecodeError(f"cannot represent an interval of {t} µs in Python (limit: {timedelta.max})") from None
        raise


_UTC: Final = timezone.utc
_TIMESTAMPTZ: Final = 1184
_DATE_TYPES: Final = {1082: "date", 1114: "timestamp", 1184: "timestamptz"}

# datetime(state, tz) and date(state) rebuild a value from its pickle state at C speed;
# typeshed does not know that signature.
_datetime_from_state: Final[Callable[..., datetime]] = datetime
_date_from_state: Final[Callable[..., date]] = date


def _states(mv: memoryview, e: _Entry, width: int) -> tuple[bytes, ...]:
    """The DATETIME/DATE states of an entry, one bytes object each. An entry with aux
    holds a value Python cannot hold (its slot: a marker, not a state): aux is its text."""
    if e[9]:
        text = str(mv[e[8] : e[8] + e[9]], "ascii")
        name = _DATE_TYPES.get(e[3], f"oid {e[3]}")
        pytype = "date" if e[0] == KIND_DATE else "datetime"
        raise DecodeError(f"cannot represent the {name} value {text!r} in Python ({pytype} supports years 1 to 9999)")
    # struct caches the compiled format; as fast here as a Struct kept per count
    return struct.unpack(f"{width}s" * e[4], mv[e[6] : e[6] + e[7]])


def _decode_datetime(mv: memoryview, e: _Entry) -> list[Any]:
    """timestamp: naive; timestamptz: the UTC wall time, aware in UTC."""
    states = _states(mv, e, 10)
    if e[3] == _TIMESTAMPTZ:
        return list(map(_datetime_from_state, states, repeat(_UTC)))
    return list(map(_datetime_from_state, states))


def _decode_date(mv: memoryview, e: _Entry) -> list[Any]:
    return list(map(_date_from_state, _states(mv, e, 4)))


def _nest(elems: list[Any], start: int, dims: list[int]) -> list[Any]:
    """The elements from `start` as nested lists of shape `dims` (row-major)."""
    if len(dims) == 1:
        return elems[start : start + dims[0]]
    step = 1
    for d in dims[1:]:
        step *= d
    inner = dims[1:]
    return [_nest(elems, start + k * step, inner) for k in range(dims[0])]


def _decode_array(mv: memoryview, entries: list[_Entry], e: _Entry, src: bytes | None, base: int) -> list[Any]:
    count = e[4]
    starts = mv[e[6] : e[6] + e[7]].cast("I").tolist()
    shape = mv[e[8] : e[8] + e[9]].cast("I").tolist()
    elems = _decode_entry(mv, entries, e[11], src, base)
    if len(shape) == 2 * count and shape[0::2].count(1) == count:
        # all one-dimensional (then every shape record is [1, length])
        return [elems[a:b] for a, b in zip(starts, starts[1:])]
    values: list[Any] = []
    append = values.append
    pos = 0
    for k in range(count):
        nd = shape[pos]
        if nd == 0:
            append([])
        elif nd == 1:
            append(elems[starts[k] : starts[k + 1]])
        else:
            append(_nest(elems, starts[k], shape[pos + 1 : pos + 1 + nd]))
        pos += 1 + nd
    return values


def _decode_entry(mv: memoryview, entries: list[_Entry], index: int, src: bytes | None, base: int) -> list[Any]:
    e = entries[index]
    kind, nnulls, off, length = e[0], e[5], e[6], e[7]
    nulls: list[int] = mv[e[10] : e[10] + 4 * nnulls].cast("I").tolist() if nnulls else []
    values: list[Any] | list[int] | list[float] | list[bool]
    if kind == KIND_I64:
        values = mv[off : off + length].cast("q").tolist()
    elif kind == KIND_TEXT:
        return _decode_text(mv, e, nulls)
    elif kind == KIND_DATETIME:
        values = _decode_datetime(mv, e)
    elif kind == KIND_DATE:
        values = _decode_date(mv, e)
    elif kind == KIND_F64:
        values = mv[off : off + length].cast("d").tolist()
    elif kind == KIND_BOOL:
        values = mv[off : off + length].cast("?").tolist()
    elif kind == KIND_BYTES or kind == KIND_RAW:
        values = _decode_bytes(mv, e, src, base)
    elif kind == KIND_UUID:
        values = _decode_uuid(mv, e)
    elif kind == KIND_INTERVAL:
        values = _decode_interval(mv, e)
    elif kind == KIND_ARRAY:
        values = _decode_array(mv, entries, e, src, base)
    else:
        raise DecodeError(f"unknown column kind {kind} in a result batch")
    return _with_nulls(values, nulls)


def _with_nulls(values: list[Any], nulls: list[int]) -> list[Any]:
    for i in nulls:
        values[i] = None
    return values


def _as_bytes_view(buf: bytes | bytearray | memoryview) -> memoryview:
    mv = memoryview(buf)
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    return mv


def decode_columns(buf: bytes | bytearray | memoryview, nentries: int, ncols: int, base: int = 0) -> list[list[object]]:
    """Decode the column section that starts at offset ``base`` of buf into ncols lists of
    Python values."""
    mv = _as_bytes_view(buf)
    if base:
        mv = mv[base:]
    src = buf if type(buf) is bytes else None
    unpack = _ENTRY.unpack_from
    entries: list[_Entry] = [unpack(mv, ENTRY_SIZE * i) for i in range(nentries)]
    return [_decode_entry(mv, entries, i, src, base) for i in range(ncols)]


# (kind, the converter of a TEXT column or the tzinfo of a DATETIME column, else None)
RowReader = list[tuple[int, Any]]


def row_reader(buf: memoryview, ncols: int) -> RowReader | None:
    """How to read each column of one row of this shape, decided once per row description
    from any batch of it; None when a column needs the bulk path (arrays, uuids,
    intervals, undecoded types)."""
    reader: RowReader = []
    for i in range(ncols):
        e = _ENTRY.unpack_from(buf, ENTRY_SIZE * i)
        kind = e[0]
        if kind == KIND_TEXT:
            spec = (_TEXT_FORMAT if e[1] & COL_TEXT_FORMAT else _TEXT).get(e[3])
            reader.append((kind, None if spec is None else spec[0]))
        elif kind in (KIND_I64, KIND_F64, KIND_BOOL, KIND_BYTES, KIND_DATE):
            reader.append((kind, None))
        elif kind == KIND_DATETIME:
            reader.append((kind, _UTC if e[3] == _TIMESTAMPTZ else None))
        else:
            return None
    return reader


def column_kinds(buf: bytes | bytearray | memoryview, ncols: int) -> list[int]:
    """The kind (``KIND_*``) of each top-level column of a column section."""
    mv = _as_bytes_view(buf)
    return [mv[ENTRY_SIZE * i] for i in range(ncols)]
