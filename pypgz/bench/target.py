"""The server a run measures against, as the drivers need to see it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pypgz.dsn import ConnectParams


@dataclass(frozen=True)
class Target:
    dsn: str  # a postgresql:// URL every driver (and pgbench) accepts
    params: ConnectParams  # the same, parsed (for drivers that take options, not a URL)
    origin: str  # how the server came to be: embedded throwaway cluster or --dsn
    server_version: str  # as the server reports it, e.g. "18.1"
    server_version_num: int  # e.g. 180001
    bin_dir: Path | None  # the server's binaries, when we started it (its pgbench is there)
    transport: str  # "unix socket" or "TCP"
