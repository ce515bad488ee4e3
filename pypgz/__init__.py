"""pypgz: a PostgreSQL driver with a Zig protocol core.

``pypgz.connect(dsn)`` returns a blocking ``Conn``; ``await pypgz.connect_async(dsn)`` an
asyncio ``AsyncConn`` with the same methods as coroutines. Results arrive as rows that are tuples
with name access (``Record``); errors the server reports are ``PostgresError`` subclasses
by SQLSTATE (``pypgz.errors``).
"""

from pypgz import errors
from pypgz.aconn import AsyncConn, connect_async
from pypgz.apool import AsyncPool, AsyncPooledConn, create_async_pool
from pypgz.conn import Conn, connect
from pypgz.errors import (
    ConnectionClosedError,
    ConnectionFailedError,
    ConnectionLostError,
    DSNError,
    Error,
    InterfaceError,
    PoolClosedError,
    PoolOptionError,
    PoolTimeoutError,
    PostgresError,
    ProtocolError,
    QueryTimeoutError,
)
from pypgz.pool import Pool, PooledConn, create_pool
from pypgz.pool_common import PoolStats
from pypgz.record import Record
from pypgz.statement import AsyncPreparedStatement, PreparedStatement
from pypgz.transaction import AsyncTransaction, Transaction

__version__ = "0.1.0"

__all__ = [
    "AsyncConn",
    "AsyncPool",
    "AsyncPooledConn",
    "AsyncPreparedStatement",
    "AsyncTransaction",
    "Conn",
    "ConnectionClosedError",
    "ConnectionFailedError",
    "ConnectionLostError",
    "DSNError",
    "Error",
    "InterfaceError",
    "Pool",
    "PoolClosedError",
    "PoolOptionError",
    "PoolStats",
    "PoolTimeoutError",
    "PooledConn",
    "PostgresError",
    "PreparedStatement",
    "ProtocolError",
    "QueryTimeoutError",
    "Record",
    "Transaction",
    "connect",
    "connect_async",
    "create_async_pool",
    "create_pool",
    "errors",
]
