"""Number formatting shared by the console table and the markdown report."""

from __future__ import annotations

from pypgz.bench.results import Row

COLUMNS = ("driver", "median", "mean", "p99", "ops/s", "rows/s", "±", "CPU µs/op", "rows/s ×", "CPU ×")

LEGEND = (
    "median, mean, p99: latency of one operation (one connection's call, start to finish). "
    "ops/s, rows/s: totals over all rounds ÷ wall time; rows are rows read or written. "
    "±: spread of rows/s between rounds, (max − min) ÷ median. "
    "CPU µs/op: client process CPU time (all threads) ÷ operations. "
    "rows/s ×: the driver's rows/s ÷ pypgz's (same API and event loop; above 1 the driver is faster than pypgz, "
    "below 1 pypgz is faster). CPU ×: the driver's CPU/op ÷ pypgz's (above 1 the driver spends more CPU)."
)


def duration_us(value: float | None) -> str:
    """A latency given in microseconds, in the unit that keeps it short."""
    if value is None:
        return "–"
    if value >= 1_000_000:
        return f"{value / 1e6:.2f} s"
    if value >= 1000:
        return f"{value / 1000:.3g} ms"
    if value >= 100:
        return f"{value:.0f} µs"
    return f"{value:.1f} µs"


def count(value: float | None) -> str:
    """A rate, to three significant figures with k or M."""
    if value is None:
        return "–"
    if value >= 999_500:
        return f"{value / 1e6:.3g}M"
    if value >= 1000:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def cpu(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def row_texts(row: Row) -> list[str]:
    """A row as text, in COLUMNS order. A driver that did not run shows its status here
    and why in ``section_notes``; a mark after a name points to a note."""
    name = row.driver + (" *" if row.note or row.status != "ok" else "")
    if row.status != "ok":
        return [name, row.status] + [""] * (len(COLUMNS) - 2)
    return [name, *_figures(row)]


def section_notes(rows: list[Row]) -> list[str]:
    """The notes under a section's table: why a driver did not run, what a check found."""
    out = []
    for row in rows:
        if row.status != "ok":
            out.append(f"* {row.driver}: {row.status}: {first_line(row.message, 300)}")
        elif row.note:
            out.append(f"* {row.driver}: {row.note}")
    return out


def _figures(row: Row) -> list[str]:
    return [
        duration_us(row.median_us),
        duration_us(row.mean_us),
        duration_us(row.p99_us),
        count(row.ops_per_s),
        count(row.rows_per_s),
        percent(row.spread_pct),
        cpu(row.cpu_us_per_op),
        "ref" if row.ref == row.driver else ratio(row.rows_ratio),
        "ref" if row.ref == row.driver else ratio(row.cpu_ratio),
    ]


def first_line(text: str | None, limit: int = 140) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def machine_lines(machine: dict[str, object], server: dict[str, object], settings: dict[str, object]) -> list[tuple[str, str]]:
    """The header of every report: (label, value) pairs."""
    packages = machine.get("packages")
    versions = ", ".join(f"{k} {v}" for k, v in packages.items()) if isinstance(packages, dict) else ""
    return [
        ("date", str(machine.get("date", ""))),
        ("machine", f"{machine.get('cpu')}, {machine.get('cpus')} CPUs ({machine.get('cpus_usable')} usable); "
                    f"{machine.get('os')}; {machine.get('kernel')}"),
        ("load", str(machine.get("load_average", ""))),
        ("python", str(machine.get("python", ""))),
        ("packages", versions),
        ("pypgz", str(machine.get("pypgz_source", ""))),
        ("server", f"PostgreSQL {server.get('version')} — {server.get('origin')}, over {server.get('transport')}"),
        ("run", f"{settings.get('rounds')} rounds × {settings.get('seconds')} s per driver and workload "
                f"(after {settings.get('warmup')} s warm-up), interleaved; "
                f"{settings.get('concurrency')} connections for throughput workloads; "
                f"pinned: {settings.get('pin_status') or 'no'}"),
        ("command", str(settings.get("command", ""))),
    ]
