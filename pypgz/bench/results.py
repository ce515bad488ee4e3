"""Results: what the runner collects per (workload, driver) cell, the summary figures
derived from it, and the JSON form that the reports are rendered from.

Figures per cell, over all rounds: median and p99 latency of single operations;
ops/s and rows/s (totals over total wall time); client CPU per operation; the spread
of per-round rows/s. Ratios compare a driver with pypgz on the same API (and loop):
rows/s ratio = driver rows/s ÷ pypgz rows/s (above 1: the driver is faster than
pypgz); CPU ratio = driver CPU/op ÷ pypgz CPU/op (above 1: it uses more CPU).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from pypgz.bench.timing import SliceResult

SCHEMA = 1


@dataclass
class RoundStat:
    wall_s: float
    cpu_s: float
    ops: int
    rows: int
    median_us: float
    p99_us: float
    mean_us: float = math.nan  # absent from reports written before it was recorded


@dataclass
class Cell:
    """One driver on one workload, accumulated over the rounds."""

    status: str = "ok"  # "ok", "error", "unavailable" (driver) or "unsupported" (workload)
    message: str | None = None  # the error text or the reason it cannot run
    traceback: str | None = None
    note: str | None = None  # what a result check found
    rounds: list[RoundStat] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds; not written out

    def add(self, r: SliceResult) -> RoundStat:
        stat = RoundStat(r.wall, r.cpu, r.ops, r.rows, *percentiles_us(r.latencies))
        self.rounds.append(stat)
        self.latencies.extend(r.latencies)
        self.note = self.note or r.note
        return stat


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def percentiles_us(latencies: list[float]) -> tuple[float, float, float]:
    """Median, p99 and mean latency, in µs."""
    ordered = sorted(latencies)
    if not ordered:
        return math.nan, math.nan, math.nan
    return statistics.median(ordered) * 1e6, percentile(ordered, 0.99) * 1e6, statistics.fmean(ordered) * 1e6


@dataclass
class Row:
    """The summary of one cell: one row of a report table."""

    driver: str
    status: str
    message: str | None = None
    note: str | None = None
    median_us: float | None = None
    p99_us: float | None = None
    mean_us: float | None = None
    ops_per_s: float | None = None
    rows_per_s: float | None = None
    cpu_us_per_op: float | None = None
    spread_pct: float | None = None  # (max - min) / median of per-round rows/s
    ref: str | None = None  # the pypgz driver the ratios compare with
    rows_ratio: float | None = None
    cpu_ratio: float | None = None
    rounds: list[RoundStat] = field(default_factory=list)
    traceback: str | None = None


def summarize(driver: str, cell: Cell) -> Row:
    row = Row(driver, cell.status, cell.message, cell.note, traceback=cell.traceback, rounds=cell.rounds)
    wall = sum(r.wall_s for r in cell.rounds)
    ops = sum(r.ops for r in cell.rounds)
    if cell.status != "ok" or wall <= 0 or ops == 0:
        return row
    row.median_us, row.p99_us, row.mean_us = percentiles_us(cell.latencies)
    row.ops_per_s = ops / wall
    row.rows_per_s = sum(r.rows for r in cell.rounds) / wall
    row.cpu_us_per_op = sum(r.cpu_s for r in cell.rounds) / ops * 1e6
    per_round = [r.rows / r.wall_s for r in cell.rounds if r.wall_s > 0]
    if len(per_round) > 1:
        row.spread_pct = (max(per_round) - min(per_round)) / statistics.median(per_round) * 100
    return row


@dataclass(frozen=True)
class DriverInfo:
    name: str
    family: str
    api: str
    loop: str | None
    version: str
    unavailable: str | None = None


def reference(driver: DriverInfo, pypgz: list[DriverInfo]) -> str | None:
    """The pypgz driver ``driver`` is compared with: same API and loop, else same API,
    else pypgz's blocking driver (for pgbench), else any."""
    if not pypgz:
        return None
    tiers = (
        [p for p in pypgz if p.api == driver.api and p.loop == driver.loop],
        [p for p in pypgz if p.api == driver.api],
        [p for p in pypgz if p.api == "sync"],
        pypgz,
    )
    return next(tier[0].name for tier in tiers if tier)


def add_ratios(rows: list[Row], drivers: dict[str, DriverInfo]) -> None:
    """Fills in ``ref`` and the ratios of each row of one workload."""
    by_name = {r.driver: r for r in rows}
    candidates = [d for d in drivers.values() if d.family == "pypgz" and _usable(by_name.get(d.name))]
    for row in rows:
        info = drivers[row.driver]
        ref_name = reference(info, candidates)
        ref = by_name.get(ref_name) if ref_name else None
        if ref is None or row.status != "ok":
            continue
        row.ref = ref_name
        row.rows_ratio = _ratio(row.rows_per_s, ref.rows_per_s)
        row.cpu_ratio = _ratio(row.cpu_us_per_op, ref.cpu_us_per_op)


def _usable(row: Row | None) -> bool:
    return row is not None and row.status == "ok" and bool(row.rows_per_s)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@dataclass
class Section:
    """One workload's part of a report."""

    name: str
    title: str
    group: str
    connections: int
    sql: str
    rows: list[Row]


@dataclass
class Report:
    machine: dict[str, Any]
    settings: dict[str, Any]
    server: dict[str, Any]
    drivers: list[DriverInfo]
    sections: list[Section]
    schema: int = SCHEMA

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _clean(asdict(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        sections = [
            Section(**{**s, "rows": [_row(r) for r in s["rows"]]}) for s in data["sections"]
        ]
        drivers = [DriverInfo(**d) for d in data["drivers"]]
        return cls(data["machine"], data["settings"], data["server"], drivers, sections, data.get("schema", SCHEMA))


def _row(data: dict[str, Any]) -> Row:
    return Row(**{**data, "rounds": [RoundStat(**r) for r in data.get("rounds", [])]})


def _clean(value: Any) -> Any:
    """NaN has no JSON form: it becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
