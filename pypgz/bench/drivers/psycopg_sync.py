"""psycopg 3's blocking ``Connection`` (its C implementation when installed).

Autocommit, as the other drivers are: otherwise psycopg keeps every statement of a
slice in one transaction. One cursor per connection, reused. Statements are
prepared after psycopg's default ``prepare_threshold`` executions, which the warm-up
covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import psycopg

from pypgz.bench.clients import Args, Rows, SyncClient
from pypgz.bench.drivers.base import Driver, SyncDriver
from pypgz.bench.drivers.psycopg_common import implementation, to_psycopg
from pypgz.bench.target import Target


class PsycopgClient:
    family = "psycopg"

    def __init__(self, dsn: str) -> None:
        self.raw: psycopg.Connection[Any] = psycopg.connect(dsn, autocommit=True)
        self.cursor = self.raw.cursor()

    def fetcher(self, sql: str, args: Args) -> Callable[[], Rows]:
        query, cur = to_psycopg(sql), self.cursor

        def fetch() -> Rows:
            cur.execute(query, args)
            return cur.fetchall()

        return fetch

    def executor(self, sql: str, args: Args) -> Callable[[], object]:
        return partial(self.cursor.execute, to_psycopg(sql), args)

    def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], object]:
        return partial(self.cursor.executemany, to_psycopg(sql), rows)

    def close(self) -> None:
        self.raw.close()


class PsycopgSync(SyncDriver):
    name = "psycopg-sync"
    family = "psycopg"
    dist = "psycopg"

    def version(self) -> str:
        return f"{super().version()} ({implementation()})"

    def connect(self, target: Target) -> SyncClient:
        return PsycopgClient(target.dsn)


def make(name: str) -> Driver:
    return PsycopgSync()
