"""stream() reads in bounded batches: memory stays flat on a 10-million-row result."""

from __future__ import annotations

import os

import pypgz


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_ten_million_rows_stream_in_flat_memory(dsn: str) -> None:
    with pypgz.connect(dsn) as conn:
        n = 0
        base = peak = 0
        for row in conn.stream("SELECT i, 'row ' || i FROM generate_series(1, 10000000) i", batch_rows=5000):
            n += 1
            if n == 100_000:
                base = _rss()
            elif n % 500_000 == 0:
                peak = max(peak, _rss())
        assert n == 10_000_000 and row == (10_000_000, "row 10000000")
        growth = peak - base
        # Holding the whole result would take well over a gigabyte; a few batches, a few MB.
        assert growth < 64 * 1024 * 1024, f"memory grew by {growth >> 20} MiB while streaming"
        assert conn.fetchval("SELECT 1") == 1


async def test_ten_million_rows_async_stream_in_flat_memory(dsn: str) -> None:
    conn = await pypgz.connect_async(dsn)
    try:
        n = 0
        base = peak = 0
        async for row in conn.stream("SELECT i, 'row ' || i FROM generate_series(1, 10000000) i", batch_rows=5000):
            n += 1
            if n == 100_000:
                base = _rss()
            elif n % 500_000 == 0:
                peak = max(peak, _rss())
        assert n == 10_000_000 and row == (10_000_000, "row 10000000")
        growth = peak - base
        assert growth < 64 * 1024 * 1024, f"memory grew by {growth >> 20} MiB while streaming"
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
