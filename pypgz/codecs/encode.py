"""Query-argument encoding: Python values -> entries of a libpgz parameter block.

A parameter block is, for each parameter, ``struct.pack("!hi", format, length)`` followed by
``length`` bytes (format 0 = text, 1 = binary; length -1 = NULL, no bytes).  Every function
here returns ONE such entry, so a whole block is ``b"".join(entries)``.

Two situations:

* ``encode_first(value)`` - the statement has not been described by the server yet.  Only
  Python types that pin a PostgreSQL type unambiguously are declared and sent in binary; the
  rest are declared ``unknown`` (oid 0) and sent as text, so the server infers the type from
  context exactly as it does for a literal.
* ``encoder_for(oid)`` - the server told us the parameter type.  Values whose Python type has
  a binary form for that oid are sent in binary; any other value is sent as the same text
  ``encode_text`` produces, so the server parses it (and reports a clear error if it cannot).

Conventions worth knowing:

* ``bool`` is never sent as an integer and an ``int`` is never sent as a bool (text fallback).
* ``date.max``/``datetime.max`` are sent as ``infinity`` and ``.min`` as ``-infinity``
  (datetimes compare by wall clock, whatever their tzinfo).
* A naive ``datetime``/``time`` for a ``timestamptz``/``timetz`` parameter is taken as UTC; an
  aware one for ``timestamp``/``time`` keeps its wall-clock value (what the server does with
  ``'... +02'::timestamp``).
* ``timedelta`` -> interval with microseconds and days of the same sign, months 0.
* For ``json``/``jsonb``, a ``str`` (or bytes) is sent as is, as pre-serialised JSON text;
  anything else goes through ``json.dumps``.
* As text, a list or tuple becomes an array literal ``{...}`` - except a list with a dict among
  its top-level elements, which becomes JSON array text (an array literal of JSON texts would
  be ambiguous and is rarely what is meant).
"""

from __future__ import annotations

import json
import re
import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum
from functools import partial
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    ip_interface,
    ip_network,
)
from typing import Any, Callable, NamedTuple, Sequence
from uuid import UUID

from pypgz.codecs import oids
from pypgz.errors import EncodeError

__all__ = ["NULL_ENTRY", "PACKED", "TIMESTAMP_EXACT_US", "declared_oids", "encode_first", "param_key", "encode_text", "encoder_for"]

Encoder = Callable[[object], bytes]
_Fn = Callable[[Any], bytes]

NULL_ENTRY: bytes = b"\x00\x01\xff\xff\xff\xff"
_NULL_ELEM = b"\xff\xff\xff\xff"  # an array element that is NULL
_NoneType = type(None)

_HEADER = struct.Struct("!hi").pack
_LEN = struct.Struct("!i").pack

_INT32_MAX = 2**31 - 1
_INT32_MIN = -(2**31)
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
_DAY_US = 86_400_000_000


class _Fallback(Exception):
    """Raised by a binary encoder when this particular value has no binary form (send text)."""


# ---------------------------------------------------------------------------------------------
# errors


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_label(tp: type) -> str:
    mod = tp.__module__
    return tp.__qualname__ if mod == "builtins" else f"{mod}.{tp.__qualname__}"


def _invalid(value: object, reason: str) -> EncodeError:
    return EncodeError(f"invalid input for query argument: {_short_repr(value)} ({reason})")


def _out_of_range(value: object, oid: int) -> EncodeError:
    return _invalid(value, f"out of range for {oids.type_name(oid)}")


def _unsupported(value: object) -> EncodeError:
    return EncodeError(
        f"cannot encode query argument of type {_type_label(type(value))}: {_short_repr(value)}"
    )


def _bad_utf8(value: object) -> EncodeError:
    return _invalid(value, "not encodable as UTF-8")


# ---------------------------------------------------------------------------------------------
# text form (what the server would accept as a literal)


def _text_entry(text: str) -> bytes:
    data = text.encode()
    return _HEADER(0, len(data)) + data


def _str_text(value: str) -> str:
    return value


def _int_text(value: int) -> str:
    return int.__repr__(value)  # not str(): an int subclass may override __str__


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _decimal_text(value: Decimal) -> str:
    if value.is_finite():
        return str(value)
    if value.is_snan():
        raise _invalid(value, "sNaN cannot be sent to PostgreSQL")
    if value.is_nan():
        return "NaN"  # drops the sign of -NaN, which PostgreSQL does not have
    return "-Infinity" if value.is_signed() else "Infinity"


def _bytes_text(value: bytes | bytearray | memoryview) -> str:
    return "\\x" + bytes(value).hex()


def _date_text(value: date) -> str:
    if value == date.max:
        return "infinity"
    if value == date.min:
        return "-infinity"
    return value.isoformat()


def _datetime_text(value: datetime) -> str:
    wall = value.replace(tzinfo=None)
    if wall == datetime.max:
        return "infinity"
    if wall == datetime.min:
        return "-infinity"
    return value.isoformat(" ")


def _time_text(value: time) -> str:
    return value.isoformat()


def _interval_parts(value: timedelta) -> tuple[int, int]:
    """(days, microseconds) with the same sign: -1µs is '-00:00:00.000001',
    not timedelta's normal form '-1 days +23:59:59.999999'."""
    days = value.days
    micros = value.seconds * 1_000_000 + value.microseconds
    if days < 0 and micros:
        days += 1
        micros -= _DAY_US
    return days, micros


def _interval_text(value: timedelta) -> str:
    days, micros = _interval_parts(value)
    sign = "-" if micros < 0 else ""
    secs, us = divmod(abs(micros), 1_000_000)
    mins, s = divmod(secs, 60)
    h, m = divmod(mins, 60)
    return f"{days} days {sign}{h:02d}:{m:02d}:{s:02d}.{us:06d}"


_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _json_text(value: object) -> str:
    try:
        return _JSON_DUMPS(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(value, f"cannot be serialised as JSON: {exc}") from None


def _enum_text(value: Enum) -> str:
    return _text(value.value)


def _str_of(value: object) -> str:
    return str(value)


# Characters that force an array element to be double-quoted (array_in splits on them or trims
# whitespace); an empty string and any spelling of NULL need quotes too.
_NEEDS_QUOTES = re.compile(r'[{}",\\\s]|^$|^[nN][uU][lL][lL]$')


def _quote_element(text: str) -> str:
    if _NEEDS_QUOTES.search(text) is None:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: list[Any] | tuple[Any, ...], dims: list[int], depth: int) -> str:
    if len(value) != dims[depth]:
        raise _ragged(value)
    last = depth == len(dims) - 1
    parts = []
    for item in value:
        if isinstance(item, (list, tuple)):
            if last:
                raise _ragged(value)
            parts.append(_literal(item, dims, depth + 1))
        elif not last:
            raise _ragged(value)
        elif item is None:
            parts.append("NULL")
        else:
            parts.append(_quote_element(_text(item)))
    return "{" + ",".join(parts) + "}"


def _sequence_text(value: list[Any] | tuple[Any, ...]) -> str:
    if any(isinstance(item, dict) for item in value):
        return _json_text(value)
    return _literal(value, _dims(value), 0)


_TEXT: dict[type, Callable[[Any], str]] = {
    str: _str_text,
    int: _int_text,
    bool: _bool_text,
    float: _float_text,
    Decimal: _decimal_text,
    bytes: _bytes_text,
    bytearray: _bytes_text,
    memoryview: _bytes_text,
    UUID: _str_of,
    datetime: _datetime_text,
    date: _date_text,
    time: _time_text,
    timedelta: _interval_text,
    dict: _json_text,
    list: _sequence_text,
    tuple: _sequence_text,
    Enum: _enum_text,
    IPv4Address: _str_of,
    IPv6Address: _str_of,
    IPv4Interface: _str_of,
    IPv6Interface: _str_of,
    IPv4Network: _str_of,
    IPv6Network: _str_of,
}
_TEXT_BASE = dict(_TEXT)  # the registered types, for resolving subclasses


def _mro_lookup(tp: type, table: dict[type, Any]) -> Any:
    """The entry of the nearest registered base class; a bool never matches int."""
    for base in tp.__mro__[1:]:
        if base is int and issubclass(tp, bool):
            continue
        found = table.get(base)
        if found is not None:
            return found
    return None


def _text(value: object) -> str:
    fn = _TEXT.get(type(value))
    if fn is None:
        fn = _mro_lookup(type(value), _TEXT_BASE)
        if fn is None:
            raise _unsupported(value)
        _TEXT[type(value)] = fn
    return fn(value)


def encode_text(value: object) -> bytes:
    """The TEXT-format entry of a value (NULL for None)."""
    if value is None:
        return NULL_ENTRY
    try:
        return _text_entry(_text(value))
    except UnicodeEncodeError:
        raise _bad_utf8(value) from None


# ---------------------------------------------------------------------------------------------
# array shape


def _ragged(value: object) -> EncodeError:
    return _invalid(value, "nested lists must form a rectangular multi-dimensional array")


def _dims(value: list[Any] | tuple[Any, ...]) -> list[int]:
    """Dimensions read along the first elements; _literal/_collect verify the rest."""
    dims = [len(value)]
    item: Any = value
    while item and isinstance(item[0], (list, tuple)):
        item = item[0]
        dims.append(len(item))
    if len(dims) > 6:
        raise _invalid(value, "arrays have at most 6 dimensions")
    return dims


def _collect(value: Any, dims: list[int], depth: int, out: list[Any]) -> None:
    if not isinstance(value, (list, tuple)) or len(value) != dims[depth]:
        raise _ragged(value)
    if depth == len(dims) - 1:
        for item in value:
            if isinstance(item, (list, tuple)):
                raise _ragged(value)
        out.extend(value)
    else:
        for item in value:
            _collect(item, dims, depth + 1, out)


def _flatten(value: list[Any] | tuple[Any, ...]) -> tuple[list[int], list[Any] | tuple[Any, ...]]:
    """(dims, elements in row-major order).  1-D input is returned as is, unverified: the caller
    sees a nested list among the element types."""
    dims = _dims(value)
    if len(dims) == 1:
        return dims, value
    out: list[Any] = []
    _collect(value, dims, 0, out)
    return dims, out


# ---------------------------------------------------------------------------------------------
# binary forms, per PostgreSQL type


class _Bin(NamedTuple):
    scalar: _Fn  # value -> entry (format 1)
    element: _Fn  # value -> int32 length + payload, for array bodies


def _fixed(fmt: str, size: int, conv: Callable[[Any], Any] | None = None) -> _Bin:
    """A fixed-size binary form: header and payload packed in one call."""
    scalar = struct.Struct("!hi" + fmt).pack
    element = struct.Struct("!i" + fmt).pack
    if conv is None:
        return _Bin(partial(scalar, 1, size), partial(element, size))
    cv = conv
    return _Bin(lambda v: scalar(1, size, cv(v)), lambda v: element(size, cv(v)))


def _fixed_multi(fmt: str, size: int, conv: Callable[[Any], tuple[Any, ...]]) -> _Bin:
    """Like _fixed, for payloads of several fields (conv returns a tuple)."""
    scalar = struct.Struct("!hi" + fmt).pack
    element = struct.Struct("!i" + fmt).pack
    return _Bin(lambda v: scalar(1, size, *conv(v)), lambda v: element(size, *conv(v)))


def _var(payload: _Fn) -> _Bin:
    """A variable-size binary form from a payload function."""

    def scalar(v: Any) -> bytes:
        data = payload(v)
        return _HEADER(1, len(data)) + data

    def element(v: Any) -> bytes:
        data = payload(v)
        return _LEN(len(data)) + data

    return _Bin(scalar, element)


_NULL_BIN = _Bin(lambda v: NULL_ENTRY, lambda v: _NULL_ELEM)

# --- bool, numbers

_BOOL_ENTRIES = {True: b"\x00\x01\x00\x00\x00\x01\x01", False: b"\x00\x01\x00\x00\x00\x01\x00"}
_BOOL_ELEMS = {True: b"\x00\x00\x00\x01\x01", False: b"\x00\x00\x00\x01\x00"}
_BOOL_BIN = _Bin(_BOOL_ENTRIES.__getitem__, _BOOL_ELEMS.__getitem__)

_INT2_BIN = _fixed("h", 2)
_INT4_BIN = _fixed("i", 4)
_INT8_BIN = _fixed("q", 8)
_OID_BIN = _fixed("I", 4)
_FLOAT4_BIN = _fixed("f", 4)
_FLOAT8_BIN = _fixed("d", 8)
_FLOAT4_FROM_INT = _fixed("f", 4, float)
_FLOAT8_FROM_INT = _fixed("d", 8, float)

_NUMERIC_POS = 0x0000
_NUMERIC_NEG = 0x4000
_NUMERIC_NAN = b"\x00\x00\x00\x00\xc0\x00\x00\x00"
_NUMERIC_PINF = b"\x00\x00\x00\x00\xd0\x00\x00\x00"
_NUMERIC_NINF = b"\x00\x00\x00\x00\xf0\x00\x00\x00"
_NUMERIC_DSCALE_MAX = 0x3FFF
_POW10 = (1, 10, 100, 1000)
_numeric_structs: dict[int, struct.Struct] = {}


def _numeric_struct(ndigits: int) -> struct.Struct:
    st = _numeric_structs.get(ndigits)
    if st is None:
        st = struct.Struct(f"!hhHH{ndigits}H")
        if ndigits <= 256:
            _numeric_structs[ndigits] = st
    return st


def _numeric_pack(negative: bool, coef: int, exp: int, dscale: int) -> bytes:
    """Payload for the value (-1)**negative * coef * 10**exp, shown with dscale decimals."""
    if dscale > _NUMERIC_DSCALE_MAX:
        raise OverflowError  # reported as out of range by the caller
    # Scale so the exponent is a multiple of 4: then each base-10000 digit is whole.
    shift = exp % 4
    if shift:
        coef *= _POW10[shift]
    low_weight = (exp - shift) >> 2  # weight of the last base-10000 digit
    groups: list[int] = []
    while coef:
        coef, digit = divmod(coef, 10000)
        if digit or groups:  # trailing zero digits are implied by the weight
            groups.append(digit)
        else:
            low_weight += 1
    if not groups:  # zero (PostgreSQL has no negative zero)
        return _numeric_struct(0).pack(0, 0, _NUMERIC_POS, dscale)
    groups.reverse()
    weight = low_weight + len(groups) - 1
    sign = _NUMERIC_NEG if negative else _NUMERIC_POS
    return _numeric_struct(len(groups)).pack(len(groups), weight, sign, dscale, *groups)


def _numeric_special(value: Decimal) -> bytes:
    if value.is_snan():
        raise _invalid(value, "sNaN cannot be sent to PostgreSQL")
    if value.is_nan():
        return _NUMERIC_NAN
    return _NUMERIC_NINF if value.is_signed() else _NUMERIC_PINF


def _decimal_payload(value: Decimal) -> bytes:
    if not value.is_finite():
        return _numeric_special(value)
    text = Decimal.__str__(value)
    if "E" not in text:  # plain notation: the quick way
        whole, _, frac = text.partition(".")
        coef = int(whole + frac)
        return _numeric_pack(coef < 0, abs(coef), -len(frac), len(frac))
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int)
    coef = int("".join(map(str, digits)))
    return _numeric_pack(bool(sign), coef, exp, max(0, -exp))


def _int_numeric_payload(value: int) -> bytes:
    return _numeric_pack(value < 0, abs(value), 0, 0)


def _float_numeric_payload(value: float) -> bytes:
    return _decimal_payload(Decimal(float.__repr__(value)))


_NUMERIC_BIN = _var(_decimal_payload)
_NUMERIC_FROM_INT = _var(_int_numeric_payload)
_NUMERIC_FROM_FLOAT = _var(_float_numeric_payload)

# --- text-like, bytea, uuid, json


def _utf8(value: str) -> bytes:
    return value.encode()


def _char_payload(value: str) -> bytes:
    data = value.encode()
    if len(data) != 1:
        raise _Fallback  # "char" holds one byte; let the server's charin decide
    return data


def _raw_bytes(value: bytes | bytearray | memoryview) -> bytes:
    return bytes(value)


def _utf8_entry(value: str) -> bytes:
    data = value.encode()
    return _HEADER(1, len(data)) + data


_UTF8_BIN = _Bin(_utf8_entry, _var(_utf8).element)
_CHAR_BIN = _var(_char_payload)
_RAW_BIN = _var(_raw_bytes)

_UUID_BIN = _fixed("16s", 16, lambda v: v.bytes)


def _uuid_from_str(value: str) -> bytes:
    try:
        return UUID(value).bytes
    except ValueError:
        raise _Fallback from None


_UUID_FROM_STR = _fixed("16s", 16, _uuid_from_str)


def _json_payload(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()  # pre-serialised JSON, sent as is
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return _json_text(value).encode()


def _jsonb_payload(value: object) -> bytes:
    return b"\x01" + _json_payload(value)  # jsonb binary format version 1


_JSON_BIN = _var(_json_payload)
_JSONB_BIN = _var(_jsonb_payload)

# --- dates and times

_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_DATE_MAX_ORDINAL = date.max.toordinal()
_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _date_days(value: date) -> int:
    ordinal = value.toordinal()
    if ordinal == _DATE_MAX_ORDINAL:
        return _INT32_MAX  # infinity
    if ordinal == 1:
        return _INT32_MIN  # -infinity
    return ordinal - _EPOCH_ORDINAL


def _micros(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


_TS_MAX_US = _micros(datetime.max - _EPOCH)
_TS_MIN_US = _micros(datetime.min - _EPOCH)
# Microseconds since 2000 strictly between these are sent as they are; the values near
# datetime.min/max (within a day, whatever the time zone) follow the ±infinity rules.
TIMESTAMP_EXACT_US = (_TS_MIN_US + _DAY_US, _TS_MAX_US - _DAY_US)


def _ts_edge(value: datetime, micros: int) -> int:
    """Near the ends of datetime's range: max/min (by wall clock, any tzinfo) mean ±infinity."""
    wall = value.replace(tzinfo=None)
    if wall == datetime.max:
        return _INT64_MAX
    if wall == datetime.min:
        return _INT64_MIN
    return micros


def _timestamp_micros(value: datetime) -> int:
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # wall clock, as the server reads '... +02'::timestamp
    delta = value - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if TIMESTAMP_EXACT_US[0] < micros < TIMESTAMP_EXACT_US[1]:
        return micros
    return _ts_edge(value, micros)


def _timestamptz_micros(value: datetime) -> int:
    if value.tzinfo is None:
        delta = value - _EPOCH  # naive: taken as UTC
    else:
        try:
            delta = value - _EPOCH_UTC
        except TypeError:  # a tzinfo whose utcoffset() is None: naive after all
            delta = value.replace(tzinfo=None) - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if TIMESTAMP_EXACT_US[0] < micros < TIMESTAMP_EXACT_US[1]:
        return micros
    return _ts_edge(value, micros)


def _time_micros(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _timetz_fields(value: time) -> tuple[int, int]:
    offset = value.utcoffset()
    west = 0 if offset is None else -(offset.days * 86400 + offset.seconds)  # naive: UTC
    return _time_micros(value), west


def _interval_fields(value: timedelta) -> tuple[int, int, int]:
    days, micros = _interval_parts(value)
    return micros, days, 0


_DATE_BIN = _fixed("i", 4, _date_days)
_TIME_BIN = _fixed("q", 8, _time_micros)
_TIMETZ_BIN = _fixed_multi("qi", 12, _timetz_fields)
_TIMESTAMP_BIN = _fixed("q", 8, _timestamp_micros)
_TIMESTAMPTZ_BIN = _fixed("q", 8, _timestamptz_micros)
_INTERVAL_BIN = _fixed_multi("qii", 16, _interval_fields)

# --- inet / cidr

_Net = IPv4Address | IPv6Address | IPv4Interface | IPv6Interface | IPv4Network | IPv6Network


def _net_payload(value: _Net, is_cidr: int) -> bytes:
    bits: int
    if isinstance(value, (IPv4Interface, IPv6Interface)):  # before Address: its subclasses
        bits, packed = value.network.prefixlen, value.packed
    elif isinstance(value, (IPv4Address, IPv6Address)):
        bits, packed = value.max_prefixlen, value.packed
    else:
        bits, packed = value.prefixlen, value.network_address.packed
    family = 2 if value.version == 4 else 3  # PGSQL_AF_INET / PGSQL_AF_INET6
    return struct.pack("!BBBB", family, bits, is_cidr, len(packed)) + packed


def _net_from_str(text: str, is_cidr: int) -> bytes:
    try:
        net: _Net = ip_network(text) if is_cidr else ip_interface(text)
    except ValueError:
        raise _Fallback from None  # forms Python does not parse ('10/8'): the server may
    return _net_payload(net, is_cidr)


def _net_table(is_cidr: int) -> dict[type, _Bin]:
    obj = _var(lambda v: _net_payload(v, is_cidr))
    kinds = (IPv4Address, IPv6Address, IPv4Interface, IPv6Interface, IPv4Network, IPv6Network)
    table: dict[type, _Bin] = {tp: obj for tp in kinds}
    table[str] = _var(lambda v: _net_from_str(v, is_cidr))
    return table


# ---------------------------------------------------------------------------------------------
# the per-oid tables

_BYTES_TYPES: dict[type, _Bin] = {bytes: _RAW_BIN, bytearray: _RAW_BIN, memoryview: _RAW_BIN}
_TEXTLIKE: dict[type, _Bin] = {str: _UTF8_BIN, **_BYTES_TYPES}

_BINARY: dict[int, dict[type, _Bin]] = {
    oids.BOOL: {bool: _BOOL_BIN},
    oids.INT2: {int: _INT2_BIN},
    oids.INT4: {int: _INT4_BIN},
    oids.INT8: {int: _INT8_BIN},
    oids.OID: {int: _OID_BIN},
    oids.FLOAT4: {float: _FLOAT4_BIN, int: _FLOAT4_FROM_INT},
    oids.FLOAT8: {float: _FLOAT8_BIN, int: _FLOAT8_FROM_INT},
    oids.NUMERIC: {Decimal: _NUMERIC_BIN, int: _NUMERIC_FROM_INT, float: _NUMERIC_FROM_FLOAT},
    oids.TEXT: _TEXTLIKE,
    oids.VARCHAR: _TEXTLIKE,
    oids.BPCHAR: _TEXTLIKE,
    oids.NAME: _TEXTLIKE,
    oids.XML: _TEXTLIKE,
    oids.UNKNOWN: _TEXTLIKE,
    oids.CHAR: {str: _CHAR_BIN, **_BYTES_TYPES},
    oids.BYTEA: _BYTES_TYPES,
    oids.UUID: {UUID: _UUID_BIN, str: _UUID_FROM_STR},
    oids.JSON: {},
    oids.JSONB: {},
    oids.DATE: {date: _DATE_BIN},
    oids.TIME: {time: _TIME_BIN},
    oids.TIMETZ: {time: _TIMETZ_BIN},
    oids.TIMESTAMP: {datetime: _TIMESTAMP_BIN},
    oids.TIMESTAMPTZ: {datetime: _TIMESTAMPTZ_BIN},
    oids.INTERVAL: {timedelta: _INTERVAL_BIN},
    oids.INET: _net_table(0),
    oids.CIDR: _net_table(1),
}

# Types whose binary form takes any Python value.
_ANY_VALUE: dict[int, _Bin] = {oids.JSON: _JSON_BIN, oids.JSONB: _JSONB_BIN}

# Types packed by one struct call (code, size) when a value has exactly this Python type: the
# elements of arrays, and the arguments of generated row encoders (rowenc.py).
PACKED: dict[int, tuple[type, str, int]] = {
    oids.INT2: (int, "h", 2),
    oids.INT4: (int, "i", 4),
    oids.INT8: (int, "q", 8),
    oids.OID: (int, "I", 4),
    oids.FLOAT4: (float, "f", 4),
    oids.FLOAT8: (float, "d", 8),
    oids.BOOL: (bool, "?", 1),
}


def _resolve_bin(oid: int, tp: type) -> _Bin | None:
    """The binary form of type tp for oid (exact, then base classes), None if it has none."""
    if tp is _NoneType:
        return _NULL_BIN
    table = _BINARY.get(oid, {})
    found = table.get(tp)
    if found is None:
        found = _mro_lookup(tp, table)
    if found is None:
        found = _ANY_VALUE.get(oid)
    return found


def _scalar_encoder(oid: int) -> Encoder:
    # type -> entry function, filled lazily with subclasses and text fallbacks.
    fns: dict[type, _Fn] = {tp: b.scalar for tp, b in _BINARY[oid].items()}
    fns[_NoneType] = _NULL_BIN.scalar
    get = fns.get

    def resolve(value: object) -> bytes:
        found = _resolve_bin(oid, type(value))
        fn = encode_text if found is None else found.scalar
        fns[type(value)] = fn
        return fn(value)

    def encode(value: object) -> bytes:
        try:
            return get(type(value), resolve)(value)
        except _Fallback:
            return encode_text(value)
        except (struct.error, OverflowError):
            raise _out_of_range(value, oid) from None
        except UnicodeEncodeError:
            raise _bad_utf8(value) from None

    return encode


# --- arrays

_ARRAY_1D = struct.Struct("!hiiiiii").pack  # format, length, ndims=1, has_null, elem oid, n, lbound
_ARRAY_HEAD = struct.Struct("!iii").pack  # ndims, has_null, elem oid
_bulk_structs: dict[tuple[str, int, bool], struct.Struct] = {}


def _bulk_struct(code: str, n: int, one_dim: bool) -> struct.Struct:
    key = (code, n, one_dim)
    st = _bulk_structs.get(key)
    if st is None:
        st = struct.Struct(("!hiiiiii" if one_dim else "!") + ("i" + code) * n)
        if n <= 1024:
            _bulk_structs[key] = st
    return st


def _bulk_1d(code: str, size: int, elem_oid: int, items: list[Any] | tuple[Any, ...]) -> bytes:
    """A whole 1-D array entry without NULLs - header and (length, value) pairs - in one pack."""
    n = len(items)
    args: list[Any] = [size] * (7 + 2 * n)
    args[:7] = (1, 20 + n * (4 + size), 1, 0, elem_oid, n, 1)
    args[8::2] = items
    return _bulk_struct(code, n, True).pack(*args)


def _bulk_body(code: str, size: int, items: list[Any] | tuple[Any, ...]) -> bytes:
    """The (length, value) pairs of an array body without NULLs, in one pack."""
    args: list[Any] = [size] * (2 * len(items))
    args[1::2] = items
    return _bulk_struct(code, len(items), False).pack(*args)


def _first_bad(fn_of: Callable[[Any], _Fn], items: list[Any] | tuple[Any, ...]) -> Any:
    """The element whose encoding fails (to name it in the error)."""
    for item in items:
        try:
            fn_of(item)(item)
        except (struct.error, OverflowError, UnicodeEncodeError):
            return item
    return items  # not reached in practice


def _array_encoder(oid: int, elem_oid: int) -> Encoder:
    elem_fns: dict[type, _Fn] = {tp: b.element for tp, b in _BINARY[elem_oid].items()}
    elem_fns[_NoneType] = _NULL_BIN.element
    bulk = PACKED.get(elem_oid)
    empty = struct.pack("!hiiii", 1, 12, 0, 0, elem_oid)

    def element_fn(tp: type) -> _Fn | None:
        fn = elem_fns.get(tp)
        if fn is None:
            found = _resolve_bin(elem_oid, tp)
            if found is None:
                return None
            fn = elem_fns[tp] = found.element
        return fn

    def body_of(items: list[Any] | tuple[Any, ...], types: set[type]) -> bytes | None:
        fns: dict[type, _Fn] = {}
        for tp in types:
            if tp is _NoneType:
                continue
            if tp is list or tp is tuple:
                raise _ragged(items)
            fn = element_fn(tp)
            if fn is None:
                return None  # some element has no binary form: send the whole array as text
            fns[tp] = fn
        if len(fns) == 1:
            fn = fns.popitem()[1]
            if _NoneType in types:
                return b"".join([_NULL_ELEM if x is None else fn(x) for x in items])
            return b"".join(map(fn, items))
        fns[_NoneType] = _NULL_BIN.element
        return b"".join([fns[type(x)](x) for x in items])

    def encode(value: object) -> bytes:
        if not isinstance(value, (list, tuple)):
            return encode_text(value)  # e.g. an array literal string: the server parses it
        dims, items = _flatten(value)
        if not items:
            return empty
        types = set(map(type, items))
        try:
            if bulk is not None and len(types) == 1 and bulk[0] in types:
                if len(dims) == 1:
                    return _bulk_1d(bulk[1], bulk[2], elem_oid, items)
                body = _bulk_body(bulk[1], bulk[2], items)
                has_null = 0
            else:
                maybe = body_of(items, types)
                if maybe is None:
                    return encode_text(value)
                body = maybe
                has_null = 1 if _NoneType in types else 0
        except _Fallback:
            return encode_text(value)
        except (struct.error, OverflowError, UnicodeEncodeError) as exc:
            bad = _first_bad(lambda x: elem_fns[type(x)], items)
            if isinstance(exc, UnicodeEncodeError):
                raise _bad_utf8(bad) from None
            raise _out_of_range(bad, elem_oid) from None
        if len(dims) == 1:
            return _ARRAY_1D(1, 20 + len(body), 1, has_null, elem_oid, dims[0], 1) + body
        bounds = struct.pack(f"!{2 * len(dims)}i", *[x for d in dims for x in (d, 1)])
        head = _ARRAY_HEAD(len(dims), has_null, elem_oid) + bounds
        return _HEADER(1, len(head) + len(body)) + head + body

    return encode


_ENCODERS: dict[int, Encoder] = {}


def encoder_for(oid: int) -> Encoder:
    """The encoder for a parameter whose type the server reported (cached per oid).

    Binary for the types pypgz knows; the text entry for values with no binary form for the
    type, and for every value of an unknown type."""
    enc = _ENCODERS.get(oid)
    if enc is None:
        if oid in _BINARY:
            enc = _scalar_encoder(oid)
        elif oids.ELEMENT_OF.get(oid) in _BINARY:
            enc = _array_encoder(oid, oids.ELEMENT_OF[oid])
        else:
            enc = encode_text
        _ENCODERS[oid] = enc
    return enc


def copy_field_encoder(oid: int, column: str) -> Callable[[Any], bytes]:
    """For binary COPY: a function value -> one field (int32 length, then the binary
    payload; -1 for NULL). Fields have no format code, so a value without a binary form
    for the column's type is an EncodeError naming the column."""
    table = _BINARY.get(oid)
    if table is None:
        return _copy_field_from_entries(encoder_for(oid), oid, column)
    fns: dict[type, _Fn] = {tp: b.element for tp, b in table.items()}
    fns[_NoneType] = _NULL_BIN.element

    def field(value: Any) -> bytes:
        fn = fns.get(type(value))
        if fn is None:
            found = _resolve_bin(oid, type(value))
            if found is None:
                raise EncodeError(
                    f"column {column!r}: {value!r} ({type(value).__name__}) has no binary form for "
                    f"{oids.type_name(oid)}; use copy_to_table with a text or CSV source instead"
                )
            fn = fns[type(value)] = found.element
        try:
            return fn(value)
        except (struct.error, OverflowError) as e:
            raise EncodeError(f"column {column!r}: {value!r} is out of range for {oids.type_name(oid)}: {e}") from None

    return field


def _copy_field_from_entries(enc: Encoder, oid: int, column: str) -> Callable[[Any], bytes]:
    """Arrays and other types: the parameter entry without its format code."""

    def field(value: Any) -> bytes:
        if value is None:
            return _NULL_ELEM
        entry = enc(value)
        if entry[1] != 1:
            raise EncodeError(
                f"column {column!r}: {value!r} has no binary form for {oids.type_name(oid)}; "
                "use copy_to_table with a text or CSV source instead"
            )
        return entry[2:]

    return field


# ---------------------------------------------------------------------------------------------
# first execution: declare only what the Python type pins down


def _first_text(value: object) -> tuple[int, bytes]:
    return 0, encode_text(value)


def _first_int(value: int) -> tuple[int, bytes]:
    data = b"%d" % value
    return 0, _HEADER(0, len(data)) + data


def _first_str(value: str) -> tuple[int, bytes]:
    try:
        data = value.encode()
    except UnicodeEncodeError:
        raise _bad_utf8(value) from None
    return 0, _HEADER(0, len(data)) + data


def _first_datetime(value: datetime) -> tuple[int, bytes]:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return oids.TIMESTAMPTZ, _TIMESTAMPTZ_BIN.scalar(value)
    return oids.TIMESTAMP, _TIMESTAMP_BIN.scalar(value)


def _first_time(value: time) -> tuple[int, bytes]:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return oids.TIMETZ, _TIMETZ_BIN.scalar(value)
    return oids.TIME, _TIME_BIN.scalar(value)


def _first_bin(oid: int, fn: _Fn) -> Callable[[Any], tuple[int, bytes]]:
    return lambda v: (oid, fn(v))


_FIRST: dict[type, Callable[[Any], tuple[int, bytes]]] = {
    int: _first_int,
    str: _first_str,
    _NoneType: lambda v: (0, NULL_ENTRY),
    bool: _first_bin(oids.BOOL, _BOOL_BIN.scalar),
    float: _first_bin(oids.FLOAT8, _FLOAT8_BIN.scalar),
    Decimal: _first_bin(oids.NUMERIC, _NUMERIC_BIN.scalar),
    bytes: _first_bin(oids.BYTEA, _RAW_BIN.scalar),
    bytearray: _first_bin(oids.BYTEA, _RAW_BIN.scalar),
    memoryview: _first_bin(oids.BYTEA, _RAW_BIN.scalar),
    UUID: _first_bin(oids.UUID, _UUID_BIN.scalar),
    datetime: _first_datetime,
    date: _first_bin(oids.DATE, _DATE_BIN.scalar),
    time: _first_time,
    timedelta: _first_bin(oids.INTERVAL, _INTERVAL_BIN.scalar),
}
_FIRST_BASE = dict(_FIRST)


def _first_resolve(value: object) -> tuple[int, bytes]:
    fn = _mro_lookup(type(value), _FIRST_BASE) or _first_text
    _FIRST[type(value)] = fn
    return fn(value)


def encode_first(value: object) -> tuple[int, bytes]:
    """For a statement the server has not described yet: (oid to declare in Parse, entry).

    A type is declared (and the value sent in binary) only where the Python type pins it:
    bool, float (float8), Decimal (numeric), bytes-likes (bytea), UUID, datetime (timestamptz if
    aware, else timestamp), date, time (timetz if aware, else time), timedelta (interval).
    Everything else is declared unknown (0) and sent as text, like a literal."""
    try:
        return _FIRST.get(type(value), _first_resolve)(value)
    except (struct.error, OverflowError):
        # Only a Decimal can be out of range here (weight or scale beyond numeric's).
        raise _out_of_range(value, oids.NUMERIC) from None


# ---------------------------------------------------------------------------------------------
# what a statement is parsed with: the key of the statement cache


# Python types whose declared oid depends on the value (aware or naive), never cached by type.
_TZ_TYPES = (datetime, time)
# Type -> the oid ``encode_first`` declares for every value of that type.
_DECLARED: dict[type, int] = {
    int: 0, str: 0, _NoneType: 0, bool: oids.BOOL, float: oids.FLOAT8, Decimal: oids.NUMERIC,
    bytes: oids.BYTEA, UUID: oids.UUID, date: oids.DATE, timedelta: oids.INTERVAL,
}


def _declared_oid(value: object) -> int:
    if isinstance(value, _TZ_TYPES):
        aware = value.tzinfo is not None and value.utcoffset() is not None
        if isinstance(value, datetime):
            return oids.TIMESTAMPTZ if aware else oids.TIMESTAMP
        return oids.TIMETZ if aware else oids.TIME
    oid = encode_first(value)[0]
    _DECLARED[type(value)] = oid
    return oid


# Types whose values are all declared alike (everything but datetime and time and their
# subclasses, where an aware value declares another type than a naive one).
_KEY_BY_TYPE: set[type] = {int, str, _NoneType, bool, float, Decimal, bytes, UUID, date, timedelta, list, dict}


def _key_part(value: object) -> object:
    tp = type(value)
    if isinstance(value, _TZ_TYPES):
        return (tp, value.utcoffset() is not None)
    _KEY_BY_TYPE.add(tp)
    return tp


def param_key(args: Sequence[Any]) -> tuple[object, ...]:
    """What decides the types ``args`` declare (see ``declared_oids``), cheaply: their
    Python types, and for datetimes and times whether each is aware. The statement
    cache's key, with the SQL."""
    key = tuple(map(type, args))
    if _KEY_BY_TYPE.issuperset(key):
        return key
    return tuple([_key_part(a) for a in args])


def declared_oids(args: Sequence[Any]) -> tuple[int, ...]:
    """The parameter types a statement is parsed with for ``args``: what ``encode_first``
    declares for each value (0 where the server is left to infer the type).

    The server's parameter types are a function of the SQL and these oids alone, and every
    later value is encoded to the server's types, so a statement cached under (sql, oids)
    stores each value the same way whichever call prepared it."""
    try:
        return tuple([_DECLARED[type(a)] for a in args])
    except KeyError:
        return tuple([_declared_oid(a) for a in args])
