"""``AsyncPool``: a pool of asyncio connections shared by tasks; the twin of ``Pool``
(pypgz/pool.py). The two files keep the same order and names, and take every decision
through ``pypgz.pool_common``; a change to one shows the change the other needs.

    pool = await pypgz.create_async_pool(dsn, min_size=2, max_size=10)
    async with pool.acquire() as conn:  # an AsyncPooledConn: the methods of AsyncConn
        await conn.fetch("SELECT ...")
    await pool.fetchval("SELECT 1")     # acquire, run, release
    await pool.close()

    async with pypgz.create_async_pool(dsn) as pool:   # opened here, closed at the end
        ...

As with asyncpg, ``create_async_pool()`` returns the pool unopened but awaitable: awaiting
it, or entering ``async with``, opens it (``async with await ...`` works as well).

Everything runs on the pool's event loop, so the books (``PoolState``) need no lock.
Connections are opened by opener tasks (which retry with backoff while the server cannot
be reached), and a maintenance task keeps min_size, closes connections idle or old for too
long, and replaces broken ones. An ``AsyncConn`` notices a closed socket from its reader
callback, so ``is_closed()`` is current; with a zero-timeout poll of its socket, that checks
a connection before it is lent without a round trip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from typing import Any, cast

from pypgz import errors
from pypgz.aconn import AsyncConn, connect_async
from pypgz.connect import split_options
from pypgz.pool_common import (
    BACKOFF_FIRST,
    DEFAULT_RESET_SQL,
    RELEASED,
    RESET_TIMEOUT,
    TERMINATED,
    ConnRecord,
    PoolState,
    PoolStats,
    Waiter,
    check_hooks,
    check_options,
    check_timeout,
    foreign_error,
    next_backoff,
    readable,
    timeout_error,
)
from pypgz.record import Record
from pypgz.statement import AsyncPreparedStatement
from pypgz.transaction import AsyncTransaction

AsyncSetupHook = Callable[["AsyncPooledConn"], Awaitable[None]]
AsyncInitHook = Callable[[AsyncConn], Awaitable[None]]
AsyncResetHook = Callable[[AsyncConn], Awaitable[None]]


def create_async_pool(
    dsn: str | None = None,
    *,
    min_size: int = 1,
    max_size: int = 10,
    max_queries: int | None = 50000,
    max_inactive_connection_lifetime: float | None = 300.0,
    max_lifetime: float | None = 3600.0,
    timeout: float | None = 30.0,
    setup: AsyncSetupHook | None = None,
    init: AsyncInitHook | None = None,
    reset: AsyncResetHook | None = None,
    **connect_kwargs: Any,
) -> AsyncPool:
    """Creates a pool of asyncio connections: ``pool = await create_async_pool(...)``, or
    ``async with create_async_pool(...) as pool:`` to close it at the end of the block.
    Either opens its first ``min_size`` connections, so that a bad DSN, an unreachable server
    or a wrong password fails there (a bad DSN or argument fails at once, in this call).

    The arguments are those of ``pypgz.create_pool``; the hooks are coroutine functions.
    The rollback, the default reset and the reset hook together must finish within
    ``pool_common.RESET_TIMEOUT`` seconds, or the connection is closed instead.
    """
    return AsyncPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        max_queries=max_queries,
        max_inactive_connection_lifetime=max_inactive_connection_lifetime,
        max_lifetime=max_lifetime,
        timeout=timeout,
        setup=setup,
        init=init,
        reset=reset,
        **connect_kwargs,
    )


# --------------------------------------------------------------------------- the lent connection


class AsyncPooledConn:
    """A connection lent by an ``AsyncPool``. It has the methods of ``AsyncConn`` (the common
    ones typed here, the others forwarded) until it is released; after that every use raises
    InterfaceError, so a stale reference cannot reach a connection another user now holds.
    ``async with`` releases it at the end of the block (it does not close it)."""

    def __init__(self, pool: AsyncPool, record: ConnRecord[AsyncConn]) -> None:
        self._pool = pool
        self._record = record
        self._conn: AsyncConn | None = record.conn
        self._gone: str | None = None  # why it can no longer be used
        self._streams: list[_AsyncStream] = []

    def _live(self) -> AsyncConn:
        conn = self._conn
        if conn is None:
            raise errors.InterfaceError(self._gone)
        return conn

    def _detach(self, reason: str) -> list[_AsyncStream]:
        """Cuts the proxy off its connection; returns its unfinished streams."""
        self._conn = None
        self._gone = reason
        streams, self._streams = self._streams, []
        for s in streams:
            s.gone = reason
        return streams

    async def __aenter__(self) -> AsyncPooledConn:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pool.release(self)

    async def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        return await self._live().execute(sql, *args, timeout=timeout)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        await self._live().executemany(sql, args, timeout=timeout)

    async def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        return await self._live().fetch(sql, *args, timeout=timeout)

    async def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        return await self._live().fetchrow(sql, *args, timeout=timeout)

    async def fetchval(self, sql: str, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        return await self._live().fetchval(sql, *args, column=column, timeout=timeout)

    def stream(self, sql: str, *args: Any, batch_rows: int = 1000, timeout: float | None = None) -> AsyncIterator[Record]:
        """``AsyncConn.stream``; the release closes a stream not read to its end."""
        rows = _AsyncStream(self._live().stream(sql, *args, batch_rows=batch_rows, timeout=timeout))
        self._streams = [s for s in self._streams if not s.done] + [rows]
        return rows

    async def prepare(self, sql: str, *, timeout: float | None = None) -> AsyncPreparedStatement:
        st = await self._live().prepare(sql, timeout=timeout)
        # Bound to this proxy rather than the AsyncConn, so it cannot run after the release either.
        return AsyncPreparedStatement(cast(AsyncConn, self), st._st)

    def transaction(self, isolation: str | None = None, readonly: bool = False, deferrable: bool = False) -> AsyncTransaction:
        return self._live().transaction(isolation, readonly, deferrable)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._live(), name)

    def __repr__(self) -> str:
        state = "in use" if self._gone is None else "terminated" if self._gone == TERMINATED else "released"
        return f"<AsyncPooledConn {state} {self._record.conn!r}>"


class _AsyncStream(AsyncIterator[Record]):
    """A stream read through a pooled connection. The release closes it (cancelling the rest
    of its query); reading it after that raises InterfaceError."""

    def __init__(self, rows: AsyncIterator[Record]) -> None:
        self._rows = rows
        self.gone: str | None = None
        self.done = False

    async def __anext__(self) -> Record:
        if self.gone is not None:
            raise errors.InterfaceError(self.gone)
        try:
            return await self._rows.__anext__()
        except BaseException:  # a generator that raised has finished
            self.done = True
            raise

    async def aclose(self) -> None:
        aclose = getattr(self._rows, "aclose", None)
        if aclose is not None:
            await aclose()
        self.done = True


class _Waiter(Waiter[AsyncConn]):
    """A task waiting in acquire(); woken through its own future."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.future: asyncio.Future[ConnRecord[AsyncConn]] = loop.create_future()

    def deliver(self, record: ConnRecord[AsyncConn]) -> bool:
        if self.future.done():
            return False
        self.future.set_result(record)
        return True

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class PoolAcquireContext:
    """What ``AsyncPool.acquire()`` returns: ``async with pool.acquire() as conn:`` releases
    the connection at the end of the block; ``conn = await pool.acquire()`` leaves the
    release to you."""

    def __init__(self, pool: AsyncPool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: AsyncPooledConn | None = None

    def __await__(self) -> Generator[Any, None, AsyncPooledConn]:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> AsyncPooledConn:
        self._conn = await self._pool._acquire(self._timeout)
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn)


# --------------------------------------------------------------------------- the pool


class AsyncPool:
    """A pool of asyncio connections shared by tasks. Use ``await pypgz.create_async_pool()``
    or ``async with pypgz.create_async_pool() as pool`` (which closes it at the end)."""

    def __init__(
        self,
        dsn: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        max_queries: int | None = 50000,
        max_inactive_connection_lifetime: float | None = 300.0,
        max_lifetime: float | None = 3600.0,
        timeout: float | None = 30.0,
        setup: AsyncSetupHook | None = None,
        init: AsyncInitHook | None = None,
        reset: AsyncResetHook | None = None,
        **connect_kwargs: Any,
    ) -> None:
        self._options = check_options(
            min_size=min_size,
            max_size=max_size,
            max_queries=max_queries,
            max_inactive_connection_lifetime=max_inactive_connection_lifetime,
            max_lifetime=max_lifetime,
            timeout=timeout,
        )
        check_hooks(setup=setup, init=init, reset=reset)
        split_options(dsn, dict(connect_kwargs))  # a bad DSN fails now, not at the first connect
        self._dsn = dsn
        self._connect_kwargs = connect_kwargs
        self._setup = setup
        self._init = init
        self._reset = reset if reset is not None else _default_reset
        self._state: PoolState[AsyncConn] = PoolState(self._options)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop open() ran on
        self._wakeup = asyncio.Event()  # close() wakes maintenance and openers
        self._returned = asyncio.Event()  # every connection left use: close() is done waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self._opened = False

    async def open(self) -> AsyncPool:
        """Opens the first min_size connections (raising the error if one cannot be opened)
        and starts the maintenance. Awaiting the pool or entering ``async with`` calls it; a
        second call does nothing."""
        if self._opened:
            return self
        self._check_open(opened=False)
        self._opened = True
        self._loop = asyncio.get_running_loop()
        self._state.opening += self._options.min_size
        try:
            opened = await asyncio.gather(
                *(self._open_one() for _ in range(self._options.min_size)), return_exceptions=True
            )
        finally:
            self._state.opening -= self._options.min_size
        records = [r for r in opened if isinstance(r, ConnRecord)]
        failures = [r for r in opened if not isinstance(r, ConnRecord)]
        if failures:
            for rec in records:
                self._close(rec)
            self.terminate()
            raise failures[0]
        for rec in records:
            if not self._state.add(rec):  # terminate() ran meanwhile
                self._close(rec)
        self._spawn(self._maintain())
        return self

    def __await__(self) -> Generator[Any, None, AsyncPool]:
        return self.open().__await__()

    async def __aenter__(self) -> AsyncPool:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- lending ------------------------------------------------------------------------------

    def acquire(self, timeout: float | None = None) -> PoolAcquireContext:
        """Lends a connection: ``async with pool.acquire() as conn:``, or ``await`` it and call
        release(). Waits up to ``timeout`` seconds (default: the pool's), first come first
        served, then raises PoolTimeoutError. The connection lent is open and idle: a broken
        or expired one is closed and replaced, never lent."""
        return PoolAcquireContext(self, timeout)

    async def _acquire(self, timeout: float | None) -> AsyncPooledConn:
        wait = self._options.timeout if timeout is None else check_timeout(timeout)
        deadline = None if wait is None else time.monotonic() + wait
        proxy = self._lend(await self._take(deadline, wait))
        if self._setup is not None:
            try:
                await self._setup(proxy)
            except BaseException:
                await self.release(proxy)
                raise
        return proxy

    async def release(self, conn: AsyncPooledConn) -> None:
        """Returns a lent connection. An open transaction is rolled back and the reset hook
        runs; then the connection is lent again, or closed (and replaced) if it is broken,
        worn out (max_queries, max_lifetime) or could not be reset. Releasing a connection
        twice, or one this pool did not lend, raises InterfaceError."""
        rec, streams = self._take_back(conn)
        if rec is None:
            return
        try:
            keep = await self._restore(rec, streams)
        except BaseException:
            self._discard(rec)
            raise
        if keep and self._state.reusable(rec, time.monotonic()) and self._state.give(rec):
            return
        self._discard(rec)

    # ---- queries on a connection of the pool --------------------------------------------------

    async def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        """``AsyncConn.execute`` on a connection acquired for the call (``timeout``: the query's)."""
        async with self.acquire() as conn:
            return await conn.execute(sql, *args, timeout=timeout)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        """``AsyncConn.executemany`` on a connection acquired for the call."""
        async with self.acquire() as conn:
            await conn.executemany(sql, args, timeout=timeout)

    async def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        """``AsyncConn.fetch`` on a connection acquired for the call."""
        async with self.acquire() as conn:
            return await conn.fetch(sql, *args, timeout=timeout)

    async def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        """``AsyncConn.fetchrow`` on a connection acquired for the call."""
        async with self.acquire() as conn:
            return await conn.fetchrow(sql, *args, timeout=timeout)

    async def fetchval(self, sql: str, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        """``AsyncConn.fetchval`` on a connection acquired for the call."""
        async with self.acquire() as conn:
            return await conn.fetchval(sql, *args, column=column, timeout=timeout)

    # ---- closing ------------------------------------------------------------------------------

    async def close(self, timeout: float | None = None) -> None:
        """Closes the pool: it stops lending (waiting acquires raise PoolClosedError), closes
        the idle connections, waits up to ``timeout`` seconds (None: for ever) for those in use
        to be released, and terminates those still in use then. Safe to call twice."""
        deadline = None if timeout is None else time.monotonic() + timeout
        idle = self._begin_close()
        if idle is None:
            return
        for rec in idle:
            self._close(rec)
        if self._state.in_use:
            await _wait_event(self._returned, timeout)
        self._terminate_held()
        await self._join(deadline)

    def terminate(self) -> None:
        """Closes the pool at once: idle connections are closed, those in use terminated
        (a call running on one fails; any further use raises InterfaceError)."""
        for rec in self._begin_close() or []:
            self._close(rec)
        self._terminate_held()

    async def expire_connections(self) -> None:
        """Replaces every current connection: idle ones are closed now, those in use when
        they are released; new ones are opened as needed."""
        idle = self._state.expire()
        for rec in idle:
            self._close(rec)
        self._grow()

    # ---- information --------------------------------------------------------------------------

    def stats(self) -> PoolStats:
        """Connections open, idle, in use and being opened, and callers waiting."""
        return self._state.stats()

    def get_size(self) -> int:
        return self.stats().size

    def get_idle_size(self) -> int:
        return self.stats().idle

    def get_min_size(self) -> int:
        return self._options.min_size

    def get_max_size(self) -> int:
        return self._options.max_size

    def is_closing(self) -> bool:
        """True once close() or terminate() has been called."""
        return self._state.closing

    def __repr__(self) -> str:
        state = "closed" if self._state.closing else "open" if self._opened else "not open"
        return f"<AsyncPool {state}: {self.stats()}>"

    # ---- lending, step by step --------------------------------------------------------------

    def _check_open(self, opened: bool = True) -> None:
        if self._state.closing:
            raise errors.PoolClosedError("the pool is closed")
        if opened and not self._opened:
            raise errors.InterfaceError("the pool is not open: await it (await pypgz.create_async_pool(...))")

    async def _take(self, deadline: float | None, wait: float | None) -> ConnRecord[AsyncConn]:
        """Waits for a connection and checks it; a broken one is discarded and the wait
        goes on, keeping its place at the head of the queue."""
        front = False
        while True:
            rec = await self._next(deadline, wait, front)
            if self._usable(rec):
                return rec
            self._discard(rec)
            front = True

    async def _next(self, deadline: float | None, wait: float | None, front: bool) -> ConnRecord[AsyncConn]:
        self._check_open()
        rec = self._state.take_idle()
        if rec is not None:
            return rec
        assert self._loop is not None
        waiter = _Waiter(self._loop)
        self._state.wait(waiter, front=front)
        self._grow()
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait({waiter.future}, timeout=left)
            if not done:
                assert wait is not None
                raise timeout_error(wait, self._state.stats(), self._state.last_error)
        except BaseException:
            self._state.stop_waiting(waiter)
            fut = waiter.future
            if fut.done() and not fut.cancelled() and fut.exception() is None:  # handed over just as the wait ended
                rec = fut.result()
                if not self._state.give(rec):
                    self._close(rec)
            fut.cancel()
            raise
        return waiter.future.result()

    def _usable(self, rec: ConnRecord[AsyncConn]) -> bool:
        """Whether a connection about to be lent is sound, without a round trip."""
        return not self._broken(rec) and not self._state.stale(rec, time.monotonic())

    @staticmethod
    def _broken(rec: ConnRecord[AsyncConn]) -> bool:
        """Closed (the connection's reader callback has seen the server go), or the server
        is going away and the callback has not run yet (see ``readable``)."""
        return rec.conn.is_closed() or readable(rec.conn.fileno())

    def _lend(self, rec: ConnRecord[AsyncConn]) -> AsyncPooledConn:
        proxy = AsyncPooledConn(self, rec)
        if not self._state.closing:
            rec.holder = proxy
            return proxy
        self._discard(rec)
        raise errors.PoolClosedError("the pool was closed while a connection was being acquired")

    # ---- returning ------------------------------------------------------------------------------

    def _take_back(self, conn: object) -> tuple[ConnRecord[AsyncConn] | None, list[_AsyncStream]]:
        """Checks that ``conn`` is lent by this pool and cuts it off its connection."""
        if not isinstance(conn, AsyncPooledConn) or conn._pool is not self:
            raise foreign_error(conn)
        gone = conn._gone
        if gone is None:
            conn._record.holder = None
            return conn._record, conn._detach(RELEASED)
        if gone != TERMINATED:
            raise errors.InterfaceError("this connection was already released to the pool")
        # close() terminated it under its holder: nothing is left to do.
        conn._record.conn.terminate()
        return None, []

    async def _restore(self, rec: ConnRecord[AsyncConn], streams: list[_AsyncStream]) -> bool:
        """Closes the streams left open, rolls back, resets; False if the connection must
        not be lent again."""
        conn = rec.conn
        try:
            for s in streams:
                await s.aclose()  # cancels the rest of its query
            if self._state.closing or conn.is_closed() or _busy(conn):
                return False
            async with asyncio.timeout(RESET_TIMEOUT):
                await self._reset_session(conn)
        except Exception:
            return False
        return not conn.is_closed() and not conn.is_in_transaction()

    async def _reset_session(self, conn: AsyncConn) -> None:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await self._reset(conn)

    def _discard(self, rec: ConnRecord[AsyncConn]) -> None:
        """Closes a connection this task has taken out of use; the pool may replace it."""
        self._close(rec)
        self._state.in_use.discard(rec)
        self._grow()
        self._notify_returned()

    @staticmethod
    def _close(rec: ConnRecord[AsyncConn]) -> None:
        """Closes a connection (a call still running on it fails)."""
        rec.conn.terminate()

    def _notify_returned(self) -> None:
        """Wakes close() when the connections in use have all come back."""
        if self._state.closing and not self._state.in_use:
            self._returned.set()

    # ---- opening ------------------------------------------------------------------------------

    def _grow(self) -> None:
        """Starts an opener for each connection the pool lacks."""
        for _ in range(self._state.shortfall()):
            self._state.opening += 1
            self._spawn(self._opener())

    async def _opener(self) -> None:
        """Opens one connection for the pool (it holds one ``opening`` count till the end)."""
        rec = None
        try:
            rec = await self._open_with_retry()
        finally:
            self._state.opening -= 1
            if rec is not None and self._state.add(rec):
                rec = None
        if rec is not None:
            self._close(rec)

    async def _open_with_retry(self) -> ConnRecord[AsyncConn] | None:
        """Tries until a connection opens, or until it is no longer wanted (None)."""
        delay = BACKOFF_FIRST
        while True:
            try:
                return await self._open_one()
            except Exception as e:
                if not await self._back_off(e, delay):
                    return None
            delay = next_backoff(delay)

    async def _back_off(self, error: Exception, delay: float) -> bool:
        """Records a failed attempt and waits before the next; False if there is to be none."""
        self._state.last_error = error
        if self._unwanted():
            return False
        await _wait_event(self._wakeup, delay)
        return not self._unwanted()

    def _unwanted(self) -> bool:
        """Whether more connections are being opened than needed (the caller's included)."""
        return self._state.shortfall() < 0

    async def _open_one(self) -> ConnRecord[AsyncConn]:
        """Connects and runs the init hook (closing the connection if it fails)."""
        conn = await connect_async(self._dsn, **self._connect_kwargs)
        try:
            if self._init is not None:
                await self._init(conn)
        except BaseException:
            conn.terminate()
            raise
        return ConnRecord(
            conn,
            now=time.monotonic(),
            generation=self._state.generation,
            max_lifetime=self._options.max_lifetime,
        )

    # ---- background ------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Starts a task the pool keeps track of."""
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _maintain(self) -> None:
        """Each round: closes idle connections that are broken, stale or idle too long (down
        to min_size), then opens what min_size lacks."""
        interval = self._options.maintenance_interval()
        while True:
            await _wait_event(self._wakeup, interval)
            if self._state.closing:
                return
            doomed = self._state.sweep(time.monotonic(), self._broken)
            for rec in doomed:
                self._close(rec)
            self._grow()

    # ---- closing, step by step ------------------------------------------------------------------

    def _begin_close(self) -> list[ConnRecord[AsyncConn]] | None:
        """Stops lending and wakes every waiting task; the idle connections to close, or
        None if the pool was already closing."""
        if self._state.closing:
            return None
        idle = self._state.begin_close()
        self._wakeup.set()
        return idle

    def _terminate_held(self) -> None:
        """Terminates the connections users still hold: their proxies are cut off and their
        connections closed, which fails any call running on them."""
        held = self._state.held()
        for rec in held:
            self._state.in_use.discard(rec)
            holder = cast(AsyncPooledConn, rec.holder)
            holder._detach(TERMINATED)
            rec.holder = None
            self._close(rec)
        self._notify_returned()

    async def _join(self, deadline: float | None) -> None:
        """Waits (until ``deadline``) for the pool's tasks to end; cancels those that do not."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        for t in late:
            t.cancel()


async def _default_reset(conn: AsyncConn) -> None:
    await conn.execute(DEFAULT_RESET_SQL)


async def _wait_event(event: asyncio.Event, timeout: float | None) -> None:
    """Waits until ``event`` is set or ``timeout`` seconds have passed."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except asyncio.TimeoutError:
        pass


def _busy(conn: AsyncConn) -> bool:
    """A transaction block or a stream still holds the connection, or another task's call
    is still running on it."""
    return conn.is_busy()
