"""The command line."""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from pypgz.bench import drivers, workloads

DEFAULTS = {"rounds": 5, "seconds": 1.0, "warmup": 0.2}
QUICK = {"rounds": 2, "seconds": 0.2, "warmup": 0.05}


@dataclass(frozen=True)
class Options:
    dsn: str | None
    server_bin: Path | None
    rounds: int
    seconds: float
    warmup: float
    concurrency: int
    quick: bool
    pin: bool
    drivers: list[str]
    workloads: list[str]
    json: Path | None
    chart: Path | None
    markdown: Path | None
    progress: bool
    command: str


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pypgz-bench",
        description="Measure pypgz against asyncpg, psycopg, pyro-postgres and pgbench, interleaved in one run.",
    )
    p.add_argument("--dsn", help="use this server (a postgresql:// URL) instead of a throwaway PostgreSQL 18")
    p.add_argument("--server-bin", type=Path, help="bin directory of the PostgreSQL to start (default: the embedded 18)")
    p.add_argument("--rounds", type=positive_int, help=f"rounds over all drivers (default {DEFAULTS['rounds']})")
    p.add_argument("--seconds", type=positive_float, help=f"timed seconds per driver, workload and round (default {DEFAULTS['seconds']})")
    p.add_argument("--warmup", type=float, help=f"untimed seconds before each slice (default {DEFAULTS['warmup']})")
    p.add_argument("--concurrency", type=positive_int, default=8, help="connections for the throughput workloads (default 8)")
    p.add_argument("--quick", action="store_true", help=f"a short smoke run: {QUICK['rounds']} rounds of {QUICK['seconds']} s")
    p.add_argument("--pin", action="store_true", help="run client and server on one core (CPU 0)")
    p.add_argument("--drivers", type=_list, default=[], help=f"comma-separated drivers or families (default all): {', '.join(drivers.NAMES)}")
    p.add_argument("--workloads", type=_list, default=[], help="comma-separated workloads or groups (default all): "
                   + ", ".join(list(workloads.GROUPS) + [w.name for w in workloads.ALL]))
    p.add_argument("--json", type=Path, help="write the raw numbers here")
    p.add_argument("--chart", type=Path, help="write a PNG bar chart of the ratios here")
    p.add_argument("--markdown", type=Path, help="write the report as Markdown here")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no live progress display")
    return p


def command_line(argv: list[str]) -> str:
    return " ".join(["pypgz-bench", *(shlex.quote(a) for a in argv)])


def parse(argv: list[str] | None = None) -> Options:
    args_list = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    a = parser.parse_args(args_list)
    base = QUICK if a.quick else DEFAULTS
    try:
        drivers.select(a.drivers)
        workloads.select(a.workloads)
    except ValueError as e:
        parser.error(str(e))
    return Options(
        dsn=a.dsn,
        server_bin=a.server_bin,
        rounds=a.rounds or int(base["rounds"]),
        seconds=a.seconds or float(base["seconds"]),
        warmup=float(base["warmup"]) if a.warmup is None else max(0.0, a.warmup),
        concurrency=a.concurrency,
        quick=a.quick,
        pin=a.pin,
        drivers=a.drivers,
        workloads=a.workloads,
        json=a.json,
        chart=a.chart,
        markdown=a.markdown,
        progress=a.progress,
        command=command_line(args_list),
    )
