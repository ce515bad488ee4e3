"""``Pool``: a pool of blocking connections shared by threads; the twin of ``AsyncPool``
(pypgz/apool.py). The two files keep the same order and names, and take every decision
through ``pypgz.pool_common``; a change to one shows the change the other needs.

    pool = pypgz.create_pool(dsn, min_size=2, max_size=10)
    with pool.acquire() as conn:        # a PooledConn: the methods of Conn
        conn.fetch("SELECT ...")
    pool.fetchval("SELECT 1")           # acquire, run, release
    pool.close()

A lock guards the pool's books (``PoolState``). Connections are opened, checked, reset and
closed outside it: by the thread that holds them, by opener threads (which retry with
backoff while the server cannot be reached), and by a maintenance thread that keeps
min_size, closes connections idle or old for too long, and replaces broken ones.

A connection in use belongs to the thread that holds it, and no other thread closes it
(that would free it under a running call): close() and terminate() only shut down the
socket of a connection still held, which ends a call blocked on it; the holder's release,
or the garbage collector, then closes the ``Conn``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

from pypgz import errors
from pypgz.conn import Conn, connect
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
from pypgz.statement import PreparedStatement
from pypgz.transaction import Transaction

SetupHook = Callable[["PooledConn"], None]
InitHook = Callable[[Conn], None]
ResetHook = Callable[[Conn], None]


def create_pool(
    dsn: str | None = None,
    *,
    min_size: int = 1,
    max_size: int = 10,
    max_queries: int | None = 50000,
    max_inactive_connection_lifetime: float | None = 300.0,
    max_lifetime: float | None = 3600.0,
    timeout: float | None = 30.0,
    setup: SetupHook | None = None,
    init: InitHook | None = None,
    reset: ResetHook | None = None,
    **connect_kwargs: Any,
) -> Pool:
    """Creates a pool of connections and opens its first ``min_size`` ones, so that a bad
    DSN, an unreachable server or a wrong password fails here.

    ``dsn`` and ``connect_kwargs`` are the arguments of ``pypgz.connect`` (the connect
    timeout is ``connect_timeout``: ``timeout`` is the acquire timeout here). The pool holds
    ``min_size`` to ``max_size`` connections. A connection is closed and replaced after
    ``max_queries`` checkouts, after about ``max_lifetime`` seconds (up to 10% early, so that
    connections opened together are not replaced together), and, above min_size, after
    ``max_inactive_connection_lifetime`` seconds idle; 0 or None turns a limit off.
    ``timeout`` is how long acquire() waits by default (None: for ever).

    Hooks: ``init(conn)`` runs on each new connection (to register codecs, or SET what every
    user needs); ``setup(conn)`` on each acquire, with the connection lent; ``reset(conn)``
    on each release, instead of the default reset (``pool_common.DEFAULT_RESET_SQL``:
    settings, role, temporary tables, advisory locks, LISTEN, cursors). An open transaction
    is rolled back before the reset in any case. A connection whose init or reset fails is
    closed, not lent. ``init`` and ``reset`` get the ``Conn`` itself. Settings every user
    should have belong in ``server_settings`` (sent at start-up, kept by the reset), not in
    a SET run by init, which the default reset undoes.
    """
    pool = Pool(
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
    return pool.open()


# --------------------------------------------------------------------------- the lent connection


class PooledConn:
    """A connection lent by a ``Pool``. It has the methods of ``Conn`` (the common ones typed
    here, the others forwarded) until it is released; after that every use raises
    InterfaceError, so a stale reference cannot reach a connection another user now holds.
    ``with`` releases it at the end of the block (it does not close it)."""

    def __init__(self, pool: Pool, record: ConnRecord[Conn]) -> None:
        self._pool = pool
        self._record = record
        self._conn: Conn | None = record.conn
        self._gone: str | None = None  # why it can no longer be used
        self._streams: list[_Stream] = []

    def _live(self) -> Conn:
        conn = self._conn
        if conn is None:
            raise errors.InterfaceError(self._gone)
        return conn

    def _detach(self, reason: str) -> list[_Stream]:
        """Cuts the proxy off its connection; returns its unfinished streams."""
        self._conn = None
        self._gone = reason
        streams, self._streams = self._streams, []
        for s in streams:
            s.gone = reason
        return streams

    def __enter__(self) -> PooledConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.release(self)

    def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        return self._live().execute(sql, *args, timeout=timeout)

    def executemany(self, sql: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        self._live().executemany(sql, args, timeout=timeout)

    def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        return self._live().fetch(sql, *args, timeout=timeout)

    def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        return self._live().fetchrow(sql, *args, timeout=timeout)

    def fetchval(self, sql: str, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        return self._live().fetchval(sql, *args, column=column, timeout=timeout)

    def stream(self, sql: str, *args: Any, batch_rows: int = 1000, timeout: float | None = None) -> Iterator[Record]:
        """``Conn.stream``; the release closes a stream not read to its end."""
        rows = _Stream(self._live().stream(sql, *args, batch_rows=batch_rows, timeout=timeout))
        self._streams = [s for s in self._streams if not s.done] + [rows]
        return rows

    def prepare(self, sql: str, *, timeout: float | None = None) -> PreparedStatement:
        st = self._live().prepare(sql, timeout=timeout)
        # Bound to this proxy rather than the Conn, so it cannot run after the release either.
        return PreparedStatement(cast(Conn, self), st._st)

    def transaction(self, isolation: str | None = None, readonly: bool = False, deferrable: bool = False) -> Transaction:
        return self._live().transaction(isolation, readonly, deferrable)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._live(), name)

    def __repr__(self) -> str:
        state = "in use" if self._gone is None else "terminated" if self._gone == TERMINATED else "released"
        return f"<PooledConn {state} {self._record.conn!r}>"


class _Stream(Iterator[Record]):
    """A stream read through a pooled connection. The release closes it (cancelling the rest
    of its query); reading it after that raises InterfaceError."""

    def __init__(self, rows: Iterator[Record]) -> None:
        self._rows = rows
        self.gone: str | None = None
        self.done = False

    def __next__(self) -> Record:
        if self.gone is not None:
            raise errors.InterfaceError(self.gone)
        try:
            return next(self._rows)
        except BaseException:  # a generator that raised has finished
            self.done = True
            raise

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()
        self.done = True


class _Waiter(Waiter[Conn]):
    """A thread waiting in acquire(); woken through its own condition on the pool's lock."""

    def __init__(self, lock: threading.Lock) -> None:
        self.cond = threading.Condition(lock)
        self.record: ConnRecord[Conn] | None = None
        self.error: BaseException | None = None

    def deliver(self, record: ConnRecord[Conn]) -> bool:
        self.record = record
        self.cond.notify()
        return True

    def fail(self, exc: BaseException) -> None:
        self.error = exc
        self.cond.notify()


# --------------------------------------------------------------------------- the pool


class Pool:
    """A pool of blocking connections shared by threads. Use ``pypgz.create_pool()``, or
    ``with pypgz.create_pool() as pool`` (which closes it at the end)."""

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
        setup: SetupHook | None = None,
        init: InitHook | None = None,
        reset: ResetHook | None = None,
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
        self._state: PoolState[Conn] = PoolState(self._options)
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)  # close() wakes maintenance and openers
        self._returned = threading.Condition(self._lock)  # a connection left use: close() may be done
        self._threads: set[threading.Thread] = set()
        self._opened = False

    def open(self) -> Pool:
        """Opens the first min_size connections (raising the error if one cannot be opened)
        and starts the maintenance. ``create_pool()`` calls it (and so does entering
        ``with``); a second call does nothing."""
        with self._lock:
            if self._opened:
                return self
            self._check_open(opened=False)
            self._opened = True
            self._state.opening += self._options.min_size
        records: list[ConnRecord[Conn]] = []
        try:
            for _ in range(self._options.min_size):
                records.append(self._open_one())
        except BaseException:
            for rec in records:
                self._close(rec)
            self.terminate()
            raise
        finally:
            with self._lock:
                self._state.opening -= self._options.min_size
        with self._lock:
            unwanted = [rec for rec in records if not self._state.add(rec)]
            self._spawn(self._maintain, "pypgz-pool-maintenance")
        for rec in unwanted:  # terminate() ran meanwhile
            self._close(rec)
        return self

    def __enter__(self) -> Pool:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- lending ------------------------------------------------------------------------------

    def acquire(self, timeout: float | None = None) -> PooledConn:
        """Lends a connection: ``with pool.acquire() as conn:``, or call release(). Waits up
        to ``timeout`` seconds (default: the pool's), first come first served, then raises
        PoolTimeoutError. The connection lent is open and idle: a broken or expired one is
        closed and replaced, never lent."""
        wait = self._options.timeout if timeout is None else check_timeout(timeout)
        deadline = None if wait is None else time.monotonic() + wait
        proxy = self._lend(self._take(deadline, wait))
        if self._setup is not None:
            try:
                self._setup(proxy)
            except BaseException:
                self.release(proxy)
                raise
        return proxy

    def release(self, conn: PooledConn) -> None:
        """Returns a lent connection. An open transaction is rolled back and the reset hook
        runs; then the connection is lent again, or closed (and replaced) if it is broken,
        worn out (max_queries, max_lifetime) or could not be reset. Releasing a connection
        twice, or one this pool did not lend, raises InterfaceError."""
        rec, streams = self._take_back(conn)
        if rec is None:
            return
        try:
            keep = self._restore(rec, streams)
        except BaseException:
            self._discard(rec)
            raise
        with self._lock:
            if keep and self._state.reusable(rec, time.monotonic()) and self._state.give(rec):
                return
        self._discard(rec)

    # ---- queries on a connection of the pool --------------------------------------------------

    def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        """``Conn.execute`` on a connection acquired for the call (``timeout``: the query's)."""
        with self.acquire() as conn:
            return conn.execute(sql, *args, timeout=timeout)

    def executemany(self, sql: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        """``Conn.executemany`` on a connection acquired for the call."""
        with self.acquire() as conn:
            conn.executemany(sql, args, timeout=timeout)

    def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        """``Conn.fetch`` on a connection acquired for the call."""
        with self.acquire() as conn:
            return conn.fetch(sql, *args, timeout=timeout)

    def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        """``Conn.fetchrow`` on a connection acquired for the call."""
        with self.acquire() as conn:
            return conn.fetchrow(sql, *args, timeout=timeout)

    def fetchval(self, sql: str, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        """``Conn.fetchval`` on a connection acquired for the call."""
        with self.acquire() as conn:
            return conn.fetchval(sql, *args, column=column, timeout=timeout)

    # ---- closing ------------------------------------------------------------------------------

    def close(self, timeout: float | None = None) -> None:
        """Closes the pool: it stops lending (waiting acquires raise PoolClosedError), closes
        the idle connections, waits up to ``timeout`` seconds (None: for ever) for those in use
        to be released, and terminates those still in use then. Safe to call twice."""
        deadline = None if timeout is None else time.monotonic() + timeout
        idle = self._begin_close()
        if idle is None:
            return
        for rec in idle:
            self._close(rec)
        with self._lock:
            while self._state.in_use:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._returned.wait(left)
        self._terminate_held()
        self._join(deadline)

    def terminate(self) -> None:
        """Closes the pool at once: idle connections are closed, those in use terminated
        (a call running on one fails; any further use raises InterfaceError)."""
        for rec in self._begin_close() or []:
            self._close(rec)
        self._terminate_held()

    def expire_connections(self) -> None:
        """Replaces every current connection: idle ones are closed now, those in use when
        they are released; new ones are opened as needed."""
        with self._lock:
            idle = self._state.expire()
        for rec in idle:
            self._close(rec)
        with self._lock:
            self._grow()

    # ---- information --------------------------------------------------------------------------

    def stats(self) -> PoolStats:
        """Connections open, idle, in use and being opened, and callers waiting."""
        with self._lock:
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
        return f"<Pool {state}: {self.stats()}>"

    # ---- lending, step by step --------------------------------------------------------------

    def _check_open(self, opened: bool = True) -> None:
        if self._state.closing:
            raise errors.PoolClosedError("the pool is closed")
        if opened and not self._opened:
            raise errors.InterfaceError("the pool is not open: use pypgz.create_pool(), or call open()")

    def _take(self, deadline: float | None, wait: float | None) -> ConnRecord[Conn]:
        """Waits for a connection and checks it; a broken one is discarded and the wait
        goes on, keeping its place at the head of the queue."""
        front = False
        while True:
            rec = self._next(deadline, wait, front)
            if self._usable(rec):
                return rec
            self._discard(rec)
            front = True

    def _next(self, deadline: float | None, wait: float | None, front: bool) -> ConnRecord[Conn]:
        with self._lock:
            self._check_open()
            rec = self._state.take_idle()
            if rec is not None:
                return rec
            waiter = _Waiter(self._lock)
            self._state.wait(waiter, front=front)
            self._grow()
            try:
                while waiter.record is None and waiter.error is None:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        assert wait is not None
                        raise timeout_error(wait, self._state.stats(), self._state.last_error)
                    waiter.cond.wait(left)
            except BaseException:
                self._state.stop_waiting(waiter)
                rec = waiter.record  # handed over just as the wait ended
                if rec is not None and not self._state.give(rec):
                    self._close(rec)  # rare, and quick enough to do under the lock
                raise
            if waiter.error is not None:
                raise waiter.error
            assert waiter.record is not None
            return waiter.record

    def _usable(self, rec: ConnRecord[Conn]) -> bool:
        """Whether a connection about to be lent is sound, without a round trip."""
        return not self._broken(rec) and not self._state.stale(rec, time.monotonic())

    @staticmethod
    def _broken(rec: ConnRecord[Conn]) -> bool:
        """Closed, or the server is going away (see ``readable``); polled on the pool's own
        duplicate of the socket, whose descriptor no other thread can close."""
        return rec.conn.is_closed() or (rec.sock is not None and readable(rec.sock))

    def _lend(self, rec: ConnRecord[Conn]) -> PooledConn:
        proxy = PooledConn(self, rec)
        with self._lock:
            if not self._state.closing:
                rec.holder = proxy
                return proxy
        self._discard(rec)
        raise errors.PoolClosedError("the pool was closed while a connection was being acquired")

    # ---- returning ------------------------------------------------------------------------------

    def _take_back(self, conn: object) -> tuple[ConnRecord[Conn] | None, list[_Stream]]:
        """Checks that ``conn`` is lent by this pool and cuts it off its connection."""
        if not isinstance(conn, PooledConn) or conn._pool is not self:
            raise foreign_error(conn)
        with self._lock:
            gone = conn._gone
            if gone is None:
                conn._record.holder = None
                return conn._record, conn._detach(RELEASED)
        if gone != TERMINATED:
            raise errors.InterfaceError("this connection was already released to the pool")
        # close() terminated it under its holder: the holder, this thread, closes the Conn.
        conn._record.conn.close()
        return None, []

    def _restore(self, rec: ConnRecord[Conn], streams: list[_Stream]) -> bool:
        """Closes the streams left open, rolls back, resets; False if the connection must
        not be lent again."""
        conn = rec.conn
        try:
            for s in streams:
                s.close()  # cancels the rest of its query
            if self._state.closing or conn.is_closed() or _busy(conn):
                return False
            self._reset_session(conn)
        except Exception:
            return False
        return not conn.is_closed() and not conn.is_in_transaction()

    def _reset_session(self, conn: Conn) -> None:
        if conn.is_in_transaction():
            conn.execute("ROLLBACK", timeout=RESET_TIMEOUT)
        self._reset(conn)

    def _discard(self, rec: ConnRecord[Conn]) -> None:
        """Closes a connection this thread has taken out of use; the pool may replace it."""
        self._close(rec)
        with self._lock:
            self._state.in_use.discard(rec)
            self._grow()
            self._notify_returned()

    @staticmethod
    def _close(rec: ConnRecord[Conn]) -> None:
        """Closes a connection; if a call still runs on it in another thread, only shuts its
        socket down (the call fails; the garbage collector closes the Conn)."""
        conn = rec.conn
        if not conn.try_close() and rec.sock is not None:
            _shutdown(rec.sock)
        if rec.sock is not None:
            rec.sock.close()

    def _notify_returned(self) -> None:
        """Wakes close() when the connections in use have all come back (lock held)."""
        if self._state.closing and not self._state.in_use:
            self._returned.notify_all()

    # ---- opening ------------------------------------------------------------------------------

    def _grow(self) -> None:
        """Starts an opener for each connection the pool lacks (lock held)."""
        for _ in range(self._state.shortfall()):
            self._state.opening += 1
            self._spawn(self._opener, "pypgz-pool-opener")

    def _opener(self) -> None:
        """Opens one connection for the pool (it holds one ``opening`` count till the end)."""
        rec = None
        try:
            rec = self._open_with_retry()
        finally:
            with self._lock:
                self._state.opening -= 1
                if rec is not None and self._state.add(rec):
                    rec = None
        if rec is not None:
            self._close(rec)

    def _open_with_retry(self) -> ConnRecord[Conn] | None:
        """Tries until a connection opens, or until it is no longer wanted (None)."""
        delay = BACKOFF_FIRST
        while True:
            try:
                return self._open_one()
            except Exception as e:
                if not self._back_off(e, delay):
                    return None
            delay = next_backoff(delay)

    def _back_off(self, error: Exception, delay: float) -> bool:
        """Records a failed attempt and waits before the next; False if there is to be none."""
        with self._lock:
            self._state.last_error = error
            if self._unwanted():
                return False
            self._wakeup.wait(delay)
            return not self._unwanted()

    def _unwanted(self) -> bool:
        """Whether more connections are being opened than needed (the caller's included)."""
        return self._state.shortfall() < 0

    def _open_one(self) -> ConnRecord[Conn]:
        """Connects and runs the init hook (closing the connection if it fails)."""
        conn = connect(self._dsn, **self._connect_kwargs)
        try:
            if self._init is not None:
                self._init(conn)
            sock = socket.socket(fileno=os.dup(conn.fileno()))
        except BaseException:
            conn.close()
            raise
        return ConnRecord(
            conn,
            now=time.monotonic(),
            generation=self._state.generation,
            max_lifetime=self._options.max_lifetime,
            sock=sock,
        )

    # ---- background ------------------------------------------------------------------------------

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        """Starts a daemon thread the pool keeps track of (lock held)."""

        def run() -> None:
            try:
                target()
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads.add(thread)
        thread.start()

    def _maintain(self) -> None:
        """Each round: closes idle connections that are broken, stale or idle too long (down
        to min_size), then opens what min_size lacks."""
        interval = self._options.maintenance_interval()
        while True:
            with self._lock:
                if not self._state.closing:  # else close() has already sent its wake-up
                    self._wakeup.wait(interval)
                if self._state.closing:
                    return
                doomed = self._state.sweep(time.monotonic(), self._broken)
            for rec in doomed:
                self._close(rec)
            with self._lock:
                self._grow()

    # ---- closing, step by step ------------------------------------------------------------------

    def _begin_close(self) -> list[ConnRecord[Conn]] | None:
        """Stops lending and wakes every waiting thread; the idle connections to close, or
        None if the pool was already closing."""
        with self._lock:
            if self._state.closing:
                return None
            idle = self._state.begin_close()
            self._wakeup.notify_all()
            return idle

    def _terminate_held(self) -> None:
        """Terminates the connections users still hold: their proxies are cut off and their
        sockets shut down, which ends any call running on them."""
        with self._lock:
            held = self._state.held()
            for rec in held:
                self._state.in_use.discard(rec)
                holder = cast(PooledConn, rec.holder)
                holder._detach(TERMINATED)
                rec.holder = None
            self._notify_returned()
        for rec in held:
            if rec.sock is not None:
                _shutdown(rec.sock)
                rec.sock.close()

    def _join(self, deadline: float | None) -> None:
        """Waits (until ``deadline``) for the pool's threads to end."""
        with self._lock:
            threads = [t for t in self._threads if t is not threading.current_thread()]
        for t in threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))


def _default_reset(conn: Conn) -> None:
    conn.execute(DEFAULT_RESET_SQL, timeout=RESET_TIMEOUT)


def _busy(conn: Conn) -> bool:
    """A transaction block is still open, or a call is running in another thread."""
    return conn.is_busy()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
