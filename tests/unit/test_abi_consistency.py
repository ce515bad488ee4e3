"""The Zig exports, the C header, the ctypes binding and the typed stubs must agree."""

from __future__ import annotations

import ctypes
import re
import struct
from pathlib import Path

from pypgz import _native

ROOT = Path(__file__).resolve().parents[2]


def _zig_exports() -> set[str]:
    return set(re.findall(r"^export fn (pgz_\w+)\(", (ROOT / "core/abi.zig").read_text(), re.M))


def _header_functions() -> set[str]:
    text = re.sub(r"/\*.*?\*/", "", (ROOT / "core/pgz.h").read_text(), flags=re.S)
    return set(re.findall(r"\b(pgz_\w+)\s*\(", text)) - {"pgz_conn"}


def _stub_methods() -> set[str]:
    return set(re.findall(r"def (pgz_\w+)\(", (ROOT / "stubs/pypgz_abi.pyi").read_text()))


def test_exports_header_binding_and_stubs_agree() -> None:
    exports = _zig_exports()
    assert exports, "no exports found in core/abi.zig"
    assert _header_functions() == exports
    assert set(_native.exported_functions()) == exports
    assert _stub_methods() == exports


def test_library_exports_every_function() -> None:
    lib = ctypes.CDLL(_native._LIB_PATH)
    for name in _zig_exports():
        assert hasattr(lib, name), name


def test_header_constants_match_binding() -> None:
    text = (ROOT / "core/pgz.h").read_text()
    pattern = r"#define PGZ_(\w+)\s+\(?(-?(?:0x[0-9a-fA-F]+|\d+))\)?"
    consts = {m[0]: int(m[1], 0) for m in re.findall(pattern, text)}
    for name, value in consts.items():
        py = name if hasattr(_native, name) else None
        if py is not None:
            assert getattr(_native, py) == value, name
    assert consts["EV_DONE"] == _native.EV_DONE and consts["EXEC_SIMPLE"] == _native.EXEC_SIMPLE


def test_struct_sizes() -> None:
    # pgz_result_header is 12 uint32; pgz_field 20 bytes; pgz_column 64 bytes.
    from pypgz import session

    assert session._HEADER.size == 48
    assert session._FIELD.size == 20
    assert struct.calcsize("<BBHIIIQQQQQII") == 64
    assert len(_native.ERROR_FIELD_CODES) == 18
