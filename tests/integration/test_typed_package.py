"""The built wheel is a typed package: a user's ``mypy --strict`` sees pypgz's own types.

Without ``pypgz/py.typed`` in the wheel, mypy reports ``[import-untyped]`` for ``import
pypgz`` and every pypgz name is ``Any``, so no misuse is caught. This builds the wheel,
installs it into a fresh virtual environment (a plain one: with system site-packages it
would see the editable install of this checkout), and type-checks small applications
against that environment alone, from a directory outside the source tree.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Not copied into the build tree: caches, build output, and the library the build makes.
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".zig-cache", "zig-out", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".hypothesis", ".benchmarks", "build", "dist", "*.egg-info", "libpgz.so*", "libpgz.dylib",
)

GOOD_APP = '''
from __future__ import annotations

import pypgz
from pypgz import Record


def sync_app(dsn: str) -> list[int]:
    with pypgz.connect(dsn, statement_cache_size=0) as conn:
        tag: str = conn.execute("CREATE TEMP TABLE t (id int PRIMARY KEY, name text)")
        conn.executemany("INSERT INTO t VALUES ($1, $2)", [(1, "a"), (2, "b")])
        rows: list[Record] = conn.fetch("SELECT id, name FROM t WHERE id > $1", 0)
        row = conn.fetchrow("SELECT * FROM t WHERE id = $1", 1)
        if row is not None:
            print(row["name"], tag)
        count = conn.fetchval("SELECT count(*) FROM t")
        with conn.transaction(isolation="serializable"):
            conn.execute("DELETE FROM t WHERE id = $1", count)
        return [r[0] for r in rows]


async def async_app(dsn: str) -> int:
    async with await pypgz.connect_async(dsn) as aconn:
        rows = await aconn.fetch("SELECT $1::int", 1)
        row = await aconn.fetchrow("SELECT 1")
        async with aconn.transaction():
            await aconn.execute("SELECT 1")
        value = await aconn.fetchval("SELECT 1")
        return len(rows) + (0 if row is None else 1) + int(value)


def handle(exc: pypgz.PostgresError) -> str:
    return exc.sqlstate
'''

# Each line marked "# E" must be reported as an error on that line.
BAD_APP = '''
from __future__ import annotations

import pypgz


def sync_app(dsn: str) -> None:
    with pypgz.connect(dsn) as conn:
        conn.fetch(123)  # E: a query is a str
        n: int = conn.fetchrow("SELECT 1")  # E: a row (or None), not an int
        conn.transaction(isolation=1)  # E


async def async_app(dsn: str) -> None:
    aconn: pypgz.Conn = await pypgz.connect_async(dsn)  # E: an AsyncConn
    await aconn.fetchrow(b"SELECT 1")  # E
'''

REVEAL_APP = '''
import pypgz

reveal_type(pypgz.connect)
reveal_type(pypgz.connect_async)
reveal_type(pypgz.Conn.fetch)
'''


def _clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH or MYPYPATH that could lead back to this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return env | extra


def _run(cmd: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=_clean_env(**env), capture_output=True, text=True, timeout=timeout)


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"


def _build_wheel(tmp: Path) -> Path:
    """``pip wheel`` of a copy of this checkout, as ``pip wheel .`` would build it.

    A copy, because the build hook writes the library it compiles into the source tree
    (pypgz/libpgz.so): built in place, it would replace the one this checkout's other test
    runs are using with one compiled from whatever the core's sources hold right now.

    Two things keep this to seconds. Zig's cache is the checkout's own .zig-cache: its
    entries are keyed by the sources' content, so an unchanged core is not compiled again
    (the editable install's build used the same flags). And the build requirements come from
    a small build environment that sees this interpreter's packages (``ziglang`` is there;
    only hatchling is added) instead of pip's isolated one, which unpacks the whole ziglang
    wheel each time (about 20 s).
    """
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_COPIED)
    builder = Path(sys.executable)
    if importlib.util.find_spec("hatchling") is None:
        build_env = tmp / "build-env"
        _check(_run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(build_env)],
                    cwd=tmp), "venv")
        builder = build_env / "bin" / "python"
        requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
        _check(_run([sys.executable, "-m", "pip", "--python", str(builder), "install", "--quiet", *requires],
                    cwd=tmp), "installing the build requirements")
    dist = tmp / "dist"
    proc = _run(
        [str(builder), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(dist), str(src)],
        cwd=tmp, timeout=600, ZIG_LOCAL_CACHE_DIR=str(ROOT / ".zig-cache"),
    )
    _check(proc, "pip wheel")
    (wheel,) = dist.glob("pypgz-*.whl")
    return wheel


def _mypy(app_dir: Path, python: Path, *files: str) -> subprocess.CompletedProcess[str]:
    (app_dir / "mypy.ini").write_text("[mypy]\n")  # no configuration found elsewhere
    cmd = [
        sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini",
        "--python-executable", str(python), "--cache-dir", str(app_dir / ".mypy_cache"),
        "--no-error-summary", "--show-error-codes", *files,
    ]
    return _run(cmd, cwd=app_dir)


def test_installed_wheel_type_checks_an_application(tmp_path: Path) -> None:
    started = time.monotonic()
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "pypgz/py.typed" in names
    assert "pypgz/libpgz.so" in names

    venv = tmp_path / "venv"
    _check(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path), "venv")
    python = venv / "bin" / "python"

    app = tmp_path / "app"
    app.mkdir()
    (app / "good.py").write_text(textwrap.dedent(GOOD_APP))
    (app / "bad.py").write_text(textwrap.dedent(BAD_APP))
    (app / "reveal.py").write_text(textwrap.dedent(REVEAL_APP))

    # Before the wheel is installed, pypgz is nowhere to be found: mypy sees neither the
    # source tree nor the editable install.
    proc = _mypy(app, python, "good.py")
    assert proc.returncode == 1
    assert 'Cannot find implementation or library stub for module named "pypgz"' in proc.stdout

    proc = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)],
        cwd=tmp_path,
    )
    _check(proc, "pip install")
    proc = _run([str(python), "-c", "import pypgz; print(pypgz.__file__)"], cwd=app)
    _check(proc, "import pypgz")
    assert Path(proc.stdout.strip()).is_relative_to(venv)

    # A correct application passes --strict.
    proc = _mypy(app, python, "good.py")
    assert "import-untyped" not in proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == ""

    # pypgz's names have their real types, not Any.
    proc = _mypy(app, python, "reveal.py")
    revealed = re.findall(r'reveal\.py:\d+: note: Revealed type is "(.*)"', proc.stdout)
    assert "import-untyped" not in proc.stdout
    assert len(revealed) == 3, proc.stdout
    connect, connect_async, fetch = revealed
    assert connect.startswith("def (dsn: str | None =") and connect.endswith("-> pypgz.conn.Conn")
    assert connect_async.endswith("-> typing.Coroutine[Any, Any, pypgz.aconn.AsyncConn]")
    assert fetch.startswith("def (self: pypgz.conn.Conn, sql: str") and "list[pypgz.record.Record]" in fetch

    # An application that misuses them gets an error on each bad line.
    proc = _mypy(app, python, "bad.py")
    assert "import-untyped" not in proc.stdout
    assert proc.returncode == 1
    source = (app / "bad.py").read_text().splitlines()
    expected = {i + 1 for i, line in enumerate(source) if "# E" in line}
    reported = {int(n) for n in re.findall(r"^bad\.py:(\d+): error:", proc.stdout, re.M)}
    assert reported == expected, proc.stdout
    assert 'Argument 1 to "fetch" of "Conn" has incompatible type "int"; expected "str"' in proc.stdout

    # About 10 s with an unchanged core, 25 s when libpgz must be compiled.
    assert time.monotonic() - started < 90
