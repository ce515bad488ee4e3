"""``Conn``: the blocking connection.

Each call queues its operation on the session and then blocks in ``pgz_wait`` (poll(2)
inside libpgz, with the GIL released) until the operation's events have arrived. A lock
serialises calls, so one ``Conn`` shared by threads is safe; ``cancel()`` may be called
from any thread.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Iterable, Sequence

from pypgz import _native as N
from pypgz import copy, errors
from pypgz.codecs.encode import copy_field_encoder
from pypgz.connect import (
    Options,
    connect_failure,
    describe,
    open_socket,
    session_matches,
    split_options,
    startup_packet,
)
from pypgz.dsn import ConnectParams, Endpoint
from pypgz.info import ConnectionInfo
from pypgz.notify import Callback, Listeners, Notification, quote_ident
from pypgz.record import Record
from pypgz.session import Op, Session, Statement, parse_rowcount
from pypgz.statement import PreparedStatement
from pypgz.transaction import Transaction, TransactionOptions

# How long a cancelled query may take to come back before the connection is given up.
CANCEL_GRACE = 5.0


def connect(dsn: str | None = None, **kwargs: Any) -> Conn:
    """Opens a blocking connection. ``dsn`` is a URL or key=value string; keyword
    arguments (libpq names, plus ``statement_cache_size`` and ``command_timeout``) win over it."""
    params, opts = split_options(dsn, kwargs)
    failures: list[BaseException] = []
    for ep in params.endpoints:
        try:
            conn = _connect_endpoint(params, opts, ep)
        except errors.ConnectionFailedError as e:
            failures.append(e)
            continue
        if _acceptable(conn, params.target_session_attrs):
            return conn
        conn.close()
        failures.append(errors.ConnectionFailedError(
            f"server at {describe(ep)} is not {params.target_session_attrs} (target_session_attrs)"
        ))
    raise connect_failure(failures)


def _connect_endpoint(params: ConnectParams, opts: Options, ep: Endpoint) -> Conn:
    timeout = params.connect_timeout
    deadline = None if timeout is None else time.monotonic() + timeout
    sock = open_socket(ep, timeout, params)
    # A duplicate of the socket, only ever used to shut the connection down from another
    # thread (close() during a running call): the core's own descriptor may be closed and
    # its number reused by then.
    control = sock.dup()
    password = (params.password_for(ep) or "").encode()
    try:
        native = N.NativeConn(sock.detach(), startup_packet(params), password)
    except BaseException:
        control.close()
        raise
    session = Session(native, statement_cache_size=opts.statement_cache_size)
    conn = Conn(session, params, ep, opts, control)
    startup = session.ops[0]
    try:
        conn._wait_op(startup, deadline=deadline, cancel_on_timeout=False).result_or_raise()
    except errors.QueryTimeoutError:
        conn.close()
        raise errors.ConnectionFailedError(
            f"could not connect to server at {describe(ep)}: timeout expired after {timeout:g} s during start-up"
        ) from None
    except errors.ConnectionLostError as e:
        conn.close()
        raise errors.ConnectionFailedError(f"could not connect to server at {describe(ep)}: {e}") from e
    except BaseException:
        conn.close()
        raise
    return conn


def _acceptable(conn: Conn, attrs: str) -> bool:
    if attrs == "any":
        return True
    ro = conn.get_parameter("default_transaction_read_only")
    standby = conn.get_parameter("in_hot_standby")
    if ro is None:
        ro = conn.fetchval("SHOW transaction_read_only")
    if standby is None:
        standby = "on" if conn.fetchval("SELECT pg_is_in_recovery()") else "off"
    return session_matches(attrs, ro == "on", standby == "on")


class Conn(ConnectionInfo):
    """A blocking PostgreSQL connection. Use ``pypgz.connect()`` to make one."""

    def __init__(self, session: Session, params: ConnectParams, endpoint: Endpoint, opts: Options,
                 control: socket.socket | None = None) -> None:
        self._control = control
        self._session = session
        self._native = session.native
        self._params = params
        self._endpoint = endpoint
        self._command_timeout = opts.command_timeout
        self._lock = threading.Lock()
        self._tx_depth = 0
        self._closed = False
        self._listeners = Listeners(self)
        session.notify_handlers.append(self._on_notify)

    # ---- context management and lifetime -------------------------------------------------

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection (Terminate, then the socket). Safe to call twice, and from
        another thread: a call running meanwhile ends with ConnectionLostError."""
        if self._closed:
            return
        if not self._lock.acquire(blocking=False):
            # A call holds the connection (in another thread, or a stream being iterated):
            # end it by shutting the socket down. The native connection is freed when this
            # object is collected, never under the running call.
            self._closed = True
            self._shutdown()
            try:
                self._send_cancel()  # so the server stops working on the abandoned query
            except OSError:
                pass
            return
        try:
            self._closed = True
            self._session.close()
            if self._control is not None:
                self._control.close()
        finally:
            self._lock.release()

    def _shutdown(self) -> None:
        if self._control is not None:
            try:
                self._control.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def try_close(self) -> bool:
        """Closes the connection unless a call is running on it; False in that case."""
        if self._lock.locked():
            return False
        self.close()
        return self._closed

    def is_busy(self) -> bool:
        """A call is running (in another thread, or a stream not finished) or a transaction
        block is open."""
        return self._lock.locked() or self._tx_depth != 0


    def __del__(self) -> None:
        try:
            self.close()
            if self._control is not None:
                self._control.close()
        except Exception:
            pass

    # ---- waiting ---------------------------------------------------------------------------

    def _wait_op(self, op: Op, *, timeout: float | None = None, deadline: float | None = None,
                 cancel_on_timeout: bool = True) -> Op:
        """Drives the connection until ``op`` has finished. On a timeout the query is
        cancelled on the server and QueryTimeoutError raised; on an interruption (Ctrl-C)
        it is cancelled and the interruption re-raised. Either way the connection is left
        idle and usable, or closed if the server does not answer."""
        if deadline is None and timeout is not None:
            deadline = time.monotonic() + timeout
        native = self._native
        dispatch = self._session.dispatch
        try:
            while not op.finished:
                ms = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
                ev = native.wait(ms)
                if ev == N.EV_TIMEOUT:
                    if not cancel_on_timeout:
                        raise errors.QueryTimeoutError("timed out")
                    self._cancel_and_drain(op)
                    raise errors.QueryTimeoutError(
                        f"query exceeded its timeout of {timeout if timeout is not None else '?'} s and was cancelled"
                    ) from op.error
                if ev != N.EV_INTERRUPTED:
                    dispatch(ev)
        except KeyboardInterrupt:
            if not op.finished and cancel_on_timeout:
                self._cancel_and_drain(op)
            raise
        return op

    def _cancel_and_drain(self, op: Op) -> None:
        """Cancels the running query and reads until every queued operation has finished."""
        if self._session.closed:
            return
        try:
            self._send_cancel()
        except OSError:
            pass
        deadline = time.monotonic() + CANCEL_GRACE
        native = self._native
        while self._session.ops and not self._session.closed:
            ms = max(0, int((deadline - time.monotonic()) * 1000))
            ev = native.wait(ms)
            if ev == N.EV_TIMEOUT:
                # The server does not answer: give the connection up rather than hang.
                native.close()
                self._session.connection_lost(errors.ConnectionLostError(
                    "the server did not answer a cancel request in time; the connection was closed"
                ))
                return
            if ev != N.EV_INTERRUPTED:
                self._session.dispatch(ev)

    def _send_cancel(self) -> None:
        packet = self._native.cancel_packet()
        ep = self._endpoint
        if ep.is_unix:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(CANCEL_GRACE)
            s.connect(ep.socket_path)
        else:
            s = socket.create_connection((ep.address, ep.port), timeout=CANCEL_GRACE)
        with s:
            s.sendall(packet)
            try:
                s.recv(1)  # the server closes the connection once it has read the request
            except OSError:
                pass

    def cancel(self) -> None:
        """Asks the server to cancel the query this connection is running (from any thread)."""
        if self.is_closed():
            return
        self._send_cancel()

    def _timeout(self, timeout: float | None) -> float | None:
        return self._command_timeout if timeout is None else timeout

    def _run(self, sql: str, args: Sequence[Any], timeout: float | None, *, kind: str = "fetch") -> Op:
        """Runs an extended-protocol query to completion, retrying once if its cached
        statement went stale, and resolving values of types libpgz cannot decode."""
        t = self._command_timeout if timeout is None else timeout
        s = self._session
        st = s.cached(sql, args)
        if st is not None:
            with self._lock:
                op = self._run_described(st, args, t, kind)
            if op.error is None:
                return op
            if not op.retryable:
                raise op.error
        with self._lock:
            st = self._describe(sql, args, t) if s.wants_description(sql, args) else None
            op = self._wait_op(s.submit_query(sql, args, kind=kind, statement=st), timeout=t)
            if op.error is not None and op.retryable:
                st = self._describe(sql, args, t) if s.wants_description(sql, args) else None
                op = self._wait_op(s.submit_query(sql, args, kind=kind, statement=st), timeout=t)
            if op.error is None and op.raw:
                self._resolve_raw(op, t)
        return op.result_or_raise()

    def _run_described(self, st: Statement, args: Sequence[Any], timeout: float | None, kind: str) -> Op:
        """The hot path: a cached, described statement runs with one native call that sends
        Bind/Execute/Sync and waits for the first event (pgz_run)."""
        s = self._session
        if s.closed:
            s._check_open()
        op = Op.run_of(kind, st)
        params = st.encode(args)
        deadline = None if timeout is None else time.monotonic() + timeout
        s.ops.append(op)
        ev, buf = self._native.run(st.name, params, len(args), st.formats, -1 if timeout is None else int(timeout * 1000))
        if ev < 0:
            s.ops.pop()
            s._exec_failed(ev)
        if ev == N.EV_TIMEOUT:
            self._cancel_and_drain(op)
            raise errors.QueryTimeoutError(f"query exceeded its timeout of {timeout} s and was cancelled") from op.error
        if ev != N.EV_INTERRUPTED:
            s.finish_with(op, ev, buf)
        if not op.finished:
            self._wait_op(op, deadline=deadline, timeout=timeout)
        return op

    def _resolve_raw(self, op: Op, timeout: float | None) -> None:
        s = self._session
        for column, type_oid, positions in s.raw_fixups(op):
            conv = self._wait_op(s.submit_text_conversion(type_oid, [v for _, v in positions]), timeout=timeout)
            conv.result_or_raise()
            s.apply_text(op, column, positions, [r[0] for r in conv.rows])

    # ---- queries ---------------------------------------------------------------------------

    def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        """Runs a command; returns its status tag ("INSERT 0 1"). Without arguments it uses the
        simple protocol, so ``sql`` may hold several statements (the last tag is returned)."""
        if args:
            return self._run(sql, args, timeout, kind="execute").tag
        t = self._timeout(timeout)
        with self._lock:
            op = self._wait_op(self._session.submit_simple(sql), timeout=t)
        return op.result_or_raise().tag

    def executemany(self, sql: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        """Runs ``sql`` once per argument set, pipelined in one round trip; all or nothing."""
        t = self._timeout(timeout)
        sets = args if isinstance(args, list) else list(args)
        with self._lock:
            op = self._many(sql, sets, t)
            if op is not None and op.error is not None and op.retryable:
                op = self._many(sql, sets, t)

    def _many(self, sql: str, sets: list[Sequence[Any]], timeout: float | None) -> Op | None:
        w = self._session.submit_many(sql, sets)
        if w is None:
            return None
        try:
            while w.pending:
                self._step_nowait()
                w.send_next()
        except BaseException as e:
            w.abort(e)
            self._wait_op(w.op, timeout=timeout)
            raise
        self._wait_op(w.op, timeout=timeout)
        if w.op.error is not None and w.op.retryable:
            return w.op
        return w.result()

    def _step_nowait(self) -> None:
        """Lets the core send and read what it can without blocking (between slices)."""
        native = self._native
        ev = native.step() & 0xFF
        while ev >= N.EV_READY:
            self._session.dispatch(ev)
            if ev == N.EV_CLOSED:
                return
            ev = native.step() & 0xFF

    def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        """All rows of a query."""
        return self._run(sql, args, timeout).rows

    def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        """The first row, or None."""
        rows = self._run(sql, args, timeout).rows
        return rows[0] if rows else None

    def fetchval(self, sql: str, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        """One value of the first row (None if there is no row)."""
        rows = self._run(sql, args, timeout).rows
        return rows[0][column] if rows else None

    def stream(self, sql: str, *args: Any, batch_rows: int = 1000, timeout: float | None = None) -> Iterator[Record]:
        """Iterates over the rows of a query, reading them in batches of ``batch_rows``, so
        memory stays bounded whatever the size of the result. The connection is busy until
        the iterator is exhausted or closed; closing it early cancels the rest."""
        if batch_rows <= 0:
            raise ValueError("batch_rows must be positive")
        return self._stream(sql, args, batch_rows, self._timeout(timeout))

    def _stream(self, sql: str, args: Sequence[Any], batch_rows: int, timeout: float | None) -> Iterator[Record]:
        with self._lock:
            st = self._describe(sql, args, timeout)
            pending: list[list[Record]] = []
            op = self._session.submit_query(sql, args, batch_rows=batch_rows, kind="stream", statement=st)
            op.on_batch = pending.append
            try:
                while True:
                    while pending:
                        yield from pending.pop(0)
                    if op.finished:
                        break
                    self._wait_event(op, None if timeout is None else time.monotonic() + timeout, "stream")
                op.result_or_raise()
            finally:
                if not op.finished and not self._session.closed:
                    op.on_batch = None
                    self._cancel_and_drain(op)

    def _describe(self, sql: str, args: Sequence[Any], timeout: float | None) -> Statement:
        """Makes sure the statement that runs ``sql`` with ``args`` is prepared and described,
        so that its result formats are known before it runs (a stream cannot pause to ask
        for text forms)."""
        op = self._wait_op(self._session.submit_prepare(sql, args), timeout=timeout)
        op.result_or_raise()
        assert op.statement is not None
        return op.statement

    def prepare(self, sql: str, *, timeout: float | None = None) -> PreparedStatement:
        """Prepares a statement; the result reports its parameter and column types and runs it."""
        s = self._session
        with self._lock:
            op = self._wait_op(s.submit_prepare(sql), timeout=self._timeout(timeout))
        op.result_or_raise()
        assert op.statement is not None
        return PreparedStatement(self, op.statement)

    def _run_prepared(self, st: Statement, args: Sequence[Any], timeout: float | None) -> Op:
        t = self._timeout(timeout)
        s = self._session
        with self._lock:
            if st.name and not st.reparse:
                op = self._run_described(st, args, t, "fetch")
                if op.error is None or not op.retryable:
                    return op.result_or_raise()
                s.reprepare(st)
            op = self._wait_op(s.submit_query(st.sql, args, statement=st), timeout=t)
        return op.result_or_raise()

    def transaction(self, isolation: str | None = None, readonly: bool = False, deferrable: bool = False) -> Transaction:
        """A transaction block: commits on success, rolls back on an exception. Nested
        blocks become savepoints."""
        return Transaction(self, TransactionOptions.make(isolation, readonly, deferrable))

    # ---- COPY ------------------------------------------------------------------------------------

    def copy_from_table(self, table_name: str, *, output: Any, columns: Sequence[str] | None = None,
                        schema_name: str | None = None, timeout: float | None = None, **options: Any) -> str:
        """Writes a table's rows to ``output`` (a path, a file-like object or a callable
        taking bytes) with COPY TO STDOUT; ``options`` are COPY's (format, delimiter, null,
        header, quote, escape, force_quote, encoding). Returns the status tag ("COPY n")."""
        src = copy.table_ref(table_name, schema_name, columns)
        return self._copy_out(copy.copy_out_sql(src, copy.options_clause(**options)), output, timeout)

    def copy_from_query(self, query: str, *args: Any, output: Any, timeout: float | None = None, **options: Any) -> str:
        """Writes a query's result to ``output`` with COPY (query) TO STDOUT."""
        if args:
            raise errors.InterfaceError("COPY takes no query arguments; put the values in the query")
        return self._copy_out(copy.copy_out_sql(f"({query})", copy.options_clause(**options)), output, timeout)

    def copy_to_table(self, table_name: str, *, source: Any, columns: Sequence[str] | None = None,
                      schema_name: str | None = None, where: str | None = None,
                      timeout: float | None = None, **options: Any) -> str:
        """Reads ``source`` (bytes, a path, a file-like object or an iterable of chunks) into
        a table with COPY FROM STDIN. Returns the status tag ("COPY n")."""
        target = copy.table_ref(table_name, schema_name, columns)
        sql = copy.copy_in_sql(target, copy.options_clause(**options), where)
        return self._copy_in(sql, copy.source_chunks(source), timeout)

    def copy_records_to_table(self, table_name: str, *, records: Iterable[Sequence[Any]],
                              columns: Sequence[str] | None = None, schema_name: str | None = None,
                              where: str | None = None, timeout: float | None = None) -> str:
        """Sends Python tuples into a table in PostgreSQL's binary COPY format, each value
        encoded for its column's type."""
        target = copy.table_ref(table_name, schema_name, columns)
        cols = ", ".join(quote_ident(c) for c in columns) if columns else "*"
        probe = f"SELECT {cols} FROM {copy.table_ref(table_name, schema_name, None)} LIMIT 0"
        with self._lock:
            st = self._describe(probe, (), self._timeout(timeout))
        described = st.columns or ()
        fields = [copy_field_encoder(c.type_oid, c.name) for c in described]
        sql = copy.copy_in_sql(target, " WITH (FORMAT binary)", where)
        return self._copy_in(sql, copy.binary_chunks(records, fields), timeout)

    def _copy_out(self, sql: str, output: Any, timeout: float | None) -> str:
        write, close = copy.output_writer(output)
        try:
            with self._lock:
                op = self._session.submit_copy(sql)
                op.on_copy_data = write
                self._wait_op(op, timeout=self._timeout(timeout))
        finally:
            close()
        return op.result_or_raise().tag

    def _copy_in(self, sql: str, chunks: Iterator[bytes], timeout: float | None) -> str:
        t = self._timeout(timeout)
        deadline = None if t is None else time.monotonic() + t
        native = self._native
        with self._lock:
            op = self._session.submit_copy(sql)
            while not op.finished and not op.copy_ready:
                self._wait_event(op, deadline, "COPY")
            if op.copy_ready and not op.finished:
                try:
                    for chunk in chunks:
                        if native.copy_data(chunk) != 0:
                            break  # closed: the op fails below
                        if native.pending_output() > copy.CHUNK * 4:
                            self._wait_writable(op, deadline)
                    native.copy_end(None)
                except BaseException as e:
                    native.copy_end(f"COPY aborted by the client: {type(e).__name__}".encode())
                    self._wait_op(op, deadline=deadline)
                    raise
            self._wait_op(op, deadline=deadline)
        return op.result_or_raise().tag

    def _wait_event(self, op: Op, deadline: float | None, what: str) -> None:
        """Waits for and handles one event of a running stream or COPY."""
        ms = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
        ev = self._native.wait(ms)
        if ev == N.EV_TIMEOUT:
            self._cancel_and_drain(op)
            raise errors.QueryTimeoutError(f"{what} exceeded its timeout and was cancelled") from op.error
        if ev != N.EV_INTERRUPTED:
            self._session.dispatch(ev)

    def _wait_writable(self, op: Op, deadline: float | None) -> None:
        ms = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
        ev = self._native.wait_writable(ms)
        if ev == N.EV_TIMEOUT:
            self._native.copy_end(b"COPY timed out")
            self._cancel_and_drain(op)
            raise errors.QueryTimeoutError("COPY exceeded its timeout and was cancelled") from op.error
        if ev == N.EV_CLOSED:
            self._session.dispatch(ev)

    # ---- LISTEN / NOTIFY ---------------------------------------------------------------------

    def _on_notify(self, pid: int, channel: str, payload: str) -> None:
        self._listeners.deliver(pid, channel, payload)

    def add_listener(self, channel: str, callback: Callback) -> None:
        """Calls ``callback(conn, pid, channel, payload)`` for each NOTIFY on ``channel``
        (LISTEN is sent with the first callback). Notifications arrive while the connection
        runs queries or waits in ``notifies()``."""
        if self._listeners.add(channel, callback):
            self.execute("LISTEN " + quote_ident(channel))

    def remove_listener(self, channel: str, callback: Callback) -> None:
        if self._listeners.remove(channel, callback) and not self.is_closed():
            self.execute("UNLISTEN " + quote_ident(channel))

    def notifies(self, timeout: float | None = None) -> Iterator[Notification]:
        """Yields notifications as they arrive, for channels LISTENed to on this connection;
        stops after ``timeout`` seconds without one (None: never)."""
        listeners = self._listeners
        listeners.queueing = True
        try:
            while True:
                while listeners.queue:
                    yield listeners.queue.popleft()
                with self._lock:
                    ev = self._native.wait(-1 if timeout is None else int(timeout * 1000))
                    if ev == N.EV_TIMEOUT:
                        return
                    if ev != N.EV_INTERRUPTED and ev >= N.EV_READY:
                        self._session.dispatch(ev)
                        if ev == N.EV_CLOSED:
                            raise errors.ConnectionLostError("the connection was lost while waiting for notifications")
        finally:
            listeners.queueing = False
            listeners.queue.clear()
