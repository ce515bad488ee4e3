"""The driver interface, and the shared slice logic of sync and async Python drivers.

A driver runs one slice of one workload: it opens the connections the workload asks
for, binds the workload to each, hands the operations to ``timing``, and closes the
connections again. A driver module only has to say how to connect and how its
connection fetches, executes and executes-many (see ``clients``).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from importlib import metadata

from pypgz.bench.clients import AsyncClient, SyncClient
from pypgz.bench.target import Target
from pypgz.bench.timing import Plan, SliceResult, time_async, time_sync
from pypgz.bench.workloads.base import Workload


class Driver(ABC):
    name: str  # as shown and as given to --drivers
    family: str  # "pypgz", "asyncpg", "psycopg", "pyro" or "pgbench"
    api: str  # "sync", "async" or "external" (a separate program)
    loop: str | None = None  # the event loop of an async driver: "asyncio" or "uvloop"
    dist: str  # the distribution whose version is reported

    def version(self) -> str:
        try:
            return metadata.version(self.dist)
        except metadata.PackageNotFoundError:
            return "?"

    def unavailable(self, target: Target) -> str | None:
        """Why this driver cannot run against ``target`` (None when it can)."""
        return None

    def supports(self, workload: Workload) -> bool:
        return True

    @abstractmethod
    def run_slice(self, workload: Workload, connections: int, target: Target, plan: Plan) -> SliceResult: ...


def _close_all(closers: list[Callable[[], object]]) -> None:
    for close in closers:
        try:
            close()
        except Exception:
            pass  # a connection broken by the workload's error; that error is reported


class SyncDriver(Driver):
    api = "sync"

    @abstractmethod
    def connect(self, target: Target) -> SyncClient: ...

    def run_slice(self, workload: Workload, connections: int, target: Target, plan: Plan) -> SliceResult:
        clients: list[SyncClient] = []
        try:
            for _ in range(connections):
                clients.append(self.connect(target))
            bound = [workload.bind_sync(c) for c in clients]
            result = time_sync([b.op for b in bound], plan)
            result.note = bound[0].note
            return result
        finally:
            _close_all([c.close for c in clients])


class AsyncDriver(Driver):
    api = "async"
    loop = "asyncio"

    def new_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.new_event_loop()

    @abstractmethod
    async def connect(self, target: Target) -> AsyncClient: ...

    def run_slice(self, workload: Workload, connections: int, target: Target, plan: Plan) -> SliceResult:
        # A fresh loop per slice: nothing one slice leaves behind can slow the next.
        with asyncio.Runner(loop_factory=self.new_loop) as runner:
            return runner.run(self._slice(workload, connections, target, plan))

    async def _slice(self, workload: Workload, connections: int, target: Target, plan: Plan) -> SliceResult:
        clients: list[AsyncClient] = []
        try:
            for _ in range(connections):
                clients.append(await self.connect(target))
            bound = [await workload.bind_async(c) for c in clients]
            result = await time_async([b.op for b in bound], plan)
            result.note = bound[0].note
            return result
        finally:
            for c in clients:
                try:
                    await c.close()
                except Exception:
                    pass


class Missing(Driver):
    """A driver whose library is not installed: it only reports why."""

    api = "sync"

    def __init__(self, name: str, family: str, reason: str) -> None:
        self.name = name
        self.family = family
        self.dist = family
        self.reason = reason

    def unavailable(self, target: Target) -> str | None:
        return self.reason

    def run_slice(self, workload: Workload, connections: int, target: Target, plan: Plan) -> SliceResult:
        raise RuntimeError(self.reason)
