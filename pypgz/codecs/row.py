"""Readers for results of exactly one row: the fetchrow, fetchval and ``INSERT ... RETURNING`` case.

The bulk path (``decode.decode_columns``) pays a fixed cost per column — slicing, casting,
a list per column, ``zip`` — that dominates when there is a single row. So for each row
shape, once, a small function is generated (the way ``collections.namedtuple`` builds its
classes) that reads every value straight from where it lies in the column section: one
``struct`` unpack for the entries it needs, then one expression per column, with no loop
and no branching on kinds at run time. The generated source only ever holds column
indexes and the constant names below, never anything that came from the server.
"""

from __future__ import annotations

import struct
from datetime import date, datetime, timezone
from functools import partial
from typing import Any, Callable, NoReturn

from pypgz.codecs.decode import (
    ENTRY_SIZE, KIND_BOOL, KIND_BYTES, KIND_DATE, KIND_DATETIME, KIND_F64, KIND_I64, KIND_TEXT, decode_columns, row_reader,
)  # fmt: skip
from pypgz.errors import DecodeError

__all__ = ["OneRowReader", "one_row_reader"]

OneRowReader = Callable[[bytes, int], Any]
"""(result buffer, offset of its column section) -> the row, built by the record class."""

# Per column: nnulls (offset 12), data_off (16) and data_len (24) of its 64-byte entry.
_ENTRY_FIELDS = "12xIQQ32x"
assert struct.calcsize("<" + _ENTRY_FIELDS) == ENTRY_SIZE

_Q = struct.Struct("<q").unpack_from
_D = struct.Struct("<d").unpack_from


def _value(i: int, kind: int, has_conv: bool) -> str:
    """The expression for column i's value, with the entry fields in n{i}, o{i}, l{i}."""
    at = f"base + o{i}"
    if kind == KIND_I64:
        expr = f"_q(buf, {at})[0]"
    elif kind == KIND_F64:
        expr = f"_d(buf, {at})[0]"
    elif kind == KIND_BOOL:
        expr = f"buf[{at}] == 1"
    elif kind == KIND_TEXT:
        expr = f"buf[{at} : {at} + l{i} - 1].decode()"  # the arena's NUL left out
        if has_conv:
            expr = f"_c{i}({expr})"
    elif kind == KIND_BYTES:
        expr = f"buf[{at} : {at} + l{i}]"
    elif kind == KIND_DATETIME:  # from the pickle state; the converter slot holds the tzinfo
        expr = f"_dt(buf[{at} : {at} + 10]{', _utc' if has_conv else ''})"
    elif kind == KIND_DATE:
        expr = f"_date(buf[{at} : {at} + 4])"
    else:  # decode.row_reader offers no other kind
        raise AssertionError(f"no one-row reading for column kind {kind}")
    return f"None if n{i} else {expr}"


def _fail(ncols: int, buf: bytes, base: int, exc: BaseException) -> NoReturn:
    """A value did not convert: the bulk decoder finds it and says what is wrong with it.
    (A one-row reader has no array columns, so its section has one entry per column.)"""
    decode_columns(buf, ncols, ncols, base)
    raise DecodeError(f"cannot decode a result row: {exc}") from None


def one_row_reader(section: memoryview, ncols: int, make_row: Callable[[tuple[Any, ...]], Any]) -> OneRowReader | None:
    """A function reading the one row of a column section shaped like ``section`` (any
    batch of the same row description) into ``make_row(values)``; None when a column needs
    the bulk path. ``decode.row_reader`` gives each column's kind and converter; a DATETIME
    column's converter is its tzinfo (UTC for timestamptz), which only ever is UTC or None."""
    reader = row_reader(section, ncols)
    if reader is None:
        return None
    env: dict[str, Any] = {
        "_entries": struct.Struct("<" + _ENTRY_FIELDS * len(reader)).unpack_from,
        "_make": make_row, "_q": _Q, "_d": _D, "_dt": datetime, "_date": date,
        "_utc": timezone.utc, "_fail": partial(_fail, len(reader)),
    }  # fmt: skip
    exprs = []
    for i, (kind, conv) in enumerate(reader):
        expr = _value(i, kind, conv is not None)
        if conv is not None and kind == KIND_TEXT:
            env[f"_c{i}"] = conv
        exprs.append(expr)
    fields = ", ".join(f"n{i}, o{i}, l{i}" for i in range(len(reader)))
    body = ",\n            ".join(exprs)
    src = (
        f"def read(buf, base):\n    {fields}, = _entries(buf, base)\n    try:\n"
        f"        return _make((\n            {body},\n        ))\n"
        "    except (ValueError, ArithmeticError, TypeError, KeyError) as e:\n"
        "        _fail(buf, base, e)\n"
    )
    exec(compile(src, "<pypgz one-row reader>", "exec"), env)
    read: OneRowReader = env["read"]
    return read
