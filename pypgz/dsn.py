"""Connection parameters, parsed the way libpq users expect.

``parse_dsn(dsn, **overrides)`` accepts a URL (``postgresql://`` or ``postgres://``), a
libpq ``key=value`` string, or nothing, and returns a validated :class:`ConnectParams`.
Each setting comes from the first of: keyword arguments, the DSN, the ``PG*`` environment
variables, the defaults.  Unknown parameters become ``server_settings`` (startup
parameters sent to the server), as in asyncpg; libpq keywords pypgz has no use for are
accepted and ignored.  Errors are :class:`~pypgz.errors.DSNError` and name the bad part,
never the password.
"""

from __future__ import annotations

import getpass
import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field

from pypgz.errors import DSNError

__all__ = ["ConnectParams", "Endpoint", "parse_dsn", "lookup_passfile", "DEFAULT_PORT"]

DEFAULT_PORT = 5432
# libpq's compiled-in socket directory on Debian, then the upstream default.
DEFAULT_SOCKET_DIR = "/var/run/postgresql"
FALLBACK_SOCKET_DIR = "/tmp"

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
LOAD_BALANCE_HOSTS = ("disable", "random")
CHANNEL_BINDING = ("disable", "prefer", "require")
SSL_NEGOTIATION = ("postgres", "direct")
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
AUTH_METHODS = ("password", "md5", "gss", "sspi", "scram-sha-256", "none")

# libpq keywords pypgz uses, with the environment variable that supplies each.
KEYWORDS: Mapping[str, str | None] = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "dbname": "PGDATABASE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "fallback_application_name": None,
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": None,  # PGCLIENTENCODING is ignored: pypgz always uses UTF8
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": None,
    "sslcrl": "PGSSLCRL",
    "sslsni": "PGSSLSNI",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "channel_binding": "PGCHANNELBINDING",
    "require_auth": "PGREQUIREAUTH",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "keepalives": None,
    "keepalives_idle": None,
    "keepalives_interval": None,
    "keepalives_count": None,
    "tcp_user_timeout": None,
    "gssencmode": None,
    "replication": None,
}

# libpq keywords that pypgz accepts and ignores (no GSSAPI/Kerberos, no peer check).
IGNORED_KEYWORDS = frozenset(
    {
        "gsslib",
        "gssdelegation",
        "krbsrvname",
        "requirepeer",
        "sslcompression",
        "sslcertmode",
        "sslcrldir",
    }
)

# Other spellings accepted for a keyword.
ALIASES: Mapping[str, str] = {"database": "dbname"}

# Keywords whose keyword-argument value may be an int (or a bool, for the flags).
INT_KEYWORDS = frozenset(
    {
        "port",
        "connect_timeout",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)
FLAG_KEYWORDS = frozenset({"sslsni", "keepalives", "replication"})
PATH_KEYWORDS = frozenset({"passfile", "sslrootcert", "sslcert", "sslkey", "sslcrl"})

# Settings that hold secrets: never shown in a repr or an error message.
SECRET_KEYWORDS = frozenset({"password", "sslpassword"})


@dataclass(frozen=True)
class Endpoint:
    """One server to try: a host name, IP address or unix-socket directory, and a port."""

    host: str  # hostname, IP, or a unix-socket directory ("/..." or "@..." for abstract)
    port: int
    hostaddr: str | None = None  # numeric address to connect to instead of resolving host

    @property
    def is_unix(self) -> bool:
        return self.host.startswith(("/", "@"))

    @property
    def socket_path(self) -> str:
        """The socket file of a unix endpoint (``@`` means Linux's abstract namespace)."""
        if not self.is_unix:
            raise ValueError(f"{self.host!r} is not a unix-socket directory")
        return f"{self.host.rstrip('/')}/.s.PGSQL.{self.port}"

    @property
    def address(self) -> str:
        """What to connect to: ``hostaddr`` when given, else ``host``."""
        return self.hostaddr or self.host


@dataclass(frozen=True, kw_only=True)
class ConnectParams:
    """Validated connection parameters.  ``password`` is the one given explicitly."""

    endpoints: tuple[Endpoint, ...]
    user: str
    password: str | None = field(repr=False)
    database: str
    application_name: str | None = None
    connect_timeout: float | None = None
    server_settings: dict[str, str] = field(default_factory=dict)
    sslmode: str = "prefer"
    target_session_attrs: str = "any"
    passfile: str | None = None  # as given; None means ~/.pgpass
    sslrootcert: str | None = None
    sslcert: str | None = None
    sslkey: str | None = None
    sslpassword: str | None = field(default=None, repr=False)
    sslcrl: str | None = None
    sslsni: bool = True
    sslnegotiation: str = "postgres"
    ssl_min_protocol_version: str = "TLSv1.2"
    ssl_max_protocol_version: str | None = None
    channel_binding: str = "prefer"
    require_auth: tuple[str, ...] = ()  # e.g. ("scram-sha-256",) or ("!password",)
    load_balance_hosts: str = "disable"
    keepalives: bool = True
    keepalives_idle: int | None = None  # seconds; None = the OS default
    keepalives_interval: int | None = None
    keepalives_count: int | None = None
    tcp_user_timeout: int | None = None  # milliseconds

    def password_for(self, endpoint: Endpoint) -> str | None:
        """The explicit password, else the password file's entry for this endpoint."""
        if self.password is not None:
            return self.password
        path = self.passfile or os.path.join(os.path.expanduser("~"), ".pgpass")
        return lookup_passfile(path, endpoint, self.database, self.user)


# --------------------------------------------------------------------------- entry point


def parse_dsn(dsn: str | None = None, **overrides: object) -> ConnectParams:
    """Parse a DSN, apply keyword overrides, the environment and the defaults."""
    dsn_opts, dsn_settings = _parse_dsn_text(dsn or "")
    kw_opts, kw_settings = _parse_overrides(overrides)
    env_opts = _from_environment()
    opts = {**env_opts, **dsn_opts, **kw_opts}
    # Where each option came from, so an error can point there.
    origins = {k: f"environment variable {KEYWORDS[k]}" for k in env_opts}
    origins.update({k: "connection string" for k in dsn_opts})
    origins.update({k: f'argument "{k}"' for k in kw_opts})
    settings: dict[str, str] = {}
    if "options" in opts:
        settings["options"] = opts["options"]
    settings.update(dsn_settings)
    settings.update(kw_settings)
    return _build(opts, settings, origins)


def _parse_dsn_text(dsn: str) -> tuple[dict[str, str], dict[str, str]]:
    """(known options, server settings) from a DSN string; empty values dropped."""
    text = dsn.strip()
    if _is_url(text):
        pairs = _parse_url(text)
    else:
        pairs = _parse_keyvalue(text)
    return _sort_pairs(pairs, "connection string")


def _is_url(text: str) -> bool:
    scheme, sep, _ = text.partition("://")
    if not sep or re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) is None:
        return False
    if scheme.lower() not in ("postgresql", "postgres"):
        raise DSNError(f'unsupported URL scheme "{scheme}"')
    return True


def _sort_pairs(
    pairs: list[tuple[str, str]], source: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Split (key, value) pairs into libpq options and server settings; later keys win."""
    opts: dict[str, str] = {}
    settings: dict[str, str] = {}
    for key, value in pairs:
        if key == "":
            raise DSNError(f"invalid {source}: empty parameter name")
        key = ALIASES.get(key, key)
        if key in IGNORED_KEYWORDS:
            continue
        if key == "service":
            raise DSNError(f"invalid {source}: service files (service=...) are not supported")
        target = opts if key in KEYWORDS else settings
        if value == "":
            target.pop(key, None)  # an empty value means "not set", as in libpq
        else:
            target[key] = value
    return opts, settings


# --------------------------------------------------------------------------- URL form


def _parse_url(url: str) -> list[tuple[str, str]]:
    rest = url.partition("://")[2]
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    pairs: list[tuple[str, str]] = []
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        pairs.extend(_parse_userinfo(userinfo))
    elif "@" in path:
        raise DSNError(_UNENCODED_USERINFO)
    pairs.extend(_parse_hostlist(netloc, "@" in query))
    if slash and path:
        pairs.append(("dbname", _pct_decode(path, "database name")))
    if query:
        pairs.extend(_parse_query(query))
    return pairs


_UNENCODED_USERINFO = (
    "invalid connection string: unexpected characters before \"@\"; percent-encode "
    "\"@\", \"/\", \"?\" and \":\" in the user name and password (e.g. %40 for @)"
)


def _parse_userinfo(userinfo: str) -> list[tuple[str, str]]:
    user, colon, password = userinfo.partition(":")
    pairs = [("user", _pct_decode(user, "user name"))]
    if colon:
        pairs.append(("password", _pct_decode(password, "password")))
    return pairs


def _parse_hostlist(netloc: str, at_in_query: bool) -> list[tuple[str, str]]:
    """``host1:5432,[::1]:5433,%2Ftmp`` -> host and port lists (empty entries = default)."""
    if not netloc:
        return []
    hosts: list[str] = []
    ports: list[str] = []
    for item in netloc.split(","):
        host, port = _split_hostport(item)
        if port and not _is_decimal(port) and at_in_query:
            # Most likely a password with a raw "?" in it: do not echo any of it.
            raise DSNError(_UNENCODED_USERINFO)
        hosts.append(_pct_decode(host, "host"))
        ports.append(_pct_decode(port, "port"))
    pairs = []
    if any(hosts):
        pairs.append(("host", ",".join(hosts)))
    if any(ports):
        pairs.append(("port", ",".join(ports)))
    return pairs


def _split_hostport(item: str) -> tuple[str, str]:
    if item.startswith("["):
        end = item.find("]")
        if end < 0:
            raise DSNError(f'invalid connection string: missing "]" in IPv6 host "{item}"')
        host, after = item[1:end], item[end + 1 :]
        if after and not after.startswith(":"):
            raise DSNError(f'invalid connection string: unexpected "{after}" after IPv6 host')
        return host, after[1:]
    host, _, port = item.partition(":")
    return host, port


def _parse_query(query: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        key, eq, value = item.partition("=")
        name = _pct_decode(key, "URL query parameter name")
        if not eq:
            raise DSNError(f'invalid URL query parameter "{name}": missing "="')
        decoded = _pct_decode(value, f'URL query parameter "{name}"')
        if name == "ssl" and decoded == "true":
            pairs.append(("sslmode", "require"))  # JDBC spelling, accepted by libpq too
        else:
            pairs.append((name, decoded))
    return pairs


def _pct_decode(text: str, what: str) -> str:
    """Strict percent-decoding (as libpq: a bad or NUL escape is an error; "+" stays)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "%":
            out += c.encode()
            i += 1
            continue
        digits = text[i + 1 : i + 3]
        if len(digits) != 2 or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise DSNError(f"invalid percent-encoded token in {what}")
        if digits == "00":
            raise DSNError(f"forbidden value %00 in percent-encoded {what}")
        out.append(int(digits, 16))
        i += 3
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise DSNError(f"invalid UTF-8 in percent-encoded {what}") from None


# --------------------------------------------------------------------------- key=value form


def _parse_keyvalue(text: str) -> list[tuple[str, str]]:
    """libpq conninfo: ``key = value key2='quoted \\' value'``."""
    pairs: list[tuple[str, str]] = []
    pos = _skip_space(text, 0)
    while pos < len(text):
        key, pos = _read_key(text, pos)
        value, pos = _read_value(text, pos, key)
        pairs.append((key, value))
        pos = _skip_space(text, pos)
    return pairs


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _read_key(text: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(text) and text[pos] != "=" and not text[pos].isspace():
        pos += 1
    key = text[start:pos]
    pos = _skip_space(text, pos)
    if pos >= len(text) or text[pos] != "=":
        raise DSNError(f'invalid connection string: missing "=" after "{key}" in key=value form')
    return key, _skip_space(text, pos + 1)


def _read_value(text: str, pos: int, key: str) -> tuple[str, int]:
    """A value, quoted or not; a backslash takes the next character literally."""
    quoted = pos < len(text) and text[pos] == "'"
    if quoted:
        pos += 1
    chars: list[str] = []
    while pos < len(text):
        c = text[pos]
        if c == "\\" and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
            continue
        if (quoted and c == "'") or (not quoted and c.isspace()):
            break
        chars.append(c)
        pos += 1
    if quoted:
        if pos >= len(text):
            raise DSNError(f'unterminated quoted string in connection string (value of "{key}")')
        pos += 1
    return "".join(chars), pos


# --------------------------------------------------------------------------- overrides, env


def _parse_overrides(overrides: Mapping[str, object]) -> tuple[dict[str, str], dict[str, str]]:
    """Keyword arguments as libpq option strings, plus the ``server_settings`` mapping."""
    opts: dict[str, str] = {}
    settings: dict[str, str] = {}
    for name, value in overrides.items():
        if value is None:
            continue  # lets callers pass their own optional arguments straight through
        if name == "server_settings":
            settings = _settings_argument(value)
            continue
        key = ALIASES.get(name, name)
        if key not in KEYWORDS and key not in IGNORED_KEYWORDS:
            raise DSNError(f'unknown connection argument "{name}"')
        if key in IGNORED_KEYWORDS:
            continue
        text = _argument_text(name, value)
        if text != "":
            opts[key] = text
    return opts, settings


def _argument_text(name: str, value: object) -> str:
    key = ALIASES.get(name, name)
    if key in ("host", "hostaddr", "port") and isinstance(value, (list, tuple)):
        return ",".join(_argument_text(name, v) for v in value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        if key in FLAG_KEYWORDS:
            return "1" if value else "0"
    elif isinstance(value, int) and key in INT_KEYWORDS | FLAG_KEYWORDS:
        return str(value)
    elif isinstance(value, float) and key == "connect_timeout":
        return repr(value)
    elif isinstance(value, os.PathLike) and key in PATH_KEYWORDS:
        path = os.fspath(value)
        if isinstance(path, str):
            return path
    shown = "" if name in SECRET_KEYWORDS else f" {value!r}"
    raise DSNError(f'invalid type {type(value).__name__}{shown} for connection argument "{name}"')


def _settings_argument(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise DSNError('connection argument "server_settings" must be a mapping of str to str')
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise DSNError(f'server_settings entry {k!r} must map a str to a str')
        out[k] = v
    return out


def _from_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for key, var in KEYWORDS.items():
        if var is not None and os.environ.get(var):
            env[key] = os.environ[var]
    return env


# --------------------------------------------------------------------------- validation


def _build(
    opts: Mapping[str, str], settings: dict[str, str], origins: Mapping[str, str]
) -> ConnectParams:
    _check_unsupported(opts)
    user = opts.get("user") or _os_user()
    sslmode = _sslmode(opts)
    return ConnectParams(
        endpoints=_endpoints(opts, origins),
        user=user,
        password=opts.get("password"),
        database=opts.get("dbname") or user,
        application_name=opts.get("application_name") or opts.get("fallback_application_name"),
        connect_timeout=_connect_timeout(opts.get("connect_timeout")),
        server_settings=settings,
        sslmode=sslmode,
        target_session_attrs=_choice(opts, "target_session_attrs", TARGET_SESSION_ATTRS, "any"),
        passfile=opts.get("passfile"),
        sslrootcert=opts.get("sslrootcert"),
        sslcert=opts.get("sslcert"),
        sslkey=opts.get("sslkey"),
        sslpassword=opts.get("sslpassword"),
        sslcrl=opts.get("sslcrl"),
        sslsni=_flag(opts, "sslsni", True),
        sslnegotiation=_choice(opts, "sslnegotiation", SSL_NEGOTIATION, "postgres"),
        ssl_min_protocol_version=_tls_version(opts, "ssl_min_protocol_version") or "TLSv1.2",
        ssl_max_protocol_version=_tls_version(opts, "ssl_max_protocol_version"),
        channel_binding=_choice(opts, "channel_binding", CHANNEL_BINDING, "prefer"),
        require_auth=_require_auth(opts.get("require_auth")),
        load_balance_hosts=_choice(opts, "load_balance_hosts", LOAD_BALANCE_HOSTS, "disable"),
        keepalives=_flag(opts, "keepalives", True),
        keepalives_idle=_nonneg_int(opts, "keepalives_idle"),
        keepalives_interval=_nonneg_int(opts, "keepalives_interval"),
        keepalives_count=_nonneg_int(opts, "keepalives_count"),
        tcp_user_timeout=_nonneg_int(opts, "tcp_user_timeout"),
    )


def _check_unsupported(opts: Mapping[str, str]) -> None:
    """Refuse settings whose silent omission would change what the user asked for."""
    if opts.get("gssencmode") == "require":
        raise DSNError('gssencmode "require" is not supported: pypgz has no GSSAPI encryption')
    encoding = opts.get("client_encoding")
    if encoding is not None and encoding.replace("-", "").replace("_", "").upper() not in (
        "UTF8",
        "UNICODE",
        "AUTO",
    ):
        raise DSNError(f'unsupported client_encoding "{encoding}": pypgz always uses UTF8')
    replication = opts.get("replication")
    if replication is not None and replication.lower() not in ("0", "off", "false", "no"):
        raise DSNError(f'replication "{replication}" is not supported')


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise DSNError("could not determine the operating-system user name; pass user=") from None


def _sslmode(opts: Mapping[str, str]) -> str:
    given = opts.get("sslmode")
    if given is None and opts.get("sslrootcert") == "system":
        return "verify-full"  # libpq: sslrootcert=system implies full verification
    mode = _choice(opts, "sslmode", SSLMODES, "prefer")
    if opts.get("sslrootcert") == "system" and mode != "verify-full":
        raise DSNError(
            f'weak sslmode "{mode}" may not be used with sslrootcert=system (use "verify-full")'
        )
    return mode


def _choice(opts: Mapping[str, str], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = opts.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise DSNError(f'invalid {key} "{value}" (expected one of: {", ".join(allowed)})')
    return value


def _flag(opts: Mapping[str, str], key: str, default: bool) -> bool:
    value = opts.get(key)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "on", "true", "yes"):
        return True
    if lowered in ("0", "off", "false", "no"):
        return False
    raise DSNError(f'invalid {key} "{value}" (expected 0 or 1)')


def _nonneg_int(opts: Mapping[str, str], key: str) -> int | None:
    value = opts.get(key)
    if value is None:
        return None
    if not _is_decimal(value.strip()):
        raise DSNError(f'invalid {key} "{value}" (expected a non-negative integer)')
    return int(value)


def _tls_version(opts: Mapping[str, str], key: str) -> str | None:
    value = opts.get(key)
    if value is None:
        return None
    for version in TLS_VERSIONS:
        if value.lower() == version.lower():
            return version
    raise DSNError(f'invalid {key} "{value}" (expected one of: {", ".join(TLS_VERSIONS)})')


def _require_auth(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    methods = tuple(m.strip() for m in value.split(","))
    negated = {m.startswith("!") for m in methods}
    for method in methods:
        if method.removeprefix("!") not in AUTH_METHODS:
            raise DSNError(f'invalid require_auth method "{method}"')
    if len(negated) > 1:
        raise DSNError(f'invalid require_auth "{value}": cannot mix negated and plain methods')
    return methods


def _connect_timeout(value: str | None) -> float | None:
    """Seconds; like libpq, 0 or less means none and anything under 2 means 2."""
    if value is None:
        return None
    bad = DSNError(f'invalid connect_timeout "{value}" (expected a number of seconds)')
    try:
        seconds = float(value)
    except ValueError:
        raise bad from None
    if not math.isfinite(seconds):
        raise bad
    if seconds <= 0:
        return None
    return max(seconds, 2.0)


# --------------------------------------------------------------------------- endpoints


def _endpoints(opts: Mapping[str, str], origins: Mapping[str, str]) -> tuple[Endpoint, ...]:
    """Pair the host, hostaddr and port lists into endpoints (libpq's matching rules)."""
    hosts = _split_list(opts.get("host"))
    addrs = _split_list(opts.get("hostaddr"))
    where = origins.get("port", "connection string")
    ports = [_port(p, where) for p in _split_list(opts.get("port"))] or [DEFAULT_PORT]
    if addrs and hosts and len(addrs) != len(hosts):
        raise DSNError(f"could not match {len(hosts)} host names to {len(addrs)} hostaddr values")
    count = max(len(hosts), len(addrs), 1)
    if len(ports) == 1:
        ports = ports * count
    elif len(ports) != count:
        raise DSNError(f"could not match {len(ports)} port numbers to {count} hosts")
    endpoints = []
    for i in range(count):
        host = hosts[i] if hosts else ""
        addr = (addrs[i] if addrs else "") or None
        endpoints.append(Endpoint(host or addr or _default_host(ports[i]), ports[i], addr))
    return tuple(endpoints)


def _split_list(value: str | None) -> list[str]:
    return [] if value is None else [item.strip() for item in value.split(",")]


def _port(text: str, where: str) -> int:
    if text == "":
        return DEFAULT_PORT  # an empty list entry means the default, as in libpq
    if not _is_decimal(text) or not 1 <= int(text) <= 65535:
        raise DSNError(f'invalid port "{text}" in {where}')
    return int(text)


def _is_decimal(text: str) -> bool:
    return re.fullmatch(r"[0-9]+", text) is not None


def _default_host(port: int) -> str:
    """libpq's default: the compiled-in socket directory; here the first that is in use."""
    if os.path.isdir(DEFAULT_SOCKET_DIR):
        return DEFAULT_SOCKET_DIR
    if os.path.exists(os.path.join(FALLBACK_SOCKET_DIR, f".s.PGSQL.{port}")):
        return FALLBACK_SOCKET_DIR
    return "localhost"


# --------------------------------------------------------------------------- password file


def lookup_passfile(path: str, endpoint: Endpoint, database: str, user: str) -> str | None:
    """The password of the first matching ``host:port:database:user:password`` line.

    As libpq does, a file readable by group or others (or not a regular file) is ignored,
    and a unix-socket endpoint matches the host ``localhost``.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return None
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    host = "localhost" if endpoint.is_unix else endpoint.host
    wanted = (host, str(endpoint.port), database, user)
    for line in lines:
        entry = _passfile_entry(line)
        if entry is not None and _passfile_matches(entry[0], wanted):
            return entry[1]
    return None


# One field of a passfile line: its text, and whether it was an unescaped "*".
_Field = tuple[str, bool]


def _passfile_entry(line: str) -> tuple[list[_Field], str] | None:
    """Four match fields and the password, or None for a comment or malformed line."""
    if not line or line.startswith("#"):
        return None
    fields: list[_Field] = []
    chars: list[str] = []
    escaped_any = False
    pos = 0
    while pos < len(line) and len(fields) < 4:
        c = line[pos]
        if c == "\\" and pos + 1 < len(line):
            chars.append(line[pos + 1])
            escaped_any = True
            pos += 2
            continue
        if c == ":":
            text = "".join(chars)
            fields.append((text, text == "*" and not escaped_any))
            chars, escaped_any = [], False
        else:
            chars.append(c)
        pos += 1
    if len(fields) < 4:
        return None
    return fields, _unescape(line[pos:])


def _unescape(text: str) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "\\" and pos + 1 < len(text):
            pos += 1
        out.append(text[pos])
        pos += 1
    return "".join(out)


def _passfile_matches(fields: list[_Field], wanted: tuple[str, str, str, str]) -> bool:
    return all(star or text == want for (text, star), want in zip(fields, wanted))
