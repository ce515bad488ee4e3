"""``python -m pypgz.bench --quick`` end to end against the suite's server (pypgz only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pypgz.bench import workloads


def test_quick_run_reports_every_workload(dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # One round of the quick run, two drivers: about 15 s.
    cmd = [sys.executable, "-m", "pypgz.bench", "--quick", "--rounds", "1", "--dsn", dsn, "--json", str(out),
           "--drivers", "pypgz-sync,pypgz-async", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert [s["name"] for s in data["sections"]] == [w.name for w in workloads.ALL]
    for section in data["sections"]:
        rows = {r["driver"]: r for r in section["rows"]}
        assert set(rows) == {"pypgz-sync", "pypgz-async"}, section["name"]
        for name, row in rows.items():
            assert row["status"] == "ok", f"{section['name']} / {name}: {row['message']}\n{row['traceback']}"
            assert row["rows_per_s"] > 0 and row["cpu_us_per_op"] > 0 and row["median_us"] > 0
            assert len(row["rounds"]) == 1
    assert data["machine"]["date"] and data["server"]["version"]
