"""The throwaway cluster of pypgz.server, checked with the server's own psql."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pypgz import server
from pypgz.server import Cluster


def psql_uri(c: Cluster, uri: str, sql: str) -> subprocess.CompletedProcess[str]:
    """psql connecting with a URI (so libpq checks the DSNs Cluster builds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        [str(c.bin_dir / "psql"), "-X", "-A", "-t", "-c", sql, uri],
        capture_output=True, text=True, env=env, timeout=60,
    )


def query(c: Cluster, uri: str, sql: str) -> str:
    proc = psql_uri(c, uri, sql)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_up_on_tcp_and_unix_socket(cluster: Cluster) -> None:
    assert query(cluster, cluster.dsn(), "SELECT inet_server_addr()") == "127.0.0.1"
    # Over a unix socket there is no server address.
    assert query(cluster, cluster.dsn(unix=True), "SELECT inet_server_addr() IS NULL") == "t"
    assert Path(cluster.socket_dir, f".s.PGSQL.{cluster.port}").is_socket()
    assert cluster.psql("SHOW server_encoding") == "UTF8"


def test_version_is_the_chosen_server(cluster: Cluster) -> None:
    expected = int(os.environ.get("PYPGZ_TEST_SERVER", "18"))  # conftest's default
    assert cluster.version[0] == expected
    assert int(cluster.psql("SHOW server_version_num")) // 10000 == expected


def test_password_hashes_are_stored_per_method(cluster: Cluster) -> None:
    rows = cluster.psql(
        "SELECT rolname, rolcanlogin, rolpassword LIKE 'md5%', rolpassword LIKE 'SCRAM-SHA-256$%' "
        "FROM pg_authid WHERE rolname LIKE 'pgz%' ORDER BY rolname"
    )
    assert rows.splitlines() == [
        "pgz_md5|t|t|f",
        "pgz_password|t|f|t",
        "pgz_scram|t|f|t",
    ]


@pytest.mark.parametrize(
    ("user", "method"),
    [
        (Cluster.PASSWORD_USER, "password"),
        (Cluster.MD5_USER, "md5"),
        (Cluster.SCRAM_USER, "scram-sha-256"),
    ],
)
def test_auth_method_per_role(cluster: Cluster, user: str, method: str) -> None:
    rule = cluster.psql(f"SELECT auth_method FROM pg_hba_file_rules WHERE '{user}' = ANY(user_name)")
    assert rule == method
    good = cluster.dsn(user, password=Cluster.TEST_PASSWORD)
    assert query(cluster, good, "SELECT current_user") == user
    bad = psql_uri(cluster, cluster.dsn(user, password="wrong"), "SELECT 1")
    assert bad.returncode != 0
    assert "authentication failed" in bad.stderr


def test_restart_keeps_port_and_socket(cluster: Cluster) -> None:
    port, socket_dir = cluster.port, cluster.socket_dir
    before = cluster.psql("SELECT pg_postmaster_start_time()")
    cluster.restart()
    assert (cluster.port, cluster.socket_dir) == (port, socket_dir)
    assert cluster.psql("SELECT pg_postmaster_start_time()") != before
    assert query(cluster, cluster.dsn(), "SELECT 1") == "1"


def test_tls_server(tls_cluster: Cluster) -> None:
    assert tls_cluster.psql("SHOW ssl") == "on"
    base = tls_cluster.dsn(Cluster.TLS_USER, password=Cluster.TEST_PASSWORD)
    verified = f"{base}?sslmode=verify-full&sslrootcert={tls_cluster.ca_file}"
    in_use = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    assert query(tls_cluster, verified, in_use) == "t"
    # The TLS role is refused without TLS.
    assert psql_uri(tls_cluster, f"{base}?sslmode=disable", "SELECT 1").returncode != 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("make", [server._tls_with_cryptography, server._tls_with_openssl])
def test_tls_files_verify(tmp_path: Path, make: Callable[[Path], None]) -> None:
    if make is server._tls_with_cryptography:
        pytest.importorskip("cryptography", reason="the cryptography package is optional")
    make(tmp_path)
    proc = subprocess.run(
        ["openssl", "verify", "-CAfile", "ca.crt", "-verify_ip", "127.0.0.1", "server.crt"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "server.key").stat().st_mode & 0o077 == 0
