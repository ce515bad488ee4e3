"""What every report says about where and when it was measured."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("pypgz", "asyncpg", "uvloop", "psycopg", "psycopg-binary", "psycopg-c", "pyro-postgres")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def package_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def pypgz_source() -> str:
    """Where the pypgz under test came from: the git commit of its checkout, and whether
    the checkout had uncommitted changes; or its installed location."""
    import pypgz

    where = Path(pypgz.__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return str(where)
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return str(where)
    return f"{where} at git {head.stdout.strip()}" + (" with uncommitted changes" if dirty else "")


def describe_machine() -> dict[str, object]:
    load1, load5, _ = os.getloadavg()
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_average": f"{load1:.2f} (1 min), {load5:.2f} (5 min) at start",
        "kernel": f"{platform.system()} {platform.release()}",
        "os": os_name(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_build": sys.version.replace("\n", " "),
        "packages": package_versions(),
        "pypgz_source": pypgz_source(),
    }
