"""pypgz's blocking ``Conn``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import pypgz
from pypgz.bench.clients import Args, Rows, SyncClient
from pypgz.bench.drivers.base import Driver, SyncDriver
from pypgz.bench.target import Target


class PypgzClient:
    family = "pypgz"

    def __init__(self, dsn: str) -> None:
        self.raw = pypgz.connect(dsn)

    def fetcher(self, sql: str, args: Args) -> Callable[[], Rows]:
        return partial(self.raw.fetch, sql, *args)

    def executor(self, sql: str, args: Args) -> Callable[[], object]:
        return partial(self.raw.execute, sql, *args)

    def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], object]:
        return partial(self.raw.executemany, sql, rows)

    def close(self) -> None:
        self.raw.close()


class PypgzSync(SyncDriver):
    name = "pypgz-sync"
    family = "pypgz"
    dist = "pypgz"

    def connect(self, target: Target) -> SyncClient:
        return PypgzClient(target.dsn)


def make(name: str) -> Driver:
    return PypgzSync()
