"""A PNG bar chart of each peer's ratios to pypgz, per workload (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed; must come before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from pypgz.bench.results import Report, Section  # noqa: E402


def _peers(report: Report) -> list[str]:
    """Drivers other than the reference rows that have at least one ratio."""
    names = []
    for d in report.drivers:
        if any(r.driver == d.name and r.ref not in (None, r.driver) for s in report.sections for r in s.rows):
            names.append(d.name)
    return names


def _values(sections: list[Section], driver: str, attr: str) -> list[float]:
    out = []
    for s in sections:
        row = next((r for r in s.rows if r.driver == driver and r.ref != r.driver), None)
        value = getattr(row, attr) if row is not None else None
        out.append(float(value) if value else float("nan"))
    return out


def _panel(ax: Axes, report: Report, peers: list[str], attr: str, ylabel: str) -> None:
    sections = report.sections
    width = 0.8 / max(1, len(peers))
    for i, name in enumerate(peers):
        xs = [j + (i - (len(peers) - 1) / 2) * width for j in range(len(sections))]
        ax.bar(xs, _values(sections, name, attr), width, label=name)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:g}"))
    ax.set_ylabel(ylabel)
    ax.set_xticks(range(len(sections)), [s.name for s in sections], rotation=30, ha="right")
    ax.grid(axis="y", alpha=0.3)


def write_chart(report: Report, path: Path) -> None:
    peers = _peers(report)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(9.0, 1.1 * len(report.sections) + 3), 9), sharex=True)
    _panel(top, report, peers, "rows_ratio", "rows/s ÷ pypgz (above 1: faster than pypgz)")
    _panel(bottom, report, peers, "cpu_ratio", "CPU/op ÷ pypgz (above 1: more CPU than pypgz)")
    top.legend(ncol=min(4, max(1, len(peers))), fontsize="small")
    machine = report.machine
    fig.suptitle(
        f"pypgz-bench {machine.get('date', '')} — {machine.get('cpu', '')}, "
        f"PostgreSQL {report.server.get('version', '')}, pinned: {report.settings.get('pin_status') or 'no'}\n"
        "each driver against pypgz on the same API and event loop",
        fontsize="medium",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
