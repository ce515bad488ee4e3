"""Generate ``pypgz/_errcodes.py``: one exception class per PostgreSQL SQLSTATE error code.

Usage::

    python tools/gen_errcodes.py [ERRCODES_TXT] [-o OUTPUT]

``ERRCODES_TXT`` defaults to ``/usr/share/postgresql/15/errcodes.txt`` and ``OUTPUT`` to
``pypgz/_errcodes.py`` beside this script's repository.

Choices, documented here because the generated module follows from them:

* Only error codes (``E`` lines) become classes.  Class 00 (success) is never sent as an
  error, and classes 01/02 (warnings, no data) arrive as NoticeResponse messages, which
  pypgz delivers as notices, not exceptions; so none of the three get a class.  If a
  server ever does raise one of their codes (PL/pgSQL ``RAISE ... USING ERRCODE = '01000'``
  can), ``PostgresError.for_sqlstate`` falls back to ``PostgresError`` itself.
* A class is named from its PL/pgSQL condition name in CamelCase plus ``Error``
  (``unique_violation`` -> ``UniqueViolationError``); a name already ending in ``_error``
  gets no second suffix (``internal_error`` -> ``InternalError``).  A name that would
  shadow a Python builtin gets a ``Postgres`` prefix (``syntax_error`` ->
  ``PostgresSyntaxError``, ``system_error`` -> ``PostgresSystemError``).
* Some condition names occur in several categories (``null_value_not_allowed`` is 22004
  and 39004).  The code whose C macro is the plain name (``ERRCODE_NULL_VALUE_NOT_ALLOWED``)
  keeps the plain class name; the others, whose macros carry a category prefix as
  PostgreSQL's own disambiguation, get their category's name as a prefix
  (``ExternalRoutineInvocationNullValueNotAllowedError``).
* A code listed twice (the second line only a C macro, e.g. 3D000
  ``ERRCODE_UNDEFINED_DATABASE``) still gets one class, named from the line with a condition
  name; the extra macro names become aliases (``UndefinedDatabaseError =
  InvalidCatalogNameError``).
* Every class subclasses the class of its category (``xx000``); category classes subclass
  ``PostgresError``.  Output order follows the input file, so the same input always gives
  the same output.
"""

from __future__ import annotations

import argparse
import builtins
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_INPUT = "/usr/share/postgresql/15/errcodes.txt"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "pypgz" / "_errcodes.py"

# Names the generated module must not shadow when pypgz.errors star-imports it.
RESERVED_NAMES = frozenset(
    {
        "Error",
        "InterfaceError",
        "DSNError",
        "ConnectionClosedError",
        "ConnectionFailedError",
        "ConnectionLostError",
        "ProtocolError",
        "EncodeError",
        "DecodeError",
        "QueryTimeoutError",
        "QueryCanceledByClientError",
        "PostgresError",
        "PostgresWarning",
    }
)

NON_ERROR_CLASSES = frozenset({"00", "01", "02"})

_LINE = re.compile(r"^([0-9A-Z]{5})\s+([EWS])\s+(ERRCODE_[A-Z0-9_]+)(?:\s+([a-z0-9_]+))?\s*$")


@dataclass
class Code:
    """One SQLSTATE with the names errcodes.txt gives it."""

    sqlstate: str
    macro: str  # the macro of the line that names the class
    spec_name: str | None
    alias_macros: list[str] = field(default_factory=list)
    class_name: str = ""
    alias_names: list[str] = field(default_factory=list)

    @property
    def category(self) -> str:
        return self.sqlstate[:2] + "000"


class GenerateError(Exception):
    """errcodes.txt could not be turned into a module."""


def parse(text: str) -> list[Code]:
    """The error codes of errcodes.txt, in file order, one entry per SQLSTATE."""
    codes: dict[str, Code] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("Section:"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise GenerateError(f"line {lineno}: cannot parse {line!r}")
        sqlstate, kind, macro, spec_name = m.groups()
        if kind != "E" or sqlstate[:2] in NON_ERROR_CLASSES:
            continue
        _add_line(codes, sqlstate, macro, spec_name)
    return list(codes.values())


def _add_line(codes: dict[str, Code], sqlstate: str, macro: str, spec_name: str | None) -> None:
    known = codes.get(sqlstate)
    if known is None:
        codes[sqlstate] = Code(sqlstate, macro, spec_name)
    elif known.spec_name is None and spec_name is not None:
        # The named line defines the class; the earlier macro-only line becomes an alias.
        known.alias_macros.append(known.macro)
        known.macro, known.spec_name = macro, spec_name
    else:
        known.alias_macros.append(macro)


def camel(snake: str) -> str:
    """``unique_violation`` -> ``UniqueViolation``."""
    return "".join(part[:1].upper() + part[1:] for part in snake.lower().split("_") if part)


def with_suffix(stem: str) -> str:
    name = stem if stem.endswith("Error") else stem + "Error"
    # `from pypgz.errors import *` must not shadow SyntaxError and friends.
    return "Postgres" + name if hasattr(builtins, name) else name


def _base_name(code: Code) -> str:
    if code.spec_name is not None:
        return code.spec_name
    return code.macro.removeprefix("ERRCODE_").lower()


def _category_prefix(code: Code, by_state: dict[str, Code]) -> str:
    cat = by_state.get(code.category)
    stem = camel(_base_name(cat)) if cat is not None else "Class" + code.sqlstate[:2]
    for tail in ("Exception", "Error"):
        if stem.endswith(tail) and stem != tail:
            return stem[: -len(tail)]
    return stem


def assign_names(codes: list[Code]) -> None:
    """Give every code a unique class name and its aliases unique alias names."""
    by_state = {c.sqlstate: c for c in codes}
    claimants: dict[str, list[Code]] = {}
    for code in codes:
        claimants.setdefault(with_suffix(camel(_base_name(code))), []).append(code)
    for name, group in claimants.items():
        if len(group) == 1:
            group[0].class_name = name
            continue
        plain = [c for c in group if c.macro == "ERRCODE_" + _base_name(c).upper()]
        for code in group:
            if len(plain) == 1 and code is plain[0]:
                code.class_name = name
            else:
                code.class_name = _category_prefix(code, by_state) + name
    taken: set[str] = set()
    for code in codes:
        _claim(code.class_name, code.sqlstate, taken)
    for code in codes:
        for macro in code.alias_macros:
            alias = with_suffix(camel(macro.removeprefix("ERRCODE_")))
            if alias in taken:
                continue  # an alias never displaces a class name
            _claim(alias, code.sqlstate, taken)
            code.alias_names.append(alias)


def _claim(name: str, sqlstate: str, taken: set[str]) -> None:
    if name in taken or name in RESERVED_NAMES or keyword.iskeyword(name):
        raise GenerateError(f"class name {name} for {sqlstate} is not unique")
    taken.add(name)


def ordered(codes: list[Code]) -> list[Code]:
    """Categories in order of first appearance, each category class before its members."""
    groups: dict[str, list[Code]] = {}
    for code in codes:
        groups.setdefault(code.category, []).append(code)
    out: list[Code] = []
    for members in groups.values():
        out.extend(sorted(members, key=lambda c: c.sqlstate != c.category))  # stable
    return out


HEADER = '''\
# Generated by tools/gen_errcodes.py from PostgreSQL's errcodes.txt; do not edit.
# Regenerate with: python tools/gen_errcodes.py /usr/share/postgresql/15/errcodes.txt
"""One exception class per SQLSTATE error code, nested under its category's class.

Import these through ``pypgz.errors``, which re-exports them; defining a class registers
it for ``PostgresError.for_sqlstate``.
"""

from __future__ import annotations

import sys
from typing import ClassVar

from pypgz.errors import PostgresError
'''


FOOTER = """
# pypgz.errors star-imports this module at its end.  If this module was imported first,
# that star import ran while this one was still empty, so hand the names over here too.
_errors = sys.modules["pypgz.errors"]
for _name in __all__:
    setattr(_errors, _name, globals()[_name])
del _errors, _name
"""


def render(codes: list[Code]) -> str:
    """The text of the generated module."""
    by_state = {c.sqlstate: c for c in codes}
    parts = [HEADER]
    names: list[str] = []
    for code in ordered(codes):
        parent = by_state.get(code.category)
        base = "PostgresError" if parent is None or parent is code else parent.class_name
        label = code.spec_name or code.macro
        parts.append(
            f"\n\nclass {code.class_name}({base}):\n"
            f'    """SQLSTATE {code.sqlstate}: {label}."""\n\n'
            f'    sqlstate_code: ClassVar[str] = "{code.sqlstate}"\n'
        )
        names.append(code.class_name)
    aliases = [(a, c.class_name) for c in codes for a in c.alias_names]
    if aliases:
        parts.append("\n\n# Other names errcodes.txt gives the same SQLSTATE.\n")
        parts.extend(f"{alias} = {target}\n" for alias, target in aliases)
        names.extend(alias for alias, _ in aliases)
    parts.append("\n__all__ = [\n")
    parts.extend(f'    "{name}",\n' for name in names)
    parts.append("]\n")
    parts.append(FOOTER)
    return "".join(parts)


def generate(text: str) -> str:
    """errcodes.txt text in, module text out."""
    codes = parse(text)
    assign_names(codes)
    return render(codes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("errcodes", nargs="?", default=DEFAULT_INPUT, help="path of errcodes.txt")
    ap.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="module to write")
    args = ap.parse_args(argv)
    try:
        text = Path(args.errcodes).read_text(encoding="utf-8")
        module = generate(text)
    except (OSError, GenerateError) as exc:
        print(f"gen_errcodes: {exc}", file=sys.stderr)
        return 1
    Path(args.output).write_text(module, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
