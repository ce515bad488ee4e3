"""The report as Markdown, for benches/results/."""

from __future__ import annotations

from pypgz.bench import fmt
from pypgz.bench.results import Report, Section


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def _table_row(values: list[str]) -> str:
    return "| " + " | ".join(_escape(v) for v in values) + " |"


def section(s: Section) -> list[str]:
    conns = "1 connection" if s.connections == 1 else f"{s.connections} connections"
    lines = [f"### {s.title}", "", f"`{s.name}`, {conns}: `{s.sql}`", ""]
    lines.append(_table_row(list(fmt.COLUMNS)))
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(fmt.COLUMNS) - 1)) + "|")
    lines.extend(_table_row(fmt.row_texts(r)) for r in s.rows)
    notes = fmt.section_notes(s.rows)
    if notes:
        lines.append("")
        lines.extend(_escape(n) + "  " for n in notes)  # two spaces: a line break
    return lines + [""]


def render(report: Report) -> str:
    lines = ["# pypgz-bench", ""]
    for label, value in fmt.machine_lines(report.machine, report.server, report.settings):
        shown = f"`{value}`" if label == "command" else value
        lines.append(f"- **{label}**: {shown}")
    lines.append("- **drivers**: " + ", ".join(f"{d.name} {d.version}" for d in report.drivers))
    lines += ["", fmt.LEGEND, ""]
    for s in report.sections:
        lines += section(s)
    return "\n".join(lines)
