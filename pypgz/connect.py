"""Connection establishment shared by both facades: options, sockets, start-up packet.

Python opens the socket (name resolution, multi-host, unix sockets, keepalives are the
standard library's job); libpgz takes the connected, non-blocking socket and runs the
start-up and authentication exchange itself.
"""

from __future__ import annotations

import dataclasses
import pwd
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

from pypgz import errors
from pypgz.dsn import ConnectParams, Endpoint, parse_dsn

NO_TLS = "this version of pypgz does not support TLS yet"

# The authentication methods pypgz can answer; a require_auth that allows them all is moot.
AUTH_METHODS = frozenset({"none", "password", "md5", "scram-sha-256"})


@dataclass(frozen=True)
class Options:
    """Connection options that are pypgz's own rather than libpq's."""

    statement_cache_size: int = 100
    command_timeout: float | None = None


_OWN_OPTIONS = {"statement_cache_size", "command_timeout"}


def split_options(dsn: str | None, kwargs: dict[str, Any]) -> tuple[ConnectParams, Options]:
    """Separates pypgz's options from connection parameters and parses the latter."""
    own = {k: kwargs.pop(k) for k in list(kwargs) if k in _OWN_OPTIONS}
    if "timeout" in kwargs:  # asyncpg's name for the connect timeout
        kwargs.setdefault("connect_timeout", kwargs.pop("timeout"))
    params = parse_dsn(dsn, **kwargs)
    size = own.get("statement_cache_size", 100)
    if not isinstance(size, int) or size < 0:
        raise errors.DSNError(f"invalid statement_cache_size {size!r}: expected an integer >= 0")
    timeout = own.get("command_timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise errors.DSNError(f"invalid command_timeout {timeout!r}: expected a positive number of seconds")
    refuse_unsupported(params)
    if params.load_balance_hosts == "random" and len(params.endpoints) > 1:
        # libpq shuffles the hosts for each connection; so does this (connect() calls us each time).
        endpoints = list(params.endpoints)
        random.shuffle(endpoints)
        params = dataclasses.replace(params, endpoints=tuple(endpoints))
    return params, Options(statement_cache_size=size, command_timeout=float(timeout) if timeout else None)


def refuse_unsupported(params: ConnectParams) -> None:
    """Refuses settings this version cannot honour, where going on without them would be
    less secure or otherwise not what was asked for (they are valid libpq settings)."""
    if params.sslmode in ("require", "verify-ca", "verify-full"):
        raise errors.DSNError(
            f'sslmode "{params.sslmode}" is not supported: {NO_TLS} '
            '(sslmode "disable", "allow" and "prefer" connect without TLS)'
        )
    if params.channel_binding == "require":
        raise errors.DSNError(f'channel_binding "require" is not supported: channel binding needs TLS, and {NO_TLS}')
    if params.sslcertmode == "require":
        raise errors.DSNError(f'sslcertmode "require" is not supported: a client certificate needs TLS, and {NO_TLS}')
    if params.min_protocol_version != "3.0":
        raise errors.DSNError(
            f'min_protocol_version "{params.min_protocol_version}" is not supported: '
            "pypgz speaks protocol version 3.0"
        )
    if not _require_auth_is_moot(params.require_auth):
        raise errors.DSNError(
            f'require_auth "{",".join(params.require_auth)}" is not supported yet: pypgz cannot yet '
            "refuse an authentication method the server asks for (it answers trust, password, md5 "
            "and scram-sha-256)"
        )


def _require_auth_is_moot(methods: tuple[str, ...]) -> bool:
    """Whether ``require_auth`` allows every method pypgz may use, so it restricts nothing."""
    if not methods:
        return True
    if methods[0].startswith("!"):
        return not {m[1:] for m in methods} & AUTH_METHODS
    return AUTH_METHODS <= set(methods)


def startup_packet(params: ConnectParams) -> bytes:
    """The StartupMessage parameters: NUL-terminated keys and values."""
    items: dict[str, str] = {"user": params.user, "database": params.database}
    if params.application_name:
        items["application_name"] = params.application_name
    items.update(params.server_settings)
    # Text values libpgz copies into the text arena are UTF-8 by contract.
    items["client_encoding"] = "UTF8"
    items.setdefault("DateStyle", "ISO")
    out = bytearray()
    for k, v in items.items():
        if "\0" in k or "\0" in v:
            raise errors.DSNError(f"connection parameter {k!r} contains a NUL character")
        out += k.encode() + b"\0" + v.encode() + b"\0"
    return bytes(out)


def describe(ep: Endpoint) -> str:
    return f'socket "{ep.socket_path}"' if ep.is_unix else f'"{ep.host}" port {ep.port}'


def open_socket(ep: Endpoint, timeout: float | None, params: ConnectParams) -> socket.socket:
    """Connects a socket to one endpoint (blocking, bounded by ``timeout``); non-blocking on return."""
    try:
        if ep.is_unix:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(ep.socket_path)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((ep.address, ep.port), timeout=timeout)
            configure_tcp(sock, params)
    except OSError as e:
        reason = e.strerror or str(e) or type(e).__name__
        if isinstance(e, TimeoutError):
            reason = f"timeout expired after {timeout:g} s"
        raise errors.ConnectionFailedError(f"could not connect to server at {describe(ep)}: {reason}") from e
    if ep.is_unix and params.requirepeer is not None:
        try:
            check_peer(sock, ep, params.requirepeer)
        except BaseException:
            sock.close()
            raise
    sock.setblocking(False)
    return sock


def check_peer(sock: socket.socket, ep: Endpoint, required: str) -> None:
    """``requirepeer``: the server process on a unix socket runs as the user named."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    try:
        actual = pwd.getpwuid(uid).pw_name
    except KeyError:
        raise errors.ConnectionFailedError(
            f"could not connect to server at {describe(ep)}: requirepeer specifies "
            f'"{required}", but the server runs as user ID {uid}, which has no name'
        ) from None
    if actual != required:
        raise errors.ConnectionFailedError(
            f"could not connect to server at {describe(ep)}: requirepeer specifies "
            f'"{required}", but actual peer user name is "{actual}"'
        )


def configure_tcp(sock: socket.socket, params: ConnectParams) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if params.keepalives:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for opt, value in (
            ("TCP_KEEPIDLE", params.keepalives_idle),
            ("TCP_KEEPINTVL", params.keepalives_interval),
            ("TCP_KEEPCNT", params.keepalives_count),
        ):
            if value is not None and hasattr(socket, opt):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, opt), value)
    if params.tcp_user_timeout is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, params.tcp_user_timeout)


def session_matches(attrs: str, read_only: bool, standby: bool) -> bool:
    """Whether a server fits ``target_session_attrs``."""
    if attrs in ("any", "prefer-standby"):
        return True
    if attrs == "read-write":
        return not read_only
    if attrs == "read-only":
        return read_only
    if attrs == "primary":
        return not standby
    if attrs == "standby":
        return standby
    return True


def connect_failure(failures: list[BaseException]) -> errors.ConnectionFailedError:
    if len(failures) == 1 and isinstance(failures[0], errors.ConnectionFailedError):
        return failures[0]
    text = "; ".join(str(f) for f in failures)
    return errors.ConnectionFailedError(f"could not connect to any server: {text}")
