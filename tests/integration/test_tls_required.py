"""A server that accepts TCP connections only over TLS, met by a pypgz without TLS.

Until pypgz speaks TLS, every sslmode that allows plaintext ("disable", "allow", "prefer",
the default) connects without it, as libpq does when a server refuses TLS. When the server
then rejects the connection for want of TLS, the error must say so, and name sslmode,
rather than pass on the server's bare "no pg_hba.conf entry ... no encryption".

Against real PostgreSQL 15 clusters with ``ssl = on`` (the embedded PostgreSQL 18 has no
OpenSSL): one whose pg_hba.conf has only ``hostssl`` lines for TCP, and the suite's
``tls_cluster``, whose TLS role has a ``hostssl`` line and then a ``host ... reject`` one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pypgz import errors
from pypgz.connect import server_offers_tls
from pypgz.dsn import Endpoint, parse_dsn
from pypgz.server import Cluster, ClusterError, supports_ssl, system_bin_dir


def _ssl_bin_dir() -> Path:
    try:
        bin_dir = system_bin_dir(15)
    except FileNotFoundError:
        pytest.skip("Debian's PostgreSQL 15 is not installed (it serves TLS; the embedded 18 cannot)")
    if not supports_ssl(bin_dir):
        pytest.skip(f"the PostgreSQL in {bin_dir} has no SSL support")
    return bin_dir


@pytest.fixture(scope="module")
def hostssl_cluster() -> Iterator[Cluster]:
    """A TLS server whose pg_hba.conf has only hostssl lines for TCP (unix socket: trust)."""
    with Cluster(_ssl_bin_dir(), tls=True, require_tls=True) as c:
        yield c


async def _connect(facade: str, dsn: str, **kw: Any) -> Any:
    from facades import open_facade

    return await open_facade(facade, dsn, **kw)


def _assert_says_tls_required(exc: BaseException, sslmode: str) -> None:
    text = str(exc)
    assert "the server requires TLS" in text
    assert "hostssl" in text
    assert "does not support TLS yet" in text
    assert f'sslmode "{sslmode}"' in text
    # The server's own error stays reachable, every field of it.
    cause = exc.__cause__
    assert isinstance(cause, errors.PostgresError)
    assert cause.sqlstate == "28000"
    assert cause.message in text
    assert "no encryption" in cause.message


def test_the_cluster_has_only_hostssl_lines_for_tcp(hostssl_cluster: Cluster) -> None:
    types = hostssl_cluster.psql("SELECT DISTINCT type FROM pg_hba_file_rules ORDER BY 1").split()
    assert types == ["hostssl", "local"]


def test_require_tls_needs_tls() -> None:
    with pytest.raises(ClusterError, match="tls=True"):
        Cluster(require_tls=True)


@pytest.mark.parametrize("sslmode", [None, "prefer", "allow", "disable"])
async def test_hostssl_only_server_says_tls_is_required(
    facade: str, hostssl_cluster: Cluster, sslmode: str | None
) -> None:
    dsn = hostssl_cluster.dsn()
    with pytest.raises(errors.ConnectionFailedError) as info:
        if sslmode is None:
            await _connect(facade, dsn)
        else:
            await _connect(facade, dsn, sslmode=sslmode)
    _assert_says_tls_required(info.value, sslmode or "prefer")
    assert "no pg_hba.conf entry" in str(info.value)
    if sslmode == "disable":
        assert 'sslmode "disable" forbids it' in str(info.value)
    else:
        assert "connected without it" in str(info.value)


async def test_a_password_is_not_echoed(facade: str, hostssl_cluster: Cluster) -> None:
    dsn = hostssl_cluster.dsn(Cluster.SCRAM_USER, password=Cluster.TEST_PASSWORD)
    with pytest.raises(errors.ConnectionFailedError) as info:
        await _connect(facade, dsn)
    _assert_says_tls_required(info.value, "prefer")
    assert Cluster.TEST_PASSWORD not in str(info.value)


async def test_reject_line_for_plaintext_says_tls_is_required(facade: str, tls_cluster: Cluster) -> None:
    """``hostssl ... pgz_tls ...`` then ``host ... pgz_tls ... reject``: the server's message is
    "pg_hba.conf rejects connection ..., no encryption"."""
    dsn = tls_cluster.dsn(Cluster.TLS_USER, password=Cluster.TEST_PASSWORD)
    with pytest.raises(errors.ConnectionFailedError) as info:
        await _connect(facade, dsn)
    _assert_says_tls_required(info.value, "prefer")
    assert "pg_hba.conf rejects connection" in str(info.value)


async def test_sslmode_that_needs_tls_is_refused_before_connecting(facade: str, hostssl_cluster: Cluster) -> None:
    for mode in ("require", "verify-ca", "verify-full"):
        with pytest.raises(errors.DSNError) as info:
            await _connect(facade, hostssl_cluster.dsn(), sslmode=mode)
        text = str(info.value)
        assert f'sslmode "{mode}" is not supported' in text
        assert "does not support TLS yet" in text


async def test_next_host_is_tried_after_a_tls_refusal(
    facade: str, hostssl_cluster: Cluster, cluster: Cluster
) -> None:
    """As libpq does: a server that refuses the connection is one failed host of the list."""
    dsn = f"postgresql://postgres@127.0.0.1:{hostssl_cluster.port},127.0.0.1:{cluster.port}/postgres"
    conn = await _connect(facade, dsn)
    try:
        assert await conn.fetchval("SHOW port") == str(cluster.port)
    finally:
        await conn.close()


async def test_unix_socket_to_the_same_server_still_connects(facade: str, hostssl_cluster: Cluster) -> None:
    conn = await _connect(facade, hostssl_cluster.dsn(unix=True))
    try:
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is False
    finally:
        await conn.close()


async def test_other_startup_errors_are_the_servers_own(facade: str, tls_cluster: Cluster) -> None:
    """A 28000 that is not pg_hba.conf's (an unknown role) is passed on as the server sent it."""
    with pytest.raises(errors.PostgresError) as info:
        await _connect(facade, tls_cluster.dsn("pgz_no_such_role"))
    assert not isinstance(info.value, errors.ConnectionFailedError)
    assert info.value.sqlstate == "28000"
    assert "TLS" not in str(info.value)


def test_probe_tells_a_tls_server_from_one_without(hostssl_cluster: Cluster, cluster: Cluster) -> None:
    params = parse_dsn()
    assert server_offers_tls(Endpoint(hostssl_cluster.host, hostssl_cluster.port), params) is True
    assert cluster.psql("SHOW ssl") == "off"
    assert server_offers_tls(Endpoint(cluster.host, cluster.port), params) is False
