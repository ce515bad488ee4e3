"""PostgreSQL type OIDs shared by the encoder and the decoder.

These are the fixed OIDs of the built-in types (``pg_type.oid`` in ``pg_type.dat``); they are
the same on every server version pypgz supports.
"""

from __future__ import annotations

from typing import Final, Mapping

# Scalar types.
BOOL: Final = 16
BYTEA: Final = 17
CHAR: Final = 18
NAME: Final = 19
INT8: Final = 20
INT2: Final = 21
INT4: Final = 23
TEXT: Final = 25
OID: Final = 26
JSON: Final = 114
XML: Final = 142
CIDR: Final = 650
FLOAT4: Final = 700
FLOAT8: Final = 701
UNKNOWN: Final = 705
INET: Final = 869
BPCHAR: Final = 1042
VARCHAR: Final = 1043
DATE: Final = 1082
TIME: Final = 1083
TIMESTAMP: Final = 1114
TIMESTAMPTZ: Final = 1184
INTERVAL: Final = 1186
TIMETZ: Final = 1266
NUMERIC: Final = 1700
UUID: Final = 2950
JSONB: Final = 3802

# Array types.
BOOL_ARRAY: Final = 1000
BYTEA_ARRAY: Final = 1001
CHAR_ARRAY: Final = 1002
NAME_ARRAY: Final = 1003
INT2_ARRAY: Final = 1005
INT4_ARRAY: Final = 1007
TEXT_ARRAY: Final = 1009
BPCHAR_ARRAY: Final = 1014
VARCHAR_ARRAY: Final = 1015
INT8_ARRAY: Final = 1016
FLOAT4_ARRAY: Final = 1021
FLOAT8_ARRAY: Final = 1022
OID_ARRAY: Final = 1028
TIMESTAMP_ARRAY: Final = 1115
DATE_ARRAY: Final = 1182
TIME_ARRAY: Final = 1183
TIMESTAMPTZ_ARRAY: Final = 1185
INTERVAL_ARRAY: Final = 1187
NUMERIC_ARRAY: Final = 1231
TIMETZ_ARRAY: Final = 1270
UUID_ARRAY: Final = 2951
JSON_ARRAY: Final = 199
JSONB_ARRAY: Final = 3807
INET_ARRAY: Final = 1041
CIDR_ARRAY: Final = 651
XML_ARRAY: Final = 143

# element oid -> array oid
ARRAY_OF: Final[Mapping[int, int]] = {
    BOOL: BOOL_ARRAY,
    BYTEA: BYTEA_ARRAY,
    CHAR: CHAR_ARRAY,
    NAME: NAME_ARRAY,
    INT2: INT2_ARRAY,
    INT4: INT4_ARRAY,
    TEXT: TEXT_ARRAY,
    BPCHAR: BPCHAR_ARRAY,
    VARCHAR: VARCHAR_ARRAY,
    INT8: INT8_ARRAY,
    FLOAT4: FLOAT4_ARRAY,
    FLOAT8: FLOAT8_ARRAY,
    OID: OID_ARRAY,
    TIMESTAMP: TIMESTAMP_ARRAY,
    DATE: DATE_ARRAY,
    TIME: TIME_ARRAY,
    TIMESTAMPTZ: TIMESTAMPTZ_ARRAY,
    INTERVAL: INTERVAL_ARRAY,
    NUMERIC: NUMERIC_ARRAY,
    TIMETZ: TIMETZ_ARRAY,
    UUID: UUID_ARRAY,
    JSON: JSON_ARRAY,
    JSONB: JSONB_ARRAY,
    INET: INET_ARRAY,
    CIDR: CIDR_ARRAY,
    XML: XML_ARRAY,
}

# array oid -> element oid
ELEMENT_OF: Final[Mapping[int, int]] = {arr: elem for elem, arr in ARRAY_OF.items()}

# oid -> the type's SQL name, for error messages.
TYPE_NAMES: Final[Mapping[int, str]] = {
    BOOL: "bool",
    BYTEA: "bytea",
    CHAR: '"char"',
    NAME: "name",
    INT8: "int8",
    INT2: "int2",
    INT4: "int4",
    TEXT: "text",
    OID: "oid",
    JSON: "json",
    XML: "xml",
    CIDR: "cidr",
    FLOAT4: "float4",
    FLOAT8: "float8",
    UNKNOWN: "unknown",
    INET: "inet",
    BPCHAR: "bpchar",
    VARCHAR: "varchar",
    DATE: "date",
    TIME: "time",
    TIMESTAMP: "timestamp",
    TIMESTAMPTZ: "timestamptz",
    INTERVAL: "interval",
    TIMETZ: "timetz",
    NUMERIC: "numeric",
    UUID: "uuid",
    JSONB: "jsonb",
}


def type_name(oid: int) -> str:
    """The SQL name of a built-in type (``int4[]`` for arrays), else ``oid <n>``."""
    name = TYPE_NAMES.get(oid)
    if name is not None:
        return name
    elem = ELEMENT_OF.get(oid)
    if elem is not None:
        return TYPE_NAMES[elem] + "[]"
    return f"oid {oid}"
