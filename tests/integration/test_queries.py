"""Querying: every case runs against Conn and AsyncConn (the ``db`` fixture)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import pypgz
from pypgz import errors


async def test_execute_returns_status_tag(db: Any) -> None:
    assert await db.execute("CREATE TEMP TABLE t (id int PRIMARY KEY, name text)") == "CREATE TABLE"
    assert await db.execute("INSERT INTO t VALUES ($1, $2)", 1, "a") == "INSERT 0 1"
    assert await db.execute("UPDATE t SET name = $1 WHERE id > $2", "b", 0) == "UPDATE 1"


async def test_execute_without_args_runs_several_statements(db: Any) -> None:
    tag = await db.execute("CREATE TEMP TABLE m (x int); INSERT INTO m VALUES (1), (2); DELETE FROM m WHERE x = 1")
    assert tag == "DELETE 1"
    assert await db.fetchval("SELECT count(*) FROM m") == 1


async def test_fetch_fetchrow_fetchval(db: Any) -> None:
    rows = await db.fetch("SELECT i, i * 2 AS double FROM generate_series(1, $1) i", 3)
    assert rows == [(1, 2), (2, 4), (3, 6)]
    row = await db.fetchrow("SELECT 1 AS a, 'x' AS b")
    assert row is not None and row["a"] == 1 and row["b"] == "x" and row[1] == "x"
    assert await db.fetchrow("SELECT 1 WHERE false") is None
    assert await db.fetchval("SELECT 1, 2, 3", column=2) == 3
    assert await db.fetchval("SELECT 1 AS a, 2 AS b", column="b") == 2
    assert await db.fetchval("SELECT 1 WHERE false") is None


async def test_record_interface(db: Any) -> None:
    r = await db.fetchrow("SELECT 1 AS id, 'ann' AS name, NULL::int AS missing")
    assert r["id"] == 1 and r[0] == 1 and r[-1] is None
    assert r.get("name") == "ann" and r.get("nope", 42) == 42
    assert list(r.keys()) == ["id", "name", "missing"]
    assert list(r.values()) == [1, "ann", None]
    assert list(r.items()) == [("id", 1), ("name", "ann"), ("missing", None)]
    assert len(r) == 3 and tuple(r) == (1, "ann", None) and r == (1, "ann", None)
    a, b, c = r
    assert (a, b, c) == (1, "ann", None)
    assert r[0:2] == (1, "ann")
    with pytest.raises(KeyError, match="nope"):
        r["nope"]
    assert "name=" in repr(r)


async def test_executemany_is_all_or_nothing(db: Any) -> None:
    # All or nothing means one Sync, one implicit transaction, for the whole batch.
    await db.execute("CREATE TEMP TABLE em (id int PRIMARY KEY, v text)")
    await db.executemany("INSERT INTO em VALUES ($1, $2)", [(i, f"v{i}") for i in range(500)])
    assert await db.fetchval("SELECT count(*) FROM em") == 500
    # A failing row rolls back the whole batch.
    with pytest.raises(errors.UniqueViolationError):
        await db.executemany("INSERT INTO em VALUES ($1, $2)", [(1000, "new"), (1001, "new"), (5, "dup")])
    assert await db.fetchval("SELECT count(*) FROM em WHERE id >= 1000") == 0
    await db.executemany("INSERT INTO em VALUES ($1, $2)", [])
    # Cached statement now: typed binary parameters, NULLs in any position.
    await db.executemany("INSERT INTO em VALUES ($1, $2)", [(2000, None), (2001, "x")])
    assert await db.fetch("SELECT v FROM em WHERE id >= 2000 ORDER BY id") == [(None,), ("x",)]


async def test_stream_in_batches(db: Any) -> None:
    seen = 0
    total = 0
    async for row in db.stream("SELECT i FROM generate_series(1, $1) i", 10_005, batch_rows=1000):
        seen += 1
        total += row[0]
    assert seen == 10_005 and total == 10_005 * 10_006 // 2
    # The connection is usable afterwards, and an abandoned stream is cancelled cleanly.
    it = db.stream("SELECT i FROM generate_series(1, 1000000) i", batch_rows=100)
    first = [r async for r, _ in _take(it, 5)]
    assert first == [(1,), (2,), (3,), (4,), (5,)]
    await it.aclose()
    assert await db.fetchval("SELECT 42") == 42


async def _take(it: Any, n: int) -> Any:
    i = 0
    async for r in it:
        yield r, i
        i += 1
        if i == n:
            return


async def test_prepared_statement_reports_types(db: Any) -> None:
    st = await db.prepare("SELECT $1::int + $2::int8 AS s, $3::text AS t")
    assert st.get_parameter_types() == ("int4", "int8", "text")
    cols = st.get_attributes()
    assert [c.name for c in cols] == ["s", "t"]
    assert [c.type_name for c in cols] == ["int8", "text"]
    assert await st.fetchval(1, 2, "x") == 3
    assert await st.fetchrow(5, 6, "y") == (11, "y")


async def test_statement_cache_survives_ddl(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE ddl (a int)")
    await db.execute("INSERT INTO ddl VALUES (1)")
    assert await db.fetch("SELECT * FROM ddl") == [(1,)]
    await db.execute("ALTER TABLE ddl ADD COLUMN b text DEFAULT 'x'")
    # The cached plan's result type changed: re-prepared and retried transparently.
    assert await db.fetch("SELECT * FROM ddl") == [(1, "x")]
    await db.execute("DEALLOCATE ALL")
    assert await db.fetch("SELECT * FROM ddl") == [(1, "x")]


async def test_known_result_shape_follows_type_changes(db: Any) -> None:
    """Repeated runs of a statement skip the Describe (its shape is known); a column whose
    type changes under it still comes back with its new type."""
    await db.execute("CREATE TEMP TABLE shape (a int4, b text)")
    await db.execute("INSERT INTO shape VALUES (1, 'x')")
    for _ in range(3):
        assert await db.fetchrow("SELECT a, b FROM shape WHERE a = $1", 1) == (1, "x")
    await db.execute("ALTER TABLE shape ALTER COLUMN a TYPE numeric, ALTER COLUMN b TYPE int4 USING 7")
    for _ in range(3):
        row = await db.fetchrow("SELECT a, b FROM shape WHERE a = $1", 1)
        assert row == (Decimal(1), 7) and type(row[0]) is Decimal
    for _ in range(3):  # statements without rows have a known shape too
        assert await db.execute("UPDATE shape SET b = $1", 8) == "UPDATE 1"


async def test_statement_cache_disabled(facade: str, dsn: str) -> None:
    from facades import open_facade

    db = await open_facade(facade, dsn, statement_cache_size=0)
    try:
        for i in range(3):
            assert await db.fetchval("SELECT $1::int * 2", i) == i * 2
        # Nothing was left prepared on the server.
        assert await db.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
    finally:
        await db.close()


async def test_statement_cache_is_bounded(facade: str, dsn: str) -> None:
    from facades import open_facade

    db = await open_facade(facade, dsn, statement_cache_size=5)
    try:
        for i in range(20):
            assert await db.fetchval(f"SELECT {i}::int") == i
        assert await db.fetchval("SELECT count(*) FROM pg_prepared_statements") <= 6
    finally:
        await db.close()


async def test_transaction_commit_rollback_and_savepoints(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE tx (v int)")
    async with db.transaction():
        await db.execute("INSERT INTO tx VALUES (1)")
        assert db.is_in_transaction()
    assert not db.is_in_transaction()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute("INSERT INTO tx VALUES (2)")
            raise RuntimeError("boom")
    assert await db.fetch("SELECT v FROM tx") == [(1,)]
    async with db.transaction():
        await db.execute("INSERT INTO tx VALUES (3)")
        with pytest.raises(errors.DivisionByZeroError):
            async with db.transaction():
                await db.execute("INSERT INTO tx VALUES (4)")
                await db.execute("SELECT 1/0")
        await db.execute("INSERT INTO tx VALUES (5)")
    assert await db.fetch("SELECT v FROM tx ORDER BY v") == [(1,), (3,), (5,)]


async def test_transaction_options(db: Any) -> None:
    async with db.transaction(isolation="serializable", readonly=True, deferrable=True):
        assert await db.fetchval("SHOW transaction_isolation") == "serializable"
        assert await db.fetchval("SHOW transaction_read_only") == "on"
        with pytest.raises(errors.ReadOnlySqlTransactionError):
            await db.execute("CREATE TEMP TABLE nope (x int)")
    async with db.transaction(isolation="repeatable_read"):
        assert await db.fetchval("SHOW transaction_isolation") == "repeatable read"
    with pytest.raises(ValueError):
        db.transaction(isolation="sometimes")


async def test_connection_info(db: Any) -> None:
    pid = await db.fetchval("SELECT pg_backend_pid()")
    assert db.get_server_pid() == pid
    major, _ = db.get_server_version()
    assert major >= 15
    assert db.get_parameter("server_encoding") == "UTF8"
    assert db.get_parameter("client_encoding") == "UTF8"
    assert "TimeZone" in db.get_parameters()
    assert db.transaction_status == "idle"
    await db.execute("BEGIN")
    assert db.transaction_status == "in_transaction"
    with pytest.raises(errors.DivisionByZeroError):
        await db.execute("SELECT 1/0")
    assert db.transaction_status == "in_error"
    await db.execute("ROLLBACK")
    assert db.transaction_status == "idle"
    assert not db.is_closed()
    await db.close()
    assert db.is_closed()


async def test_notices_reach_handlers(db: Any) -> None:
    got: list[Any] = []
    db.add_notice_handler(got.append)
    await db.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
    assert [n.message for n in got] == ["hello 42"]


async def test_server_parameter_change_is_tracked(db: Any) -> None:
    await db.execute("SET application_name = 'changed-here'")
    assert db.get_parameter("application_name") == "changed-here"


def test_conn_and_rows_are_typed_objects(dsn: str) -> None:
    with pypgz.connect(dsn) as conn:
        assert isinstance(conn, pypgz.Conn)
        row = conn.fetchrow("SELECT 1 AS x")
        assert isinstance(row, pypgz.Record) and isinstance(row, tuple)
    assert conn.is_closed()


async def test_executemany_in_slices_is_still_all_or_nothing(db: Any) -> None:
    await db.execute("CREATE TEMP TABLE big_em (id int PRIMARY KEY, v text)")
    n = 5000  # many slices
    await db.executemany("INSERT INTO big_em VALUES ($1, $2)", [(i, str(i)) for i in range(n)])
    assert await db.fetchval("SELECT count(*) FROM big_em") == n
    # A server-side failure in the last slice rolls back the earlier slices.
    rows = [(i, "x") for i in range(n, 2 * n)] + [(0, "duplicate")]
    with pytest.raises(errors.UniqueViolationError):
        await db.executemany("INSERT INTO big_em VALUES ($1, $2)", rows)
    assert await db.fetchval("SELECT count(*) FROM big_em") == n
    # A value that cannot be encoded, far into the batch: the client error is raised and
    # the slices the server already ran are rolled back.
    rows2 = [(i, "y") for i in range(2 * n, 3 * n)] + [(object(), "bad")]
    with pytest.raises(errors.EncodeError):
        await db.executemany("INSERT INTO big_em VALUES ($1::int, $2)", rows2)
    assert await db.fetchval("SELECT count(*) FROM big_em") == n
    assert db.transaction_status == "idle"
