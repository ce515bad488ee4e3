"""The drivers, in report order, loaded by name; a driver whose library is missing
stays in the list and reports why it cannot run."""

from __future__ import annotations

import importlib

from pypgz.bench.drivers.base import Driver, Missing

# (driver name, family, module in this package)
CATALOG: tuple[tuple[str, str, str], ...] = (
    ("pypgz-sync", "pypgz", "pypgz_sync"),
    ("pypgz-async", "pypgz", "pypgz_async"),
    ("pypgz-async-uvloop", "pypgz", "pypgz_async"),
    ("asyncpg", "asyncpg", "asyncpg_async"),
    ("asyncpg-uvloop", "asyncpg", "asyncpg_async"),
    ("psycopg-sync", "psycopg", "psycopg_sync"),
    ("psycopg-async", "psycopg", "psycopg_async"),
    ("pyro-sync", "pyro", "pyro_sync"),
    ("pyro-async", "pyro", "pyro_async"),
    ("pgbench", "pgbench", "pgbench"),
)
NAMES: tuple[str, ...] = tuple(name for name, _, _ in CATALOG)
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(family for _, family, _ in CATALOG))


def select(tokens: list[str] | None) -> list[str]:
    """Driver names chosen by ``tokens`` (a driver's name or a family: "pyro" is both
    pyro drivers), in catalog order; all of them when ``tokens`` is empty."""
    if not tokens:
        return list(NAMES)
    unknown = [t for t in tokens if t not in NAMES and t not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown driver {', '.join(unknown)}; choose from {', '.join(NAMES)} or a family ({', '.join(FAMILIES)})")
    return [name for name, family, _ in CATALOG if name in tokens or family in tokens]


def load(name: str) -> Driver:
    family, module = next((f, m) for n, f, m in CATALOG if n == name)
    try:
        mod = importlib.import_module(f"pypgz.bench.drivers.{module}")
        driver: Driver = mod.make(name)
    except ImportError as e:
        return Missing(name, family, f"not installed ({e.name or e}); pip install 'pypgz[bench]'")
    return driver


__all__ = ["CATALOG", "Driver", "FAMILIES", "NAMES", "load", "select"]
