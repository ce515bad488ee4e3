"""Connecting: DSN forms, environment, auth methods, start-up parameters — against the server."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import pytest

from pypgz import errors
from pypgz.server import Cluster


async def _connect(facade: str, dsn: str | None = None, **kw: Any) -> Any:
    from facades import open_facade

    return await open_facade(facade, dsn or "", **kw)


async def _whoami(conn: Any) -> tuple[str, str]:
    row = await conn.fetchrow("SELECT current_user, current_database()")
    await conn.close()
    return row[0], row[1]


async def test_url_over_tcp_and_unix_socket(facade: str, cluster: Cluster) -> None:
    assert await _whoami(await _connect(facade, cluster.dsn())) == ("postgres", "postgres")
    sock_dir = quote(cluster.socket_dir, safe="")
    url = f"postgresql://postgres@{sock_dir}:{cluster.port}/postgres"
    conn = await _connect(facade, url)
    assert await conn.fetchval("SELECT inet_server_addr()") is None  # a unix socket has no address
    await conn.close()
    url2 = f"postgres:///postgres?host={cluster.socket_dir}&port={cluster.port}&user=postgres"
    assert await _whoami(await _connect(facade, url2)) == ("postgres", "postgres")


async def test_key_value_conninfo(facade: str, cluster: Cluster) -> None:
    conninfo = f"host=127.0.0.1 port={cluster.port} user=postgres dbname='postgres' application_name='my app'"
    conn = await _connect(facade, conninfo)
    assert await conn.fetchval("SELECT current_setting('application_name')") == "my app"
    await conn.close()


async def test_keywords_override_dsn(facade: str, cluster: Cluster) -> None:
    await _setup_db(cluster)
    conn = await _connect(facade, cluster.dsn(), database="pgz_other", application_name="kw")
    assert await conn.fetchval("SELECT current_database()") == "pgz_other"
    assert await conn.fetchval("SELECT current_setting('application_name')") == "kw"
    await conn.close()


async def _setup_db(cluster: Cluster) -> None:
    if "pgz_other" not in cluster.psql("SELECT datname FROM pg_database"):
        cluster.psql("CREATE DATABASE pgz_other")


async def test_environment_fills_the_gaps(facade: str, cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    await _setup_db(cluster)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", str(cluster.port))
    monkeypatch.setenv("PGUSER", Cluster.SCRAM_USER)
    monkeypatch.setenv("PGPASSWORD", Cluster.TEST_PASSWORD)
    monkeypatch.setenv("PGDATABASE", "pgz_other")
    monkeypatch.setenv("PGAPPNAME", "from-env")
    conn = await _connect(facade)
    assert await conn.fetchrow("SELECT current_user, current_database(), current_setting('application_name')") == (
        Cluster.SCRAM_USER, "pgz_other", "from-env",
    )
    await conn.close()


async def test_pgpass_file(facade: str, cluster: Cluster, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{cluster.port}:*:{Cluster.MD5_USER}:{Cluster.TEST_PASSWORD}\n")
    os.chmod(passfile, 0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    conn = await _connect(facade, f"postgresql://{Cluster.MD5_USER}@127.0.0.1:{cluster.port}/postgres")
    assert await conn.fetchval("SELECT current_user") == Cluster.MD5_USER
    await conn.close()


@pytest.mark.parametrize("user", [Cluster.PASSWORD_USER, Cluster.MD5_USER, Cluster.SCRAM_USER, "postgres"])
async def test_auth_methods(facade: str, cluster: Cluster, user: str) -> None:
    """Cleartext password, md5, SCRAM-SHA-256 and trust, each from its own pg_hba.conf line.
    The password is not ASCII, so its encoding matters."""
    password = None if user == "postgres" else Cluster.TEST_PASSWORD
    conn = await _connect(facade, cluster.dsn(user=user, password=password))
    assert await conn.fetchval("SELECT current_user") == user
    await conn.close()
    expected = {Cluster.PASSWORD_USER: "password", Cluster.MD5_USER: "md5", Cluster.SCRAM_USER: "scram-sha-256"}
    if user in expected:
        rule = cluster.psql(
            f"SELECT auth_method FROM pg_hba_file_rules WHERE '{user}' = ANY(user_name) AND type = 'host'"
        ).strip()
        assert rule == expected[user]


async def test_password_keyword_with_special_characters(facade: str, cluster: Cluster) -> None:
    conn = await _connect(facade, f"postgresql://{Cluster.SCRAM_USER}@127.0.0.1:{cluster.port}/postgres",
                          password=Cluster.TEST_PASSWORD)
    assert await conn.fetchval("SELECT 1") == 1
    await conn.close()


async def test_server_settings_in_startup_packet(facade: str, cluster: Cluster) -> None:
    conn = await _connect(facade, cluster.dsn(), server_settings={"search_path": "pg_catalog", "work_mem": "7MB"})
    assert await conn.fetchval("SHOW work_mem") == "7MB"
    assert await conn.fetchval("SHOW search_path") == "pg_catalog"
    await conn.close()
    conn = await _connect(facade, cluster.dsn() + "?options=-c%20statement_timeout%3D1234")
    assert await conn.fetchval("SHOW statement_timeout") == "1234ms"
    await conn.close()


async def test_unknown_server_setting_is_a_server_error(facade: str, cluster: Cluster) -> None:
    with pytest.raises(errors.PostgresError, match="no_such_setting"):
        await _connect(facade, cluster.dsn(), server_settings={"no_such_setting": "1"})


async def test_multi_host_skips_dead_hosts(facade: str, cluster: Cluster) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    conn = await _connect(facade, f"postgresql://postgres@127.0.0.1:{dead},127.0.0.1:{cluster.port}/postgres")
    assert await conn.fetchval("SELECT 1") == 1
    await conn.close()


async def test_target_session_attrs(facade: str, cluster: Cluster) -> None:
    conn = await _connect(facade, cluster.dsn() + "?target_session_attrs=read-write")
    await conn.close()
    with pytest.raises(errors.ConnectionFailedError, match="read-only"):
        await _connect(facade, cluster.dsn() + "?target_session_attrs=read-only")
