"""One run from start to finish: server, tables, pinning, drivers, the interleaved
run, and the reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

import pypgz
from pypgz.bench import drivers as driver_registry
from pypgz.bench import pin, report, runner, workloads
from pypgz.bench.cli import Options
from pypgz.bench.drivers import Driver
from pypgz.bench.machine import describe_machine
from pypgz.bench.results import DriverInfo, Report, Section, add_ratios, summarize
from pypgz.bench.server import create_tables, drop_tables, open_target
from pypgz.bench.target import Target

PIN_CPU = 0


def run(opts: Options, console: Console) -> Report:
    chosen = workloads.select(opts.workloads)
    pin_status = None
    if opts.pin:
        pin.pin_client(PIN_CPU)  # before the drivers load: some start threads at import
        pin_status = f"client on CPU {PIN_CPU}"
    machine = describe_machine()  # the load average before we add to it
    drivers = [driver_registry.load(name) for name in driver_registry.select(opts.drivers)]
    with open_target(opts.dsn, opts.server_bin) as target, pypgz.connect(target.dsn) as admin:
        if opts.pin:
            pin_status = f"{pin_status}; {pin.pin_server(admin, PIN_CPU)}"
        reasons = {d.name: d.unavailable(target) for d in drivers}
        settings = _settings(opts, pin_status)
        tables = workloads.tables_of(chosen)
        console.print(f"[bold]pypgz-bench[/]: PostgreSQL {target.server_version} ({target.origin}); "
                      f"{len(chosen)} workloads × {len(drivers)} drivers, {opts.rounds} rounds")
        create_tables(admin, tables)
        try:
            cells = runner.initial_cells(chosen, drivers, reasons)
            run_settings = runner.RunSettings(opts.rounds, opts.seconds, opts.warmup, opts.concurrency)
            with report.LiveProgress(console, opts.rounds, enabled=opts.progress) as progress:
                runner.run(target, chosen, drivers, cells, run_settings, admin, progress)
        finally:
            drop_tables(admin, tables)
        return build_report(machine, settings, target, chosen, drivers, reasons, cells, run_settings)


def _settings(opts: Options, pin_status: str | None) -> dict[str, Any]:
    return {
        "command": opts.command,
        "rounds": opts.rounds,
        "seconds": opts.seconds,
        "warmup": opts.warmup,
        "concurrency": opts.concurrency,
        "quick": opts.quick,
        "pin": opts.pin,
        "pin_status": pin_status,
    }


def build_report(
    machine: dict[str, Any],
    settings: dict[str, Any],
    target: Target,
    chosen: list[workloads.Workload],
    drivers: list[Driver],
    reasons: dict[str, str | None],
    cells: runner.Cells,
    run_settings: runner.RunSettings,
) -> Report:
    infos = {d.name: DriverInfo(d.name, d.family, d.api, d.loop, d.version(), reasons.get(d.name)) for d in drivers}
    sections = []
    for w in chosen:
        rows = [summarize(name, cell) for name, cell in cells[w.name].items()]
        add_ratios(rows, infos)
        sections.append(Section(w.name, w.title, w.group, runner.connections(w, run_settings), w.sql, rows))
    server = {
        "version": target.server_version,
        "version_num": target.server_version_num,
        "origin": target.origin,
        "transport": target.transport,
    }
    return Report(machine, settings, server, list(infos.values()), sections)


def write_outputs(opts: Options, result: Report, console: Console) -> None:
    if opts.json:
        _write(opts.json, json.dumps(result.to_json(), indent=1) + "\n")
        console.print(f"raw numbers: {opts.json}")
    if opts.markdown:
        from pypgz.bench.markdown import render

        _write(opts.markdown, render(result))
        console.print(f"markdown: {opts.markdown}")
    if opts.chart:
        from pypgz.bench.chart import write_chart

        opts.chart.parent.mkdir(parents=True, exist_ok=True)
        write_chart(result, opts.chart)
        console.print(f"chart: {opts.chart}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
