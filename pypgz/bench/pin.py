"""``--pin``: client and server on one core, where a round trip is cheap and driver
overhead dominates.

The client pins every thread it has (drivers may have started I/O threads at
import) and every thread it starts later inherits that. On the server side the
postmaster is pinned, so backends forked from then on inherit it, along with every
process it has already started. The postmaster is found as the parent of our own
backend; that needs the server on this machine and the right to change its affinity.
"""

from __future__ import annotations

import os
from pathlib import Path

import pypgz


def pin_client(cpu: int) -> None:
    for tid in _threads_of("self"):
        os.sched_setaffinity(tid, {cpu})


def pin_server(conn: pypgz.Conn, cpu: int) -> str:
    """Pins the server's processes; returns what was done (or why not)."""
    backend = int(conn.fetchval("SELECT pg_backend_pid()"))
    postmaster = _parent(backend)
    if postmaster is None:
        return "server not pinned: its processes are not visible here (another machine or namespace?)"
    pids = [postmaster] + [pid for pid in _all_pids() if _parent(pid) == postmaster]
    try:
        for pid in pids:
            for tid in _threads_of(str(pid)):
                os.sched_setaffinity(tid, {cpu})
    except PermissionError:
        return "server not pinned: no permission to change its CPU affinity"
    return f"server pinned to CPU {cpu} ({len(pids)} processes)"


def _threads_of(pid: str) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return []


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may itself contain spaces or parentheses.
    return int(stat.rsplit(")", 1)[1].split()[1])
