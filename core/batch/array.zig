//! Binary PostgreSQL arrays: int32 ndims, int32 has-null flag, uint32 element oid, then
//! per dimension int32 length and int32 lower bound, then the elements in row-major
//! order, each an int32 length (-1 = NULL) and that many bytes.
const std = @import("std");

pub const Error = error{ProtocolViolation};

/// PostgreSQL's MAXDIM.
pub const max_dims = 6;

pub const Header = struct {
    ndims: u32,
    dims: [max_dims]u32 = .{0} ** max_dims,
    /// product of the dimensions (0 for an empty array)
    nitems: u32,
    /// the element section
    elems: []const u8,
    /// the has-null flag: without it, every element has a value
    has_nulls: bool = false,

    pub fn elements(self: *const Header) Elements {
        return .{ .rest = self.elems, .left = self.nitems };
    }
};

/// Validates the header of an array value whose elements must be of type `elem_oid`.
pub fn parse(v: []const u8, elem_oid: u32) Error!Header {
    if (v.len < 12) return error.ProtocolViolation;
    const ndims = std.mem.readInt(i32, v[0..4], .big);
    const flags = std.mem.readInt(i32, v[4..8], .big);
    if (ndims < 0 or ndims > max_dims or (flags != 0 and flags != 1)) return error.ProtocolViolation;
    if (std.mem.readInt(u32, v[8..12], .big) != elem_oid) return error.ProtocolViolation;

    var h: Header = .{ .ndims = @intCast(ndims), .nitems = 0, .elems = &.{}, .has_nulls = flags == 1 };
    const dims_end = 12 + 8 * h.ndims;
    if (v.len < dims_end) return error.ProtocolViolation;
    h.elems = v[dims_end..];
    if (h.ndims == 0) {
        if (h.elems.len != 0) return error.ProtocolViolation;
        return h;
    }
    // every element takes at least its 4-byte length, which bounds the element count
    // before it can overflow or send us looping over a huge claimed size
    const bound = h.elems.len / 4;
    var nitems: u64 = 1;
    for (0..h.ndims) |i| {
        const len = std.mem.readInt(i32, v[12 + 8 * i ..][0..4], .big);
        if (len <= 0) return error.ProtocolViolation;
        h.dims[i] = @intCast(len);
        nitems = std.math.mul(u64, nitems, h.dims[i]) catch return error.ProtocolViolation;
        if (nitems > bound) return error.ProtocolViolation;
    }
    h.nitems = @intCast(nitems);
    return h;
}

/// Walks the element section; `next` yields null for a NULL element.
pub const Elements = struct {
    rest: []const u8,
    left: u32,

    pub fn next(self: *Elements) Error!?[]const u8 {
        std.debug.assert(self.left > 0);
        self.left -= 1;
        if (self.rest.len < 4) return error.ProtocolViolation;
        const len = std.mem.readInt(i32, self.rest[0..4], .big);
        self.rest = self.rest[4..];
        if (len == -1) return null;
        if (len < 0 or @as(u32, @intCast(len)) > self.rest.len) return error.ProtocolViolation;
        const value = self.rest[0..@intCast(len)];
        self.rest = self.rest[value.len..];
        return value;
    }

    /// After the last element: nothing may follow.
    pub fn finish(self: *const Elements) Error!void {
        if (self.rest.len != 0) return error.ProtocolViolation;
    }
};

// ---------------------------------------------------------------- tests

const testing = std.testing;

/// Test helper: builds a binary array of int4 (or NULL) elements.
pub fn buildInt4Array(gpa: std.mem.Allocator, dims: []const i32, elems: []const ?i32) ![]u8 {
    var out: std.ArrayList(u8) = .empty;
    errdefer out.deinit(gpa);
    var has_null = false;
    for (elems) |e| has_null = has_null or e == null;
    try appendBe(gpa, &out, i32, @intCast(dims.len));
    try appendBe(gpa, &out, i32, @intFromBool(has_null));
    try appendBe(gpa, &out, u32, 23);
    for (dims) |d| {
        try appendBe(gpa, &out, i32, d);
        try appendBe(gpa, &out, i32, 1);
    }
    for (elems) |e| {
        if (e) |x| {
            try appendBe(gpa, &out, i32, 4);
            try appendBe(gpa, &out, i32, x);
        } else try appendBe(gpa, &out, i32, -1);
    }
    return out.toOwnedSlice(gpa);
}

pub fn appendBe(gpa: std.mem.Allocator, out: *std.ArrayList(u8), comptime T: type, x: T) !void {
    std.mem.writeInt(T, try out.addManyAsArray(gpa, @sizeOf(T)), x, .big);
}

test "array header" {
    const gpa = testing.allocator;
    const a = try buildInt4Array(gpa, &.{ 2, 3 }, &.{ 1, 2, null, 4, 5, 6 });
    defer gpa.free(a);
    const h = try parse(a, 23);
    try testing.expectEqual(@as(u32, 2), h.ndims);
    try testing.expectEqual(@as(u32, 6), h.nitems);
    try testing.expectEqualSlices(u32, &.{ 2, 3 }, h.dims[0..2]);
    var it = h.elements();
    var got: [6]?i32 = undefined;
    for (&got) |*g| g.* = if (try it.next()) |b| std.mem.readInt(i32, b[0..4], .big) else null;
    try it.finish();
    try testing.expectEqualSlices(?i32, &.{ 1, 2, null, 4, 5, 6 }, &got);

    try testing.expectError(error.ProtocolViolation, parse(a, 20)); // other element type
    try testing.expectError(error.ProtocolViolation, parse(a[0..11], 23));
    try testing.expectError(error.ProtocolViolation, parse(a[0..20], 23)); // dims cut short

    const empty = try buildInt4Array(gpa, &.{}, &.{});
    defer gpa.free(empty);
    try testing.expectEqual(@as(u32, 0), (try parse(empty, 23)).nitems);

    for ([_]i32{ 0, -1 }) |bad| {
        const z = try buildInt4Array(gpa, &.{bad}, &.{});
        defer gpa.free(z);
        try testing.expectError(error.ProtocolViolation, parse(z, 23));
    }
    // a count the element bytes cannot hold
    const huge = try buildInt4Array(gpa, &.{ 65536, 65536 }, &.{ 1, 2 });
    defer gpa.free(huge);
    try testing.expectError(error.ProtocolViolation, parse(huge, 23));
    // seven dimensions
    const deep = try buildInt4Array(gpa, &.{ 1, 1, 1, 1, 1, 1, 1 }, &.{1});
    defer gpa.free(deep);
    try testing.expectError(error.ProtocolViolation, parse(deep, 23));
}
