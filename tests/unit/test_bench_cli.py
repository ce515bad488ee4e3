"""pypgz-bench without a server: the command line, the figures, and the writers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pypgz.bench import cli, drivers, fmt, workloads
from pypgz.bench.drivers.psycopg_common import to_psycopg
from pypgz.bench.markdown import render
from pypgz.bench.results import Cell, DriverInfo, Report, Section, add_ratios, percentile, summarize
from pypgz.bench.timing import SliceResult

# ---------------------------------------------------------------- the command line


def test_defaults() -> None:
    o = cli.parse([])
    assert (o.rounds, o.seconds, o.warmup, o.concurrency) == (5, 1.0, 0.2, 8)
    assert o.dsn is None and not o.quick and not o.pin and o.progress
    assert o.drivers == [] and o.workloads == []
    assert o.command == "pypgz-bench"


def test_quick_is_short_and_explicit_values_win() -> None:
    o = cli.parse(["--quick"])
    assert (o.rounds, o.seconds, o.warmup) == (2, 0.2, 0.05)
    o = cli.parse(["--quick", "--rounds", "3", "--seconds", "0.5", "--warmup", "0"])
    assert (o.rounds, o.seconds, o.warmup) == (3, 0.5, 0.0)


def test_outputs_and_lists(tmp_path: Path) -> None:
    o = cli.parse(["--dsn", "postgresql://u@h/db", "--json", str(tmp_path / "r.json"), "--chart", "c.png",
                   "--drivers", "pypgz, asyncpg-uvloop", "--workloads", "latency,pg-type", "--pin", "--no-progress"])
    assert o.dsn == "postgresql://u@h/db"
    assert o.json == tmp_path / "r.json" and o.chart == Path("c.png") and o.markdown is None
    assert o.drivers == ["pypgz", "asyncpg-uvloop"] and o.pin and not o.progress
    assert "--pin" in o.command and o.command.startswith("pypgz-bench ")


@pytest.mark.parametrize("argv", [["--drivers", "nosuch"], ["--workloads", "nosuch"], ["--rounds", "0"], ["--seconds", "-1"]])
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parse(argv)


def test_driver_selection_by_name_or_family() -> None:
    assert drivers.select(["pypgz"]) == ["pypgz-sync", "pypgz-async", "pypgz-async-uvloop"]
    assert drivers.select(["pyro", "pgbench"]) == ["pyro-sync", "pyro-async", "pgbench"]
    assert drivers.select([]) == list(drivers.NAMES)


def test_workload_selection_by_name_or_group() -> None:
    names = [w.name for w in workloads.select(["throughput", "select-one"])]
    assert names == ["pg-type", "series-1000", "bytea-100x1k", "int-array-100x100", "select-one"]
    assert len(workloads.select(None)) == len(workloads.ALL)


def test_psycopg_placeholders() -> None:
    assert to_psycopg("SELECT $1, $2 WHERE a = $3") == "SELECT %s, %s WHERE a = %s"
    with pytest.raises(ValueError):
        to_psycopg("SELECT $2, $1")


# ---------------------------------------------------------------- figures


def _cell(*slices: tuple[float, float, int, int]) -> Cell:
    cell = Cell()
    for wall, cpu, ops, rows in slices:
        cell.add(SliceResult(wall, cpu, ops, rows, [wall / ops] * ops))
    return cell


INFOS = {
    "pypgz-sync": DriverInfo("pypgz-sync", "pypgz", "sync", None, "0.1.0"),
    "pypgz-async": DriverInfo("pypgz-async", "pypgz", "async", "asyncio", "0.1.0"),
    "psycopg-sync": DriverInfo("psycopg-sync", "psycopg", "sync", None, "3.3"),
    "asyncpg": DriverInfo("asyncpg", "asyncpg", "async", "asyncio", "0.32"),
    "asyncpg-uvloop": DriverInfo("asyncpg-uvloop", "asyncpg", "async", "uvloop", "0.32"),
    "pyro-sync": DriverInfo("pyro-sync", "pyro", "sync", None, "0.3", "requires PostgreSQL 18 (protocol 3.2)"),
}


def test_percentile_is_nearest_rank() -> None:
    data = [float(i) for i in range(1, 101)]
    assert percentile(data, 0.5) == 50.0 and percentile(data, 0.99) == 99.0
    assert math.isnan(percentile([], 0.99))


def test_summary_and_ratios() -> None:
    rows = [
        summarize("pypgz-sync", _cell((1.0, 0.5, 1000, 10_000), (1.0, 0.5, 1000, 10_000))),
        summarize("pypgz-async", _cell((1.0, 0.8, 500, 5_000))),
        summarize("psycopg-sync", _cell((2.0, 2.0, 1000, 10_000))),
        summarize("asyncpg", _cell((1.0, 0.4, 1000, 10_000))),
        summarize("asyncpg-uvloop", _cell((1.0, 0.4, 1000, 10_000))),
        summarize("pyro-sync", Cell("unavailable", "requires PostgreSQL 18 (protocol 3.2)")),
    ]
    add_ratios(rows, INFOS)
    by = {r.driver: r for r in rows}
    ref = by["pypgz-sync"]
    assert ref.rows_per_s == 10_000 and ref.ops_per_s == 1000
    assert ref.cpu_us_per_op == pytest.approx(500) and ref.median_us == pytest.approx(1000)
    assert ref.spread_pct == 0 and ref.ref == "pypgz-sync" and ref.rows_ratio == 1
    assert by["psycopg-sync"].rows_ratio == pytest.approx(0.5)  # sync peers against pypgz-sync
    assert by["psycopg-sync"].cpu_ratio == pytest.approx(4.0)
    assert by["asyncpg"].ref == "pypgz-async" and by["asyncpg"].rows_ratio == pytest.approx(2.0)
    assert by["asyncpg-uvloop"].ref == "pypgz-async"  # no pypgz on uvloop here: same API
    assert by["pyro-sync"].rows_per_s is None and by["pyro-sync"].rows_ratio is None


def _report() -> Report:
    rows = [
        summarize("pypgz-sync", _cell((1.0, 0.5, 1000, 1000))),
        summarize("psycopg-sync", _cell((1.0, 0.25, 2000, 2000))),
        summarize("pyro-sync", Cell("unavailable", "requires PostgreSQL 18 (protocol 3.2)")),
    ]
    failed = Cell("error", "ProtocolError: bad message", "Traceback ...")
    rows.append(summarize("asyncpg", failed))
    add_ratios(rows, INFOS)
    rows[1].note = "timestamptz came back as a naive datetime"
    section = Section("select-1", "SELECT 1 row", "latency", 1, "SELECT $1", rows)
    machine = {"date": "2026-01-02T03:04:05+00:00", "cpu": "Test CPU", "cpus": 2, "cpus_usable": 2,
               "packages": {"pypgz": "0.1.0"}}
    settings = {"command": "pypgz-bench --quick", "rounds": 1, "seconds": 1.0, "warmup": 0.2, "concurrency": 8}
    server = {"version": "18.1", "origin": "test", "transport": "unix socket"}
    return Report(machine, settings, server, [INFOS[r.driver] for r in rows], [section])


def test_json_round_trip_and_markdown() -> None:
    report = _report()
    data = json.loads(json.dumps(report.to_json()))  # NaN would not survive strict JSON readers
    assert "NaN" not in json.dumps(data)
    again = Report.from_json(data)
    assert again.sections[0].rows[1].rows_ratio == pytest.approx(2.0)
    assert again.sections[0].rows[0].rounds[0].ops == 1000
    text = render(again)
    for expected in ("2026-01-02", "Test CPU", "PostgreSQL 18.1", "`pypgz-bench --quick`", "### SELECT 1 row",
                     "| psycopg-sync \\* |", "2.00", "requires PostgreSQL 18 (protocol 3.2)",
                     "ProtocolError: bad message", "naive datetime"):
        assert expected in text, expected


def test_number_formats() -> None:
    assert fmt.duration_us(12.34) == "12.3 µs" and fmt.duration_us(512.0) == "512 µs"
    assert fmt.duration_us(5092.0) == "5.09 ms" and fmt.duration_us(2_500_000.0) == "2.50 s"
    assert fmt.count(1_163_000.0) == "1.16M" and fmt.count(30_120.0) == "30.1k" and fmt.count(8.7) == "8.7"
    assert fmt.duration_us(None) == "–"


def test_chart_is_written(tmp_path: Path) -> None:
    from pypgz.bench.chart import write_chart

    path = tmp_path / "ratios.png"
    write_chart(_report(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
