"""Connection establishment shared by both facades: options, sockets, start-up packet.

Python opens the socket (name resolution, multi-host, unix sockets, keepalives are the
standard library's job); libpgz takes the connected, non-blocking socket and runs the
start-up and authentication exchange itself.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from pypgz import errors
from pypgz.dsn import ConnectParams, Endpoint, parse_dsn


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
    if params.sslmode in ("require", "verify-ca", "verify-full"):
        raise errors.DSNError(f'sslmode "{params.sslmode}" needs TLS, which this version of pypgz does not support yet')
    return params, Options(statement_cache_size=size, command_timeout=float(timeout) if timeout else None)


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
    sock.setblocking(False)
    return sock


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
