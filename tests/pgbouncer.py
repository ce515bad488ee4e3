"""A real PgBouncer in transaction mode in front of the suite's cluster.

Most deployments put a pooler in front of PostgreSQL, and in transaction mode it hands each
transaction of a client to whichever server connection is free. The pool here is smaller
than the number of clients the tests open, so server connections really are shared: a
statement one client prepared is on a server connection another client then uses.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

# Fewer server connections than the concurrency tests' clients (8): they must share.
POOL_SIZE = 3


class PgBouncerError(RuntimeError):
    pass


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgBouncer:
    """``pgbouncer`` on a free 127.0.0.1 port, forwarding every database to ``server_port``."""

    def __init__(self, server_host: str, server_port: int, user: str = "postgres") -> None:
        binary = pgbouncer_binary()
        if binary is None:
            raise PgBouncerError("pgbouncer is not installed (apt-get install pgbouncer)")
        self.binary = binary
        self.server_host = server_host
        self.server_port = server_port
        self.user = user
        self.port = _free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="pypgz-pgbouncer-"))
        self._proc: subprocess.Popen[bytes] | None = None

    def dsn(self, **params: str | int) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres" + (f"?{query}" if query else "")

    @property
    def log_file(self) -> Path:
        return self._dir / "pgbouncer.log"

    def _write_config(self) -> Path:
        (self._dir / "userlist.txt").write_text(f'"{self.user}" ""\n')
        ini = self._dir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={self.server_host} port={self.server_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self._dir / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {POOL_SIZE}\n"
            "max_client_conn = 200\n"
            # Parameters drivers commonly send at start-up, which PgBouncer would refuse.
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.log_file}\n"
            f"pidfile = {self._dir / 'pgbouncer.pid'}\n"
        )
        return ini

    def start(self) -> None:
        ini = self._write_config()
        kwargs: dict[str, object] = {}
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root.
            entry = pwd.getpwnam("postgres")
            for path in (self._dir, *self._dir.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self._proc = subprocess.Popen(
            [self.binary, str(ini)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, **kwargs,  # type: ignore[call-overload]
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PgBouncerError(f"pgbouncer exited with {self._proc.returncode}:\n{self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise PgBouncerError(f"pgbouncer did not listen on port {self.port} within 20 s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
