"""The console: a live progress display while the run goes, then the tables."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pypgz.bench import fmt
from pypgz.bench.drivers import Driver
from pypgz.bench.results import Report, RoundStat, Section
from pypgz.bench.workloads import Workload


class LiveProgress:
    """A runner listener drawing a progress bar, the slice under way and the last figure.
    When the console is not a terminal (a log file), it writes a line per slice instead."""

    def __init__(self, console: Console, rounds: int, enabled: bool = True) -> None:
        self.rounds = rounds
        self.console = console
        self.lines = enabled and not console.is_terminal
        self.round_no = 0
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}"),
            console=console,
            disable=not enabled or self.lines,
            transient=False,
        )
        self.task = self.progress.add_task("starting", total=None, last="")

    def __enter__(self) -> LiveProgress:
        self.progress.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if t is None:  # slices of cells that failed were never run: the bar still ends full
            total = self.progress.tasks[0].total
            self.progress.update(self.task, completed=total)
        self.progress.stop()

    def started(self, total_slices: int) -> None:
        self.progress.update(self.task, total=total_slices)

    def slice_started(self, round_no: int, workload: Workload, driver: Driver) -> None:
        self.round_no = round_no
        self.progress.update(self.task, description=f"round {round_no + 1}/{self.rounds} {workload.name} {driver.name}")

    def slice_done(self, workload: Workload, driver: Driver, stat: RoundStat | None, error: str | None) -> None:
        if stat is not None and stat.wall_s > 0:
            last = f"{driver.name}: {stat.rows / stat.wall_s:,.0f} rows/s, median {fmt.duration_us(stat.median_us)}"
        else:
            last = f"[red]{driver.name}: {fmt.first_line(error, 60)}"
        self.progress.update(self.task, advance=1, last=last)
        if self.lines:
            self.console.print(f"round {self.round_no + 1}/{self.rounds} {workload.name} {last}", highlight=False)


def header(report: Report) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in fmt.machine_lines(report.machine, report.server, report.settings):
        table.add_row(label, value)
    return table


def section_table(section: Section) -> Table:
    conns = "1 connection" if section.connections == 1 else f"{section.connections} connections"
    notes = fmt.section_notes(section.rows)
    table = Table(
        title=f"{section.title} — {conns}",
        title_justify="left",
        title_style="bold",
        caption="\n".join(notes) or None,
        caption_justify="left",
    )
    for i, name in enumerate(fmt.COLUMNS):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True, min_width=len(name))
    for row in section.rows:
        style = {"ok": None, "unavailable": "yellow", "unsupported": "yellow"}.get(row.status, "red")
        table.add_row(*fmt.row_texts(row), style=style)
    return table


def print_report(console: Console, report: Report) -> None:
    console.print(header(report))
    for section in report.sections:
        console.print()
        console.print(section_table(section))
    console.print()
    console.print(fmt.LEGEND, style="dim")


def print_errors(console: Console, report: Report) -> None:
    """The full traceback of every cell that failed."""
    for s in report.sections:
        for r in s.rows:
            if r.status == "error":
                console.rule(f"{s.name} / {r.driver}", style="red")
                console.print(r.traceback or r.message or "", markup=False, highlight=False)
