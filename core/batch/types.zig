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
    record = 12,
};

/// How one value of a column is decoded; resolved in setColumns so the row loop only switches.
pub const Codec = enum {
    bool,
    int2,
    int4,
    int8,
    /// unsigned 32-bit: oid, xid, cid and the reg* types
    oid,
    /// unsigned 64-bit (its int64 slot holds the bits; Python reads it unsigned)
    xid8,
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
    /// a row value (anonymous record or composite): its fields, each of its own type
    record,
    /// no value at all: written as a NULL
    void,
    raw,

    pub fn kind(self: Codec) Kind {
        return switch (self) {
            .bool => .bool,
            .int2, .int4, .int8, .oid, .xid8 => .i64,
            .float4, .float8 => .f64,
            .text, .char, .jsonb, .numeric, .time, .timetz, .inet, .cidr, .void => .text,
            .timestamp, .timestamptz => .datetime,
            .date => .date,
            .interval => .interval,
            .uuid => .uuid,
            .bytea => .bytes,
            .array => .array,
            .record => .record,
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
    pub const record = 2249;
    pub const void_ = 2278;
    pub const xid8 = 5069;
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
        oid.record => .record,
        oid.void_ => .void,
        oid.xid8 => .xid8,
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
        271 => oid.xid8,
        2287 => oid.record,
        else => null,
    };
}

/// How values of a type the server numbered at CREATE TYPE time (an enum, a domain, a
/// composite, an array of one) are decoded, as pypgz registers it after looking the type
/// up in pg_type: with the codec of the built-in type `as`; for an array type, `elem` is
/// the element oid its values carry, and the elements decode as `as`.
pub const Alias = struct { elem: u32, as: u32 };

/// The registered types of one connection (its server's catalog).
pub const TypeMap = struct {
    map: std.AutoHashMapUnmanaged(u32, Alias) = .empty,

    pub fn deinit(self: *TypeMap, gpa: std.mem.Allocator) void {
        self.map.deinit(gpa);
    }

    /// Registers `type_oid`; false (and nothing kept) when it is a built-in type or `as`
    /// has no decoder, or `elem` is itself an array (arrays hold no arrays).
    pub fn put(self: *TypeMap, gpa: std.mem.Allocator, type_oid: u32, a: Alias) error{OutOfMemory}!bool {
        if (codecFor(type_oid, 1) != .raw) return false;
        if (scalarCodec(a.as) == .raw or arrayElement(a.as) != null) return false;
        if (a.elem != 0 and (arrayElement(a.elem) != null or a.elem == type_oid)) return false;
        try self.map.put(gpa, type_oid, a);
        return true;
    }
};

/// The decoder of a column or field, with what its entries hold.
pub const Resolved = struct {
    codec: Codec,
    /// the oid written to the entry: the type's own, or the built-in one it decodes as
    oid: u32,
    /// `.array`: the element oid the values carry, and the elements' codec and entry oid
    elem_wire: u32 = 0,
    elem_codec: Codec = .raw,
    elem_oid: u32 = 0,
};

/// `codecFor`, then, for a type libpgz does not know, the registered alias in `map`.
pub fn resolve(map: ?*const TypeMap, type_oid: u32, format: u16) Resolved {
    if (format == 0) return .{ .codec = .text, .oid = type_oid };
    if (arrayElement(type_oid)) |e| {
        return .{ .codec = .array, .oid = type_oid, .elem_wire = e, .elem_codec = scalarCodec(e), .elem_oid = e };
    }
    const c = scalarCodec(type_oid);
    if (c != .raw) return .{ .codec = c, .oid = type_oid };
    if (map) |m| {
        if (m.map.get(type_oid)) |a| {
            const ac = scalarCodec(a.as);
            if (a.elem != 0) return .{ .codec = .array, .oid = type_oid, .elem_wire = a.elem, .elem_codec = ac, .elem_oid = a.as };
            return .{ .codec = ac, .oid = a.as };
        }
    }
    return .{ .codec = .raw, .oid = type_oid };
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
    try std.testing.expectEqual(Codec.record, codecFor(2249, 1));
    try std.testing.expectEqual(Kind.record, scalarCodec(oid.record).kind());
    try std.testing.expectEqual(Codec.array, codecFor(2287, 1));
    try std.testing.expectEqual(Kind.i64, codecFor(oid.xid8, 1).kind());
    try std.testing.expectEqual(Kind.text, codecFor(oid.void_, 1).kind());
    // every array element oid maps to a scalar decoder, never to another array or RAW
    var a: u32 = 0;
    while (a < 5000) : (a += 1) {
        if (arrayElement(a)) |e| {
            try std.testing.expect(scalarCodec(e) != .raw);
            try std.testing.expect(arrayElement(e) == null);
        }
    }
}

test "registered types" {
    const gpa = std.testing.allocator;
    var m: TypeMap = .{};
    defer m.deinit(gpa);
    try std.testing.expect(try m.put(gpa, 16390, .{ .elem = 0, .as = oid.text })); // an enum
    try std.testing.expect(try m.put(gpa, 16389, .{ .elem = 16390, .as = oid.text })); // its array
    try std.testing.expect(try m.put(gpa, 16400, .{ .elem = 0, .as = oid.record })); // a composite
    try std.testing.expect(!try m.put(gpa, oid.int4, .{ .elem = 0, .as = oid.text })); // built in
    try std.testing.expect(!try m.put(gpa, 16401, .{ .elem = 0, .as = 600 })); // point: no decoder
    try std.testing.expect(!try m.put(gpa, 16402, .{ .elem = 0, .as = 1007 })); // as an array
    try std.testing.expect(!try m.put(gpa, 16403, .{ .elem = 1007, .as = oid.int4 })); // elements arrays
    const e = resolve(&m, 16390, 1);
    try std.testing.expectEqual(Codec.text, e.codec);
    try std.testing.expectEqual(@as(u32, oid.text), e.oid);
    const a = resolve(&m, 16389, 1);
    try std.testing.expectEqual(Codec.array, a.codec);
    try std.testing.expectEqual(@as(u32, 16389), a.oid);
    try std.testing.expectEqual(@as(u32, 16390), a.elem_wire);
    try std.testing.expectEqual(Codec.text, a.elem_codec);
    try std.testing.expectEqual(Codec.record, resolve(&m, 16400, 1).codec);
    try std.testing.expectEqual(Codec.text, resolve(&m, 16389, 0).codec);
    try std.testing.expectEqual(Codec.raw, resolve(&m, 16401, 1).codec);
    try std.testing.expectEqual(Codec.raw, resolve(null, 16390, 1).codec);
    try std.testing.expectEqual(Codec.int4, resolve(&m, oid.int4, 1).codec);
}
