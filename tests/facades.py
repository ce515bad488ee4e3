"""One set of test cases, two facades.

Tests are written once as coroutines against the ``AsyncConn`` API. ``SyncFacade`` gives a
blocking ``Conn`` that same shape (each coroutine just calls the blocking method), so the
``db`` fixture can run every case against both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import pypgz


class _SyncTransaction:
    def __init__(self, tx: pypgz.Transaction) -> None:
        self._tx = tx

    async def __aenter__(self) -> _SyncTransaction:
        self._tx.__enter__()
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self._tx.__exit__(et, ev, tb)

    async def commit(self) -> None:
        self._tx.commit()

    async def rollback(self) -> None:
        self._tx.rollback()


class _SyncPrepared:
    def __init__(self, st: pypgz.PreparedStatement) -> None:
        self._st = st

    def get_parameters(self) -> tuple[int, ...]:
        return self._st.get_parameters()

    def get_parameter_types(self) -> tuple[str, ...]:
        return self._st.get_parameter_types()

    def get_attributes(self) -> Any:
        return self._st.get_attributes()

    async def fetch(self, *args: Any, **kw: Any) -> Any:
        return self._st.fetch(*args, **kw)

    async def fetchrow(self, *args: Any, **kw: Any) -> Any:
        return self._st.fetchrow(*args, **kw)

    async def fetchval(self, *args: Any, **kw: Any) -> Any:
        return self._st.fetchval(*args, **kw)

    async def execute(self, *args: Any, **kw: Any) -> Any:
        return self._st.execute(*args, **kw)


class SyncFacade:
    """A blocking ``Conn`` with the coroutine API of ``AsyncConn``."""

    is_async = False

    def __init__(self, conn: pypgz.Conn) -> None:
        self.conn = conn

    async def execute(self, *a: Any, **k: Any) -> str:
        return self.conn.execute(*a, **k)

    async def executemany(self, *a: Any, **k: Any) -> None:
        self.conn.executemany(*a, **k)

    async def fetch(self, *a: Any, **k: Any) -> list[pypgz.Record]:
        return self.conn.fetch(*a, **k)

    async def fetchrow(self, *a: Any, **k: Any) -> pypgz.Record | None:
        return self.conn.fetchrow(*a, **k)

    async def fetchval(self, *a: Any, **k: Any) -> Any:
        return self.conn.fetchval(*a, **k)

    async def prepare(self, *a: Any, **k: Any) -> _SyncPrepared:
        return _SyncPrepared(self.conn.prepare(*a, **k))

    async def stream(self, *a: Any, **k: Any) -> AsyncIterator[pypgz.Record]:
        it = self.conn.stream(*a, **k)
        try:
            for row in it:
                yield row
        finally:
            it.close()  # type: ignore[attr-defined]

    async def copy_from_table(self, *a: Any, **k: Any) -> str:
        return self.conn.copy_from_table(*a, **k)

    async def copy_from_query(self, *a: Any, **k: Any) -> str:
        return self.conn.copy_from_query(*a, **k)

    async def copy_to_table(self, *a: Any, **k: Any) -> str:
        return self.conn.copy_to_table(*a, **k)

    async def copy_records_to_table(self, *a: Any, **k: Any) -> str:
        return self.conn.copy_records_to_table(*a, **k)

    def transaction(self, *a: Any, **k: Any) -> _SyncTransaction:
        return _SyncTransaction(self.conn.transaction(*a, **k))

    async def close(self) -> None:
        self.conn.close()

    def is_closed(self) -> bool:
        return self.conn.is_closed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


class AsyncFacade:
    """``AsyncConn`` as it is (``stream`` wrapped so both facades are consumed alike)."""

    is_async = True

    def __init__(self, conn: pypgz.AsyncConn) -> None:
        self.conn = conn

    async def stream(self, *a: Any, **k: Any) -> AsyncIterator[pypgz.Record]:
        async for row in self.conn.stream(*a, **k):
            yield row

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


async def open_facade(kind: str, dsn: str, **kwargs: Any) -> SyncFacade | AsyncFacade:
    if kind == "sync":
        return SyncFacade(pypgz.connect(dsn, **kwargs))
    return AsyncFacade(await pypgz.connect_async(dsn, **kwargs))
