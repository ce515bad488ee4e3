//! Test helpers for the batch builder: DataRow bodies in, column sections read back and
//! checked against every invariant pypgz/codecs/decode.py relies on.
const std = @import("std");
const builder = @import("builder.zig");
const pystate = @import("pystate.zig");
const testing = std.testing;
const Builder = builder.Builder;
const ColumnDesc = builder.ColumnDesc;
const Entry = builder.Entry;
const Kind = builder.Kind;
const entry_size = builder.entry_size;
const col_has_nulls = builder.col_has_nulls;

/// A builder plus helpers to make DataRow bodies and read the column section back.
pub const Harness = struct {
    arena: std.heap.ArenaAllocator,
    b: Builder,
    out: std.ArrayList(u8) = .empty,

    pub fn init(cols: []const ColumnDesc) !Harness {
        var h: Harness = .{ .arena = .init(testing.allocator), .b = .init(testing.allocator) };
        try h.b.setColumns(cols);
        return h;
    }

    pub fn deinit(self: *Harness) void {
        self.b.deinit();
        self.out.deinit(testing.allocator);
        self.arena.deinit();
    }

    pub fn be(self: *Harness, comptime I: type, x: I) []const u8 {
        const buf = self.arena.allocator().alloc(u8, @sizeOf(I)) catch @panic("oom");
        std.mem.writeInt(I, buf[0..@sizeOf(I)], x, .big);
        return buf;
    }

    pub fn cat(self: *Harness, parts: []const []const u8) []const u8 {
        return std.mem.concat(self.arena.allocator(), u8, parts) catch @panic("oom");
    }

    pub fn row(self: *Harness, fields: []const ?[]const u8) []const u8 {
        const a = self.arena.allocator();
        var out: std.ArrayList(u8) = .empty;
        out.appendSlice(a, self.be(u16, @intCast(fields.len))) catch @panic("oom");
        for (fields) |f| {
            if (f) |v| {
                out.appendSlice(a, self.be(i32, @intCast(v.len))) catch @panic("oom");
                out.appendSlice(a, v) catch @panic("oom");
            } else out.appendSlice(a, self.be(i32, -1)) catch @panic("oom");
        }
        return out.items;
    }

    pub fn add(self: *Harness, fields: []const ?[]const u8) !void {
        try self.b.addDataRow(self.row(fields));
    }

    pub fn addFails(self: *Harness, fields: []const ?[]const u8) !void {
        try testing.expectError(error.ProtocolViolation, self.b.addDataRow(self.row(fields)));
        self.b.clearRows();
    }

    /// Writes the section (after `prefix` bytes of other content) and checks its structure.
    pub fn write(self: *Harness, prefix: usize) ![]const u8 {
        self.out.clearRetainingCapacity();
        try self.out.appendNTimes(testing.allocator, 0xAA, prefix);
        try self.b.writeColumns(testing.allocator, &self.out);
        const sec = self.out.items[prefix..];
        try checkSection(sec, self.b.entryCount(), self.b.ncols, self.b.rowCount());
        return sec;
    }
};

pub fn entryAt(sec: []const u8, i: usize) Entry {
    return Entry.decode(sec[i * entry_size ..][0..entry_size]);
}

pub fn dataOf(sec: []const u8, e: Entry) []const u8 {
    return sec[@intCast(e.data_off)..][0..@intCast(e.data_len)];
}

pub fn auxOf(sec: []const u8, e: Entry) []const u8 {
    return sec[@intCast(e.aux_off)..][0..@intCast(e.aux_len)];
}

pub fn u32At(b: []const u8, i: usize) u32 {
    return std.mem.readInt(u32, b[4 * i ..][0..4], .little);
}

pub fn u64At(b: []const u8, i: usize) u64 {
    return std.mem.readInt(u64, b[8 * i ..][0..8], .little);
}

pub fn nullsOf(sec: []const u8, e: Entry) []const u8 {
    return sec[@intCast(e.nulls_off)..][0 .. 4 * e.nnulls];
}

/// Every invariant decode.py relies on: sections inside the buffer and 8-aligned, sizes
/// matching counts, offsets monotonic, NULL indexes ascending, array shapes consistent.
pub fn checkSection(sec: []const u8, nentries: usize, ncols: usize, rows: usize) !void {
    try testing.expect(sec.len >= nentries * entry_size);
    var nchildren: usize = 0;
    for (0..nentries) |i| {
        const e = entryAt(sec, i);
        const top = i < ncols;
        if (top) try testing.expectEqual(rows, e.count);
        for ([_][2]u64{ .{ e.data_off, e.data_len }, .{ e.aux_off, e.aux_len }, .{ e.nulls_off, 4 * @as(u64, e.nnulls) } }) |s| {
            try testing.expect(s[0] % 8 == 0 and s[0] >= nentries * entry_size and s[0] + s[1] <= sec.len);
        }
        try testing.expectEqual(e.nnulls > 0, e.flags & col_has_nulls != 0);
        const nulls = nullsOf(sec, e);
        for (0..e.nnulls) |k| {
            try testing.expect(u32At(nulls, k) < e.count);
            if (k > 0) try testing.expect(u32At(nulls, k) > u32At(nulls, k - 1));
        }
        const data = dataOf(sec, e);
        const aux = auxOf(sec, e);
        switch (@as(Kind, @enumFromInt(e.kind))) {
            .i64, .f64 => try testing.expectEqual(8 * @as(u64, e.count), e.data_len),
            .bool => {
                try testing.expectEqual(@as(u64, e.count), e.data_len);
                for (data) |c| try testing.expect(c <= 1);
            },
            .uuid, .interval => try testing.expectEqual(16 * @as(u64, e.count), e.data_len),
            .datetime => try checkStates(sec, e, pystate.datetime_len),
            .date => try checkStates(sec, e, pystate.date_len),
            .text => try testing.expectEqual(@as(usize, e.count), std.mem.count(u8, data, "\x00")),
            .bytes, .raw => {
                try testing.expectEqual(8 * (@as(u64, e.count) + 1), e.aux_len);
                try testing.expectEqual(@as(u64, 0), u64At(aux, 0));
                for (0..e.count) |k| try testing.expect(u64At(aux, k) <= u64At(aux, k + 1));
                try testing.expectEqual(e.data_len, u64At(aux, e.count));
            },
            .array => {
                nchildren += 1;
                try testing.expect(e.child >= ncols and e.child < nentries);
                const child = entryAt(sec, e.child);
                try testing.expectEqual(4 * (@as(u64, e.count) + 1), e.data_len);
                try testing.expectEqual(@as(u32, 0), u32At(data, 0));
                try testing.expectEqual(child.count, u32At(data, e.count));
                var at: usize = 0;
                for (0..e.count) |k| {
                    const ndims = u32At(aux, at);
                    var n: u64 = if (ndims == 0) 0 else 1;
                    for (0..ndims) |d| n *= u32At(aux, at + 1 + d);
                    at += 1 + ndims;
                    try testing.expectEqual(n, u32At(data, k + 1) - u32At(data, k));
                }
                try testing.expectEqual(e.aux_len, 4 * at);
            },
        }
    }
    try testing.expectEqual(nentries, ncols + nchildren);
}

/// DATE/DATETIME: every slot a valid state or the zero marker, the minimum state in NULL
/// slots, and text in aux exactly when there is a marker.
fn checkStates(sec: []const u8, e: Entry, width: usize) !void {
    const data = dataOf(sec, e);
    try testing.expectEqual(width * e.count, data.len);
    var markers: usize = 0;
    for (0..e.count) |k| {
        const slot = data[width * k ..][0..width];
        if (std.mem.allEqual(u8, slot, 0)) markers += 1 else try expectValidState(slot);
    }
    const nulls = nullsOf(sec, e);
    for (0..e.nnulls) |k| {
        try testing.expectEqualSlices(u8, pystate.datetime_min[0..width], data[width * u32At(nulls, k) ..][0..width]);
    }
    try testing.expectEqual(markers > 0, e.aux_len > 0);
}

/// What CPython would need of a date (4 bytes) or datetime (10 bytes) state but does not check.
fn expectValidState(st: []const u8) !void {
    const year = std.mem.readInt(u16, st[0..2], .big);
    const month = st[2];
    try testing.expect(year >= 1 and year <= 9999 and month >= 1 and month <= 12);
    const leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0);
    const mdays = [_]u8{ 31, if (leap) 29 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    try testing.expect(st[3] >= 1 and st[3] <= mdays[month - 1]);
    if (st.len == pystate.date_len) return;
    try testing.expect(st[4] < 24 and st[5] < 60 and st[6] < 60);
    try testing.expect(std.mem.readInt(u24, st[7..10], .big) < 1_000_000);
}

pub fn expectDates(sec: []const u8, col: usize, expected: []const pystate.DateState) !void {
    const e = entryAt(sec, col);
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.date)), e.kind);
    try testing.expectEqualSlices(u8, std.mem.sliceAsBytes(expected), dataOf(sec, e));
}

pub fn expectDatetimes(sec: []const u8, col: usize, expected: []const pystate.DatetimeState) !void {
    const e = entryAt(sec, col);
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.datetime)), e.kind);
    try testing.expectEqualSlices(u8, std.mem.sliceAsBytes(expected), dataOf(sec, e));
}

pub fn expectTexts(sec: []const u8, col: usize, expected: []const []const u8) !void {
    const e = entryAt(sec, col);
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.text)), e.kind);
    var it = std.mem.splitScalar(u8, dataOf(sec, e), 0);
    for (expected) |x| try testing.expectEqualStrings(x, it.next().?);
    try testing.expectEqualStrings("", it.next().?);
    try testing.expectEqual(@as(?[]const u8, null), it.next());
}

pub fn expectNulls(sec: []const u8, col: usize, expected: []const u32) !void {
    const nulls = nullsOf(sec, entryAt(sec, col));
    try testing.expectEqual(expected.len * 4, nulls.len);
    for (expected, 0..) |x, k| try testing.expectEqual(x, u32At(nulls, k));
}

pub fn expectI64s(sec: []const u8, col: usize, expected: []const i64) !void {
    const e = entryAt(sec, col);
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.i64)), e.kind);
    const data = dataOf(sec, e);
    try testing.expectEqual(expected.len * 8, data.len);
    for (expected, 0..) |x, k| try testing.expectEqual(x, std.mem.readInt(i64, data[8 * k ..][0..8], .little));
}

pub fn expectF64s(sec: []const u8, col: usize, expected: []const f64) !void {
    const e = entryAt(sec, col);
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.f64)), e.kind);
    const data = dataOf(sec, e);
    for (expected, 0..) |x, k| {
        const got: f64 = @bitCast(std.mem.readInt(u64, data[8 * k ..][0..8], .little));
        if (std.math.isNan(x)) try testing.expect(std.math.isNan(got)) else try testing.expectEqual(x, got);
    }
}
