"""Encoders for a whole argument set at once, generated per list of parameter types.

``encode.encoder_for`` encodes one value per call: a Python frame, a dict lookup on the
value's type and a ``struct`` call, about 100-300 ns a value. For the common case — every
value has the one Python type its parameter expects (an ``int`` for ``int4``, a ``str``
for ``text``, an aware ``datetime`` for ``timestamptz``) — a function generated once per
statement (the way ``collections.namedtuple`` builds its classes) checks the types in one
condition and packs each run of fixed-size entries with a single ``struct`` call. Any other
argument set, and any value that does not fit (out of range, NULL, a subclass, lone
surrogates), goes through the per-value encoders, which also produce the errors, so the
bytes and the behaviour are those of ``encoder_for`` either way. The generated source only
holds indexes and the constants below, never anything that came from the server or a user.
"""

from __future__ import annotations

import functools
import struct
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from pypgz.codecs import oids
from pypgz.codecs.encode import PACKED, TIMESTAMP_EXACT_US, encoder_for

__all__ = ["RowEncoder", "row_encoder"]

RowEncoder = Callable[[Sequence[Any]], bytes]

# oid -> (Python type, struct code of the payload, payload size)
_FIXED: dict[int, tuple[type, str, int]] = {
    **PACKED,
    oids.TIMESTAMP: (datetime, "q", 8),  # microseconds since 2000, computed in the encoder
    oids.TIMESTAMPTZ: (datetime, "q", 8),
}
_TEXT = frozenset((oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME))

_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=timezone.utc)
_LOW, _HIGH = TIMESTAMP_EXACT_US


@functools.lru_cache(maxsize=512)
def row_encoder(param_types: tuple[int, ...]) -> RowEncoder | None:
    """The generated encoder for these parameter types (one per distinct list, cached), or
    None when a type has no fast form."""
    if not param_types or any(t not in _FIXED and t not in _TEXT for t in param_types):
        return None
    encoders = [encoder_for(t) for t in param_types]

    def slow(args: Sequence[Any]) -> bytes:
        return b"".join([e(a) for e, a in zip(encoders, args)])

    env: dict[str, Any] = {"_slow": slow, "_US": _ONE_US, "_E": _EPOCH, "_EU": _EPOCH_UTC, "_LO": _LOW, "_HI": _HIGH,
                           "bool": bool, "int": int, "float": float, "str": str, "datetime": datetime}
    n = len(param_types)
    checks: list[str] = []
    prep: list[str] = []
    parts: list[str] = []  # expressions concatenated into the block
    fmt, fargs = "!", list[str]()  # the fixed-size run being gathered

    def flush() -> None:
        nonlocal fmt, fargs
        if fargs:
            name = f"_p{len(parts)}"
            env[name] = struct.Struct(fmt).pack
            parts.append(f"{name}({', '.join(fargs)})")
        fmt, fargs = "!", []

    for i, t in enumerate(param_types):
        v = f"v{i}"
        if t in _TEXT:
            checks.append(f"type({v}) is str")
            prep.append(f"t{i} = {v}.encode()")
            fmt += "hi"
            fargs += ["1", f"len(t{i})"]
            flush()
            parts.append(f"t{i}")
            continue
        tp, code, size = _FIXED[t]
        checks.append(f"type({v}) is {tp.__name__}")
        if tp is datetime:
            # naive for timestamp, aware for timestamptz; the other kind fails the
            # subtraction or the check and takes the slow path, which knows the rules
            checks.append(f"{v}.tzinfo is {'None' if t == oids.TIMESTAMP else 'not None'}")
            prep.append(f"u{i} = ({v} - {'_E' if t == oids.TIMESTAMP else '_EU'}) // _US")
            prep.append(f"if not _LO < u{i} < _HI: return _slow(a)")  # near ±infinity
            value = f"u{i}"
        else:
            value = v
        fmt += "hi" + code
        fargs += ["1", str(size), value]
    flush()
    names = ", ".join(f"v{i}" for i in range(n))
    body = "\n".join(
        [
            "def encode(a):",
            "    try:",
            f"        {names}, = a",
            f"        if {' and '.join(checks)}:",
            *[f"            {line}" for line in prep],
            f"            return {' + '.join(parts)}",
            "    except (ValueError, TypeError, OverflowError, struct.error, UnicodeError):",
            "        pass",
            "    return _slow(a)",
        ]
    )
    env["struct"] = struct
    exec(compile(body, "<pypgz row encoder>", "exec"), env)
    encode: RowEncoder = env["encode"]
    return encode
