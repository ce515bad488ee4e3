"""The floor: ``SELECT 1`` on one connection, which pgbench (C libpq) runs too."""

from __future__ import annotations

from pypgz.bench.workloads.base import FetchWorkload, Workload, expect_types

WORKLOADS: tuple[Workload, ...] = (
    FetchWorkload(
        name="select-one",
        title="SELECT 1 (pgbench -M prepared is C libpq's floor)",
        group="floor",
        sql="SELECT 1",
        pgbench_script="SELECT 1;\n",
        check=expect_types(("?column? (int)", int)),
    ),
)
