"""The workloads, in report order, and selection by name or group."""

from __future__ import annotations

from pypgz.bench.workloads import bulk, copy, floor, latency, throughput
from pypgz.bench.workloads.base import Table, Workload

ALL: tuple[Workload, ...] = (
    latency.WORKLOADS + throughput.WORKLOADS + bulk.WORKLOADS + copy.WORKLOADS + floor.WORKLOADS
)
GROUPS: tuple[str, ...] = ("latency", "throughput", "bulk", "floor")


def select(tokens: list[str] | None) -> list[Workload]:
    """Workloads named, or in a group named, by ``tokens`` (all when None), in report order."""
    if not tokens:
        return list(ALL)
    known = {w.name for w in ALL} | set(GROUPS)
    unknown = [t for t in tokens if t not in known]
    if unknown:
        raise ValueError(f"unknown workload {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    return [w for w in ALL if w.name in tokens or w.group in tokens]


def tables_of(workloads: list[Workload]) -> list[Table]:
    """The tables these workloads need, each once."""
    seen: dict[str, Table] = {}
    for w in workloads:
        for t in w.tables:
            seen.setdefault(t.name, t)
    return list(seen.values())


__all__ = ["ALL", "GROUPS", "Table", "Workload", "select", "tables_of"]
