"""Client-side parsing of connection strings, arguments, environment and password files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pypgz import dsn
from pypgz.dsn import ConnectParams, Endpoint, parse_dsn
from pypgz.errors import DSNError

SECRET = "s3cr3t-P@ss:word"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PG* variables, a known OS user, an empty home, and no socket directories."""
    for var in list(os.environ):
        if var.startswith("PG"):
            monkeypatch.delenv(var)
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LOGNAME", "osuser")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(dsn, "DEFAULT_SOCKET_DIR", str(tmp_path / "no-such-dir"))
    monkeypatch.setattr(dsn, "FALLBACK_SOCKET_DIR", str(tmp_path / "no-such-tmp"))


def hosts(p: ConnectParams) -> list[tuple[str, int]]:
    return [(e.host, e.port) for e in p.endpoints]


def dsn_error(text: str | None = None, **kwargs: object) -> str:
    with pytest.raises(DSNError) as info:
        parse_dsn(text, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- defaults


def test_defaults_without_anything() -> None:
    p = parse_dsn()
    assert hosts(p) == [("localhost", 5432)]
    assert p.user == "osuser"
    assert p.database == "osuser"
    assert p.password is None
    assert p.sslmode == "prefer"
    assert p.target_session_attrs == "any"
    assert p.connect_timeout is None
    assert p.application_name is None
    assert p.server_settings == {}
    assert p.passfile is None


def test_default_host_prefers_the_socket_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sockdir = tmp_path / "run"
    sockdir.mkdir()
    monkeypatch.setattr(dsn, "DEFAULT_SOCKET_DIR", str(sockdir))
    p = parse_dsn()
    assert p.endpoints[0].host == str(sockdir)
    assert p.endpoints[0].is_unix
    assert p.endpoints[0].socket_path == f"{sockdir}/.s.PGSQL.5432"


def test_default_host_falls_back_to_tmp_when_its_socket_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    (tmpdir / ".s.PGSQL.5433").touch()
    monkeypatch.setattr(dsn, "FALLBACK_SOCKET_DIR", str(tmpdir))
    assert hosts(parse_dsn(port=5433)) == [(str(tmpdir), 5433)]
    assert hosts(parse_dsn(port=5432)) == [("localhost", 5432)]


def test_endpoint_properties() -> None:
    tcp = Endpoint("db.example.com", 5432)
    assert not tcp.is_unix
    assert tcp.address == "db.example.com"
    with pytest.raises(ValueError):
        tcp.socket_path
    assert Endpoint("/tmp/", 5433).socket_path == "/tmp/.s.PGSQL.5433"
    assert Endpoint("@abstract", 5432).is_unix
    assert Endpoint("@abstract", 5432).socket_path == "@abstract/.s.PGSQL.5432"
    assert Endpoint("h", 1, hostaddr="10.0.0.1").address == "10.0.0.1"


# --------------------------------------------------------------------------- URL form


def test_url_full() -> None:
    p = parse_dsn("postgresql://alice:pw@db.example.com:6543/appdb")
    assert hosts(p) == [("db.example.com", 6543)]
    assert (p.user, p.password, p.database) == ("alice", "pw", "appdb")


def test_url_postgres_scheme_and_case() -> None:
    assert parse_dsn("postgres://h/d").database == "d"
    assert parse_dsn("PostgreSQL://h/d").database == "d"


def test_url_query_parameters() -> None:
    p = parse_dsn(
        "postgresql://h/db?sslmode=require&application_name=x&connect_timeout=5"
        "&options=-c%20search_path%3Dfoo&target_session_attrs=read-write"
    )
    assert p.sslmode == "require"
    assert p.application_name == "x"
    assert p.connect_timeout == 5.0
    assert p.server_settings == {"options": "-c search_path=foo"}
    assert p.target_session_attrs == "read-write"


def test_url_unknown_query_parameters_become_server_settings() -> None:
    p = parse_dsn("postgresql://h/db?search_path=a%2Cb&statement_timeout=5s")
    assert p.server_settings == {"search_path": "a,b", "statement_timeout": "5s"}


def test_url_ignored_libpq_keywords_are_accepted_silently() -> None:
    p = parse_dsn("postgresql://h/db?krbsrvname=pg&gsslib=gssapi&sslcompression=1&requirepeer=x")
    assert p.server_settings == {}


def test_url_percent_encoded_password_with_at_and_colon() -> None:
    p = parse_dsn("postgresql://bob:p%40ss%3Aw%2Fo%3Frd@h/db")
    assert p.user == "bob"
    assert p.password == "p@ss:w/o?rd"
    assert hosts(p) == [("h", 5432)]


def test_url_raw_at_in_password_uses_the_last_at() -> None:
    p = parse_dsn("postgresql://bob:p@ss@h/db")
    assert p.password == "p@ss"
    assert hosts(p) == [("h", 5432)]


def test_url_percent_encoding_everywhere() -> None:
    p = parse_dsn("postgresql://us%20er@h%2Dx/d%C3%A9b?application_name=caf%C3%A9")
    assert p.user == "us er"
    assert p.endpoints[0].host == "h-x"
    assert p.database == "déb"
    assert p.application_name == "café"


def test_url_plus_is_not_a_space() -> None:
    assert parse_dsn("postgresql://h/db?application_name=a+b").application_name == "a+b"


def test_url_ipv6() -> None:
    assert hosts(parse_dsn("postgresql://[::1]:5433/db")) == [("::1", 5433)]
    assert hosts(parse_dsn("postgresql://[2001:db8::7]/db")) == [("2001:db8::7", 5432)]
    assert hosts(parse_dsn("postgresql://u@[fe80::1%25eth0]:1/db")) == [("fe80::1%eth0", 1)]


def test_url_multiple_hosts() -> None:
    p = parse_dsn("postgresql://u@host1:5432,host2:5433,[::1]/db?target_session_attrs=primary")
    assert hosts(p) == [("host1", 5432), ("host2", 5433), ("::1", 5432)]
    assert p.target_session_attrs == "primary"


def test_url_unix_socket_in_netloc() -> None:
    p = parse_dsn("postgresql://%2Fvar%2Frun%2Fpostgresql/db")
    assert hosts(p) == [("/var/run/postgresql", 5432)]
    assert p.endpoints[0].socket_path == "/var/run/postgresql/.s.PGSQL.5432"


def test_url_unix_socket_in_query() -> None:
    p = parse_dsn("postgresql://u@/db?host=/tmp&port=5433")
    assert hosts(p) == [("/tmp", 5433)]
    assert p.user == "u"


def test_url_query_host_wins_over_netloc() -> None:
    assert hosts(parse_dsn("postgresql://h1/db?host=h2")) == [("h2", 5432)]


def test_url_empty_host_means_default() -> None:
    p = parse_dsn("postgresql:///db")
    assert hosts(p) == [("localhost", 5432)]
    assert p.database == "db"
    assert parse_dsn("postgresql://").database == "osuser"
    assert hosts(parse_dsn("postgresql://:5433/db")) == [("localhost", 5433)]


def test_url_empty_host_in_list_means_default() -> None:
    assert hosts(parse_dsn("postgresql://,h2/db")) == [("localhost", 5432), ("h2", 5432)]


def test_url_jdbc_ssl_true() -> None:
    assert parse_dsn("postgresql://h/db?ssl=true").sslmode == "require"


def test_url_database_alias_in_query() -> None:
    p = parse_dsn("postgresql://h?database=x")
    assert p.database == "x"
    assert p.server_settings == {}


def test_url_user_only_no_password() -> None:
    p = parse_dsn("postgresql://u@h")
    assert p.user == "u" and p.password is None


def test_url_empty_password_means_none() -> None:
    assert parse_dsn("postgresql://u:@h").password is None


# --------------------------------------------------------------------------- key=value form


def test_keyvalue_basic() -> None:
    p = parse_dsn("host=db port=5433 user=alice password=pw dbname=appdb sslmode=disable")
    assert hosts(p) == [("db", 5433)]
    assert (p.user, p.password, p.database, p.sslmode) == ("alice", "pw", "appdb", "disable")


def test_keyvalue_spaces_around_equals_and_quotes() -> None:
    p = parse_dsn("  host = db  user= 'my user'  password ='it\\'s a \\\\ secret' dbname =''  ")
    assert p.user == "my user"
    assert p.password == "it's a \\ secret"
    assert p.database == "my user"  # an empty value means "not set"


def test_keyvalue_backslash_in_unquoted_value() -> None:
    assert parse_dsn("application_name=a\\ b").application_name == "a b"


def test_keyvalue_options_and_unknown_keys() -> None:
    p = parse_dsn("host=h options='-c geqo=off' search_path=myschema")
    assert p.server_settings == {"options": "-c geqo=off", "search_path": "myschema"}


def test_keyvalue_later_keys_win() -> None:
    assert parse_dsn("dbname=a dbname=b").database == "b"


def test_keyvalue_multi_host() -> None:
    p = parse_dsn("host=h1,h2,h3 port=5432,5433,5434")
    assert hosts(p) == [("h1", 5432), ("h2", 5433), ("h3", 5434)]


def test_keyvalue_single_port_applies_to_all_hosts() -> None:
    assert hosts(parse_dsn("host=h1,h2 port=6000")) == [("h1", 6000), ("h2", 6000)]


def test_keyvalue_empty_port_entry_is_default() -> None:
    assert hosts(parse_dsn("host=h1,h2 port=6000,")) == [("h1", 6000), ("h2", 5432)]


def test_keyvalue_mismatched_host_and_port_lists() -> None:
    msg = dsn_error("host=h1,h2,h3 port=1,2")
    assert "2 port numbers" in msg and "3 hosts" in msg


def test_keyvalue_hostaddr() -> None:
    p = parse_dsn("host=db.example.com hostaddr=10.0.0.5 port=5433")
    e = p.endpoints[0]
    assert (e.host, e.hostaddr, e.port) == ("db.example.com", "10.0.0.5", 5433)
    assert e.address == "10.0.0.5"


def test_keyvalue_hostaddr_without_host() -> None:
    p = parse_dsn("hostaddr=10.0.0.5,10.0.0.6")
    assert hosts(p) == [("10.0.0.5", 5432), ("10.0.0.6", 5432)]
    assert p.endpoints[1].hostaddr == "10.0.0.6"


def test_keyvalue_hostaddr_count_mismatch() -> None:
    msg = dsn_error("host=a,b hostaddr=10.0.0.1")
    assert "hostaddr" in msg


def test_keyvalue_unix_socket_host() -> None:
    p = parse_dsn("host=/var/run/postgresql port=5433")
    assert p.endpoints[0].socket_path == "/var/run/postgresql/.s.PGSQL.5433"


def test_keyvalue_empty_string_is_all_defaults() -> None:
    assert parse_dsn("") == parse_dsn(None) == parse_dsn("   ")


# --------------------------------------------------------------------------- overrides


def test_keyword_overrides_win_over_dsn() -> None:
    p = parse_dsn(
        "postgresql://u:pw@h:1/db?sslmode=require&application_name=a&connect_timeout=9",
        host="other",
        port=2,
        user="v",
        password="pw2",
        database="db2",
        application_name="b",
        connect_timeout=3,
        sslmode="disable",
        target_session_attrs="standby",
        passfile="/x/pgpass",
    )
    assert hosts(p) == [("other", 2)]
    assert (p.user, p.password, p.database, p.application_name) == ("v", "pw2", "db2", "b")
    assert (p.connect_timeout, p.sslmode, p.target_session_attrs) == (3.0, "disable", "standby")
    assert p.passfile == "/x/pgpass"


def test_keyword_dbname_alias() -> None:
    assert parse_dsn("dbname=a", dbname="b").database == "b"


def test_keyword_host_list_and_port_list() -> None:
    p = parse_dsn(host=["h1", "h2"], port=[5432, "5433"])
    assert hosts(p) == [("h1", 5432), ("h2", 5433)]
    assert hosts(parse_dsn(host=("h1", "h2"), port=7)) == [("h1", 7), ("h2", 7)]


def test_keyword_port_only_keeps_dsn_hosts() -> None:
    assert hosts(parse_dsn("host=h1,h2", port=9)) == [("h1", 9), ("h2", 9)]


def test_keyword_server_settings_are_merged() -> None:
    p = parse_dsn(
        "postgresql://h/db?search_path=a&jit=off&options=-cx%3D1",
        server_settings={"search_path": "b", "work_mem": "64MB"},
    )
    assert p.server_settings == {
        "options": "-cx=1",
        "search_path": "b",
        "jit": "off",
        "work_mem": "64MB",
    }


def test_keyword_none_means_not_given() -> None:
    assert parse_dsn("user=a", user=None).user == "a"


def test_keyword_other_libpq_fields() -> None:
    p = parse_dsn(
        sslrootcert=Path("/ca.pem"),
        sslcert="/c.pem",
        sslkey="/k.pem",
        sslsni=False,
        keepalives_idle=30,
        load_balance_hosts="random",
        channel_binding="require",
        require_auth="scram-sha-256",
        ssl_min_protocol_version="tlsv1.3",
    )
    assert (p.sslrootcert, p.sslcert, p.sslkey) == ("/ca.pem", "/c.pem", "/k.pem")
    assert p.sslsni is False
    assert p.keepalives_idle == 30
    assert p.load_balance_hosts == "random"
    assert p.channel_binding == "require"
    assert p.require_auth == ("scram-sha-256",)
    assert p.ssl_min_protocol_version == "TLSv1.3"


def test_keyword_unknown_argument_is_an_error() -> None:
    assert '"colour"' in dsn_error(colour="blue")


def test_keyword_wrong_type_hides_the_password() -> None:
    msg = dsn_error(password=12345)
    assert '"password"' in msg and "12345" not in msg
    assert '"port"' in dsn_error(port=5432.5)
    assert '"port"' in dsn_error(port=True)


def test_keyword_bad_server_settings() -> None:
    assert "server_settings" in dsn_error(server_settings=["a"])
    assert "'jit'" in dsn_error(server_settings={"jit": 0})


# --------------------------------------------------------------------------- environment


def test_environment_fills_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "PGHOST": "envhost",
        "PGPORT": "6000",
        "PGUSER": "envuser",
        "PGPASSWORD": "envpw",
        "PGDATABASE": "envdb",
        "PGAPPNAME": "envapp",
        "PGCONNECT_TIMEOUT": "10",
        "PGPASSFILE": "/env/pgpass",
        "PGSSLMODE": "verify-full",
        "PGTARGETSESSIONATTRS": "read-only",
        "PGOPTIONS": "-c work_mem=1MB",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    p = parse_dsn()
    assert hosts(p) == [("envhost", 6000)]
    assert (p.user, p.password, p.database) == ("envuser", "envpw", "envdb")
    assert p.application_name == "envapp"
    assert p.connect_timeout == 10.0
    assert p.passfile == "/env/pgpass"
    assert p.sslmode == "verify-full"
    assert p.target_session_attrs == "read-only"
    assert p.server_settings == {"options": "-c work_mem=1MB"}


def test_precedence_kwargs_over_dsn_over_env_over_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGUSER", "envuser")
    monkeypatch.setenv("PGDATABASE", "envdb")
    monkeypatch.setenv("PGAPPNAME", "envapp")
    monkeypatch.setenv("PGPORT", "6000")
    monkeypatch.setenv("PGOPTIONS", "-c a=1")
    p = parse_dsn("user=dsnuser application_name=dsnapp options='-c b=2'", user="kwuser")
    assert p.user == "kwuser"  # kwargs > DSN > env
    assert p.application_name == "dsnapp"  # DSN > env
    assert p.database == "envdb"  # env > default (the user name)
    assert hosts(p) == [("localhost", 6000)]  # env port, default host
    assert p.server_settings == {"options": "-c b=2"}


def test_env_port_applies_to_dsn_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", "6000")
    assert hosts(parse_dsn("postgresql://h1,h2/db")) == [("h1", 6000), ("h2", 6000)]


def test_empty_environment_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "")
    assert hosts(parse_dsn()) == [("localhost", 5432)]


def test_bad_env_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", "x1")
    msg = dsn_error()
    assert '"x1"' in msg and "PGPORT" in msg


# --------------------------------------------------------------------------- connect_timeout


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0", None), ("-5", None), ("1", 2.0), ("1.5", 2.0), ("2", 2.0), ("30", 30.0), ("2.5", 2.5)],
)
def test_connect_timeout_rules(given: str, expected: float | None) -> None:
    assert parse_dsn(f"connect_timeout={given}").connect_timeout == expected


def test_connect_timeout_invalid() -> None:
    assert 'invalid connect_timeout "soon"' in dsn_error("connect_timeout=soon")
    assert "connect_timeout" in dsn_error("connect_timeout=nan")


# --------------------------------------------------------------------------- ssl and friends


def test_sslmode_values() -> None:
    for mode in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"):
        assert parse_dsn(sslmode=mode).sslmode == mode


def test_sslrootcert_system_implies_verify_full() -> None:
    assert parse_dsn("sslrootcert=system").sslmode == "verify-full"
    assert 'weak sslmode "require"' in dsn_error("sslrootcert=system sslmode=require")


def test_target_session_attrs_values() -> None:
    for attrs in ("any", "read-write", "read-only", "primary", "standby", "prefer-standby"):
        assert parse_dsn(target_session_attrs=attrs).target_session_attrs == attrs


def test_fallback_application_name() -> None:
    assert parse_dsn("fallback_application_name=fb").application_name == "fb"
    assert parse_dsn("fallback_application_name=fb application_name=a").application_name == "a"


def test_unsupported_settings_are_refused() -> None:
    assert "client_encoding" in dsn_error("client_encoding=LATIN1")
    assert parse_dsn("client_encoding=UTF8").server_settings == {}
    assert "gssencmode" in dsn_error("gssencmode=require")
    assert "replication" in dsn_error("replication=database")
    assert "service" in dsn_error("service=mydb")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://h:abc/db", 'invalid port "abc" in connection string'),
        ("port=abc", 'invalid port "abc" in connection string'),
        ("port=0", 'invalid port "0"'),
        ("port=65536", 'invalid port "65536"'),
        ("host", 'invalid connection string: missing "=" after "host" in key=value form'),
        ("host=a dbname", 'missing "=" after "dbname"'),
        ("mysql://u@h/db", 'unsupported URL scheme "mysql"'),
        ("sslmode=maybe", 'invalid sslmode "maybe"'),
        ("target_session_attrs=writable", 'invalid target_session_attrs "writable"'),
        ("load_balance_hosts=sometimes", 'invalid load_balance_hosts "sometimes"'),
        ("host='abc", "unterminated quoted string"),
        ("postgresql://h/db?sslmode", 'invalid URL query parameter "sslmode"'),
        ("postgresql://h/db%zz", "invalid percent-encoded token in database name"),
        ("postgresql://h/db%00", "%00"),
        ("postgresql://[::1/db", 'missing "]"'),
        ("keepalives_idle=-1", 'invalid keepalives_idle "-1"'),
        ("sslsni=maybe", 'invalid sslsni "maybe"'),
        ("require_auth=kerberos", 'invalid require_auth method "kerberos"'),
        ("=x", "empty parameter name"),
    ],
)
def test_error_messages_name_the_bad_part(text: str, expected: str) -> None:
    assert expected in dsn_error(text)


def test_dsn_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_dsn("port=x")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"postgresql://u:{SECRET.replace('@', '%40').replace(':', '%3A')}@h:bad/db", SECRET),
        (f"host=h password='{SECRET}' port=nope", SECRET),
        (f"password='{SECRET}", SECRET),  # unterminated
        ("postgresql://u:p%zzSECRET@h/db", "SECRET"),  # bad percent-encoding in the password
        ("postgresql://u:pa/SECRET@h/db", "SECRET"),  # raw "/" in the password
        ("postgresql://u:SECRET?more@h/db", "SECRET"),  # raw "?" in the password
        ("postgresql://u:SECRET?more@h/db", "more"),
        (f"password={SECRET} sslmode=bogus", SECRET),
    ],
)
def test_errors_never_contain_the_password(text: str, secret: str) -> None:
    assert secret not in dsn_error(text)


def test_password_hidden_from_repr_and_str() -> None:
    p = parse_dsn(f"postgresql://u:{SECRET.replace('@', '%40')}@h/db", sslpassword="keypass")
    assert p.password == SECRET
    for text in (repr(p), str(p)):
        assert SECRET not in text
        assert "keypass" not in text
        assert "password=" not in text


# --------------------------------------------------------------------------- password file


def write_pgpass(path: Path, text: str, mode: int = 0o600) -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_passfile_exact_match(tmp_path: Path) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "h:5432:db:u:pw1\nh:5433:db:u:pw2\n")
    p = parse_dsn("host=h port=5433 dbname=db user=u", passfile=pf)
    assert p.password is None  # the explicit one
    assert p.password_for(p.endpoints[0]) == "pw2"


def test_passfile_first_match_wins_and_wildcards(tmp_path: Path) -> None:
    pf = write_pgpass(
        tmp_path / "pgpass",
        "# comment line\n\nother:*:*:*:no\n*:*:db:u:first\n*:*:*:*:second\n",
    )
    p = parse_dsn(host="h", dbname="db", user="u", passfile=pf)
    assert p.password_for(p.endpoints[0]) == "first"
    q = parse_dsn(host="h", dbname="other", user="u", passfile=pf)
    assert q.password_for(q.endpoints[0]) == "second"


def test_passfile_escapes(tmp_path: Path) -> None:
    pf = write_pgpass(
        tmp_path / "pgpass",
        "h:5432:d\\:b:u\\\\x:pa\\:ss\\\\word\n"  # escaped ":" and "\" in fields and password
        "h:5432:lit:\\*:star-literal\n"
        "h:5432:raw:u:pass:with:colons\n",
    )
    p = parse_dsn(host="h", dbname="d:b", user="u\\x", passfile=pf)
    assert p.password_for(p.endpoints[0]) == "pa:ss\\word"
    q = parse_dsn(host="h", dbname="lit", user="*", passfile=pf)
    assert q.password_for(q.endpoints[0]) == "star-literal"
    r = parse_dsn(host="h", dbname="lit", user="someone", passfile=pf)
    assert r.password_for(r.endpoints[0]) is None  # "\*" is not a wildcard
    s = parse_dsn(host="h", dbname="raw", user="u", passfile=pf)
    assert s.password_for(s.endpoints[0]) == "pass:with:colons"


def test_passfile_per_endpoint(tmp_path: Path) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "h1:*:*:*:one\nh2:*:*:*:two\n")
    p = parse_dsn(host=["h1", "h2", "h3"], passfile=pf)
    assert [p.password_for(e) for e in p.endpoints] == ["one", "two", None]


def test_passfile_unix_socket_matches_localhost(tmp_path: Path) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "localhost:5432:*:*:sockpw\n")
    p = parse_dsn(host="/var/run/postgresql", passfile=pf)
    assert p.password_for(p.endpoints[0]) == "sockpw"


def test_passfile_explicit_password_wins(tmp_path: Path) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "*:*:*:*:filepw\n")
    p = parse_dsn(host="h", password="given", passfile=pf)
    assert p.password_for(p.endpoints[0]) == "given"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_passfile_ignored_when_group_or_world_accessible(tmp_path: Path, mode: int) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "*:*:*:*:pw\n", mode)
    p = parse_dsn(host="h", passfile=pf)
    assert p.password_for(p.endpoints[0]) is None


def test_passfile_stricter_permissions_are_fine(tmp_path: Path) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "*:*:*:*:pw\n", 0o400)
    p = parse_dsn(host="h", passfile=pf)
    assert p.password_for(p.endpoints[0]) == "pw"


def test_passfile_missing_or_directory_is_no_password(tmp_path: Path) -> None:
    p = parse_dsn(host="h", passfile=str(tmp_path / "absent"))
    assert p.password_for(p.endpoints[0]) is None
    q = parse_dsn(host="h", passfile=str(tmp_path))
    assert q.password_for(q.endpoints[0]) is None


def test_passfile_default_location_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_pgpass(Path(os.environ["HOME"]) / ".pgpass", "*:*:*:*:homepw\n")
    p = parse_dsn(host="h")
    assert p.password_for(p.endpoints[0]) == "homepw"
    env_file = write_pgpass(tmp_path / "envpass", "*:*:*:*:envpw\n")
    monkeypatch.setenv("PGPASSFILE", env_file)
    q = parse_dsn(host="h")
    assert q.password_for(q.endpoints[0]) == "envpw"


def test_passfile_malformed_lines_are_skipped(tmp_path: Path) -> None:
    pf = write_pgpass(tmp_path / "pgpass", "too:few:fields\nh:5432:*:*:ok\n")
    p = parse_dsn(host="h", passfile=pf)
    assert p.password_for(p.endpoints[0]) == "ok"
