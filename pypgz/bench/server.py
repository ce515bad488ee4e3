"""The server a run measures: a throwaway embedded PostgreSQL 18, or ``--dsn``; and
the bench tables in it, created before the run and dropped after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypgz
from pypgz.bench.target import Target
from pypgz.bench.workloads import Table
from pypgz.dsn import parse_dsn
from pypgz.server import Cluster


@contextmanager
def open_target(dsn: str | None, server_bin: Path | None = None) -> Iterator[Target]:
    """With no ``dsn``, starts a throwaway cluster (removed on exit) and measures over
    its unix socket; otherwise uses the server at ``dsn``."""
    if dsn is not None:
        yield describe(dsn, origin="existing server (--dsn)", bin_dir=None)
        return
    with Cluster(server_bin) as cluster:
        origin = f"throwaway cluster from {cluster.bin_dir}"
        yield describe(cluster.dsn(unix=True), origin=origin, bin_dir=cluster.bin_dir)


def describe(dsn: str, *, origin: str, bin_dir: Path | None) -> Target:
    params = parse_dsn(dsn)
    with pypgz.connect(dsn) as conn:
        version = str(conn.fetchval("SHOW server_version"))
        number = int(conn.fetchval("SHOW server_version_num"))
    transport = "unix socket" if params.endpoints[0].is_unix else "TCP"
    return Target(dsn, params, origin, version, number, bin_dir, transport)


def create_tables(conn: pypgz.Conn, tables: list[Table]) -> None:
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {table.name}")
        conn.execute(table.create)
    if tables:
        conn.execute("VACUUM ANALYZE " + ", ".join(t.name for t in tables))


def drop_tables(conn: pypgz.Conn, tables: list[Table]) -> None:
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {table.name}")
