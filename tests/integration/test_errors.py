"""Bad input gets a clear error and loses nothing: each case checks the error and that the
connection still works afterwards (or reports itself closed, when it cannot)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest

import pypgz
from pypgz import errors
from pypgz.server import Cluster


async def _connect(facade: str, dsn: str | None = None, **kw: Any) -> Any:
    from facades import open_facade

    return await open_facade(facade, dsn or "", **kw)


async def test_syntax_error_carries_position_and_fields(db: Any) -> None:
    with pytest.raises(errors.PostgresSyntaxError) as ei:
        await db.fetch("SELECT 1 FROMM t")
    e = ei.value
    # "FROMM" reads as a column alias, so the error is at "t", character 16.
    assert e.sqlstate == "42601" and e.position == "16" and "syntax error" in e.message
    assert e.severity == "ERROR" and e.server_source_function
    assert isinstance(e, errors.PostgresError)
    assert await db.fetchval("SELECT 1") == 1


async def test_constraint_violation_names_table_and_constraint(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE cv (id int CONSTRAINT cv_pk PRIMARY KEY, n int CHECK (n > 0))")
    await db.execute("INSERT INTO cv VALUES (1, 1)")
    with pytest.raises(errors.UniqueViolationError) as ei:
        await db.execute("INSERT INTO cv VALUES ($1, $2)", 1, 1)
    e = ei.value
    assert e.constraint_name == "cv_pk" and e.table_name == "cv" and e.schema_name
    assert "already exists" in (e.detail or "")
    assert isinstance(e, errors.IntegrityConstraintViolationError)
    with pytest.raises(errors.CheckViolationError):
        await db.execute("INSERT INTO cv VALUES ($1, $2)", 2, -1)
    assert await db.fetchval("SELECT count(*) FROM cv") == 1


async def test_wrong_number_of_arguments(db: Any) -> None:
    with pytest.raises(errors.Error, match="2"):
        await db.fetch("SELECT $1::int + $2::int", 1)
    assert await db.fetchval("SELECT $1::int + $2::int", 1, 2) == 3
    # Now cached and described: checked before anything is sent.
    with pytest.raises(errors.InterfaceError, match="2 parameters but 3 arguments"):
        await db.fetch("SELECT $1::int + $2::int", 1, 2, 3)
    assert await db.fetchval("SELECT $1::int + $2::int", 2, 2) == 4


async def test_value_the_type_cannot_take(db: Any) -> None:
    with pytest.raises(errors.InvalidTextRepresentationError):
        await db.fetchval("SELECT $1::int", "twelve")
    with pytest.raises(errors.NumericValueOutOfRangeError):
        await db.fetchval("SELECT 2147483647::int4 + 1")
    with pytest.raises(errors.DatetimeFieldOverflowError):
        await db.fetchval("SELECT $1::date", "2020-13-45")
    assert await db.fetchval("SELECT 'ok'") == "ok"


async def test_error_inside_transaction_then_rollback(db: Any) -> None:
    await db.execute("BEGIN")
    with pytest.raises(errors.DivisionByZeroError):
        await db.fetchval("SELECT 1 / $1::int", 0)
    with pytest.raises(errors.InFailedSqlTransactionError):
        await db.fetchval("SELECT 1")
    await db.execute("ROLLBACK")
    assert await db.fetchval("SELECT 1") == 1


async def test_use_of_closed_connection(db: Any) -> None:
    await db.close()
    assert db.is_closed()
    with pytest.raises(errors.ConnectionClosedError):
        await db.fetch("SELECT 1")
    with pytest.raises(errors.ConnectionClosedError):
        await db.execute("SELECT 1")
    await db.close()  # closing twice is fine


async def test_backend_terminated(db: Any, dsn: str) -> None:
    pid = db.get_server_pid()
    with pypgz.connect(dsn) as other:
        assert other.fetchval("SELECT pg_terminate_backend($1)", pid) is True
    with pytest.raises(errors.ConnectionLostError) as ei:
        await db.fetchval("SELECT 1")
    assert "terminat" in str(ei.value) or "closed" in str(ei.value)
    assert db.is_closed()
    with pytest.raises(errors.ConnectionClosedError):
        await db.fetchval("SELECT 1")


async def test_malformed_dsn_names_the_bad_part(facade: str) -> None:
    with pytest.raises(errors.DSNError, match='port "abc"'):
        await _connect(facade, "postgresql://u@localhost:abc/db")
    with pytest.raises(errors.DSNError, match="mysql"):
        await _connect(facade, "mysql://u@localhost/db")
    with pytest.raises(errors.DSNError, match="sslmode"):
        await _connect(facade, "host=localhost sslmode=maybe")


async def test_connection_refused(facade: str) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(errors.ConnectionFailedError, match=f"port {port}"):
        await _connect(facade, f"postgresql://u@127.0.0.1:{port}/db")


async def test_connect_timeout_when_server_never_answers(facade: str) -> None:
    # A listener that accepts and then says nothing: the start-up must time out, not hang.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    try:
        with pytest.raises(errors.ConnectionFailedError, match="timeout"):
            await _connect(facade, f"postgresql://u@127.0.0.1:{port}/db?connect_timeout=2")
    finally:
        srv.close()


async def test_unknown_database(facade: str, cluster: Cluster) -> None:
    with pytest.raises(errors.InvalidCatalogNameError, match="no_such_db"):
        await _connect(facade, cluster.dsn(database="no_such_db"))


@pytest.mark.parametrize("user", [Cluster.PASSWORD_USER, Cluster.MD5_USER, Cluster.SCRAM_USER])
async def test_wrong_password_is_not_echoed(facade: str, cluster: Cluster, user: str) -> None:
    secret = "wr0ng-Pa55-zz"
    with pytest.raises(errors.InvalidPasswordError) as ei:
        await _connect(facade, cluster.dsn(user=user, password=secret))
    assert secret not in str(ei.value) and secret not in repr(ei.value.as_dict())


async def test_missing_password(facade: str, cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    with pytest.raises(errors.ConnectionFailedError, match="no password"):
        await _connect(facade, cluster.dsn(user=Cluster.SCRAM_USER))


async def _fake_server(payload: bytes) -> tuple[int, threading.Thread]:
    """A socket that answers the start-up packet with ``payload`` (malformed protocol bytes).
    No real server can be made to send these, so this is the one place a fake one is used."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        with srv:
            c, _ = srv.accept()
            with c:
                c.recv(4096)
                c.sendall(payload)
                try:
                    c.recv(4096)
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return port, t


@pytest.mark.parametrize(
    "payload",
    [
        b"R\x00\x00\x00\x02",  # length shorter than the length field
        b"R\x7f\xff\xff\xff",  # absurd length
        b"Q\x00\x00\x00\x04",  # a message type a server never sends
        b"R\x00\x00\x00\x08\x00\x00\x00\x05",  # md5 request without its salt
        b"R\x00\x00\x00\x08\x00\x00\x00\x00Z\x00\x00\x00\x05?",  # bad transaction status
    ],
)
async def test_malformed_server_message_is_a_protocol_error(facade: str, payload: bytes) -> None:
    port, t = await _fake_server(payload)
    with pytest.raises((errors.ProtocolError, errors.ConnectionFailedError)) as ei:
        await _connect(facade, f"postgresql://u:pw@127.0.0.1:{port}/db?connect_timeout=5")
    assert "protocol" in str(ei.value).lower()
    t.join(5)


async def test_server_closing_during_startup(facade: str) -> None:
    port, t = await _fake_server(b"")
    with pytest.raises(errors.ConnectionFailedError):
        await _connect(facade, f"postgresql://u@127.0.0.1:{port}/db?connect_timeout=5")
    t.join(5)


def test_async_error_does_not_break_other_tasks(dsn: str) -> None:
    async def main() -> None:
        conn = await pypgz.connect_async(dsn)
        try:
            results = await asyncio.gather(
                conn.fetchval("SELECT 1"),
                conn.fetchval("SELECT 1/0"),
                conn.fetchval("SELECT 3"),
                return_exceptions=True,
            )
            assert results[0] == 1 and isinstance(results[1], errors.DivisionByZeroError) and results[2] == 3
        finally:
            await conn.close()

    asyncio.run(main())
