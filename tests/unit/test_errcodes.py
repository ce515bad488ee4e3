"""The generated SQLSTATE exception classes and their registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pypgz import errors
from pypgz.errors import PostgresError

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "tools" / "gen_errcodes.py"
CHECKED_IN = ROOT / "pypgz" / "_errcodes.py"
ERRCODES_TXT = Path("/usr/share/postgresql/15/errcodes.txt")


def test_specific_code_has_its_own_class() -> None:
    cls = PostgresError.for_sqlstate("23505")
    assert cls is errors.UniqueViolationError
    assert issubclass(cls, errors.IntegrityConstraintViolationError)
    assert issubclass(cls, PostgresError)
    assert issubclass(cls, errors.Error)
    assert cls.sqlstate_code == "23505"


def test_category_classes_subclass_postgres_error_directly() -> None:
    cat = errors.IntegrityConstraintViolationError
    assert cat.sqlstate_code == "23000"
    assert cat.__bases__ == (PostgresError,)
    assert PostgresError.for_sqlstate("23000") is cat
    assert errors.InternalError.sqlstate_code == "XX000"
    assert errors.InternalError.__bases__ == (PostgresError,)
    assert issubclass(errors.DataCorruptedError, errors.InternalError)


def test_unknown_code_falls_back_to_its_category() -> None:
    assert PostgresError.for_sqlstate("23999") is errors.IntegrityConstraintViolationError


def test_unknown_category_falls_back_to_postgres_error() -> None:
    assert PostgresError.for_sqlstate("ZZ999") is PostgresError


def test_success_and_warning_classes_are_not_exceptions() -> None:
    # Classes 00, 01 and 02 arrive as notices (or never); they get no exception class.
    for code in ("00000", "01000", "01P01", "02000"):
        assert PostgresError.for_sqlstate(code) is PostgresError
    assert not hasattr(errors, "WarningError")
    assert not hasattr(errors, "NoDataError")


def test_names_that_would_shadow_builtins_get_a_prefix() -> None:
    assert errors.PostgresSyntaxError.sqlstate_code == "42601"
    assert errors.PostgresSystemError.sqlstate_code == "58000"
    assert errors.__dict__.get("SyntaxError") is None


def test_duplicate_condition_names_are_disambiguated() -> None:
    assert errors.NullValueNotAllowedError.sqlstate_code == "22004"
    assert errors.ExternalRoutineInvocationNullValueNotAllowedError.sqlstate_code == "39004"
    assert errors.SqlRoutineModifyingSqlDataNotPermittedError.sqlstate_code == "2F002"
    assert errors.ExternalRoutineModifyingSqlDataNotPermittedError.sqlstate_code == "38002"


def test_macro_only_names_are_aliases() -> None:
    assert errors.UndefinedDatabaseError is errors.InvalidCatalogNameError
    assert errors.InvalidCatalogNameError.sqlstate_code == "3D000"
    assert PostgresError.for_sqlstate("3D000") is errors.InvalidCatalogNameError


def test_every_exported_name_is_a_registered_class() -> None:
    from pypgz import _errcodes

    for name in _errcodes.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, PostgresError)
        assert cls.sqlstate_code is not None
        if name == cls.__name__:  # a class, not an alias
            assert PostgresError.for_sqlstate(cls.sqlstate_code) is cls


FIELDS = {
    "S": "ERROR",
    "V": "ERROR",
    "C": "23505",
    "M": 'duplicate key value violates unique constraint "t_pkey"',
    "D": "Key (id)=(1) already exists.",
    "H": "Pick another id.",
    "P": "15",
    "p": "3",
    "q": "SELECT 1",
    "W": "PL/pgSQL function f() line 3",
    "s": "public",
    "t": "t",
    "c": "id",
    "d": "integer",
    "n": "t_pkey",
    "F": "nbtinsert.c",
    "L": "666",
    "R": "_bt_check_unique",
}


def test_from_fields_keeps_every_field() -> None:
    exc = PostgresError.from_fields(FIELDS)
    assert type(exc) is errors.UniqueViolationError
    assert exc.sqlstate == "23505"
    assert exc.message == FIELDS["M"]
    assert exc.detail == FIELDS["D"]
    assert exc.hint == FIELDS["H"]
    assert exc.position == "15"
    assert exc.internal_position == "3"
    assert exc.internal_query == "SELECT 1"
    assert exc.where == FIELDS["W"]
    assert exc.schema_name == "public"
    assert exc.table_name == "t"
    assert exc.column_name == "id"
    assert exc.data_type_name == "integer"
    assert exc.constraint_name == "t_pkey"
    assert exc.severity == exc.severity_nonlocalized == "ERROR"
    assert exc.server_source_filename == "nbtinsert.c"
    assert exc.server_source_line == "666"
    assert exc.server_source_function == "_bt_check_unique"
    assert exc.fields == FIELDS
    assert set(exc.as_dict().values()) == set(FIELDS.values())
    assert "DETAIL:  Key (id)=(1) already exists." in str(exc)
    assert "HINT:  Pick another id." in str(exc)


def test_from_fields_unknown_codes() -> None:
    assert type(PostgresError.from_fields({"C": "23999", "M": "x"})) is (
        errors.IntegrityConstraintViolationError
    )
    exc = PostgresError.from_fields({"C": "ZZ999", "M": "odd"})
    assert type(exc) is PostgresError
    assert exc.sqlstate == "ZZ999"


def test_raised_class_is_catchable_by_category() -> None:
    with pytest.raises(errors.IntegrityConstraintViolationError):
        raise PostgresError.from_fields(FIELDS)


@pytest.mark.skipif(not ERRCODES_TXT.exists(), reason="PostgreSQL 15 errcodes.txt not installed")
def test_generator_is_deterministic_and_matches_checked_in(tmp_path: Path) -> None:
    outputs = []
    for name in ("one.py", "two.py"):
        out = tmp_path / name
        subprocess.run(
            [sys.executable, str(GENERATOR), str(ERRCODES_TXT), "-o", str(out)],
            check=True,
            cwd=tmp_path,
        )
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert outputs[0] == CHECKED_IN.read_text()


@pytest.mark.skipif(not ERRCODES_TXT.exists(), reason="PostgreSQL 15 errcodes.txt not installed")
def test_generator_default_path(tmp_path: Path) -> None:
    out = tmp_path / "default.py"
    subprocess.run([sys.executable, str(GENERATOR), "-o", str(out)], check=True, cwd=tmp_path)
    assert out.read_text() == CHECKED_IN.read_text()


def test_generator_rejects_garbage(tmp_path: Path) -> None:
    bad = tmp_path / "errcodes.txt"
    bad.write_text("this is not an errcodes line\n")
    result = subprocess.run(
        [sys.executable, str(GENERATOR), str(bad), "-o", str(tmp_path / "x.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "line 1" in result.stderr
    assert not (tmp_path / "x.py").exists()
