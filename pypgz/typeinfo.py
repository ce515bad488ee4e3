"""What one connection knows of its server's types beyond the built-in ones.

Enums, domains, composites and arrays of them get their oids when they are created, so
libpgz cannot know them in advance. The first time a result holds values of such a type
(they arrive undecoded, as RAW entries: see core/batch/LAYOUT.md) or a described
statement's columns have one, the session asks ``pg_type`` about all the new oids at
once, in one query (``INTROSPECT_SQL``, which follows element and base types to the
built-in ones), and registers with the core those it can decode: an enum as text, a
domain as its base type, a composite as a record, an array of any of these as an array
of that. From then on the core decodes them like built-in types, so a query whose types
are all known never costs a lookup.

Each connection has its own ``TypeRegistry`` (oids are its server's). It only ever
learns from a lookup that succeeded; a failed one leaves it as it was.

``TypeInfo`` keeps what a later full introspection (composite attributes, ranges) builds
on: the kind, the element and base types, and the composite's relation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Final, Iterable, Sequence

from pypgz.codecs import oids as O

__all__ = ["FIRST_DYNAMIC_OID", "INTROSPECT_SQL", "RawBatch", "TypeInfo", "TypeRegistry"]

# PostgreSQL's FirstGenbkiObjectId: oids below it are fixed by the catalog's .dat files
# (what libpgz knows, or knows it cannot decode); from it on, initdb, extensions and
# CREATE TYPE assign them.
FIRST_DYNAMIC_OID: Final = 10000

# The types asked about, and every type they lead to: element and base types (a domain
# over an array of a domain ...), so that each can be followed to a built-in type, and
# the attribute types of composites, whose values hold them.
INTROSPECT_SQL: Final = """\
WITH RECURSIVE t(id) AS (
    SELECT unnest($1::pg_catalog.oid[])
  UNION
    SELECT x.id FROM t JOIN pg_catalog.pg_type p ON p.oid = t.id,
        LATERAL (
            SELECT p.typelem UNION ALL SELECT p.typbasetype
            UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = p.typrelid AND a.attnum > 0 AND NOT a.attisdropped
        ) AS x(id)
    WHERE x.id <> 0
)
SELECT p.oid, p.typtype, p.typlen, p.typelem, p.typbasetype, p.typrelid,
       p.typname::text, n.nspname::text
FROM t JOIN pg_catalog.pg_type p ON p.oid = t.id
    JOIN pg_catalog.pg_namespace n ON n.oid = p.typnamespace"""

_RECORD: Final = 2249
# Domains over domains, arrays of domains over ...: PostgreSQL has no cycles here; this
# only bounds the walk over what a server answered.
_MAX_CHAIN: Final = 32


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """One row of ``pg_type`` as the introspection query reads it."""

    oid: int
    kind: str  # typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange
    length: int  # typlen (-1: variable length)
    elem: int  # typelem: the element type of an array type (also set for a few fixed-size types)
    base: int  # typbasetype: the type a domain is over
    relid: int  # typrelid: a composite type's pg_class row
    name: str
    schema: str

    @property
    def is_array(self) -> bool:
        # a true array type is variable-length with an element type (point has an
        # element type too, but a fixed length)
        return self.kind == "b" and self.elem != 0 and self.length == -1

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> TypeInfo:
        return cls(int(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]), str(row[6]),
                   str(row[7]))  # fmt: skip


class TypeRegistry:
    """The dynamic types one connection has looked up, and how the core decodes each."""

    __slots__ = ("infos", "decoders", "_static")

    def __init__(self, binary_supported: Callable[[int], bool]) -> None:
        self.infos: dict[int, TypeInfo] = {}
        # oid -> (elem, as) as registered with the core (see pgz_register_type), or None:
        # looked up, and libpgz has no decoder for it (its values come as text)
        self.decoders: dict[int, tuple[int, int] | None] = {}
        self._static = binary_supported

    @property
    def registered(self) -> bool:
        """Whether any type was registered (until then, the built-in rules are the rules)."""
        return bool(self.decoders)

    def unknown(self, oids: Iterable[int]) -> list[int]:
        """The oids among ``oids`` that need a lookup: dynamic, and never looked up."""
        return sorted({o for o in oids if o >= FIRST_DYNAMIC_OID and o not in self.decoders})

    def decodable(self, oid: int) -> bool:
        """Whether libpgz decodes values of ``oid`` in binary (built in, or registered)."""
        return self._static(oid) or self.decoders.get(oid) is not None

    def learn(self, asked: Sequence[int], rows: Iterable[Sequence[Any]],
              register: Callable[[int, int, int], bool]) -> list[int]:
        """Takes the introspection query's rows for the oids ``asked``; registers every
        dynamic type among them that libpgz can decode (``register(oid, elem, as)``, False
        when the core refuses), and remembers the others as undecodable. Returns the oids
        newly made decodable."""
        infos = dict(self.infos)
        for r in rows:
            t = TypeInfo.from_row(r)
            infos[t.oid] = t
        plans: dict[int, tuple[int, int] | None] = {}
        for oid in sorted(set(asked) | {o for o in infos if o >= FIRST_DYNAMIC_OID}):
            if oid not in self.decoders:
                plans[oid] = self._plan(infos, oid, 0)
        decodable = []
        for oid, plan in plans.items():
            if plan is not None and not register(oid, plan[0], plan[1]):
                plan = None
            if plan is not None:
                decodable.append(oid)
            plans[oid] = plan
        self.infos = infos
        self.decoders.update(plans)
        return decodable

    def _plan(self, infos: dict[int, TypeInfo], oid: int, depth: int) -> tuple[int, int] | None:
        """(elem, as) for ``oid``: its values decode as the built-in type ``as``; for an
        array type, ``elem`` is the element oid its values carry. None: no decoder."""
        t = infos.get(oid)
        if t is None or depth > _MAX_CHAIN:
            return None
        if t.kind == "d":
            return self._plan(infos, t.base, depth + 1)
        if t.is_array:
            elem = self._scalar(infos, t.elem, depth + 1)
            return None if elem is None else (t.elem, elem)
        scalar = self._scalar(infos, oid, depth)
        return None if scalar is None else (0, scalar)

    def _scalar(self, infos: dict[int, TypeInfo], oid: int, depth: int) -> int | None:
        """The built-in type (not an array) values of ``oid`` decode as, if any."""
        t = infos.get(oid)
        if oid < FIRST_DYNAMIC_OID:
            is_array = t.is_array if t is not None else oid in O.ELEMENT_OF
            return oid if self._static(oid) and not is_array else None
        if t is None or depth > _MAX_CHAIN:
            return None
        if t.kind == "e":
            return O.TEXT
        if t.kind == "c":
            return _RECORD
        if t.kind == "d":
            plan = self._plan(infos, t.base, depth + 1)
            return plan[1] if plan is not None and plan[0] == 0 else None
        return None  # base types of extensions, ranges, multiranges, ...


@dataclass(slots=True)
class RawBatch:
    """A batch of rows whose section holds RAW entries (values of types libpgz had no
    decoder for, bytes so far): kept as it came, so that once those types are known its
    rows are decoded again from it (``Session.raw_fixups``)."""

    buf: bytes
    col_off: int
    nentries: int
    ncols: int
    first_row: int  # the index of its first row in the operation's rows
    nrows: int
    # RAW entry index -> its values decoded since, or None (see decode.decode_columns)
    raw: dict[int, list[Any] | None]
