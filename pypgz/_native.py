"""The binding to libpgz: the only module in pypgz that touches ctypes.

Calls that cannot block (all of them but ``pgz_wait``) go through a ``PyDLL`` handle, which
keeps the GIL: releasing and re-taking it would cost more than the call. ``pgz_wait``
blocks in poll(2) and goes through a ``CDLL`` handle, which releases the GIL so that other
threads run meanwhile.
"""

from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from pypgz_abi import LibPgz

# Events and constants; the values are those of core/pgz.h.
WANT_READ = 1
WANT_WRITE = 2
WANT_READ_WRITE = 3
EV_READY = 4
EV_BATCH = 5
EV_DONE = 6
EV_FAILED = 7
EV_NOTICE = 8
EV_NOTIFY = 9
EV_CLOSED = 10
EV_TIMEOUT = 11
EV_INTERRUPTED = 12
EV_COPY_IN = 13
EV_COPY_OUT = 14
MORE_INPUT = 0x100

ERR_CLOSED = -1
ERR_BAD_PARAMS = -2
ERR_NO_MEMORY = -3

OPEN = 0
CLOSED_BY_USER = 1
CLOSED_LOST = 2
CLOSED_PROTOCOL = 3
CLOSED_AUTH = 4
CLOSED_NO_MEMORY = 5

EXEC_PARSE = 1
EXEC_DESCRIBE_STMT = 2
EXEC_EXECUTE = 4
EXEC_DISCARD_ROWS = 8
EXEC_SIMPLE = 16
EXEC_OPEN = 32
EXEC_MORE = 64
EXEC_ABORT = 128
EXEC_COPY = 256

RES_DONE = 1
RES_ROWDESC = 2
RES_PARAMS = 4

# ErrorResponse field codes, in the order of pgz_error's members.
ERROR_FIELD_CODES = "SVCMDHPpqWstcdnFLR"

_LIB_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libpgz.so")


class _CError(ctypes.Structure):
    _fields_ = [(code, ctypes.c_char_p) for code in ERROR_FIELD_CODES]


_c = ctypes.c_int
_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_u32 = ctypes.c_uint32
_bp = ctypes.c_char_p  # bytes in
_SIGNATURES: dict[str, tuple[list[type], type | None]] = {
    "pgz_version": ([], _c),
    "pgz_connect": ([_c, _bp, _sz, _bp, _sz], _vp),
    "pgz_close": ([_vp], None),
    "pgz_free": ([_vp], None),
    "pgz_step": ([_vp], _c),
    "pgz_wait": ([_vp, _c], _c),
    "pgz_exec": ([_vp, _u32, _bp, _sz, _bp, _sz, _bp, _u32, _bp, _sz, _u32, _u32, _bp, _u32, _u32], _c),
    "pgz_close_statement": ([_vp, _bp, _sz], _c),
    "pgz_cancel_packet": ([_vp, ctypes.c_char_p, _sz], _sz),
    "pgz_result": ([_vp, ctypes.POINTER(_vp), ctypes.POINTER(_sz)], None),
    "pgz_error": ([_vp], ctypes.POINTER(_CError)),
    "pgz_notice": ([_vp], ctypes.POINTER(_CError)),
    "pgz_notification": (
        [_vp, ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)],
        None,
    ),
    "pgz_close_reason": ([_vp, ctypes.POINTER(ctypes.c_char_p)], _c),
    "pgz_fd": ([_vp], _c),
    "pgz_backend_pid": ([_vp], ctypes.c_int32),
    "pgz_transaction_status": ([_vp], _c),
    "pgz_pending": ([_vp], _c),
    "pgz_parameter": ([_vp, _bp], ctypes.c_char_p),
    "pgz_parameters": ([_vp, ctypes.POINTER(_vp), ctypes.POINTER(_sz)], _c),
    "pgz_binary_supported": ([_u32], _c),
    "pgz_copy_data": ([_vp, _bp, _sz], _c),
    "pgz_copy_end": ([_vp, _bp, _sz], _c),
    "pgz_pending_output": ([_vp], _sz),
    "pgz_wait_writable": ([_vp, _c], _c),
    "pgz_execute": ([_vp, _bp, _sz, _bp, _sz, _u32, _bp, _u32, _u32], _c),
    "pgz_run": ([_vp, _bp, _sz, _bp, _sz, _u32, _bp, _u32, _c, ctypes.POINTER(_vp), ctypes.POINTER(_sz)], _c),
}


def _load(kind: type[ctypes.CDLL]) -> LibPgz:
    lib = kind(_LIB_PATH)
    for name, (args, res) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res
    return cast("LibPgz", lib)


_lib = _load(ctypes.PyDLL)
_blocking = _load(ctypes.CDLL)
# ctypes.string_at is a Python wrapper around this function object; call it directly.
_string_at = getattr(ctypes, "_string_at", ctypes.string_at)


def _text(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8", "replace")


def _fields(rec: _CError) -> dict[str, str]:
    out: dict[str, str] = {}
    for code in ERROR_FIELD_CODES:
        v = getattr(rec, code)
        if v is not None:
            out[code] = v.decode("utf-8", "replace")
    return out


def exported_functions() -> list[str]:
    """The functions this binding declares (for the ABI consistency test)."""
    return list(_SIGNATURES)


class NativeConn:
    """One libpgz connection handle. Not thread-safe: the facades serialise access."""

    __slots__ = ("_h", "_ptr", "_len", "_ptr_ref", "_len_ref", "_exec", "_step", "_wait", "_result", "_run", "_execute", "_freed")

    def __init__(self, fd: int, startup: bytes, password: bytes) -> None:
        h = _lib.pgz_connect(fd, startup, len(startup), password, len(password))
        if not h:
            raise MemoryError("libpgz could not allocate a connection")
        self._h: int = h
        self._ptr = ctypes.c_void_p()
        self._len = ctypes.c_size_t()
        self._ptr_ref = ctypes.byref(self._ptr)
        self._len_ref = ctypes.byref(self._len)
        # Bound once: attribute lookups on the library cost more than the calls.
        self._exec = _lib.pgz_exec
        self._step = _lib.pgz_step
        self._wait = _blocking.pgz_wait
        self._result = _lib.pgz_result
        self._run = _blocking.pgz_run
        self._execute = _lib.pgz_execute
        self._freed = False

    def __del__(self) -> None:
        # Freed only here, never on close: a callback or task that still holds the
        # connection may ask a closed handle for its state, never a freed one.
        self.free()

    def free(self) -> None:
        if not self._freed:
            self._freed = True
            _lib.pgz_free(self._h)

    def close(self) -> None:
        if not self._freed:
            _lib.pgz_close(self._h)

    def step(self) -> int:
        return self._step(self._h)

    def wait(self, timeout_ms: int) -> int:
        return self._wait(self._h, timeout_ms)

    def exec(
        self,
        flags: int,
        statement: bytes,
        sql: bytes,
        oids: bytes,
        params: bytes,
        nparams: int,
        nsets: int,
        formats: bytes,
        batch_rows: int,
    ) -> int:
        return self._exec(
            self._h, flags, statement, len(statement), sql, len(sql), oids, len(oids) >> 2,
            params, len(params), nparams, nsets, formats, len(formats) >> 1, batch_rows,
        )

    def run(self, statement: bytes, params: bytes, nparams: int, formats: bytes, timeout_ms: int) -> tuple[int, bytes | None]:
        """Executes a prepared statement and waits for its first event, in one blocking call
        (the GIL is released). Returns (event or PGZ_ERR_*, the result buffer for a batch/done)."""
        ev = self._run(
            self._h, statement, len(statement), params, len(params), nparams, formats, len(formats) >> 1,
            timeout_ms, self._ptr_ref, self._len_ref,
        )
        if ev == EV_DONE or ev == EV_BATCH:
            return ev, _string_at(self._ptr.value or 0, self._len.value)
        return ev, None

    def execute(self, statement: bytes, params: bytes, nparams: int, formats: bytes, batch_rows: int) -> int:
        """Queues an execution of a prepared statement and steps once (sending it, without
        blocking). Returns pgz_step's result, or PGZ_ERR_*."""
        return self._execute(self._h, statement, len(statement), params, len(params), nparams, formats,
                             len(formats) >> 1, batch_rows)

    def close_statement(self, name: bytes) -> int:
        return _lib.pgz_close_statement(self._h, name, len(name))

    def result(self) -> bytes:
        """A copy of the result buffer of the last batch/done event."""
        self._result(self._h, self._ptr_ref, self._len_ref)
        return _string_at(self._ptr.value or 0, self._len.value)

    def error_fields(self) -> dict[str, str]:
        return _fields(_lib.pgz_error(self._h).contents)

    def notice_fields(self) -> dict[str, str]:
        return _fields(_lib.pgz_notice(self._h).contents)

    def notification(self) -> tuple[int, str, str]:
        pid = ctypes.c_int32()
        channel = ctypes.c_char_p()
        payload = ctypes.c_char_p()
        _lib.pgz_notification(self._h, ctypes.byref(pid), ctypes.byref(channel), ctypes.byref(payload))
        return pid.value, _text(channel.value) or "", _text(payload.value) or ""

    def close_reason(self) -> tuple[int, str]:
        msg = ctypes.c_char_p()
        kind = _lib.pgz_close_reason(self._h, ctypes.byref(msg))
        return kind, _text(msg.value) or ""

    def fd(self) -> int:
        return _lib.pgz_fd(self._h)

    def backend_pid(self) -> int:
        return _lib.pgz_backend_pid(self._h)

    def transaction_status(self) -> int:
        return _lib.pgz_transaction_status(self._h)

    def pending(self) -> int:
        return _lib.pgz_pending(self._h)

    def parameter(self, name: str) -> str | None:
        return _text(_lib.pgz_parameter(self._h, name.encode()))

    def parameters(self) -> dict[str, str]:
        if _lib.pgz_parameters(self._h, self._ptr_ref, self._len_ref) != 0:
            raise MemoryError("libpgz out of memory")
        blob = _string_at(self._ptr.value or 0, self._len.value).decode("utf-8", "replace")
        parts = blob.split("\0")
        return dict(zip(parts[0:-1:2], parts[1::2]))

    def copy_data(self, data: bytes) -> int:
        return _lib.pgz_copy_data(self._h, data, len(data))

    def copy_end(self, reason: bytes | None) -> int:
        return _lib.pgz_copy_end(self._h, reason, len(reason) if reason is not None else 0)

    def pending_output(self) -> int:
        return _lib.pgz_pending_output(self._h)

    def wait_writable(self, timeout_ms: int) -> int:
        return _blocking.pgz_wait_writable(self._h, timeout_ms)

    def cancel_packet(self) -> bytes:
        buf = ctypes.create_string_buffer(300)
        n = _lib.pgz_cancel_packet(self._h, buf, len(buf))
        return buf.raw[:n]


def binary_supported(type_oid: int) -> bool:
    """Whether libpgz decodes this type in binary format."""
    return bool(_lib.pgz_binary_supported(type_oid))
