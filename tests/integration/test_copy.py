"""COPY in and out, for both facades."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pypgz import errors

UTC = dt.timezone.utc


@pytest.fixture
async def table(db: Any) -> str:
    await db.execute("CREATE TEMP TABLE c (id int PRIMARY KEY, name text, amount numeric, at timestamptz, tags text[])")
    return "c"


async def test_records_in_binary_and_back(db: Any, table: str) -> None:
    records = [(i, f"name {i}", Decimal(i) / 4, dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=i),
                ["a", None] if i % 2 else None) for i in range(20000)]
    assert await db.copy_records_to_table(table, records=records) == "COPY 20000"
    assert await db.fetch("SELECT * FROM c WHERE id IN (0, 1, 19999) ORDER BY id") == [records[0], records[1], records[19999]]
    assert await db.fetchval("SELECT sum(amount) FROM c") == sum(r[2] for r in records)


async def test_records_to_some_columns(db: Any, table: str) -> None:
    assert await db.copy_records_to_table(table, records=[(1, "x"), (2, None)], columns=["id", "name"]) == "COPY 2"
    assert await db.fetch("SELECT id, name, amount FROM c ORDER BY id") == [(1, "x", None), (2, None, None)]


async def test_csv_out_and_in(db: Any, table: str, tmp_path: Path) -> None:
    await db.execute("INSERT INTO c SELECT i, 'n,' || i, i, '2020-01-01', ARRAY['q\"'] FROM generate_series(1, 5000) i")
    buf = io.BytesIO()
    assert await db.copy_from_table(table, output=buf, format="csv", header=True) == "COPY 5000"
    lines = buf.getvalue().decode().splitlines()
    assert lines[0] == "id,name,amount,at,tags" and lines[1].startswith('1,"n,1",1,2020-01-01')
    path = tmp_path / "c.csv"
    assert await db.copy_from_query("SELECT * FROM c WHERE id <= 10", output=str(path), format="csv") == "COPY 10"
    assert len(path.read_text().splitlines()) == 10
    await db.execute("CREATE TEMP TABLE c2 (LIKE c)")
    assert await db.copy_to_table("c2", source=buf.getvalue(), format="csv", header=True) == "COPY 5000"
    assert await db.fetchval("SELECT count(*) FROM c2 JOIN c USING (id, name, amount, at, tags)") == 5000
    assert await db.copy_to_table("c2", source=str(path), format="csv", columns=None) == "COPY 10"


async def test_text_source_as_chunks(db: Any, table: str) -> None:
    chunks = [f"{i}\tname {i}\t\\N\t\\N\t\\N\n" for i in range(1000)]
    assert await db.copy_to_table(table, source=iter(chunks)) == "COPY 1000"
    assert await db.fetchval("SELECT count(*) FROM c WHERE amount IS NULL") == 1000


async def test_output_callable(db: Any, table: str) -> None:
    await db.execute("INSERT INTO c (id, name) SELECT i, 'x' FROM generate_series(1, 100000) i")
    received: list[bytes] = []
    assert await db.copy_from_query("SELECT id, name FROM c", output=received.append) == "COPY 100000"
    data = b"".join(received)
    assert data.count(b"\n") == 100000 and len(received) >= 1


async def test_bad_data_is_a_server_error_and_the_connection_survives(db: Any, table: str) -> None:
    with pytest.raises(errors.InvalidTextRepresentationError):
        await db.copy_to_table(table, source=b"1\tok\t1\t2020-01-01\t{}\nnot-a-number\tx\t1\t2020-01-01\t{}\n")
    assert await db.fetchval("SELECT count(*) FROM c") == 0
    with pytest.raises(errors.UndefinedTableError):
        await db.copy_to_table("no_such_table", source=b"")
    with pytest.raises(errors.UniqueViolationError):
        await db.copy_records_to_table(table, records=[(1, "a", None, None, None), (1, "b", None, None, None)])
    assert await db.fetchval("SELECT 1") == 1


async def test_a_record_that_cannot_be_encoded_aborts_the_copy(db: Any, table: str) -> None:
    records = [(i, "ok", None, None, None) for i in range(50000)] + [("not an int", "bad", None, None, None)]
    with pytest.raises(errors.EncodeError):
        await db.copy_records_to_table(table, records=records)
    assert await db.fetchval("SELECT count(*) FROM c") == 0
    assert db.transaction_status == "idle"
