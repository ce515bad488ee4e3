"""pyro-postgres's blocking ``Conn`` (see pyro_common)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from pyro_postgres.sync import Conn

from pypgz.bench.clients import Args, Rows, SyncClient
from pypgz.bench.drivers import pyro_common
from pypgz.bench.drivers.base import Driver, SyncDriver
from pypgz.bench.target import Target


class PyroClient:
    family = "pyro"

    def __init__(self, target: Target) -> None:
        self.raw = Conn(pyro_common.options(target))

    def fetcher(self, sql: str, args: Args) -> Callable[[], Rows]:
        return partial(self.raw.exec, self.raw.prepare(sql), args)

    def executor(self, sql: str, args: Args) -> Callable[[], object]:
        return partial(self.raw.exec_drop, self.raw.prepare(sql), args)

    def batcher(self, sql: str, rows: Sequence[Args]) -> Callable[[], object]:
        return partial(self.raw.exec_batch, self.raw.prepare(sql), rows)

    def close(self) -> None:
        self.raw.close()


class PyroSync(SyncDriver):
    name = "pyro-sync"
    family = "pyro"
    dist = "pyro-postgres"

    def unavailable(self, target: Target) -> str | None:
        return pyro_common.unavailable(target)

    def connect(self, target: Target) -> SyncClient:
        return PyroClient(target)


def make(name: str) -> Driver:
    return PyroSync()
