"""What ``Pool`` (pypgz/pool.py) and ``AsyncPool`` (pypgz/apool.py) share.

Argument checking, the statistics, the SQL that resets a session on release, the
bookkeeping of each pooled connection (``ConnRecord``), and the books of the whole pool
(``PoolState``): which connections are idle, which are in use, how many are being opened,
and who waits for one.

Nothing here waits or locks, and the only I/O is a zero-timeout poll (``readable``).
``Pool`` calls ``PoolState`` with its lock held, ``AsyncPool`` from its event loop; so the
two pools make every decision the same way and differ only in how they wait and how they
open and close connections.
"""

from __future__ import annotations

import random
import select
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pypgz import errors

C = TypeVar("C")

# Run on every release unless a ``reset`` hook replaces it (an open transaction is rolled
# back before, whatever the hook). It is DISCARD ALL without DEALLOCATE ALL and DISCARD
# PLANS: the driver's statement cache keeps its prepared statements across users.
#   CLOSE ALL                          cursors declared WITH HOLD
#   SET SESSION AUTHORIZATION DEFAULT  back to the role that logged in (allowed for any role:
#   RESET ROLE                           it only returns to the authenticated user)
#   RESET ALL                          every SET; start-up settings (application_name,
#                                        DateStyle, client_encoding, ...) are the defaults
#   UNLISTEN *                         LISTEN registrations
#   pg_advisory_unlock_all()           session-level advisory locks
#   DISCARD TEMP                       temporary tables
#   DISCARD SEQUENCES                  currval()/lastval() state
DEFAULT_RESET_SQL = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; RESET ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES"
)

# How long the rollback and the default reset of a released connection may take before
# the connection is closed instead of reused.
RESET_TIMEOUT = 10.0

# Delay between attempts to open a connection while the server cannot be reached: it
# doubles from the first value to the second, with some jitter.
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0

# Longest pause between two maintenance rounds (shorter when the lifetimes are short).
MAINTENANCE_INTERVAL = 1.0

RELEASED = "the connection was released back to the pool"
TERMINATED = "the pool was closed while this connection was in use: it was terminated"


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class PoolOptions:
    """The checked sizing and timing arguments of a pool (``None`` means no limit)."""

    min_size: int
    max_size: int
    max_queries: int | None
    max_inactive_connection_lifetime: float | None
    max_lifetime: float | None
    timeout: float | None

    def maintenance_interval(self) -> float:
        limits = [t for t in (self.max_inactive_connection_lifetime, self.max_lifetime) if t]
        return max(0.05, min([MAINTENANCE_INTERVAL] + [t / 4 for t in limits]))


def check_options(
    *,
    min_size: int,
    max_size: int,
    max_queries: int | None,
    max_inactive_connection_lifetime: float | None,
    max_lifetime: float | None,
    timeout: float | None,
) -> PoolOptions:
    """Checks the pool arguments; raises ``PoolOptionError`` naming the bad one."""
    low = _count("min_size", min_size, 0)
    high = _count("max_size", max_size, 1)
    if low > high:
        raise errors.PoolOptionError(f"min_size ({low}) must not be greater than max_size ({high})")
    queries = None if max_queries is None else _count("max_queries", max_queries, 0)
    return PoolOptions(
        min_size=low,
        max_size=high,
        max_queries=queries or None,
        max_inactive_connection_lifetime=_limit("max_inactive_connection_lifetime", max_inactive_connection_lifetime),
        max_lifetime=_limit("max_lifetime", max_lifetime),
        timeout=check_timeout(timeout),
    )


def check_timeout(timeout: float | None, name: str = "timeout") -> float | None:
    """A wait limit: a positive number of seconds, or None for no limit."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise errors.PoolOptionError(f"invalid {name} {timeout!r}: expected a positive number of seconds or None")
    return float(timeout)


def check_hooks(**hooks: Any) -> None:
    for name, hook in hooks.items():
        if hook is not None and not callable(hook):
            raise errors.PoolOptionError(f"invalid {name} hook {hook!r}: expected a callable or None")


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise errors.PoolOptionError(f"invalid {name} {value!r}: expected an integer >= {minimum}")
    return value


def _limit(name: str, value: Any) -> float | None:
    """A lifetime in seconds; 0 or None turns the limit off."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise errors.PoolOptionError(f"invalid {name} {value!r}: expected a number of seconds >= 0 (0 or None: no limit)")
    return float(value) or None


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool, for monitoring. ``size`` counts every connection the pool
    holds or is opening (``idle + in_use + opening``), which never exceeds ``max_size``."""

    size: int
    idle: int
    in_use: int
    waiting: int
    min_size: int
    max_size: int
    opening: int = 0

    def __str__(self) -> str:
        return (
            f"{self.in_use} of {self.max_size} connections in use, {self.waiting} waiting "
            f"({self.idle} idle, {self.opening} opening)"
        )


def timeout_error(waited: float, stats: PoolStats, last_error: BaseException | None) -> errors.PoolTimeoutError:
    """The error of an acquire that timed out; its cause is the last failed connection attempt."""
    text = (
        f"could not acquire a connection within {waited!r} s: "
        f"{stats.in_use} of {stats.max_size} connections in use, {stats.waiting} waiting"
    )
    if last_error is not None:
        text += f"; the last attempt to open a connection failed: {last_error}"
    exc = errors.PoolTimeoutError(text)
    exc.__cause__ = last_error
    exc.stats = stats
    return exc


def foreign_error(conn: object) -> errors.InterfaceError:
    return errors.InterfaceError(
        f"cannot release {type(conn).__name__} object: it was not acquired from this pool "
        "(release() takes the connection that this pool's acquire() returned)"
    )


def next_backoff(delay: float) -> float:
    return min(BACKOFF_MAX, delay * 2) * random.uniform(0.8, 1.2)


def readable(fileobj: int | socket.socket) -> bool:
    """Whether a socket has input (or end of file) waiting, without blocking. An idle server
    connection sends nothing unless it is going away (a FATAL error such as
    pg_terminate_backend's, then end of file), so a readable idle connection is not lent."""
    if hasattr(select, "poll"):
        p = select.poll()
        p.register(fileobj, select.POLLIN)
        return bool(p.poll(0))
    return bool(select.select([fileobj], [], [], 0)[0])


# --------------------------------------------------------------------------- bookkeeping


class ConnRecord(Generic[C]):
    """One pooled connection and what the pool knows about it."""

    __slots__ = ("conn", "sock", "created_at", "last_used", "queries", "generation", "expires_at", "holder")

    def __init__(self, conn: C, *, now: float, generation: int, max_lifetime: float | None,
                 sock: socket.socket | None = None) -> None:
        self.conn = conn
        # Pool only: a duplicate of the connection's socket, which the pool polls and may
        # shut down from another thread; its descriptor cannot be reused while the pool holds it.
        self.sock = sock
        self.created_at = now
        self.last_used = now
        self.queries = 0  # checkouts so far: each release counts one, as max_queries does
        self.generation = generation  # expire_connections() makes older generations stale
        # Up to 10% early, so connections opened together are not all replaced together.
        self.expires_at = None if max_lifetime is None else now + max_lifetime * random.uniform(0.9, 1.0)
        self.holder: object | None = None  # the proxy lent out, while the connection is in use

    def idle_for(self, now: float) -> float:
        return now - self.last_used

    def __repr__(self) -> str:
        return f"<ConnRecord {self.conn!r} queries={self.queries} generation={self.generation}>"


class Waiter(Generic[C]):
    """A caller waiting in acquire(); each pool wakes its own kind of waiter."""

    def deliver(self, record: ConnRecord[C]) -> bool:
        """Hands the connection over; False if the waiter has gone and cannot take it."""
        raise NotImplementedError

    def fail(self, exc: BaseException) -> None:
        """Wakes the waiter with an error instead."""
        raise NotImplementedError


class PoolState(Generic[C]):
    """The books of a pool. Idle connections are used last-in first-out, so that spare ones
    stay idle long enough to be closed; waiters are served first-come first-served."""

    def __init__(self, options: PoolOptions) -> None:
        self.options = options
        self.idle: deque[ConnRecord[C]] = deque()  # the right end was used most recently
        self.in_use: set[ConnRecord[C]] = set()  # lent out, being checked, or being reset
        self.waiters: deque[Waiter[C]] = deque()
        self.opening = 0
        self.generation = 0
        self.last_error: BaseException | None = None  # of the last failed open, until one succeeds
        self.closing = False

    # ---- counting

    @property
    def live(self) -> int:
        return len(self.idle) + len(self.in_use)

    def stats(self) -> PoolStats:
        o = self.options
        return PoolStats(
            size=self.live + self.opening,
            idle=len(self.idle),
            in_use=len(self.in_use),
            waiting=len(self.waiters),
            min_size=o.min_size,
            max_size=o.max_size,
            opening=self.opening,
        )

    def shortfall(self) -> int:
        """How many more connections should be opened now (negative: too many are being
        opened): enough for min_size and for every waiter, within max_size."""
        if self.closing:
            return -self.opening
        o = self.options
        wanted = min(o.max_size, max(o.min_size, self.live + len(self.waiters)))
        return wanted - self.live - self.opening

    # ---- lending and returning

    def take_idle(self) -> ConnRecord[C] | None:
        """The most recently used idle connection, unless others are already waiting."""
        if not self.idle or self.waiters:
            return None
        rec = self.idle.pop()
        self.in_use.add(rec)
        return rec

    def give(self, rec: ConnRecord[C]) -> bool:
        """Makes a connection available: to the first waiter, else idle. False if the pool
        is closing: the connection has left the books, and the caller closes it."""
        self.in_use.discard(rec)
        rec.holder = None
        if self.closing:
            return False
        while self.waiters:
            if self.waiters.popleft().deliver(rec):
                self.in_use.add(rec)
                return True
        self.idle.append(rec)
        return True

    def add(self, rec: ConnRecord[C]) -> bool:
        """A connection just opened (its opener has given back its ``opening`` count);
        False if the pool is closing, as for give()."""
        self.last_error = None
        return self.give(rec)

    def wait(self, waiter: Waiter[C], *, front: bool) -> None:
        if front:
            self.waiters.appendleft(waiter)
        else:
            self.waiters.append(waiter)

    def stop_waiting(self, waiter: Waiter[C]) -> None:
        try:
            self.waiters.remove(waiter)
        except ValueError:
            pass

    # ---- deciding what to close

    def stale(self, rec: ConnRecord[C], now: float) -> bool:
        """Past its lifetime, or older than the last expire_connections()."""
        expired = rec.expires_at is not None and now >= rec.expires_at
        return expired or rec.generation != self.generation

    def reusable(self, rec: ConnRecord[C], now: float) -> bool:
        """Counts a released connection's use; whether it may go back to the pool."""
        rec.queries += 1
        rec.last_used = now
        limit = self.options.max_queries
        return not self.closing and not self.stale(rec, now) and (limit is None or rec.queries < limit)

    def sweep(self, now: float, broken: Callable[[ConnRecord[C]], bool]) -> list[ConnRecord[C]]:
        """Takes out of the idle list what should be closed: broken or stale connections,
        and those idle too long, least recently used first, down to min_size."""
        limit = self.options.max_inactive_connection_lifetime
        doomed = [r for r in self.idle if broken(r) or self.stale(r, now)]
        keep = self.live - len(doomed)
        for rec in self.idle:  # least recently used first
            if keep <= self.options.min_size or limit is None:
                break
            if rec not in doomed and rec.idle_for(now) > limit:
                doomed.append(rec)
                keep -= 1
        for rec in doomed:
            self.idle.remove(rec)
        return doomed

    def expire(self) -> list[ConnRecord[C]]:
        """Makes every current connection stale; returns the idle ones, to close now."""
        self.generation += 1
        idle = list(self.idle)
        self.idle.clear()
        return idle

    def begin_close(self) -> list[ConnRecord[C]]:
        """Stops lending: fails the waiters; returns the idle connections, to close now."""
        self.closing = True
        while self.waiters:
            self.waiters.popleft().fail(errors.PoolClosedError("the pool was closed while waiting for a connection"))
        idle = list(self.idle)
        self.idle.clear()
        return idle

    def held(self) -> list[ConnRecord[C]]:
        """The connections users hold now (not those being checked or reset by the pool)."""
        return [r for r in self.in_use if r.holder is not None]
