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


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("?uzer=x", 'invalid URI query parameter: "uzer"'),
        ("?key=key=value", 'extra key/value separator "=" in URI query parameter: "key"'),
        ("?search_path=public", 'invalid URI query parameter: "search_path"'),
    ],
)
async def test_unknown_uri_parameter_is_refused_before_connecting(
    facade: str, cluster: Cluster, suffix: str, expected: str
) -> None:
    """As libpq does, before any connection is made (a DSNError, not the server's error):
    sent to the server as a setting, a typo is a server error at best, and a setting the
    user never meant at worst."""
    with pytest.raises(errors.DSNError) as info:
        await _connect(facade, cluster.dsn() + suffix)
    assert str(info.value).startswith(expected)


async def test_unknown_keyvalue_keyword_is_refused(facade: str, cluster: Cluster) -> None:
    with pytest.raises(errors.DSNError, match='invalid connection option "uzer"'):
        await _connect(facade, f"host=127.0.0.1 port={cluster.port} uzer=postgres")


async def test_empty_ipv6_host_is_refused(facade: str) -> None:
    with pytest.raises(errors.DSNError, match="IPv6 host address may not be empty"):
        await _connect(facade, "postgres://[]")


async def test_pypgz_options_beside_a_dsn_with_options(facade: str, cluster: Cluster) -> None:
    conn = await _connect(
        facade, cluster.dsn() + "?options=-c%20geqo%3Doff", statement_cache_size=0, command_timeout=30,
        server_settings={"work_mem": "5MB"},
    )
    try:
        assert await conn.fetchrow("SELECT current_setting('geqo'), current_setting('work_mem')") == ("off", "5MB")
    finally:
        await conn.close()


def test_tcp_user_timeout_and_keepalives_are_set_on_the_socket(cluster: Cluster) -> None:
    """The socket both facades hand to libpgz (open_socket) carries the libpq TCP settings."""
    import socket

    from pypgz.connect import open_socket
    from pypgz.dsn import parse_dsn

    params = parse_dsn(cluster.dsn() + "?tcp_user_timeout=12345&keepalives_idle=17&keepalives_count=4")
    sock = open_socket(params.endpoints[0], 5.0, params)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 12345
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 17
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 4
    finally:
        sock.close()


def _server_os_user(cluster: Cluster) -> str:
    import pwd

    return pwd.getpwuid(os.stat(cluster.data_dir / "postmaster.pid").st_uid).pw_name


async def test_requirepeer_checks_the_servers_os_user(facade: str, cluster: Cluster) -> None:
    """libpq's requirepeer: on a unix socket, the server process must run as that user."""
    owner = _server_os_user(cluster)
    conn = await _connect(facade, cluster.dsn(unix=True) + f"&requirepeer={owner}")
    assert await conn.fetchval("SELECT 1") == 1
    await conn.close()
    with pytest.raises(errors.ConnectionFailedError) as info:
        await _connect(facade, cluster.dsn(unix=True) + "&requirepeer=pgz_not_the_server")
    assert f'requirepeer specifies "pgz_not_the_server", but actual peer user name is "{owner}"' in str(info.value)
    # Over TCP there is no peer to check, as in libpq.
    conn = await _connect(facade, cluster.dsn() + "?requirepeer=pgz_not_the_server")
    await conn.close()
