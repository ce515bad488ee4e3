"""pgbench as the floor: C libpq running the same statement, prepared, one client.

Only workloads with a ``pgbench_script`` run here. pgbench's per-transaction log
(``-l``) gives each latency; its CPU time is the child-process rusage delta (which
includes writing that log). Rows/s uses pgbench's own tps, which leaves out its
connection set-up.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from pypgz.bench.drivers.base import Driver
from pypgz.bench.target import Target
from pypgz.bench.timing import Plan, SliceResult
from pypgz.bench.workloads.base import Workload

_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.M)
_DONE = re.compile(r"^number of transactions actually processed: (\d+)", re.M)
_VERSION = re.compile(r"\(PostgreSQL\) (\S+)")


def find_pgbench(target: Target) -> str | None:
    """The server's own pgbench when we started the server, else the one on PATH."""
    if target.bin_dir is not None and _runs(target.bin_dir / "pgbench"):
        return str(target.bin_dir / "pgbench")
    found = shutil.which("pgbench")
    return found if found and _runs(Path(found)) else None


def _runs(path: Path) -> bool:
    try:
        return subprocess.run([str(path), "--version"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def read_latencies(log_dir: Path) -> list[float]:
    """Per-transaction latencies (seconds) from pgbench's ``-l`` logs: the third field
    of each line is the latency in microseconds."""
    out: list[float] = []
    for log in log_dir.glob("tx*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                out.append(int(fields[2]) / 1e6)
    return out


class Pgbench(Driver):
    name = "pgbench"
    family = "pgbench"
    api = "external"
    dist = "pgbench"

    def __init__(self) -> None:
        self.path: str | None = None
        self._version = "?"

    def version(self) -> str:
        return self._version

    def unavailable(self, target: Target) -> str | None:
        self.path = find_pgbench(target)
        if self.path is None:
            return "pgbench is not installed"
        out = subprocess.run([self.path, "--version"], capture_output=True, text=True).stdout
        match = _VERSION.search(out)
        self._version = match.group(1) if match else out.strip()
        return None

    def supports(self, workload: Workload) -> bool:
        return workload.pgbench_script is not None

    def run_slice(self, workload: Workload, connections: int, target: Target, plan: Plan) -> SliceResult:
        assert self.path is not None and workload.pgbench_script is not None
        seconds = max(1, round(plan.seconds))  # pgbench's -T takes whole seconds
        with tempfile.TemporaryDirectory(prefix="pypgz-bench-") as tmp:
            script = Path(tmp) / "script.sql"
            script.write_text(workload.pgbench_script)
            cmd = [
                self.path, "-n", "-M", "prepared", "-c", str(connections), "-j", str(connections),
                "-T", str(seconds), "-f", str(script), "-l", "--log-prefix", str(Path(tmp) / "tx"),
                target.dsn,
            ]
            cpu0 = _children_cpu()
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, timeout=seconds + 60)
            wall = time.perf_counter() - t0
            cpu = _children_cpu() - cpu0
            if proc.returncode != 0:
                raise RuntimeError(f"pgbench exited with {proc.returncode}: {(proc.stderr or proc.stdout).strip()}")
            latencies = read_latencies(Path(tmp))
        return _result(proc.stdout, wall, cpu, latencies)


def _result(stdout: str, wall: float, cpu: float, latencies: list[float]) -> SliceResult:
    done, tps = _DONE.search(stdout), _TPS.search(stdout)
    if done is None or tps is None:
        raise RuntimeError(f"cannot read pgbench's output:\n{stdout}")
    ops = int(done.group(1))
    measured = ops / float(tps.group(1)) if float(tps.group(1)) > 0 else wall
    return SliceResult(measured, cpu, ops, ops, latencies)


def make(name: str) -> Driver:
    return Pgbench()
