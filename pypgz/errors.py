"""The exceptions pypgz raises.

``Error`` is the root of everything pypgz raises on purpose.  Errors the server reports
are ``PostgresError`` subclasses, one class per SQLSTATE (generated into
``pypgz/_errcodes.py`` from PostgreSQL's ``errcodes.txt`` by ``tools/gen_errcodes.py``),
each nested under the class of its SQLSTATE category.  Errors found on the client side
(a malformed DSN, a value that cannot be encoded, a closed connection) are
``InterfaceError`` subclasses.
"""

from __future__ import annotations

from typing import ClassVar, Mapping


class Error(Exception):
    """Root of every exception pypgz raises."""


class InterfaceError(Error):
    """A client-side error: misuse of the API or of a connection."""


class DSNError(InterfaceError, ValueError):
    """A connection string or connection argument is malformed; the message names the bad part."""


class ConnectionClosedError(InterfaceError):
    """The connection is closed (by the user, or because it was lost) and cannot run queries."""


class ConnectionFailedError(Error, OSError):
    """No connection could be established (refused, unreachable, timed out, server gone)."""


class ConnectionLostError(Error, ConnectionError):
    """The server went away while an operation was running; the connection is now closed."""


class ProtocolError(InterfaceError):
    """The server sent bytes that do not follow the PostgreSQL protocol; the connection is closed."""


class EncodeError(InterfaceError, ValueError):
    """A query argument could not be encoded for its parameter type."""


class DecodeError(InterfaceError, ValueError):
    """A result value could not be represented as a Python value."""


class QueryTimeoutError(Error, TimeoutError):
    """A query ran past its timeout; it was cancelled on the server."""


class QueryCanceledByClientError(Error):
    """A query was cancelled by the caller (``Conn.cancel()``); the connection stays usable."""


# Field codes of ErrorResponse/NoticeResponse, mapped to attribute names.
FIELD_NAMES: Mapping[str, str] = {
    "S": "severity",
    "V": "severity_nonlocalized",
    "C": "sqlstate",
    "M": "message",
    "D": "detail",
    "H": "hint",
    "P": "position",
    "p": "internal_position",
    "q": "internal_query",
    "W": "where",
    "s": "schema_name",
    "t": "table_name",
    "c": "column_name",
    "d": "data_type_name",
    "n": "constraint_name",
    "F": "server_source_filename",
    "L": "server_source_line",
    "R": "server_source_function",
}


class PostgresError(Error):
    """An error reported by the server, carrying every field the server sent.

    Subclasses exist for each SQLSTATE; ``PostgresError.for_sqlstate(code)`` finds one.
    """

    sqlstate_code: ClassVar[str | None] = None
    client_hint: str | None = None
    _registry: ClassVar[dict[str, type[PostgresError]]] = {}

    severity: str | None
    severity_nonlocalized: str | None
    sqlstate: str
    message: str
    detail: str | None
    hint: str | None
    position: str | None
    internal_position: str | None
    internal_query: str | None
    where: str | None
    schema_name: str | None
    table_name: str | None
    column_name: str | None
    data_type_name: str | None
    constraint_name: str | None
    server_source_filename: str | None
    server_source_line: str | None
    server_source_function: str | None

    def __init__(self, fields: Mapping[str, str]) -> None:
        for code, attr in FIELD_NAMES.items():
            setattr(self, attr, fields.get(code))
        self.sqlstate = fields.get("C") or (self.sqlstate_code or "XX000")
        self.message = fields.get("M") or ""
        self.fields: dict[str, str] = dict(fields)
        super().__init__(self._format())

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.sqlstate_code is not None:
            PostgresError._registry[cls.sqlstate_code] = cls

    def _format(self) -> str:
        text = self.message
        if self.detail:
            text += f"\nDETAIL:  {self.detail}"
        if self.hint:
            text += f"\nHINT:  {self.hint}"
        if self.client_hint:
            text += f"\nHINT (pypgz):  {self.client_hint}"
        return text

    def add_client_hint(self, text: str) -> None:
        """Adds pypgz's own advice to the message, apart from the fields the server sent."""
        self.client_hint = text
        self.args = (self._format(),)

    def as_dict(self) -> dict[str, str | None]:
        """Every field, by attribute name."""
        return {attr: getattr(self, attr) for attr in FIELD_NAMES.values()}

    @classmethod
    def for_sqlstate(cls, sqlstate: str) -> type[PostgresError]:
        """The most specific class for a SQLSTATE: its own, else its category's, else this one."""
        reg = PostgresError._registry
        found = reg.get(sqlstate) or reg.get(sqlstate[:2] + "000")
        return found if found is not None else PostgresError

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> PostgresError:
        return cls.for_sqlstate(fields.get("C", "XX000"))(fields)


class PostgresNotice:
    """A NoticeResponse (NOTICE, WARNING, INFO, ...): the same fields as an error."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields: dict[str, str] = dict(fields)
        self.severity: str = fields.get("S", "NOTICE")
        self.sqlstate: str = fields.get("C", "00000")
        self.message: str = fields.get("M", "")
        self.detail: str | None = fields.get("D")
        self.hint: str | None = fields.get("H")

    def __repr__(self) -> str:
        return f"<PostgresNotice {self.severity} {self.sqlstate}: {self.message}>"


class PostgresWarning(Warning):
    """A NOTICE or WARNING the server sent, when surfaced through ``warnings``."""


# ---- pools (pypgz/pool.py, pypgz/apool.py) -------------------------------------------------

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from pypgz.pool_common import PoolStats


class PoolTimeoutError(Error, TimeoutError):
    """No pool connection became available within the acquire timeout. ``stats`` holds the
    pool's ``PoolStats`` at that moment; ``__cause__`` is the last failed attempt to open a
    connection when the pool could not open one (the server is down, say)."""

    stats: PoolStats | None = None


class PoolClosedError(InterfaceError):
    """The pool is closed (or closing): it lends no more connections."""


class PoolOptionError(InterfaceError, ValueError):
    """A pool argument is invalid (min_size greater than max_size, a negative lifetime, ...)."""


from pypgz._errcodes import *  # noqa: E402,F401,F403  (the generated SQLSTATE classes)
