"""``AsyncConn``: the asyncio connection, the twin of ``Conn``.

The connection's socket is registered with the running loop (``add_reader``, and
``add_writer`` while output is blocked); the reader callback calls ``pgz_step`` and hands
each event to the same ``Session`` the blocking ``Conn`` uses. No thread is involved per
query: the executor only runs socket set-up, which cannot be made non-blocking in general
(name resolution).

Several tasks may share one ``AsyncConn``: each call queues its operation at once
(pipelining) and awaits its own future. ``transaction()`` and ``stream()`` take the
connection for their task: other tasks' calls wait until they end.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Awaitable, Callable, Iterable, Sequence, TypeVar

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
from pypgz.notify import Callback, Listeners, quote_ident
from pypgz.record import Record
from pypgz.session import Op, Session, Statement
from pypgz.statement import AsyncPreparedStatement
from pypgz.transaction import AsyncTransaction, TransactionOptions

T = TypeVar("T")

# How long a cancelled query may take to come back before the connection is given up.
CANCEL_GRACE = 5.0


async def connect_async(dsn: str | None = None, **kwargs: Any) -> AsyncConn:
    """Opens an asyncio connection; the arguments are those of ``pypgz.connect``."""
    params, opts = split_options(dsn, kwargs)
    failures: list[BaseException] = []
    for ep in params.endpoints:
        try:
            conn = await _connect_endpoint(params, opts, ep)
        except errors.ConnectionFailedError as e:
            failures.append(e)
            continue
        if await _acceptable(conn, params.target_session_attrs):
            return conn
        await conn.close()
        failures.append(errors.ConnectionFailedError(
            f"server at {describe(ep)} is not {params.target_session_attrs} (target_session_attrs)"
        ))
    raise connect_failure(failures)


async def _connect_endpoint(params: ConnectParams, opts: Options, ep: Endpoint) -> AsyncConn:
    loop = asyncio.get_running_loop()
    timeout = params.connect_timeout
    started = time.monotonic()
    # Name resolution and connect() may block: the one-off that goes to the executor.
    sock = await loop.run_in_executor(None, open_socket, ep, timeout, params)
    password = (params.password_for(ep) or "").encode()
    native = N.NativeConn(sock.detach(), startup_packet(params), password)
    conn = AsyncConn(_AsyncSession(native, statement_cache_size=opts.statement_cache_size), params, ep, opts, loop)
    remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
    startup = conn._session.ops[0]
    try:
        (await asyncio.wait_for(conn._wait_op(startup), remaining)).result_or_raise()
    except asyncio.TimeoutError:
        conn.terminate()
        raise errors.ConnectionFailedError(
            f"could not connect to server at {describe(ep)}: timeout expired after {timeout:g} s during start-up"
        ) from None
    except errors.ConnectionLostError as e:
        conn.terminate()
        raise errors.ConnectionFailedError(f"could not connect to server at {describe(ep)}: {e}") from e
    except BaseException:
        conn.terminate()
        raise
    return conn


async def _acceptable(conn: AsyncConn, attrs: str) -> bool:
    if attrs == "any":
        return True
    ro = conn.get_parameter("default_transaction_read_only")
    standby = conn.get_parameter("in_hot_standby")
    if ro is None:
        ro = await conn.fetchval("SHOW transaction_read_only")
    if standby is None:
        standby = "on" if await conn.fetchval("SELECT pg_is_in_recovery()") else "off"
    return session_matches(attrs, ro == "on", standby == "on")


class _AsyncSession(Session):
    """A session whose finished operations resolve asyncio futures."""

    def _wake(self, op: Op) -> None:
        fut = op.waiter
        if fut is not None and not fut.done():
            fut.set_result(None)


class AsyncConn(ConnectionInfo):
    """An asyncio PostgreSQL connection. Use ``await pypgz.connect_async()`` to make one."""

    def __init__(self, session: _AsyncSession, params: ConnectParams, endpoint: Endpoint, opts: Options,
                 loop: asyncio.AbstractEventLoop) -> None:
        self._session = session
        self._native = session.native
        self._params = params
        self._endpoint = endpoint
        self._command_timeout = opts.command_timeout
        self._loop = loop
        self._fd = self._native.fd()
        self._writing = False
        self._reading = True
        self._paused_for: Op | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        # Resolved by _pump when a stream batch or a COPY OUT chunk arrives.
        self._arrival: asyncio.Future[None] | None = None
        self._tx_depth = 0
        self._closed = False
        # The task holding the connection (a transaction block or a stream), and the others waiting.
        self._owner: asyncio.Task[Any] | None = None
        self._owner_depth = 0
        self._owner_waiters: deque[asyncio.Future[None]] = deque()
        self._listeners = Listeners(self)
        session.notify_handlers.append(self._on_notify)
        loop.add_reader(self._fd, self._pump)

    # ---- driving the core from the loop -----------------------------------------------------

    def _pump(self, first: int | None = None) -> None:
        """Steps the core until it waits for the socket, dispatching every event.
        ``first``: the result of a step the caller already made."""
        native = self._native
        session = self._session
        while True:
            if first is None:
                ev = native.step()
            else:
                ev, first = first, None
            more = ev & N.MORE_INPUT
            ev &= 0xFF
            if ev <= N.WANT_READ_WRITE:
                self._want_write(ev != N.WANT_READ)
                return
            op = session.dispatch(ev)
            if op is not None and op.waiter is not None and not op.waiter.done():
                op.waiter.set_result(None)
            if ev == N.EV_CLOSED:
                self._detach()
                return
            if not more and not session.ops and not self._writing:
                # Nothing in flight and nothing buffered: the next step would only find
                # the socket empty. The reader callback fires when something arrives.
                return
            if ev == N.EV_BATCH or ev == N.EV_COPY_OUT:
                if self._arrival is not None and not self._arrival.done():
                    self._arrival.set_result(None)
                if self._paused_for is None:
                    continue
                # A stream's consumer has not taken the previous batch: stop reading, so
                # memory stays bounded; the server waits on its socket meanwhile.
                self._stop_reading()
                return

    def _want_write(self, flag: bool) -> None:
        if flag and not self._writing:
            self._loop.add_writer(self._fd, self._pump)
            self._writing = True
        elif not flag and self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        if not flag and self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    def _stop_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _resume_reading(self) -> None:
        if not self._reading and not self._session.closed:
            self._loop.add_reader(self._fd, self._pump)
            self._reading = True
            self._loop.call_soon(self._pump)

    def _detach(self) -> None:
        """Unregisters the socket (it is closed or about to be)."""
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False

    def _submitted(self, op: Op) -> Op:
        """Flushes a freshly queued operation and gives it a future to await."""
        op.waiter = self._loop.create_future()
        if op.finished:
            op.waiter.set_result(None)
        else:
            self._pump()
        return op

    async def _wait_op(self, op: Op, timeout: float | None = None) -> Op:
        """Awaits an operation. On a timeout or a cancellation of the waiting task, the query
        is cancelled on the server and the connection drained back to idle (or closed if the
        server does not answer in time)."""
        fut = op.waiter
        if fut is None:
            self._submitted(op)
            fut = op.waiter
            assert fut is not None
        if fut.done():
            self._session.complete(op)
            return op
        try:
            if timeout is None:
                await fut
            else:
                await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            await self._cancel_running(op)
            raise errors.QueryTimeoutError(
                f"query exceeded its timeout of {timeout} s and was cancelled"
            ) from op.error
        except asyncio.CancelledError:
            if not op.finished:
                self._loop.create_task(self._cancel_running(op))
            raise
        self._session.complete(op)
        return op

    async def _cancel_running(self, op: Op) -> None:
        """Sends a CancelRequest for ``op`` if it is the running query, then waits (bounded)
        for it to finish; closes the connection if it does not."""
        if op.finished or self._session.closed:
            return
        if op.waiter is None or op.waiter.done():
            # The waiter was cancelled with its task: the op resolves this one instead.
            op.waiter = self._loop.create_future()
        fut = op.waiter
        if self._session.ops and self._session.ops[0] is op:
            try:
                await self._send_cancel()
            except (OSError, asyncio.TimeoutError):
                pass
        try:
            await asyncio.wait_for(asyncio.shield(fut), CANCEL_GRACE)
        except asyncio.TimeoutError:
            self._native.close()
            self._session.connection_lost(errors.ConnectionLostError(
                "the server did not answer a cancel request in time; the connection was closed"
            ))
            self._detach()

    async def _send_cancel(self) -> None:
        packet = self._native.cancel_packet()
        ep = self._endpoint
        loop = self._loop
        if ep.is_unix:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            addr: Any = ep.socket_path
        else:
            infos = await loop.getaddrinfo(ep.address, ep.port, type=socket.SOCK_STREAM)
            family, stype, proto, _, addr = infos[0]
            s = socket.socket(family, stype, proto)
            s.setblocking(False)
        with s:
            await asyncio.wait_for(loop.sock_connect(s, addr), CANCEL_GRACE)
            await loop.sock_sendall(s, packet)
            try:
                await asyncio.wait_for(loop.sock_recv(s, 1), CANCEL_GRACE)
            except (OSError, asyncio.TimeoutError):
                pass

    def cancel(self) -> Awaitable[None]:
        """Asks the server to cancel the query running on this connection."""
        return self._send_cancel()

    # ---- holding the connection for one task ---------------------------------------------------

    async def _gate(self) -> None:
        """Waits while another task holds the connection (transaction block or stream).
        Callers test ``self._owner`` first, so the common case costs no coroutine."""
        while self._owner is not None and self._owner is not asyncio.current_task():
            fut = self._loop.create_future()
            self._owner_waiters.append(fut)
            await fut

    async def _hold(self) -> None:
        if self._owner is not None:
            await self._gate()
        self._owner = asyncio.current_task()
        self._owner_depth += 1

    def _release_hold(self) -> None:
        self._owner_depth -= 1
        if self._owner_depth == 0:
            self._owner = None
            while self._owner_waiters:
                fut = self._owner_waiters.popleft()
                if not fut.done():
                    fut.set_result(None)

    # ---- lifetime ---------------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncConn:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection (Terminate, then the socket). Safe to call twice."""
        self.terminate()

    def terminate(self) -> None:
        """Closes the connection at once."""
        if self._closed:
            return
        self._closed = True
        self._detach()
        self._session.close()

    def is_busy(self) -> bool:
        """A transaction block or a stream holds the connection, or an operation is in flight."""
        return self._tx_depth != 0 or self._owner is not None or bool(self._session.ops)

    def __del__(self) -> None:
        if not self._closed:
            try:
                self._loop.call_soon_threadsafe(self.terminate)
            except RuntimeError:
                pass

    def _timeout(self, timeout: float | None) -> float | None:
        return self._command_timeout if timeout is None else timeout

    async def _run(self, sql: str, args: Sequence[Any], timeout: float | None, *, kind: str = "fetch") -> Op:
        """Runs an extended-protocol query, retrying once if its cached statement went stale,
        and resolving values of types libpgz cannot decode."""
        if self._owner is not None:
            await self._gate()
        t = self._command_timeout if timeout is None else timeout
        s = self._session
        st = s.cached(sql, args) if t is None else None
        if st is not None:
            # The hot path: a cached, described statement, no timeout to arm.
            op = self._execute_described(st, args, kind)
            fut = op.waiter
            if not fut.done():
                try:
                    await fut
                except asyncio.CancelledError:
                    if not op.finished:
                        self._loop.create_task(self._cancel_running(op))
                    raise
            s.complete(op)
            if op.error is None:
                return op
            if not op.retryable:
                raise op.error
        st = await self._describe(sql, args, t) if s.wants_description(sql, args) else None
        op = await self._wait_op(self._submitted(s.submit_query(sql, args, kind=kind, statement=st, defer=True)), t)
        if op.error is not None and op.retryable:
            st = await self._describe(sql, args, t) if s.wants_description(sql, args) else None
            op = await self._wait_op(self._submitted(s.submit_query(sql, args, kind=kind, statement=st, defer=True)), t)
        if op.error is None and op.raw:
            await self._resolve_raw(op, t)
        return op.result_or_raise()

    def _execute_described(self, st: Statement, args: Sequence[Any], kind: str) -> Op:
        """Queues an execution of a described statement and sends it (pgz_execute)."""
        s = self._session
        if s.closed:
            s._check_open()
        op = Op.run_of(kind, st)
        op.defer = True  # decoded by the awaiting task (Session.complete)
        params = st.encode(args)
        op.waiter = self._loop.create_future()
        s.ops.append(op)
        ev = self._native.execute(st.name, params, len(args), st.formats, 0)
        if ev < 0:
            s.ops.pop()
            s._exec_failed(ev)
        if ev != N.WANT_READ:
            self._pump(ev)
        elif self._writing:
            self._want_write(False)
        return op

    async def _resolve_raw(self, op: Op, timeout: float | None) -> None:
        s = self._session
        for column, type_oid, positions in s.raw_fixups(op):
            conv = await self._wait_op(self._submitted(s.submit_text_conversion(type_oid, [v for _, v in positions])), timeout)
            conv.result_or_raise()
            s.apply_text(op, column, positions, [r[0] for r in conv.rows])

    # ---- queries ---------------------------------------------------------------------------------

    async def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        """Runs a command; returns its status tag. Without arguments it uses the simple
        protocol, so ``sql`` may hold several statements (the last tag is returned)."""
        if args:
            return (await self._run(sql, args, timeout, kind="execute")).tag
        if self._owner is not None:
            await self._gate()
        op = await self._wait_op(self._submitted(self._session.submit_simple(sql)), self._timeout(timeout))
        return op.result_or_raise().tag

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        """Runs ``sql`` once per argument set, pipelined in one round trip; all or nothing."""
        if self._owner is not None:
            await self._gate()
        t = self._timeout(timeout)
        sets = args if isinstance(args, list) else list(args)
        op = await self._many(sql, sets, t)
        if op is not None and op.error is not None and op.retryable:
            await self._many(sql, sets, t)

    async def _many(self, sql: str, sets: list[Sequence[Any]], timeout: float | None) -> Op | None:
        w = self._session.submit_many(sql, sets)
        if w is None:
            return None
        self._submitted(w.op)
        try:
            while w.pending:
                await asyncio.sleep(0)  # let the loop run (and read) between slices
                w.send_next()
                self._pump()
        except BaseException as e:
            w.abort(e)
            self._pump()
            await self._wait_op(w.op, timeout)
            raise
        await self._wait_op(w.op, timeout)
        if w.op.error is not None and w.op.retryable:
            return w.op
        return w.result()

    async def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        """All rows of a query."""
        return (await self._run(sql, args, timeout)).rows

    async def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        """The first row, or None."""
        rows = (await self._run(sql, args, timeout)).rows
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        """One value of the first row (None if there is no row)."""
        rows = (await self._run(sql, args, timeout)).rows
        return rows[0][column] if rows else None

    def stream(self, sql: str, *args: Any, batch_rows: int = 1000, timeout: float | None = None) -> AsyncIterator[Record]:
        """Iterates over the rows of a query in batches of ``batch_rows`` with bounded memory.
        The connection is held by this task until the iterator is exhausted or closed;
        closing it early cancels the rest."""
        if batch_rows <= 0:
            raise ValueError("batch_rows must be positive")
        return self._stream(sql, args, batch_rows, self._timeout(timeout))

    async def _stream(self, sql: str, args: Sequence[Any], batch_rows: int, timeout: float | None) -> AsyncIterator[Record]:
        await self._hold()
        try:
            st = await self._describe(sql, args, timeout)
            pending: deque[list[Record]] = deque()
            op = self._session.submit_query(sql, args, batch_rows=batch_rows, kind="stream", statement=st)
            op.on_batch = pending.append
            self._paused_for = op
            self._submitted(op)
            try:
                while True:
                    while pending:
                        batch = pending.popleft()
                        self._resume_reading()
                        for row in batch:
                            yield row
                    if op.finished:
                        break
                    self._resume_reading()  # (a batch that failed to decode left no rows to take)
                    await self._next_arrival(op, timeout, "stream")
                op.result_or_raise()
            finally:
                self._paused_for = None
                self._resume_reading()
                if not op.finished and not self._session.closed:
                    op.on_batch = None
                    await self._cancel_running(op)
        finally:
            self._release_hold()

    async def _next_arrival(self, op: Op, timeout: float | None, what: str) -> None:
        """Waits until a stream or COPY OUT operation delivers data or finishes."""
        arrived = self._arrival = self._loop.create_future()
        done = op.waiter
        assert done is not None
        try:
            await asyncio.wait_for(asyncio.wait([arrived, done], return_when=asyncio.FIRST_COMPLETED), timeout)
        except asyncio.TimeoutError:
            await self._cancel_running(op)
            raise errors.QueryTimeoutError(f"{what} exceeded its timeout and was cancelled") from op.error
        finally:
            self._arrival = None

    async def _describe(self, sql: str, args: Sequence[Any], timeout: float | None) -> Statement:
        """Makes sure the statement that runs ``sql`` with ``args`` is prepared and described,
        so that its result formats are known before it runs (a stream cannot pause to ask
        for text forms)."""
        op = await self._wait_op(self._submitted(self._session.submit_prepare(sql, args)), timeout)
        op.result_or_raise()
        assert op.statement is not None
        return op.statement

    async def prepare(self, sql: str, *, timeout: float | None = None) -> AsyncPreparedStatement:
        """Prepares a statement; the result reports its parameter and column types and runs it."""
        if self._owner is not None:
            await self._gate()
        s = self._session
        op = await self._wait_op(self._submitted(s.submit_prepare(sql)), self._timeout(timeout))
        op.result_or_raise()
        assert op.statement is not None
        return AsyncPreparedStatement(self, op.statement)

    async def _run_prepared(self, st: Statement, args: Sequence[Any], timeout: float | None) -> Op:
        if self._owner is not None:
            await self._gate()
        t = self._timeout(timeout)
        s = self._session
        if st.name and not st.reparse:
            op = await self._wait_op(self._execute_described(st, args, "fetch"), t)
            if op.error is None or not op.retryable:
                return op.result_or_raise()
            s.reprepare(st)
        op = await self._wait_op(self._submitted(s.submit_query(st.sql, args, statement=st)), t)
        return op.result_or_raise()

    def transaction(self, isolation: str | None = None, readonly: bool = False, deferrable: bool = False) -> AsyncTransaction:
        """A transaction block (``async with``): commits on success, rolls back on an
        exception; nested blocks become savepoints. Other tasks wait while it is open."""
        return AsyncTransaction(self, TransactionOptions.make(isolation, readonly, deferrable))

    # ---- COPY ------------------------------------------------------------------------------------

    async def copy_from_table(self, table_name: str, *, output: Any, columns: Sequence[str] | None = None,
                              schema_name: str | None = None, timeout: float | None = None, **options: Any) -> str:
        """Writes a table's rows to ``output`` (a path, a file-like object, or a callable
        taking bytes, which may be a coroutine function) with COPY TO STDOUT; ``options``
        are COPY's (format, delimiter, null, header, ...). Returns the status tag."""
        src = copy.table_ref(table_name, schema_name, columns)
        return await self._copy_out(copy.copy_out_sql(src, copy.options_clause(**options)), output, timeout)

    async def copy_from_query(self, query: str, *args: Any, output: Any, timeout: float | None = None,
                              **options: Any) -> str:
        """Writes a query's result to ``output`` with COPY (query) TO STDOUT."""
        if args:
            raise errors.InterfaceError("COPY takes no query arguments; put the values in the query")
        return await self._copy_out(copy.copy_out_sql(f"({query})", copy.options_clause(**options)), output, timeout)

    async def copy_to_table(self, table_name: str, *, source: Any, columns: Sequence[str] | None = None,
                            schema_name: str | None = None, where: str | None = None,
                            timeout: float | None = None, **options: Any) -> str:
        """Reads ``source`` (bytes, a path, a file-like object, or a sync or async iterable of
        chunks) into a table with COPY FROM STDIN. Returns the status tag."""
        target = copy.table_ref(table_name, schema_name, columns)
        sql = copy.copy_in_sql(target, copy.options_clause(**options), where)
        return await self._copy_in(sql, copy.async_source_chunks(source), timeout)

    async def copy_records_to_table(self, table_name: str, *, records: Iterable[Sequence[Any]],
                                    columns: Sequence[str] | None = None, schema_name: str | None = None,
                                    where: str | None = None, timeout: float | None = None) -> str:
        """Sends Python tuples into a table in PostgreSQL's binary COPY format."""
        target = copy.table_ref(table_name, schema_name, columns)
        cols = ", ".join(quote_ident(c) for c in columns) if columns else "*"
        probe = f"SELECT {cols} FROM {copy.table_ref(table_name, schema_name, None)} LIMIT 0"
        if self._owner is not None:
            await self._gate()
        st = await self._describe(probe, (), self._timeout(timeout))
        described = st.columns or ()
        fields = [copy_field_encoder(c.type_oid, c.name) for c in described]
        sql = copy.copy_in_sql(target, " WITH (FORMAT binary)", where)
        chunks = copy.async_source_chunks(copy.binary_chunks(records, fields))
        return await self._copy_in(sql, chunks, timeout)

    async def _copy_out(self, sql: str, output: Any, timeout: float | None) -> str:
        write, close = copy.output_writer(output)
        await self._hold()
        try:
            pending: deque[bytes] = deque()
            op = self._session.submit_copy(sql)
            op.on_copy_data = pending.append
            self._paused_for = op
            self._submitted(op)
            t = self._timeout(timeout)
            while True:
                while pending:
                    result = write(pending.popleft())
                    self._resume_reading()
                    if inspect.isawaitable(result):
                        await result
                if op.finished:
                    break
                await self._next_arrival(op, t, "COPY")
            return op.result_or_raise().tag
        finally:
            self._paused_for = None
            self._resume_reading()
            close()
            self._release_hold()

    async def _copy_in(self, sql: str, chunks: Any, timeout: float | None) -> str:
        await self._hold()
        try:
            native = self._native
            t = self._timeout(timeout)
            op = self._session.submit_copy(sql)
            await self._wait_op(self._submitted(op), t)  # resolves at copy_in, or when it failed
            if op.copy_ready and not op.finished:
                op.waiter = self._loop.create_future()
                try:
                    async for chunk in chunks:
                        if native.copy_data(chunk) != 0:
                            break
                        self._pump()
                        while native.pending_output() > copy.CHUNK * 4 and not self._session.closed:
                            self._drain_waiter = self._loop.create_future()
                            await asyncio.wait_for(self._drain_waiter, t)
                    native.copy_end(None)
                except BaseException as e:
                    native.copy_end(f"COPY aborted by the client: {type(e).__name__}".encode())
                    self._pump()
                    await self._wait_op(op, t)
                    raise
                finally:
                    self._drain_waiter = None
                self._pump()
                await self._wait_op(op, t)
            return op.result_or_raise().tag
        finally:
            self._release_hold()

    # ---- LISTEN / NOTIFY ---------------------------------------------------------------------

    def _on_notify(self, pid: int, channel: str, payload: str) -> None:
        for result in self._listeners.deliver(pid, channel, payload):
            if asyncio.iscoroutine(result):
                self._loop.create_task(result)

    async def add_listener(self, channel: str, callback: Callback) -> None:
        """Calls ``callback(conn, pid, channel, payload)`` for each NOTIFY on ``channel``
        (LISTEN is sent with the first callback); a coroutine callback runs as a task.
        The event loop delivers notifications as they arrive, even while idle."""
        if self._listeners.add(channel, callback):
            await self.execute("LISTEN " + quote_ident(channel))

    async def remove_listener(self, channel: str, callback: Callback) -> None:
        if self._listeners.remove(channel, callback) and not self.is_closed():
            await self.execute("UNLISTEN " + quote_ident(channel))
