"""pypgz behind a real PgBouncer in transaction mode (tests/pgbouncer.py).

The pool has fewer server connections than the clients here, so each transaction of a
client may run on a server connection another client prepared its statements on. Every
result must still be the client's own: statement names no other client can produce, a
statement missing from a server connection re-prepared, and with statement_cache_size=0
every API working without any statement outliving its Sync.
"""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest

import pypgz
from pypgz import errors
from facades import open_facade

CLIENTS = 8
QUERIES = 45
ROUNDS = 3


def _query(client: int, q: int) -> str:
    # Distinct text per client and query, and shapes that differ by query: a row decoded
    # with another statement's shape, or another client's rows, cannot pass for the right one.
    if q % 3 == 0:
        return f"SELECT {client}::int4 AS client, {q}::int4 AS q, $1::int8 AS arg"
    if q % 3 == 1:
        return f"SELECT 'c{client}'::text AS client, {q}::int8 AS q, $1::int8 * 2 AS arg"
    return f"SELECT {q}::float8 AS q, $1::int8 - 1 AS arg, ARRAY[{client}, {q}]::int4[] AS client"


def _expected(client: int, q: int, arg: int) -> tuple[Any, ...]:
    if q % 3 == 0:
        return (client, q, arg)
    if q % 3 == 1:
        return (f"c{client}", q, arg * 2)
    return (float(q), arg - 1, [client, q])


def _check_rows(client: int, q: int, arg: int, rows: list[pypgz.Record]) -> str | None:
    want = _expected(client, q, arg)
    if len(rows) != 1 or tuple(rows[0]) != want:
        return f"client {client} query {q}: got {[tuple(r) for r in rows]!r}, want {want!r}"
    return None


def _sync_client(dsn: str, client: int, cache: int, problems: list[str], start: threading.Barrier) -> None:
    with pypgz.connect(dsn, statement_cache_size=cache) as conn:
        start.wait()
        for r in range(ROUNDS):
            for q in range(QUERIES):
                arg = client * 1000 + q * 10 + r
                try:
                    problem = _check_rows(client, q, arg, conn.fetch(_query(client, q), arg))
                except errors.Error as e:
                    problem = f"client {client} query {q}: {type(e).__name__}: {e}"
                if problem:
                    problems.append(problem)


@pytest.mark.parametrize("cache", [100, 0], ids=["default-cache", "no-cache"])
def test_concurrent_sync_clients_get_their_own_results(pgbouncer: Any, cache: int) -> None:
    problems: list[str] = []
    start = threading.Barrier(CLIENTS)
    threads = [
        threading.Thread(target=_sync_client, args=(pgbouncer.dsn(), c, cache, problems, start))
        for c in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert problems == [], f"{len(problems)} of {CLIENTS * QUERIES * ROUNDS} queries wrong:\n" + "\n".join(problems[:20])


async def _async_client(dsn: str, client: int, cache: int, problems: list[str]) -> None:
    conn = await pypgz.connect_async(dsn, statement_cache_size=cache)
    try:
        for r in range(ROUNDS):
            for q in range(QUERIES):
                arg = client * 1000 + q * 10 + r
                try:
                    problem = _check_rows(client, q, arg, await conn.fetch(_query(client, q), arg))
                except errors.Error as e:
                    problem = f"client {client} query {q}: {type(e).__name__}: {e}"
                if problem:
                    problems.append(problem)
    finally:
        await conn.close()


@pytest.mark.parametrize("cache", [100, 0], ids=["default-cache", "no-cache"])
async def test_concurrent_async_clients_get_their_own_results(pgbouncer: Any, cache: int) -> None:
    problems: list[str] = []
    await asyncio.wait_for(
        asyncio.gather(*(_async_client(pgbouncer.dsn(), c, cache, problems) for c in range(CLIENTS))), 120
    )
    assert problems == [], f"{len(problems)} of {CLIENTS * QUERIES * ROUNDS} queries wrong:\n" + "\n".join(problems[:20])


async def test_one_connection_pipelining_tasks_through_the_pooler(pgbouncer: Any) -> None:
    """Several tasks on one AsyncConn pipeline their queries; each Sync may land on another
    server connection, and each task still gets its own rows."""
    problems: list[str] = []
    conn = await pypgz.connect_async(pgbouncer.dsn())
    others = [await pypgz.connect_async(pgbouncer.dsn()) for _ in range(3)]

    async def task(conn: pypgz.AsyncConn, client: int) -> None:
        for q in range(QUERIES):
            problem = _check_rows(client, q, q, await conn.fetch(_query(client, q), q))
            if problem:
                problems.append(problem)

    try:
        await asyncio.gather(*(task(conn, c) for c in range(4)), *(task(o, 10 + i) for i, o in enumerate(others)))
    finally:
        for c in (conn, *others):
            await c.close()
    assert problems == []


# ---- every API with statement_cache_size=0 ---------------------------------------------------


@pytest.fixture
async def bounced(facade: str, pgbouncer: Any) -> Any:
    conn = await open_facade(facade, pgbouncer.dsn(), statement_cache_size=0)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def busy_pool(pgbouncer: Any) -> Any:
    """Other clients keep the pooler's server connections changing hands meanwhile."""
    stop = asyncio.Event()

    async def churn(i: int) -> None:
        conn = await pypgz.connect_async(pgbouncer.dsn(), statement_cache_size=0)
        try:
            while not stop.is_set():
                await conn.fetchval(f"SELECT {i} + $1::int", 1)
                await asyncio.sleep(0)
        finally:
            await conn.close()

    tasks = [asyncio.ensure_future(churn(i)) for i in range(4)]
    await asyncio.sleep(0.05)
    yield
    stop.set()
    await asyncio.gather(*tasks)


async def test_queries_without_a_statement_cache(bounced: Any, busy_pool: None) -> None:
    for i in range(20):
        assert await bounced.fetchval("SELECT $1::int + 1", i) == i + 1
        assert tuple(await bounced.fetchrow("SELECT $1::text, $2::int", "x", i)) == ("x", i)
        assert [r[0] for r in await bounced.fetch("SELECT generate_series(1, $1::int)", 3)] == [1, 2, 3]
        # A list argument: described first (Parse + Describe), then run with its own Parse.
        assert await bounced.fetchval("SELECT array_length($1::int[], 1)", [1, 2, i]) == 3
        assert await bounced.fetchval("SELECT $1 = ANY($2)", i, [i, 99]) is True


async def test_execute_executemany_and_transactions_without_a_statement_cache(bounced: Any, busy_pool: None) -> None:
    await bounced.execute("DROP TABLE IF EXISTS bouncer_t; CREATE TABLE bouncer_t (id int PRIMARY KEY, v text)")
    try:
        assert await bounced.execute("INSERT INTO bouncer_t VALUES ($1, $2)", 0, "zero") == "INSERT 0 1"
        await bounced.executemany("INSERT INTO bouncer_t VALUES ($1, $2)", [(i, f"v{i}") for i in range(1, 600)])
        assert await bounced.fetchval("SELECT count(*) FROM bouncer_t") == 600
        async with bounced.transaction():
            await bounced.execute("UPDATE bouncer_t SET v = $1 WHERE id = $2", "changed", 1)
            async with bounced.transaction():  # a savepoint, on the same server connection
                await bounced.execute("DELETE FROM bouncer_t WHERE id = $1", 2)
            assert await bounced.fetchval("SELECT v FROM bouncer_t WHERE id = $1", 1) == "changed"
        assert await bounced.fetchval("SELECT count(*) FROM bouncer_t") == 599
        with pytest.raises(RuntimeError):
            async with bounced.transaction():
                await bounced.execute("DELETE FROM bouncer_t")
                raise RuntimeError("roll back")
        assert await bounced.fetchval("SELECT count(*) FROM bouncer_t") == 599
    finally:
        await bounced.execute("DROP TABLE bouncer_t")


async def test_stream_and_prepare_without_a_statement_cache(bounced: Any, busy_pool: None) -> None:
    got = [r[0] async for r in bounced.stream("SELECT generate_series(1, $1::int)", 2500, batch_rows=100)]
    assert got == list(range(1, 2501))
    st = await bounced.prepare("SELECT $1::int * 3 AS x, $2::text AS y")
    assert st.get_parameter_types() == ("int4", "text")
    for i in range(20):
        assert tuple(await st.fetchrow(i, "y")) == (i * 3, "y")
    async with bounced.transaction():
        assert await st.fetchval(5, "z") == 15


async def test_copy_without_a_statement_cache(bounced: Any, busy_pool: None) -> None:
    await bounced.execute("DROP TABLE IF EXISTS bouncer_copy; CREATE TABLE bouncer_copy (a int, b text)")
    try:
        assert await bounced.copy_records_to_table("bouncer_copy", records=[(i, f"r{i}") for i in range(1000)]) == "COPY 1000"
        assert await bounced.copy_to_table("bouncer_copy", source=b"1000\tlast\n") == "COPY 1"
        out = io.BytesIO()
        assert await bounced.copy_from_query("SELECT a, b FROM bouncer_copy WHERE a >= 999 ORDER BY a", output=out) == "COPY 2"
        assert out.getvalue() == b"999\tr999\n1000\tlast\n"
    finally:
        await bounced.execute("DROP TABLE bouncer_copy")


async def test_pool_through_the_pooler(pgbouncer: Any) -> None:
    pool = await pypgz.create_async_pool(pgbouncer.dsn(), min_size=2, max_size=6)
    try:
        async def one(i: int) -> int:
            return int(await pool.fetchval(f"SELECT {i} + $1::int", i))

        assert await asyncio.gather(*(one(i) for i in range(60))) == [2 * i for i in range(60)]
    finally:
        await pool.close()


# ---- the default statement cache behind the pooler -----------------------------------------


async def test_missing_statement_inside_a_transaction_names_the_remedy(facade: str, pgbouncer: Any) -> None:
    """Inside a transaction a missing statement cannot be retried (the error aborted the
    transaction): the error says why and what to do."""
    conn = await open_facade(facade, pgbouncer.dsn())
    try:
        assert await conn.fetchval("SELECT $1::int + 7", 1) == 8
        with pytest.raises(errors.InvalidSqlStatementNameError, match="statement_cache_size=0"):
            async with conn.transaction():
                await conn.execute("DEALLOCATE ALL")  # what another server connection looks like
                await conn.fetchval("SELECT $1::int + 7", 1)
        # Outside a transaction the same loss is repaired silently.
        await conn.execute("DEALLOCATE ALL")
        assert await conn.fetchval("SELECT $1::int + 7", 2) == 9
    finally:
        await conn.close()


async def test_statement_names_differ_between_connections(dsn: str) -> None:
    a = await pypgz.connect_async(dsn)
    b = await pypgz.connect_async(dsn)
    try:
        for conn in (a, b):
            await conn.fetchval("SELECT $1::int", 1)
        names_a = {r[0] for r in await a.fetch("SELECT name FROM pg_prepared_statements")}
        names_b = {r[0] for r in await b.fetch("SELECT name FROM pg_prepared_statements")}
        assert names_a and names_b and not names_a & names_b
    finally:
        await a.close()
        await b.close()
