"""COPY for both facades: the SQL, where the data comes from and goes to, and the binary
COPY format for records. The facades only move the bytes (blocking or on the loop).

The API is asyncpg's: ``copy_from_table``/``copy_from_query`` write a table or a query's
result to ``output``; ``copy_to_table`` reads ``source`` into a table;
``copy_records_to_table`` sends Python tuples in PostgreSQL's binary COPY format.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterable, Iterable, Iterator, Sequence
from typing import IO, Any, Callable

from pypgz import errors
from pypgz.notify import quote_ident

CHUNK = 1 << 20  # bytes per CopyData write from a source
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_BINARY_TRAILER = b"\xff\xff"
_FIELD_COUNT = struct.Struct("!h").pack


def quote_literal(value: str) -> str:
    if "\0" in value:
        raise ValueError("a COPY option cannot contain NUL")
    return "'" + value.replace("'", "''") + "'"


def table_ref(table_name: str, schema_name: str | None, columns: Sequence[str] | None) -> str:
    ref = quote_ident(table_name) if schema_name is None else f"{quote_ident(schema_name)}.{quote_ident(table_name)}"
    if columns:
        ref += " (" + ", ".join(quote_ident(c) for c in columns) + ")"
    return ref


def options_clause(
    *,
    format: str | None = None,
    delimiter: str | None = None,
    null: str | None = None,
    header: bool | None = None,
    quote: str | None = None,
    escape: str | None = None,
    force_quote: bool | Sequence[str] | None = None,
    force_not_null: Sequence[str] | None = None,
    force_null: Sequence[str] | None = None,
    encoding: str | None = None,
    freeze: bool | None = None,
) -> str:
    """The ``WITH (...)`` options of a COPY statement, quoted; empty when none are given."""
    opts: list[str] = []
    if format is not None:
        if format.lower() not in ("text", "csv", "binary"):
            raise ValueError(f"unknown COPY format {format!r}; expected text, csv or binary")
        opts.append(f"FORMAT {format.lower()}")
    for name, val in (("DELIMITER", delimiter), ("NULL", null), ("QUOTE", quote), ("ESCAPE", escape), ("ENCODING", encoding)):
        if val is not None:
            opts.append(f"{name} {quote_literal(val)}")
    if header is not None:
        opts.append(f"HEADER {'true' if header else 'false'}")
    if freeze is not None:
        opts.append(f"FREEZE {'true' if freeze else 'false'}")
    if force_quote is True:
        opts.append("FORCE_QUOTE *")
    elif force_quote:
        opts.append("FORCE_QUOTE (" + ", ".join(quote_ident(c) for c in force_quote) + ")")
    if force_not_null:
        opts.append("FORCE_NOT_NULL (" + ", ".join(quote_ident(c) for c in force_not_null) + ")")
    if force_null:
        opts.append("FORCE_NULL (" + ", ".join(quote_ident(c) for c in force_null) + ")")
    return " WITH (" + ", ".join(opts) + ")" if opts else ""


def copy_out_sql(source: str, options: str) -> str:
    return f"COPY {source} TO STDOUT{options}"


def copy_in_sql(target: str, options: str, where: str | None = None) -> str:
    return f"COPY {target} FROM STDIN{options}" + (f" WHERE {where}" if where else "")


# ---- where COPY OUT data goes ------------------------------------------------------------


def output_writer(output: Any) -> tuple[Callable[[bytes], Any], Callable[[], None]]:
    """(write, close) for an output: a path (opened and closed here), a file-like object
    with ``write``, or a callable taking each chunk of bytes."""
    if isinstance(output, (str, os.PathLike)):
        f: IO[bytes] = open(output, "wb")
        return f.write, f.close
    write = getattr(output, "write", None)
    if write is not None:
        return write, lambda: None
    if callable(output):
        return output, lambda: None
    raise TypeError(f"output must be a path, a file-like object or a callable, not {type(output).__name__}")


# ---- where COPY IN data comes from ---------------------------------------------------------


def source_chunks(source: Any) -> Iterator[bytes]:
    """The bytes of a source: bytes, a path, a file-like object with ``read``, or an
    iterable of bytes/str chunks."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]
        return
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield from _read_chunks(f)
        return
    if hasattr(source, "read"):
        yield from _read_chunks(source)
        return
    if isinstance(source, Iterable):
        for chunk in source:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
        return
    raise TypeError(f"source must be bytes, a path, a file-like object or an iterable of bytes, not {type(source).__name__}")


def _read_chunks(f: Any) -> Iterator[bytes]:
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return
        yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)


async def async_source_chunks(source: Any) -> Any:
    """Like ``source_chunks``, also accepting an async iterable of chunks."""
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
        return
    for chunk in source_chunks(source):
        yield chunk


# ---- records in binary COPY format -------------------------------------------------------


def binary_chunks(records: Iterable[Sequence[Any]], fields: list[Callable[[Any], bytes]]) -> Iterator[bytes]:
    """Records as PostgreSQL binary COPY data, about CHUNK bytes at a time. ``fields`` are
    the columns' field encoders (``copy_field_encoder``): int32 length and payload each."""
    n = len(fields)
    count = _FIELD_COUNT(n)
    parts: list[bytes] = [_BINARY_HEADER]
    size = 0
    for record in records:
        if len(record) != n:
            raise errors.EncodeError(f"a record has {len(record)} values; the COPY has {n} columns")
        row = count + b"".join([f(v) for f, v in zip(fields, record)])
        parts.append(row)
        size += len(row)
        if size >= CHUNK:
            yield b"".join(parts)
            parts = []
            size = 0
    parts.append(_BINARY_TRAILER)
    yield b"".join(parts)
