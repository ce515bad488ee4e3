"""What the blocking and the asyncio facades share: everything but the waiting.

A ``Session`` owns one libpgz connection. It turns calls into queued operations (choosing
the prepared statement, encoding the arguments), and turns the core's events into results
(decoding batches into rows, errors into exceptions). The facades only decide how to wait
for the socket: ``Conn`` blocks in ``pgz_wait``, ``AsyncConn`` lets the event loop call
``pgz_step``. Operations are pipelined; ``ops`` holds them in the order the server answers.
"""

from __future__ import annotations

import functools
import logging
import secrets
import struct
from collections import OrderedDict, deque
from typing import Any, Callable, Iterable, Sequence

from pypgz import _native as N
from pypgz import errors
from pypgz.codecs import oids as O
from pypgz.codecs.decode import KIND_RAW, column_kinds, decode_columns
from pypgz.codecs.row import OneRowReader, one_row_reader
from pypgz.codecs.rowenc import RowEncoder, row_encoder
from pypgz.codecs.encode import declared_oids, encode_first, encoder_for, param_key
from pypgz.record import Record, record_class

log = logging.getLogger("pypgz")

_HEADER = struct.Struct("<12I")
_FIELD = struct.Struct("<IiIhhhH")
_ALL_BINARY = b"\x01\x00"
_SQLSTATE_NO_SUCH_STATEMENT = "26000"
_SQLSTATE_DUPLICATE_STATEMENT = "42P05"
_SQLSTATE_FEATURE_NOT_SUPPORTED = "0A000"
_POOLER_HINT = (
    "the prepared statement {name} is not on this server connection: behind a pooler in "
    "transaction mode (PgBouncer) each transaction may run on another server connection; "
    "connect with statement_cache_size=0"
)

# The statement cache's key: the SQL, and what decides the parameter types it is parsed
# with (``param_key`` of the arguments; the declared oids themselves for executemany).
CacheKey = tuple[str, tuple[object, ...]]


class Column:
    """One column of a result: its name and type (what asyncpg calls an Attribute)."""

    __slots__ = ("name", "type_oid", "typmod", "table_oid", "attnum", "format")

    def __init__(self, name: str, type_oid: int, typmod: int, table_oid: int, attnum: int, fmt: int) -> None:
        self.name = name
        self.type_oid = type_oid
        self.typmod = typmod
        self.table_oid = table_oid
        self.attnum = attnum
        self.format = fmt

    @property
    def type_name(self) -> str:
        return O.type_name(self.type_oid)

    def __repr__(self) -> str:
        return f"Column({self.name!r}, {self.type_name})"


class Plan:
    """How to turn batches of one row description into rows; built once per shape."""

    __slots__ = ("columns", "names", "record_class", "raw_columns", "reader")

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.columns = columns
        self.names = tuple(c.name for c in columns)
        # The class builds a row from a tuple of values at C speed (tuple's own constructor).
        self.record_class = record_class(self.names)
        self.raw_columns: tuple[int, ...] | None = None  # known after the first batch
        self.reader: OneRowReader | None = None  # reads a result of one row, when it can


def _parse_rowdesc(rd: bytes, ncols: int) -> tuple[Column, ...]:
    names = rd[_FIELD.size * ncols :].decode("utf-8", "replace").split("\0")
    return tuple(
        Column(names[i], *_FIELD.unpack_from(rd, i * _FIELD.size)[:5])
        for i in range(ncols)
    )


class Statement:
    """A statement prepared on the server under ``name`` (b"" = the unnamed one, which is
    parsed again with every run), with the parameter types ``parse_oids`` it is parsed with."""

    __slots__ = ("name", "sql", "sql_bytes", "parse_oids", "param_types", "encoders", "encode_row", "formats",
                 "columns", "described", "plan", "reparse", "key")

    def __init__(self, name: bytes, sql: str, parse_oids: tuple[int, ...] = (), key: CacheKey | None = None) -> None:
        self.key = key
        self.name = name
        self.sql = sql
        self.sql_bytes = sql.encode()
        self.parse_oids = parse_oids
        self.param_types: tuple[int, ...] | None = None
        self.encoders: list[Callable[[Any], bytes]] | None = None
        self.encode_row: RowEncoder | None = None  # all arguments at once, when it can
        self.formats = _ALL_BINARY
        self.columns: tuple[Column, ...] | None = None
        self.described = False
        self.reparse = False  # a described statement the server connection no longer has
        # The plan of its results once described: a statement's result shape cannot change
        # while it lives (the server fails its execution instead; see core/shapes.zig).
        self.plan: Plan | None = None

    def learn(self, param_types: tuple[int, ...], columns: tuple[Column, ...] | None) -> None:
        """Records what the server said about the statement (ParameterDescription, RowDescription)."""
        self.param_types = param_types
        self.encoders = [encoder_for(t) for t in param_types]
        self.encode_row = row_encoder(param_types)
        if columns is not None:
            self.columns = columns
            self.formats = _result_formats(columns)
        self.described = True

    def encode(self, args: Sequence[Any]) -> bytes:
        encs = self.encoders
        if encs is None:
            # Parsed but not yet described (pipelined behind its Parse): encode for the types
            # we declared; undeclared ones (oid 0) go as text for the server to infer.
            return b"".join([encoder_for(t)(a) for t, a in zip(self.parse_oids, args)])
        if len(encs) != len(args):
            raise _arity_error(len(encs), len(args))
        if self.encode_row is not None:
            return self.encode_row(args)
        if len(args) == 1:
            return encs[0](args[0])
        return b"".join([e(a) for e, a in zip(encs, args)]) if args else b""


@functools.lru_cache(maxsize=4096)
def _binary_supported(type_oid: int) -> bool:
    return N.binary_supported(type_oid)


def _result_formats(columns: tuple[Column, ...]) -> bytes:
    """Binary for every column libpgz decodes, text for the rest (so they arrive as their text form)."""
    fmts = [1 if _binary_supported(c.type_oid) else 0 for c in columns]
    if all(fmts):
        return _ALL_BINARY
    return struct.pack(f"<{len(fmts)}h", *fmts)


class Op:
    """One queued operation and what came back for it.

    Fields that most operations never set are class-level defaults: an op is created per
    query, and setting a dozen attributes costs more than the rest of the bookkeeping."""

    columns: tuple[Column, ...] | None = None
    tag_bytes = b""  # the command tag as it came; most callers never look at it
    error: BaseException | None = None
    finished = False
    param_types: tuple[int, ...] | None = None
    on_batch: Callable[[list[Record]], None] | None = None
    # Columns of a type libpgz cannot decode, waiting for their text form: index → values.
    raw: dict[int, list[Any]] | None = None
    waiter: Any = None  # the facade's wake-up (an asyncio future)
    retryable = False
    plan: Plan | None = None
    shares_plan = False  # a run of a described statement: its plan is the statement's
    # The final result is decoded by ``Session.complete``, called by the task that awaits
    # the op, instead of in the event-loop callback that receives it (see complete).
    defer = False
    result_buf: bytes | None = None
    # COPY: the server waits for data (COPY FROM STDIN); where COPY TO STDOUT chunks go.
    copy_ready = False
    on_copy_data: Callable[[bytes], Any] | None = None

    def __init__(self, kind: str, statement: Statement | None = None, parsed: bool = False) -> None:
        self.kind = kind
        self.statement = statement
        self.parsed = parsed  # this op carried the Parse of its statement
        self.rows: list[Record] = []

    @classmethod
    def run_of(cls, kind: str, st: Statement) -> Op:
        """The op of a run of a described statement (the facades' hot path)."""
        op = cls(kind, st)
        op.plan = st.plan
        op.shares_plan = True
        return op

    @property
    def tag(self) -> str:
        """The command tag ("INSERT 0 1", "SELECT 3")."""
        return self.tag_bytes.decode("utf-8", "replace")

    def result_or_raise(self) -> Op:
        if self.error is not None:
            raise self.error
        return self


class Session:
    def __init__(self, native: N.NativeConn, *, statement_cache_size: int = 100) -> None:
        self.native = native
        self.ops: deque[Op] = deque()
        self.cache: OrderedDict[CacheKey, Statement] = OrderedDict()
        self.cache_size = statement_cache_size
        self._plans: dict[bytes, Plan] = {}
        # Statement names carry a random tag: on a server connection shared through a pooler,
        # no other client (nor another connection of this process) can make the same name.
        self._name_prefix = b"__pgz_" + secrets.token_hex(6).encode()
        # How many parameters the server said each SQL text has: a call with another count
        # fails before anything is sent, whatever types its values would declare.
        self._arity: dict[str, int] = {}
        self._counter = 0
        self.closed = False
        self.close_error: BaseException | None = None
        self.notice_handlers: list[Callable[[errors.PostgresNotice], None]] = []
        self.notify_handlers: list[Callable[[int, str, str], None]] = []
        self.ops.append(Op("startup"))

    # ---- queueing ---------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise errors.ConnectionClosedError("the connection is closed") from self.close_error

    def _new_name(self, kind: bytes = b"") -> bytes:
        """A statement name never used before: every Parse of a named statement gets its own."""
        self._counter += 1
        return b"%s_%s%d" % (self._name_prefix, kind, self._counter)

    def cached(self, sql: str, args: Sequence[Any]) -> Statement | None:
        """The cached, described statement that runs ``sql`` with ``args`` (the hot path)."""
        key = (sql, param_key(args))
        st = self.cache.get(key)
        if st is not None and st.described:
            self.cache.move_to_end(key)
            return st
        return None

    def _statement_for_args(self, sql: str, args: Sequence[Any]) -> tuple[Statement, bool]:
        key = (sql, param_key(args))
        st = self.cache.get(key) if self.cache_size > 0 else None
        if st is not None:
            self._check_arity(sql, len(args))
            self.cache.move_to_end(key)
            return st, False
        return self._statement_for(sql, declared_oids(args), key)

    def _check_arity(self, sql: str, nargs: int) -> None:
        nparams = self._arity.get(sql)
        if nparams is not None and nparams != nargs:
            raise _arity_error(nparams, nargs)

    def _statement_for(self, sql: str, declared: tuple[int, ...], key: CacheKey | None = None) -> tuple[Statement, bool]:
        """The statement that runs ``sql`` parsed with ``declared`` types, and whether it
        still needs its Parse. A new statement enters the cache only once its Parse is
        queued (``_remember``), so a call that fails before leaves nothing behind."""
        self._check_arity(sql, len(declared))
        if self.cache_size <= 0:
            return Statement(b"", sql, declared), True
        if key is None:
            key = (sql, declared)
        st = self.cache.get(key)
        if st is not None:
            self.cache.move_to_end(key)
            return st, False
        return Statement(self._new_name(), sql, declared, key), True

    def _remember(self, st: Statement) -> None:
        if st.key is None:
            return
        self.cache[st.key] = st
        if len(self.cache) > self.cache_size:
            _, old = self.cache.popitem(last=False)
            self.native.close_statement(old.name)

    def forget(self, st: Statement) -> None:
        """Drops a statement from the cache (and from the server, if it was named)."""
        if st.key is not None and self.cache.get(st.key) is st:
            del self.cache[st.key]
        if st.name and not self.closed:
            self.native.close_statement(st.name)

    def _exec(self, flags: int, st: Statement, oids: bytes, params: bytes, nparams: int, nsets: int, batch_rows: int) -> None:
        rc = self.native.exec(flags, st.name, st.sql_bytes, oids, params, nparams, nsets, st.formats, batch_rows)
        if rc != 0:
            self._exec_failed(rc)

    def _exec_failed(self, rc: int) -> None:
        if rc == N.ERR_CLOSED:
            self._check_open()
            raise errors.ConnectionClosedError("the connection is closed")
        if rc == N.ERR_BAD_PARAMS:
            raise errors.InterfaceError("internal error: malformed parameter block")
        raise MemoryError("libpgz out of memory")

    def wants_description(self, sql: str, args: Sequence[Any]) -> bool:
        """Whether ``sql`` should be described before it runs with ``args``: only when it is
        not described yet and an argument is a list, whose PostgreSQL type (an array, or
        JSON) cannot be told from the value alone. Everything else runs in one round trip."""
        if not any(isinstance(a, (list, tuple)) for a in args):
            return False
        if self.cache_size > 0:
            st = self.cache.get((sql, param_key(args)))
            if st is not None and st.described:
                return False
        return True

    def submit_query(self, sql: str, args: Sequence[Any], *, batch_rows: int = 0, kind: str = "fetch",
                     statement: Statement | None = None, defer: bool = False) -> Op:
        """Queues an extended-protocol query (one round trip, even the first time).
        ``statement``: one already described (see ``wants_description``) to run as it is;
        ``defer``: see ``Op.defer``."""
        self._check_open()
        if statement is not None and statement.described:
            # An unnamed statement travels with its Parse, under the types the server gave
            # it: a pooler may run each Sync on another server connection.
            st, needs_parse = statement, not statement.name or statement.reparse
            st.reparse = False
        else:
            st, needs_parse = self._statement_for_args(sql, args)
        if not needs_parse:
            params = st.encode(args)
            oids = b""
            flags = N.EXEC_EXECUTE
        elif st.described:
            params = st.encode(args)
            oids = _pack_oids(st.param_types or ())
            flags = N.EXEC_PARSE | N.EXEC_EXECUTE
        else:
            params = b"".join([encode_first(a)[1] for a in args])
            oids = _pack_oids(st.parse_oids)
            flags = N.EXEC_PARSE | N.EXEC_EXECUTE | (N.EXEC_DESCRIBE_STMT if st.name else 0)
        op = Op(kind, st, needs_parse and not st.described)
        op.defer = defer
        self._exec(flags, st, oids, params, len(args), 1, batch_rows)
        if op.parsed:
            self._remember(st)
        self.ops.append(op)
        return op

    def submit_many(self, sql: str, argsets: Iterable[Sequence[Any]], *, collect_rows: bool = False) -> ManyWriter | None:
        """Queues one Bind/Execute per argument set, all in one operation with one Sync: one
        implicit transaction, all or nothing. The sets go out in slices (``ManyWriter``) so
        the server runs the first while the next is encoded. None when there is nothing to run."""
        self._check_open()
        sets = argsets if isinstance(argsets, list) else list(argsets)
        if not sets:
            return None
        nparams = len(sets[0])
        for a in sets:
            if len(a) != nparams:
                raise errors.InterfaceError(f"executemany: every argument set needs {nparams} values; got one with {len(a)}")
        declared, uniform = _declared_for_sets(sets, nparams)
        if uniform:
            st, needs_parse = self._statement_for(sql, declared)
        else:
            # A column mixes values that would be declared differently: parsed afresh each
            # time, never cached, so every run encodes them the same way.
            st, needs_parse = Statement(b"", sql, declared), True
        w = ManyWriter(self, st, needs_parse, sets, nparams, collect_rows)
        if needs_parse:
            self._remember(st)
        return w

    def submit_prepare(self, sql: str, args: Sequence[Any] | None = None) -> Op:
        """Queues Parse + Describe of a statement: the cached one that runs ``sql`` with
        ``args`` (declared as a first run would declare them, so that both paths give the
        statement the same parameter types), or, without ``args``, one prepared explicitly:
        kept out of the cache, every parameter type left to the server."""
        self._check_open()
        if args is not None:
            st, needs_parse = self._statement_for_args(sql, args)
        else:
            name = self._new_name(b"p") if self.cache_size > 0 else b""
            st, needs_parse = Statement(name, sql), True
        if not needs_parse and st.described:
            op = Op("prepare", st)
            op.finished = True
            return op
        if needs_parse:
            oids = _pack_oids(st.parse_oids)
            rc = self.native.exec(N.EXEC_PARSE | N.EXEC_DESCRIBE_STMT, st.name, st.sql_bytes, oids, b"", 0, 0, b"", 0)
        else:
            rc = self.native.exec(N.EXEC_DESCRIBE_STMT, st.name, b"", b"", b"", 0, 0, b"", 0)
        if rc != 0:
            self._exec_failed(rc)
        if needs_parse and args is not None:
            self._remember(st)
        op = Op("prepare", st, needs_parse)
        self.ops.append(op)
        return op

    def close_prepared(self, st: Statement) -> None:
        if not self.closed:
            self.native.close_statement(st.name)

    def submit_copy(self, sql: str) -> Op:
        """Queues a COPY statement whose data the facade sends or receives."""
        return self.submit_simple(sql, copy=True)

    def submit_simple(self, sql: str, *, copy: bool = False) -> Op:
        """Queues a simple-protocol query (may hold several statements; rows are discarded)."""
        self._check_open()
        flags = N.EXEC_SIMPLE | N.EXEC_COPY if copy else N.EXEC_SIMPLE
        rc = self.native.exec(flags, b"", sql.encode(), b"", b"", 0, 0, b"", 0)
        if rc != 0:
            self._exec_failed(rc)
        op = Op("copy" if copy else "simple")
        self.ops.append(op)
        return op

    # ---- events -----------------------------------------------------------------------

    def dispatch(self, ev: int) -> Op | None:
        """Handles one event from the core; returns the op it finished, if any."""
        if ev == N.EV_DONE:
            op = self.ops.popleft()
            if op.defer and op.on_batch is None:
                op.result_buf = self.native.result()
            else:
                self._take_result(op, final=True)
            op.finished = True
            return op
        if ev == N.EV_BATCH:
            self._take_result(self.ops[0], final=False)
            return None
        if ev == N.EV_FAILED:
            return self._failed()
        if ev == N.EV_READY:
            op = self.ops.popleft()
            op.finished = True
            return op
        if ev == N.EV_NOTICE:
            self._notice()
            return None
        if ev == N.EV_NOTIFY:
            pid, channel, payload = self.native.notification()
            for h in list(self.notify_handlers):
                h(pid, channel, payload)
            return None
        if ev == N.EV_CLOSED:
            self.connection_lost()
            return None
        if ev == N.EV_COPY_OUT:
            op = self.ops[0]
            if op.on_copy_data is not None:
                op.on_copy_data(self.native.result())
            return None
        if ev == N.EV_COPY_IN:
            op = self.ops[0]
            op.copy_ready = True
            self._wake(op)
            return None
        raise AssertionError(f"unexpected libpgz event {ev}")

    def finish_with(self, op: Op, ev: int, buf: bytes | None) -> None:
        """Handles the first event of ``op`` when the facade already holds it (``pgz_run``)."""
        if ev == N.EV_DONE:
            self.ops.popleft()
            self._take_result(op, final=True, buf=buf)
            op.finished = True
        elif ev == N.EV_BATCH:
            self._take_result(op, final=False, buf=buf)
        else:
            self.dispatch(ev)

    def complete(self, op: Op) -> None:
        """Decodes a deferred final result (``Op.defer``), in the task that awaited it.

        An event-loop callback may receive the results of several connections before any
        of their tasks runs; decoding them there would keep all their rows alive at once,
        and a collection of the GC's young generation would then promote every one of them,
        making the later full collections slow. Decoded by each task as it resumes, a
        result's rows are made, used and dropped before the next task's are."""
        buf = op.result_buf
        if buf is not None:
            op.result_buf = None
            self._take_result(op, final=True, buf=buf)

    def _take_result(self, op: Op, *, final: bool, buf: bytes | None = None) -> None:
        if buf is None:
            buf = self.native.result()
        (_, flags, nrows, ncols, nentries, nparams, rd_off, rd_len, p_off, tag_off, tag_len, col_off) = _HEADER.unpack_from(buf)
        if flags & N.RES_PARAMS:
            op.param_types = struct.unpack_from(f"<{nparams}I", buf, p_off)
        if flags & N.RES_ROWDESC:
            plan = op.plan
            if plan is None:
                plan = op.plan = self._plan(buf[rd_off : rd_off + rd_len], ncols)
                if op.shares_plan and op.statement is not None:
                    op.statement.plan = plan
            op.columns = plan.columns
            # A value Python cannot hold fails its operation, not the connection: the
            # error is the op's, and later batches of a failed op are dropped.
            if nrows and op.error is None:
                try:
                    if nrows == 1 and plan.reader:
                        self._add_row(op, plan.reader, buf, col_off)
                    else:
                        self._add_rows(op, plan, buf, col_off, nentries, ncols)
                except errors.DecodeError as e:
                    op.error = e
        if final:
            op.tag_bytes = buf[tag_off : tag_off + tag_len]
            st = op.statement
            if st is not None and op.param_types is not None and (op.parsed or not st.described):
                st.learn(op.param_types, op.columns)
                self._learn_arity(st.sql, len(op.param_types))

    def _learn_arity(self, sql: str, nparams: int) -> None:
        if len(self._arity) > 4096:
            self._arity.clear()
        self._arity[sql] = nparams

    def _plan(self, rd: bytes, ncols: int) -> Plan:
        plan = self._plans.get(rd)
        if plan is None:
            if len(self._plans) > 2048:
                self._plans.clear()
            plan = self._plans[rd] = Plan(_parse_rowdesc(rd, ncols))
        return plan

    @staticmethod
    def _add_row(op: Op, read: OneRowReader, buf: bytes, col_off: int) -> None:
        """One row of a known shape, its values read in place (see codecs/row.py)."""
        row = read(buf, col_off)
        if op.on_batch is not None:
            op.on_batch([row])
        else:
            op.rows.append(row)

    def _add_rows(self, op: Op, plan: Plan, buf: bytes, col_off: int, nentries: int, ncols: int) -> None:
        cols = decode_columns(buf, nentries, ncols, col_off)
        if plan.raw_columns is None:
            section = memoryview(buf)[col_off:]
            kinds = column_kinds(section, ncols)
            plan.raw_columns = tuple(i for i, k in enumerate(kinds) if k == KIND_RAW)
            plan.reader = one_row_reader(section, ncols, plan.record_class)
        if plan.raw_columns:
            # Values of types libpgz has no decoder for: fetched again as text afterwards.
            raw = op.raw if op.raw is not None else {}
            op.raw = raw
            base = len(op.rows)
            for i in plan.raw_columns:
                raw.setdefault(i, []).extend((base + j, v) for j, v in enumerate(cols[i]))
        rows = list(map(plan.record_class, zip(*cols)))
        if op.on_batch is not None:
            op.on_batch(rows)
        else:
            op.rows.extend(rows)

    def _failed(self) -> Op:
        op = self.ops.popleft()
        fields = self.native.error_fields()
        err = errors.PostgresError.from_fields(fields)
        if op.kind == "startup":
            self.connection_lost(err)
        st = op.statement
        if st is not None:
            self._statement_failed(op, st, err)
        op.error = err
        op.finished = True
        return op

    def _statement_failed(self, op: Op, st: Statement, err: errors.PostgresError) -> None:
        """Forgets a statement whose Parse failed or that went stale on the server, and
        says whether the call may run again.

        Stale: DDL changed its result type; or the server connection does not have it (a
        DEALLOCATE, or a pooler that ran this transaction on another server connection)
        or already has the name. Outside a transaction the call is re-prepared under a new
        name and run again; inside one the error aborted the transaction, so it is raised,
        with advice where a pooler is the likely cause."""
        code = err.sqlstate
        ours = bool(st.name) and _names(err.message, st.name.decode())
        missing = ours and code in (_SQLSTATE_NO_SUCH_STATEMENT, _SQLSTATE_DUPLICATE_STATEMENT)
        stale = missing or (
            code == _SQLSTATE_FEATURE_NOT_SUPPORTED and "cached plan must not change result type" in err.message
        )
        if op.parsed or stale:
            self.forget(st)
        op.retryable = stale and self.native.transaction_status() == ord("I")
        if missing and not op.retryable:
            err.add_client_hint(_POOLER_HINT.format(name=st.name.decode()))

    def reprepare(self, st: Statement) -> None:
        """Gives an explicitly prepared statement that went stale a new name; its next run
        parses it again with the parameter types the server gave it."""
        if st.name:
            st.name = self._new_name(b"p")
            st.reparse = True

    def _notice(self) -> None:
        notice = errors.PostgresNotice(self.native.notice_fields())
        if not self.notice_handlers:
            log.info("%s: %s", notice.severity, notice.message)
        for h in list(self.notice_handlers):
            h(notice)

    def close(self) -> None:
        """Closes the connection at the caller's request (Terminate, then the socket);
        operations in flight fail with ConnectionClosedError."""
        closed = errors.ConnectionClosedError("the connection was closed")
        if not self.closed:
            self.native.close()
            self.connection_lost(closed)
        self.closed = True
        self.close_error = closed

    def connection_lost(self, cause: BaseException | None = None) -> None:
        """Marks the session closed and fails every operation in flight."""
        if self.closed and cause is None:
            return
        kind, reason = self.native.close_reason()
        if cause is not None and isinstance(cause, errors.PostgresError):
            exc: BaseException = cause
        elif kind == N.CLOSED_PROTOCOL:
            exc = errors.ProtocolError(reason)
        elif kind == N.CLOSED_AUTH:
            exc = errors.ConnectionFailedError(reason)
        elif kind == N.CLOSED_BY_USER:
            exc = errors.ConnectionClosedError("the connection was closed")
        else:
            exc = errors.ConnectionLostError(reason or "connection to server lost")
            fields = self.native.error_fields()
            if fields.get("C"):
                exc.__cause__ = errors.PostgresError.from_fields(fields)
        self.closed = True
        self.close_error = exc
        while self.ops:
            op = self.ops.popleft()
            if not op.finished:
                op.error = exc
                op.finished = True
                if op.waiter is not None:
                    self._wake(op)

    # Overridden by the async facade to resolve futures.
    def _wake(self, op: Op) -> None:
        pass

    # ---- types libpgz does not decode ---------------------------------------------------

    def raw_fixups(self, op: Op) -> list[tuple[int, int, list[tuple[int, Any]]]]:
        """For each column of ``op`` that arrived undecoded: (column, type oid, [(row, bytes)])."""
        if not op.raw or op.columns is None:
            return []
        return [(i, op.columns[i].type_oid, vals) for i, vals in op.raw.items()]

    def submit_text_conversion(self, type_oid: int, values: list[Any]) -> Op:
        """Asks the server for the text form of binary values of a type libpgz cannot decode
        (the type's own receive and output functions do the work)."""
        self._check_open()
        st = Statement(b"", "SELECT $1::text")
        st.parse_oids = (type_oid,)
        present = [v for v in values if v is not None]
        params = b"".join([struct.pack("!hi", 1, len(v)) + v for v in present])
        flags = N.EXEC_PARSE | N.EXEC_EXECUTE
        self._exec(flags, st, struct.pack("<I", type_oid), params, 1, len(present), 0)
        op = Op("convert", st, True)
        self.ops.append(op)
        return op

    @staticmethod
    def apply_text(op: Op, column: int, positions: list[tuple[int, Any]], texts: list[Any]) -> None:
        it = iter(texts)
        plan = op.plan
        assert plan is not None
        rows = op.rows
        for row_index, value in positions:
            if value is None:
                continue
            row = list(rows[row_index])
            row[column] = next(it)
            rows[row_index] = plan.record_class(tuple(row))


class ManyWriter:
    """An executemany in flight: sends its argument sets slice by slice (``send_next``)
    as one operation; the facade steps the connection between slices."""

    SLICE = 256

    def __init__(self, session: Session, st: Statement, needs_parse: bool, sets: list[Sequence[Any]],
                 nparams: int, collect_rows: bool) -> None:
        self.session = session
        self.st = st
        self.sets = sets
        self.nparams = nparams
        self.pos = 0
        self.open = False
        self.client_error: BaseException | None = None
        self.op = Op("many", st, needs_parse)
        flags = N.EXEC_EXECUTE if collect_rows else N.EXEC_EXECUTE | N.EXEC_DISCARD_ROWS
        oids = b""
        if needs_parse:
            declared = st.parse_oids
            oids = _pack_oids(declared)
            self.encoders: list[Callable[[Any], bytes]] = [encoder_for(t) for t in declared]
            self.encode_row = row_encoder(declared)
            flags |= N.EXEC_PARSE | (N.EXEC_DESCRIBE_STMT if st.name else 0)
        elif st.encoders is not None:
            self.encoders = st.encoders
            self.encode_row = st.encode_row
        else:
            self.encoders = [encoder_for(t) for t in st.parse_oids]
            self.encode_row = row_encoder(st.parse_oids)
        self.flags = flags
        self._send(flags, oids)
        session.ops.append(self.op)

    @property
    def pending(self) -> bool:
        return self.pos < len(self.sets)

    def _encode_slice(self) -> tuple[bytes, int]:
        chunk = self.sets[self.pos : self.pos + self.SLICE]
        encs = self.encoders
        if self.encode_row is not None:
            params = b"".join(map(self.encode_row, chunk))
        elif len(encs) == 1:
            e = encs[0]
            params = b"".join([e(a[0]) for a in chunk])
        else:
            params = b"".join([e(v) for a in chunk for e, v in zip(encs, a)])
        return params, len(chunk)

    def _send(self, flags: int, oids: bytes) -> None:
        params, n = self._encode_slice()
        last = self.pos + n >= len(self.sets)
        if not last:
            flags |= N.EXEC_OPEN
        self.session._exec(flags, self.st, oids, params, self.nparams, n, 0)
        self.pos += n
        self.open = not last

    def send_next(self) -> None:
        """Encodes and queues the next slice; on an encoding error the batch is aborted
        (the server rolls back what ran) and the error re-raised."""
        flags = (self.flags & ~(N.EXEC_PARSE | N.EXEC_DESCRIBE_STMT)) | N.EXEC_MORE
        try:
            self._send(flags, b"")
        except errors.Error as e:
            self.abort(e)
            raise

    def abort(self, exc: BaseException) -> None:
        """Ends the operation so that nothing of it commits; ``exc`` is what the caller sees."""
        if self.client_error is not None:
            return
        self.client_error = exc
        self.pos = len(self.sets)
        if self.open:
            self.open = False
            rc = self.session.native.exec(N.EXEC_MORE | N.EXEC_ABORT, self.st.name, b"", b"", b"", 0, 0, b"", 0)
            if rc not in (0, N.ERR_CLOSED):
                self.session._exec_failed(rc)

    def result(self) -> Op:
        """The finished op; the client's own error wins over the abort the server reports."""
        if self.client_error is not None:
            raise self.client_error
        return self.op.result_or_raise()


def _arity_error(nparams: int, nargs: int) -> errors.InterfaceError:
    return errors.InterfaceError(
        f"the query has {nparams} parameter{'s' if nparams != 1 else ''} but {nargs} "
        f"argument{'s were' if nargs != 1 else ' was'} given"
    )


def _names(message: str, name: str) -> bool:
    """Whether a server message names the statement ``name`` (not one whose name extends it)."""
    at = message.find(name)
    while at >= 0:
        end = at + len(name)
        if end == len(message) or not message[end].isdigit():
            return True
        at = message.find(name, end)
    return False


def _pack_oids(oids: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(oids)}I", *oids)


# Column types of a set that mixes naive and aware values: the aware type holds both (a
# naive value for timestamptz or timetz is taken as UTC; see codecs/encode.py).
_TZ_MERGE = {
    frozenset((O.TIMESTAMP, O.TIMESTAMPTZ)): O.TIMESTAMPTZ,
    frozenset((O.TIME, O.TIMETZ)): O.TIMETZ,
}


def _declared_for_sets(sets: Sequence[Sequence[Any]], nparams: int) -> tuple[tuple[int, ...], bool]:
    """Parse-time types for executemany, and whether every set agrees on them.

    Sets of one shape (the usual case) are declared as one call with those values would
    be. A column whose values would be declared differently (an int beside a float, say)
    is left to the server (0) and the statement reported not uniform."""
    shapes = set(map(declared_oids, sets))
    if len(shapes) == 1:
        return next(iter(shapes)), True
    out = []
    uniform = True
    for i in range(nparams):
        # A NULL is declared 0 whatever the column: only the values say what it is.
        seen = {declared_oids((s[i],))[0] for s in sets if s[i] is not None}
        if len(seen) <= 1:
            out.append(next(iter(seen), 0))
            continue
        merged = _TZ_MERGE.get(frozenset(seen))
        if merged is None:
            uniform = False
        out.append(merged or 0)
    return tuple(out), uniform


def parse_rowcount(tag: str) -> int:
    """Rows affected, from a command tag ("INSERT 0 5", "UPDATE 3", "SELECT 2")."""
    last = tag.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0
