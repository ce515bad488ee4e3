"""``pypgz-bench`` / ``python -m pypgz.bench``."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from rich.console import Console

from pypgz.bench import app, cli, report


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so a throwaway server is stopped and removed on the way out


def main() -> None:
    opts = cli.parse()
    signal.signal(signal.SIGTERM, _interrupt)
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)  # a log file: room for the whole table
    try:
        result = app.run(opts, console)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        sys.exit(130)
    report.print_report(console, result)
    report.print_errors(console, result)
    app.write_outputs(opts, result, console)


if __name__ == "__main__":
    main()
