"""What pyro-postgres's sync and async adapters share.

pyro-postgres speaks only protocol 3.2, so it needs PostgreSQL 18. Its ``exec`` with
query text prepares a new named statement on every call (and keeps them all), so the
adapters prepare each statement once, explicitly, and run the prepared statement:
pyro's fast path, and what the other drivers' statement caches amount to.
"""

from __future__ import annotations

from pyro_postgres import Opts

from pypgz.bench.target import Target

MIN_SERVER = 180000
NEEDS = "requires PostgreSQL 18 (protocol 3.2)"


def unavailable(target: Target) -> str | None:
    if target.server_version_num < MIN_SERVER:
        return f"{NEEDS}; the server is {target.server_version}"
    return None


def options(target: Target) -> Opts:
    """The target as pyro options. Its TCP-to-unix-socket upgrade is turned off, so it
    uses the transport the other drivers use."""
    p = target.params
    ep = p.endpoints[0]
    opts = Opts().user(p.user).db(p.database).upgrade_to_unix_socket(False)
    opts = opts.socket(ep.socket_path) if ep.is_unix else opts.host(ep.address).port(ep.port)
    password = p.password_for(ep)
    if password is not None:
        opts = opts.password(password)
    return opts.ssl_mode(p.sslmode if p.sslmode in ("disable", "prefer", "require") else "require")
