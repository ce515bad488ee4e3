//! Which decoder a result column gets, chosen once per column from its type oid and
//! wire format (LAYOUT.md lists the kinds the decoders produce).
const std = @import("std");

/// Column kinds of the batch layout (`PGZ_KIND_*`).
pub const Kind = enum(u8) {
    i64 = 1,
    f64 = 2,
    bool = 3,
    text = 4,
    bytes = 5,
    uuid = 6,
    interval = 7,
    array = 8,
    raw = 9,
    datetime = 10,
    date = 11,
};

/// How one value of a column is decoded; resolved in setColumns so the row loop only switches.
pub const Codec = enum {
    bool,
    int2,
    int4,
    int8,
    /// unsigned 32-bit: oid, xid, cid and the reg* types
    oid,
    float4,
    float8,
    /// bytes copied as they are (binary text types and every text-format column)
    text,
    /// the one-byte "char" type, rendered the way PostgreSQL prints it
    char,
    jsonb,
    numeric,
    date,
    time,
    timetz,
    timestamp,
    timestamptz,
    interval,
    uuid,
    bytea,
    inet,
    cidr,
    array,
    raw,

    pub fn kind(self: Codec) Kind {
        return switch (self) {
            .bool => .bool,
            .int2, .int4, .int8, .oid => .i64,
            .float4, .float8 => .f64,
            .text, .char, .jsonb, .numeric, .time, .timetz, .inet, .cidr => .text,
            .timestamp, .timestamptz => .datetime,
            .date => .date,
            .interval => .interval,
            .uuid => .uuid,
            .bytea => .bytes,
            .array => .array,
            .raw => .raw,
        };
    }
};

pub const oid = struct {
    pub const bool_ = 16;
    pub const bytea = 17;
    pub const char = 18;
    pub const name = 19;
    pub const int8 = 20;
    pub const int2 = 21;
    pub const int4 = 23;
    pub const regproc = 24;
    pub const text = 25;
    pub const oid_ = 26;
    pub const xid = 28;
    pub const cid = 29;
    pub const json = 114;
    pub const xml = 142;
    pub const cidr = 650;
    pub const float4 = 700;
    pub const float8 = 701;
    pub const unknown = 705;
    pub const inet = 869;
    pub const bpchar = 1042;
    pub const varchar = 1043;
    pub const date = 1082;
    pub const time = 1083;
    pub const timestamp = 1114;
    pub const timestamptz = 1184;
    pub const interval = 1186;
    pub const timetz = 1266;
    pub const numeric = 1700;
    pub const regprocedure = 2202;
    pub const regoper = 2203;
    pub const regoperator = 2204;
    pub const regclass = 2205;
    pub const regtype = 2206;
    pub const uuid = 2950;
    pub const regconfig = 3734;
    pub const regdictionary = 3769;
    pub const jsonb = 3802;
    pub const regnamespace = 4089;
    pub const regrole = 4096;
    pub const regcollation = 4191;
};

/// Decoder for a column of type `type_oid` sent in `format` (0 text, 1 binary).
/// Array types get `.array` only when their element type has a decoder; see `arrayElement`.
pub fn codecFor(type_oid: u32, format: u16) Codec {
    if (format == 0) return .text;
    if (arrayElement(type_oid) != null) return .array;
    return scalarCodec(type_oid);
}

/// Decoder for a non-array type in binary format (`.raw` when there is none).
pub fn scalarCodec(type_oid: u32) Codec {
    return switch (type_oid) {
        oid.bool_ => .bool,
        oid.int2 => .int2,
        oid.int4 => .int4,
        oid.int8 => .int8,
        oid.oid_, oid.xid, oid.cid, oid.regproc, oid.regprocedure, oid.regoper => .oid,
        oid.regoperator, oid.regclass, oid.regtype, oid.regconfig, oid.regdictionary => .oid,
        oid.regnamespace, oid.regrole, oid.regcollation => .oid,
        oid.float4 => .float4,
        oid.float8 => .float8,
        oid.text, oid.varchar, oid.bpchar, oid.name, oid.xml, oid.json, oid.unknown => .text,
        oid.char => .char,
        oid.jsonb => .jsonb,
        oid.numeric => .numeric,
        oid.date => .date,
        oid.time => .time,
        oid.timetz => .timetz,
        oid.timestamp => .timestamp,
        oid.timestamptz => .timestamptz,
        oid.interval => .interval,
        oid.uuid => .uuid,
        oid.bytea => .bytea,
        oid.inet => .inet,
        oid.cidr => .cidr,
        else => .raw,
    };
}

/// Element oid of the array types libpgz decodes (null for any other oid).
pub fn arrayElement(array_oid: u32) ?u32 {
    return switch (array_oid) {
        1000 => oid.bool_,
        1001 => oid.bytea,
        1002 => oid.char,
        1003 => oid.name,
        1005 => oid.int2,
        1007 => oid.int4,
        1008 => oid.regproc,
        1009 => oid.text,
        1011 => oid.xid,
        1012 => oid.cid,
        1014 => oid.bpchar,
        1015 => oid.varchar,
        1016 => oid.int8,
        1021 => oid.float4,
        1022 => oid.float8,
        1028 => oid.oid_,
        1041 => oid.inet,
        1115 => oid.timestamp,
        1182 => oid.date,
        1183 => oid.time,
        1185 => oid.timestamptz,
        1187 => oid.interval,
        1231 => oid.numeric,
        1270 => oid.timetz,
        143 => oid.xml,
        199 => oid.json,
        651 => oid.cidr,
        2210 => oid.regclass,
        2211 => oid.regtype,
        2951 => oid.uuid,
        3807 => oid.jsonb,
        else => null,
    };
}

test "codec choice" {
    try std.testing.expectEqual(Codec.text, codecFor(oid.int4, 0));
    try std.testing.expectEqual(Codec.int4, codecFor(oid.int4, 1));
    try std.testing.expectEqual(Codec.array, codecFor(1007, 1));
    try std.testing.expectEqual(Codec.text, codecFor(1007, 0));
    try std.testing.expectEqual(Codec.raw, codecFor(600, 1)); // point
    try std.testing.expectEqual(Codec.raw, codecFor(1017, 1)); // _point
    try std.testing.expectEqual(Kind.text, Codec.numeric.kind());
    try std.testing.expectEqual(Kind.datetime, scalarCodec(oid.timestamptz).kind());
    try std.testing.expectEqual(Kind.date, scalarCodec(oid.date).kind());
    try std.testing.expectEqual(Kind.text, codecFor(oid.timestamp, 0).kind()); // text format stays text
    // every array element oid maps to a scalar decoder, never to another array or RAW
    var a: u32 = 0;
    while (a < 5000) : (a += 1) {
        if (arrayElement(a)) |e| {
            try std.testing.expect(scalarCodec(e) != .raw);
            try std.testing.expect(arrayElement(e) == null);
        }
    }
}
