"""Interleaving: every round runs every workload for every driver, one slice each.

Drivers take turns slice by slice (round-robin, starting one driver later each
round) so that machine noise, which on a shared VM comes and goes, lands on all of
them alike. A driver that raises on a workload is marked with the error and not run
on that workload again; the run goes on.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Protocol

import pypgz
from pypgz.bench.drivers import Driver
from pypgz.bench.results import Cell, RoundStat
from pypgz.bench.target import Target
from pypgz.bench.timing import Plan
from pypgz.bench.workloads import Workload
from pypgz.bench.workloads.base import Unsupported

Cells = dict[str, dict[str, Cell]]  # workload name -> driver name -> cell


@dataclass(frozen=True)
class RunSettings:
    rounds: int
    seconds: float
    warmup: float
    concurrency: int


class Listener(Protocol):
    def started(self, total_slices: int) -> None: ...

    def slice_started(self, round_no: int, workload: Workload, driver: Driver) -> None: ...

    def slice_done(self, workload: Workload, driver: Driver, stat: RoundStat | None, error: str | None) -> None: ...


def connections(workload: Workload, settings: RunSettings) -> int:
    return workload.concurrency or settings.concurrency


def initial_cells(workloads: list[Workload], drivers: list[Driver], reasons: dict[str, str | None]) -> Cells:
    """A cell per supported (workload, driver); those of drivers that cannot run say why."""
    cells: Cells = {}
    for w in workloads:
        cells[w.name] = {}
        for d in drivers:
            if d.supports(w):
                reason = reasons.get(d.name)
                cells[w.name][d.name] = Cell("unavailable", reason) if reason else Cell()
    return cells


def rotated(drivers: list[Driver], by: int) -> list[Driver]:
    if not drivers:
        return drivers
    k = by % len(drivers)
    return drivers[k:] + drivers[:k]


def count_slices(cells: Cells, rounds: int) -> int:
    return rounds * sum(1 for per in cells.values() for c in per.values() if c.status == "ok")


def run(
    target: Target,
    workloads: list[Workload],
    drivers: list[Driver],
    cells: Cells,
    settings: RunSettings,
    admin: pypgz.Conn,
    listener: Listener,
) -> Cells:
    plan = Plan(settings.seconds, settings.warmup)
    listener.started(count_slices(cells, settings.rounds))
    for round_no in range(settings.rounds):
        for w in workloads:
            for d in rotated(drivers, round_no):
                cell = cells[w.name].get(d.name)
                if cell is None or cell.status != "ok":
                    continue
                listener.slice_started(round_no, w, d)
                stat, error = _run_slice(target, w, d, cell, plan, connections(w, settings), admin)
                listener.slice_done(w, d, stat, error)
    return cells


def _run_slice(
    target: Target, w: Workload, d: Driver, cell: Cell, plan: Plan, n: int, admin: pypgz.Conn
) -> tuple[RoundStat | None, str | None]:
    if w.reset_sql:
        admin.execute(w.reset_sql)
    try:
        result = d.run_slice(w, n, target, plan)
    except Unsupported as e:
        cell.status, cell.message = "unsupported", str(e)
        return None, cell.message
    except Exception as e:
        cell.status, cell.message, cell.traceback = "error", error_text(e), traceback.format_exc()
        return None, cell.message
    return cell.add(result), None


def error_text(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


