"""Transaction blocks for both facades.

The SQL a block sends is decided here, once; ``Transaction`` (blocking) and
``AsyncTransaction`` (asyncio) only differ in how they wait for it. The outermost block
is a real transaction (BEGIN ... COMMIT/ROLLBACK); a block opened inside another becomes
a savepoint, released on success and rolled back to on an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from pypgz import errors

if TYPE_CHECKING:
    from pypgz.aconn import AsyncConn
    from pypgz.conn import Conn

_ISOLATION = {
    "read_committed": "READ COMMITTED",
    "read_uncommitted": "READ UNCOMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


@dataclass(frozen=True)
class TransactionOptions:
    isolation: str | None
    readonly: bool
    deferrable: bool

    @staticmethod
    def make(isolation: str | None, readonly: bool, deferrable: bool) -> TransactionOptions:
        if isolation is not None:
            key = isolation.lower().replace(" ", "_").replace("-", "_")
            if key not in _ISOLATION:
                raise ValueError(f"unknown isolation level {isolation!r}; expected one of {sorted(_ISOLATION)}")
            isolation = key
        return TransactionOptions(isolation, readonly, deferrable)

    def begin_sql(self) -> str:
        sql = "BEGIN"
        if self.isolation:
            sql += " ISOLATION LEVEL " + _ISOLATION[self.isolation]
        if self.readonly:
            sql += " READ ONLY"
        if self.deferrable:
            sql += " DEFERRABLE"
        return sql

    @property
    def is_default(self) -> bool:
        return self.isolation is None and not self.readonly and not self.deferrable


class _Block:
    """State and SQL of one transaction block, whatever the facade."""

    def __init__(self, opts: TransactionOptions) -> None:
        self._opts = opts
        self._savepoint: str | None = None
        self._state = "new"  # new → started → committed / rolled_back

    def _start_sql(self, depth: int) -> str:
        if self._state != "new":
            raise errors.InterfaceError(f"this transaction block is already {self._state}")
        if depth == 0:
            return self._opts.begin_sql()
        if not self._opts.is_default:
            raise errors.InterfaceError(
                "a nested transaction block becomes a savepoint and cannot set isolation, readonly or deferrable"
            )
        self._savepoint = f"pgz_savepoint_{depth}"
        return f"SAVEPOINT {self._savepoint}"

    def _end_sql(self, commit: bool) -> str:
        if self._state != "started":
            raise errors.InterfaceError(f"cannot {'commit' if commit else 'roll back'}: the transaction block is {self._state}")
        if self._savepoint is None:
            return "COMMIT" if commit else "ROLLBACK"
        if commit:
            return f"RELEASE SAVEPOINT {self._savepoint}"
        return f"ROLLBACK TO SAVEPOINT {self._savepoint}; RELEASE SAVEPOINT {self._savepoint}"


class Transaction(_Block):
    """``with conn.transaction():`` — see the module docstring."""

    def __init__(self, conn: Conn, opts: TransactionOptions) -> None:
        super().__init__(opts)
        self._conn = conn

    def start(self) -> None:
        sql = self._start_sql(self._conn._tx_depth)
        self._conn.execute(sql)
        self._conn._tx_depth += 1
        self._state = "started"

    def commit(self) -> None:
        self._finish(True)

    def rollback(self) -> None:
        self._finish(False)

    def _finish(self, commit: bool) -> None:
        sql = self._end_sql(commit)
        self._state = "committed" if commit else "rolled_back"
        self._conn._tx_depth -= 1
        if self._conn.is_closed():
            return
        self._conn.execute(sql)

    def __enter__(self) -> Transaction:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._state != "started":
            return
        if et is None:
            self.commit()
        else:
            try:
                self.rollback()
            except errors.Error:
                pass  # the original exception matters more; a lost connection is reported by it


class AsyncTransaction(_Block):
    """``async with conn.transaction():`` — the twin of ``Transaction``. While the block is
    open the connection belongs to its task: other tasks' queries wait until it ends."""

    def __init__(self, conn: AsyncConn, opts: TransactionOptions) -> None:
        super().__init__(opts)
        self._conn = conn

    async def start(self) -> None:
        sql = self._start_sql(self._conn._tx_depth)
        await self._conn._hold()
        try:
            await self._conn.execute(sql)
        except BaseException:
            self._conn._release_hold()
            raise
        self._conn._tx_depth += 1
        self._state = "started"

    async def commit(self) -> None:
        await self._finish(True)

    async def rollback(self) -> None:
        await self._finish(False)

    async def _finish(self, commit: bool) -> None:
        sql = self._end_sql(commit)
        self._state = "committed" if commit else "rolled_back"
        self._conn._tx_depth -= 1
        try:
            if not self._conn.is_closed():
                await self._conn.execute(sql)
        finally:
            self._conn._release_hold()

    async def __aenter__(self) -> AsyncTransaction:
        await self.start()
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._state != "started":
            return
        if et is None:
            await self.commit()
        else:
            try:
                await self.rollback()
            except errors.Error:
                pass  # the original exception matters more; a lost connection is reported by it
