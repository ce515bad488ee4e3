"""What a connection can say about itself: the same for ``Conn`` and ``AsyncConn``.

Everything here reads state the core already holds (start-up results, ParameterStatus,
the transaction status of the last ReadyForQuery): no round trip, nothing to await.
"""

from __future__ import annotations

from typing import Callable

from pypgz import _native as N
from pypgz import errors
from pypgz.dsn import ConnectParams
from pypgz.session import Session


class ConnectionInfo:
    """Mixed into both facades; they set these attributes."""

    _session: Session
    _native: N.NativeConn
    _params: ConnectParams
    _closed: bool

    def is_closed(self) -> bool:
        return self._closed or self._session.closed

    def fileno(self) -> int:
        """The connection's socket (for readiness checks; do not read or write it)."""
        return self._native.fd()

    def get_server_pid(self) -> int:
        return self._native.backend_pid()

    @property
    def backend_pid(self) -> int:
        return self._native.backend_pid()

    def get_parameter(self, name: str) -> str | None:
        """A server parameter reported at start-up or on change (server_version, TimeZone, ...)."""
        if self._closed:
            return None
        return self._native.parameter(name)

    def get_parameters(self) -> dict[str, str]:
        if self._closed:
            return {}
        return self._native.parameters()

    def get_server_version(self) -> tuple[int, int]:
        """(major, minor) of the server, e.g. (18, 1)."""
        return version_tuple(self.get_parameter("server_version") or "0")

    @property
    def server_version(self) -> int:
        """The version as an integer like libpq's: 180001 for 18.1."""
        major, minor = self.get_server_version()
        return major * 10000 + minor

    @property
    def transaction_status(self) -> str:
        """"idle", "in_transaction", "in_error" (a failed transaction), or "closed"."""
        if self.is_closed():
            return "closed"
        return _STATUS.get(self._native.transaction_status(), "unknown")

    def is_in_transaction(self) -> bool:
        return self.transaction_status in ("in_transaction", "in_error")

    @property
    def params(self) -> ConnectParams:
        """The connection parameters this connection was made with (password hidden in repr)."""
        return self._params

    def add_notice_handler(self, handler: Callable[[errors.PostgresNotice], None]) -> None:
        """Calls ``handler`` with each NOTICE/WARNING the server sends (instead of logging it)."""
        self._session.notice_handlers.append(handler)

    def remove_notice_handler(self, handler: Callable[[errors.PostgresNotice], None]) -> None:
        self._session.notice_handlers.remove(handler)


_STATUS = {ord("I"): "idle", ord("T"): "in_transaction", ord("E"): "in_error"}


def version_tuple(text: str) -> tuple[int, int]:
    """(major, minor) from a server_version string such as "18.1" or "15.18 (Debian ...)"."""
    head = text.split()[0] if text else "0"
    digits = ["".join(ch for ch in p if ch.isdigit()) or "0" for p in head.split(".")]
    major = int(digits[0])
    minor = int(digits[1]) if len(digits) > 1 else 0
    return major, minor
