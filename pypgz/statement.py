"""Explicitly prepared statements (``conn.prepare(sql)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from pypgz.codecs.oids import type_name
from pypgz.record import Record
from pypgz.session import Column, Statement, parse_rowcount

if TYPE_CHECKING:
    from pypgz.aconn import AsyncConn
    from pypgz.conn import Conn


class _Described:
    """What both facades' prepared statements know without asking the server."""

    _st: Statement

    @property
    def name(self) -> str:
        return self._st.name.decode()

    @property
    def query(self) -> str:
        return self._st.sql

    def get_parameters(self) -> tuple[int, ...]:
        """Type oids of the parameters, as the server resolved them."""
        return self._st.param_types or ()

    def get_parameter_types(self) -> tuple[str, ...]:
        return tuple(type_name(t) for t in self.get_parameters())

    def get_attributes(self) -> tuple[Column, ...]:
        """The result columns (name and type); empty for a statement returning no rows."""
        return self._st.columns or ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self._st.sql!r}>"


class PreparedStatement(_Described):
    """A statement prepared on the server under its own name, described once: it knows its
    parameter and column types and runs without sending its text again."""

    def __init__(self, conn: Conn, statement: Statement) -> None:
        self._conn = conn
        self._st = statement

    def fetch(self, *args: Any, timeout: float | None = None) -> list[Record]:
        return self._conn._run_prepared(self._st, args, timeout).rows

    def fetchrow(self, *args: Any, timeout: float | None = None) -> Record | None:
        rows = self.fetch(*args, timeout=timeout)
        return rows[0] if rows else None

    def fetchval(self, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        rows = self.fetch(*args, timeout=timeout)
        return rows[0][column] if rows else None

    def execute(self, *args: Any, timeout: float | None = None) -> str:
        return self._conn._run_prepared(self._st, args, timeout).tag

    def executemany(self, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        for a in args:
            self._conn._run_prepared(self._st, a, timeout)

    def rowcount(self, *args: Any, timeout: float | None = None) -> int:
        return parse_rowcount(self.execute(*args, timeout=timeout))

    def close(self) -> None:
        """Deallocates the statement on the server (with the next operation)."""
        if not self._conn.is_closed():
            self._conn._session.close_prepared(self._st)


class AsyncPreparedStatement(_Described):
    """The asyncio twin of ``PreparedStatement``."""

    def __init__(self, conn: AsyncConn, statement: Statement) -> None:
        self._conn = conn
        self._st = statement

    async def fetch(self, *args: Any, timeout: float | None = None) -> list[Record]:
        return (await self._conn._run_prepared(self._st, args, timeout)).rows

    async def fetchrow(self, *args: Any, timeout: float | None = None) -> Record | None:
        rows = await self.fetch(*args, timeout=timeout)
        return rows[0] if rows else None

    async def fetchval(self, *args: Any, column: int | str = 0, timeout: float | None = None) -> Any:
        rows = await self.fetch(*args, timeout=timeout)
        return rows[0][column] if rows else None

    async def execute(self, *args: Any, timeout: float | None = None) -> str:
        return (await self._conn._run_prepared(self._st, args, timeout)).tag

    async def executemany(self, args: Iterable[Sequence[Any]], *, timeout: float | None = None) -> None:
        for a in args:
            await self._conn._run_prepared(self._st, a, timeout)

    async def rowcount(self, *args: Any, timeout: float | None = None) -> int:
        return parse_rowcount(await self.execute(*args, timeout=timeout))

    def close(self) -> None:
        """Deallocates the statement on the server (with the next operation)."""
        if not self._conn.is_closed():
            self._conn._session.close_prepared(self._st)
