//! Turns DataRow messages into the columnar batch of LAYOUT.md. Each column appends its
//! decoded values to its own growable buffers; `writeColumns` lays them out as the column
//! section that pypgz/codecs/decode.py reads. The decoder of each column is chosen once,
//! in `setColumns`; the row loop only switches on it.
const std = @import("std");
const builtin = @import("builtin");
const types = @import("types.zig");
const values = @import("values.zig");
const pystate = @import("pystate.zig");
const array = @import("array.zig");

const Allocator = std.mem.Allocator;
const Codec = types.Codec;
pub const Kind = types.Kind;

comptime {
    // LAYOUT.md fixes little-endian; the NULL index lists are copied out in host order.
    if (builtin.cpu.arch.endian() != .little) @compileError("the batch layout assumes a little-endian host");
}

pub const entry_size = 64;
/// `pgz_column.flags` bits.
pub const col_has_nulls: u8 = 1;
pub const col_text_format: u8 = 2;

/// A column of a RowDescription: type oid and format code (0 = text, 1 = binary).
pub const ColumnDesc = struct { oid: u32, format: u16 };

pub const Error = error{ ProtocolViolation, OutOfMemory };

/// Buffers bigger than this are released, not kept, when a new result shape starts.
const keep_capacity_max = 1 << 20;

/// One entry of the column section, as LAYOUT.md's `pgz_column`.
pub const Entry = struct {
    kind: u8,
    flags: u8,
    oid: u32,
    count: u32,
    nnulls: u32,
    data_off: u64,
    data_len: u64,
    aux_off: u64,
    aux_len: u64,
    nulls_off: u64,
    child: u32,

    pub fn encode(e: Entry, dst: *[entry_size]u8) void {
        @memset(dst, 0);
        dst[0] = e.kind;
        dst[1] = e.flags;
        std.mem.writeInt(u32, dst[4..8], e.oid, .little);
        std.mem.writeInt(u32, dst[8..12], e.count, .little);
        std.mem.writeInt(u32, dst[12..16], e.nnulls, .little);
        std.mem.writeInt(u64, dst[16..24], e.data_off, .little);
        std.mem.writeInt(u64, dst[24..32], e.data_len, .little);
        std.mem.writeInt(u64, dst[32..40], e.aux_off, .little);
        std.mem.writeInt(u64, dst[40..48], e.aux_len, .little);
        std.mem.writeInt(u64, dst[48..56], e.nulls_off, .little);
        std.mem.writeInt(u32, dst[56..60], e.child, .little);
    }

    pub fn decode(src: *const [entry_size]u8) Entry {
        return .{
            .kind = src[0],
            .flags = src[1],
            .oid = std.mem.readInt(u32, src[4..8], .little),
            .count = std.mem.readInt(u32, src[8..12], .little),
            .nnulls = std.mem.readInt(u32, src[12..16], .little),
            .data_off = std.mem.readInt(u64, src[16..24], .little),
            .data_len = std.mem.readInt(u64, src[24..32], .little),
            .aux_off = std.mem.readInt(u64, src[32..40], .little),
            .aux_len = std.mem.readInt(u64, src[40..48], .little),
            .nulls_off = std.mem.readInt(u64, src[48..56], .little),
            .child = std.mem.readInt(u32, src[56..60], .little),
        };
    }
};

/// The buffers of one entry. `data`/`aux` hold the LAYOUT.md payloads except the final
/// offset of BYTES/RAW (aux) and ARRAY (data), which writeColumns appends.
const Column = struct {
    codec: Codec = .raw,
    oid: u32 = 0,
    flags: u8 = 0,
    count: u32 = 0,
    /// ARRAY: index of the child entry
    child: u32 = 0,
    data: std.ArrayList(u8) = .empty,
    aux: std.ArrayList(u8) = .empty,
    nulls: std.ArrayList(u32) = .empty,

    fn deinit(self: *Column, gpa: Allocator) void {
        self.data.deinit(gpa);
        self.aux.deinit(gpa);
        self.nulls.deinit(gpa);
    }

    /// Reuse the slot for a new result shape, keeping modest buffers for the next query.
    fn reset(self: *Column, gpa: Allocator, codec: Codec, type_oid: u32, flags: u8) void {
        if (self.data.capacity > keep_capacity_max) self.data.clearAndFree(gpa);
        if (self.aux.capacity > keep_capacity_max) self.aux.clearAndFree(gpa);
        if (self.nulls.capacity > keep_capacity_max / 4) self.nulls.clearAndFree(gpa);
        self.clear();
        self.* = .{ .codec = codec, .oid = type_oid, .flags = flags, .data = self.data, .aux = self.aux, .nulls = self.nulls };
    }

    fn clear(self: *Column) void {
        self.count = 0;
        self.data.clearRetainingCapacity();
        self.aux.clearRetainingCapacity();
        self.nulls.clearRetainingCapacity();
    }

    fn byteSize(self: *const Column) usize {
        return self.data.items.len + self.aux.items.len + 4 * self.nulls.items.len;
    }

    fn putInt(self: *Column, gpa: Allocator, comptime T: type, x: T) Error!void {
        std.mem.writeInt(T, try self.data.addManyAsArray(gpa, @sizeOf(T)), x, .little);
    }

    /// A TEXT value: its bytes and the NUL separator. NUL inside the value is malformed
    /// (PostgreSQL text never holds one) and would break the arena's split.
    fn putText(self: *Column, gpa: Allocator, v: []const u8) Error!void {
        if (std.mem.indexOfScalar(u8, v, 0) != null) return error.ProtocolViolation;
        try self.data.ensureUnusedCapacity(gpa, v.len + 1);
        self.data.appendSliceAssumeCapacity(v);
        self.data.appendAssumeCapacity(0);
    }

    /// Room for a rendered TEXT value of at most `max` bytes; finish with `commitText`.
    fn reserveText(self: *Column, gpa: Allocator, max: usize) Error![]u8 {
        try self.data.ensureUnusedCapacity(gpa, max + 1);
        return self.data.unusedCapacitySlice();
    }

    fn commitText(self: *Column, n: usize) void {
        self.data.items.len += n;
        self.data.appendAssumeCapacity(0);
    }

    /// BYTES/RAW: aux gets the value's start offset, data its bytes.
    fn putBytes(self: *Column, gpa: Allocator, v: []const u8) Error!void {
        std.mem.writeInt(u64, try self.aux.addManyAsArray(gpa, 8), self.data.items.len, .little);
        try self.data.appendSlice(gpa, v);
    }

    /// "char": one byte; PostgreSQL prints a high-bit byte as \ooo and the zero byte as "".
    fn putChar(self: *Column, gpa: Allocator, v: []const u8) Error!void {
        const c = (try fixed(1, v))[0];
        const dst = try self.reserveText(gpa, 4);
        var n: usize = 0;
        if (c >= 0x80) {
            dst[0..4].* = .{ '\\', '0' + (c >> 6), '0' + ((c >> 3) & 7), '0' + (c & 7) };
            n = 4;
        } else if (c != 0) {
            dst[0] = c;
            n = 1;
        }
        self.commitText(n);
    }

    fn putNumeric(self: *Column, gpa: Allocator, v: []const u8) Error!void {
        const num = try values.Numeric.parse(v);
        const dst = try self.reserveText(gpa, num.maxLen());
        self.commitText(num.format(dst));
    }

    /// DATE: the value's state, or the marker and (for the first such value) its text in aux.
    fn putDate(self: *Column, gpa: Allocator, v: []const u8) Error!void {
        const days = std.mem.readInt(i32, try fixed(4, v), .big);
        if (pystate.date(try self.data.addManyAsArray(gpa, pystate.date_len), days)) return;
        if (self.aux.items.len > 0) return;
        try self.aux.ensureUnusedCapacity(gpa, values.max_date);
        self.aux.items.len += values.formatDate(self.aux.unusedCapacitySlice(), days);
    }

    /// DATETIME: as putDate, for timestamp and timestamptz.
    fn putTimestamp(self: *Column, gpa: Allocator, v: []const u8) Error!void {
        const us = std.mem.readInt(i64, try fixed(8, v), .big);
        if (pystate.datetime(try self.data.addManyAsArray(gpa, pystate.datetime_len), us)) return;
        if (self.aux.items.len > 0) return;
        try self.aux.ensureUnusedCapacity(gpa, values.max_timestamp);
        self.aux.items.len += values.formatTimestamp(self.aux.unusedCapacitySlice(), us, self.codec == .timestamptz);
    }

    fn putNull(self: *Column, gpa: Allocator) Error!void {
        try self.nulls.append(gpa, self.count);
        switch (self.codec.kind()) {
            .i64, .f64 => try self.data.appendNTimes(gpa, 0, 8),
            .bool, .text => try self.data.append(gpa, 0),
            .uuid, .interval => try self.data.appendNTimes(gpa, 0, 16),
            // a valid state, so that Python decodes the column in one pass before patching NULLs
            .datetime => try self.data.appendSlice(gpa, &pystate.datetime_min),
            .date => try self.data.appendSlice(gpa, &pystate.date_min),
            .bytes, .raw => try self.putBytes(gpa, &.{}),
            .array => unreachable, // Builder.putNull handles ARRAY columns
        }
        self.count += 1;
    }
};

/// The value's bytes as a fixed-size array, or a protocol violation when it has another size.
inline fn fixed(comptime n: usize, v: []const u8) Error!*const [n]u8 {
    if (v.len != n) return error.ProtocolViolation;
    return v[0..n];
}

pub const Builder = struct {
    gpa: Allocator,
    /// Column slots: the top-level columns, then one child per ARRAY column (the order of
    /// the entries). Slots past `nentries` are kept, with their buffers, for later shapes.
    cols: std.ArrayList(Column) = .empty,
    ncols: usize = 0,
    nentries: usize = 0,
    rows: usize = 0,

    pub fn init(gpa: Allocator) Builder {
        return .{ .gpa = gpa };
    }

    pub fn deinit(self: *Builder) void {
        for (self.cols.items) |*c| c.deinit(self.gpa);
        self.cols.deinit(self.gpa);
        self.* = undefined;
    }

    /// Start a new result shape; drops any rows. Chooses each column's decoder from (oid, format).
    pub fn setColumns(self: *Builder, descs: []const ColumnDesc) error{OutOfMemory}!void {
        var nentries = descs.len;
        for (descs) |d| nentries += @intFromBool(types.codecFor(d.oid, d.format) == .array);
        while (self.cols.items.len < nentries) try self.cols.append(self.gpa, .{});

        var next_child = descs.len;
        for (descs, self.cols.items[0..descs.len]) |d, *col| {
            const codec = types.codecFor(d.oid, d.format);
            col.reset(self.gpa, codec, d.oid, if (d.format == 0) col_text_format else 0);
            if (codec != .array) continue;
            const elem = types.arrayElement(d.oid).?;
            self.cols.items[next_child].reset(self.gpa, types.scalarCodec(elem), elem, 0);
            col.child = @intCast(next_child);
            next_child += 1;
        }
        self.ncols = descs.len;
        self.nentries = nentries;
        self.rows = 0;
    }

    /// Append one row from a DataRow body: int16 field count, then per field an int32
    /// length (-1 = NULL) and that many bytes. Malformed input gives ProtocolViolation and
    /// may leave a partial row behind: clearRows() recovers.
    pub fn addDataRow(self: *Builder, payload: []const u8) Error!void {
        // counts are uint32 in the layout; a batch's byte limit keeps us far below this
        if (self.rows >= std.math.maxInt(u32)) return error.OutOfMemory;
        if (payload.len < 2) return error.ProtocolViolation;
        if (std.mem.readInt(u16, payload[0..2], .big) != self.ncols) return error.ProtocolViolation;
        var pos: usize = 2;
        for (self.cols.items[0..self.ncols]) |*col| {
            if (payload.len - pos < 4) return error.ProtocolViolation;
            const len = std.mem.readInt(i32, payload[pos..][0..4], .big);
            pos += 4;
            if (len < 0) {
                if (len != -1) return error.ProtocolViolation;
                try self.putNull(col);
                continue;
            }
            const n: usize = @intCast(len);
            if (payload.len - pos < n) return error.ProtocolViolation;
            try self.putValue(col, payload[pos..][0..n]);
            pos += n;
        }
        if (pos != payload.len) return error.ProtocolViolation;
        self.rows += 1;
    }

    pub fn rowCount(self: *const Builder) usize {
        return self.rows;
    }

    /// Approximate bytes buffered so far (what writeColumns will copy, less padding).
    pub fn byteSize(self: *const Builder) usize {
        var n = self.nentries * entry_size;
        for (self.cols.items[0..self.nentries]) |*c| n += c.byteSize();
        return n;
    }

    /// Number of entries writeColumns writes: top-level columns plus one child per ARRAY column.
    pub fn entryCount(self: *const Builder) usize {
        return self.nentries;
    }

    /// Forget the rows (keep the columns) so the next batch of the same result can start.
    pub fn clearRows(self: *Builder) void {
        for (self.cols.items[0..self.nentries]) |*c| c.clear();
        self.rows = 0;
    }

    fn putNull(self: *Builder, col: *Column) Error!void {
        if (col.codec != .array) return col.putNull(self.gpa);
        // a NULL array: an empty element range and ndims 0
        try col.nulls.append(self.gpa, col.count);
        try col.putInt(self.gpa, u32, self.cols.items[col.child].count);
        std.mem.writeInt(u32, try col.aux.addManyAsArray(self.gpa, 4), 0, .little);
        col.count += 1;
    }

    /// Decode one non-NULL value into `col` (a top-level column or an array's child).
    fn putValue(self: *Builder, col: *Column, v: []const u8) Error!void {
        const gpa = self.gpa;
        switch (col.codec) {
            .bool => try col.data.append(gpa, @intFromBool((try fixed(1, v))[0] != 0)),
            .int2 => try col.putInt(gpa, i64, std.mem.readInt(i16, try fixed(2, v), .big)),
            .int4 => try col.putInt(gpa, i64, std.mem.readInt(i32, try fixed(4, v), .big)),
            .int8 => try col.putInt(gpa, i64, std.mem.readInt(i64, try fixed(8, v), .big)),
            .oid => try col.putInt(gpa, i64, std.mem.readInt(u32, try fixed(4, v), .big)),
            .float4 => {
                const f: f32 = @bitCast(std.mem.readInt(u32, try fixed(4, v), .big));
                try col.putInt(gpa, u64, @bitCast(@as(f64, f)));
            },
            .float8 => try col.putInt(gpa, u64, std.mem.readInt(u64, try fixed(8, v), .big)),
            .text => try col.putText(gpa, v),
            .char => try col.putChar(gpa, v),
            .jsonb => {
                // jsonb's binary form is a version byte (1) and the JSON text
                if (v.len == 0 or v[0] != 1) return error.ProtocolViolation;
                try col.putText(gpa, v[1..]);
            },
            .numeric => try col.putNumeric(gpa, v),
            .date => try col.putDate(gpa, v),
            .time => {
                const us = try timeOfDay(v);
                col.commitText(values.formatTime(try col.reserveText(gpa, values.max_time), us));
            },
            .timetz => {
                if (v.len != 12) return error.ProtocolViolation;
                const us = try timeOfDay(v[0..8]);
                const zone = std.mem.readInt(i32, v[8..12], .big);
                // PostgreSQL's limit on a time zone displacement (TZDISP_LIMIT)
                if (zone < -16 * 3600 or zone > 16 * 3600) return error.ProtocolViolation;
                col.commitText(values.formatTimeTz(try col.reserveText(gpa, values.max_timetz), us, zone));
            },
            .timestamp, .timestamptz => try col.putTimestamp(gpa, v),
            .interval => {
                const b = try fixed(16, v);
                const dst = try col.data.addManyAsArray(gpa, 16);
                std.mem.writeInt(i64, dst[0..8], std.mem.readInt(i64, b[0..8], .big), .little);
                std.mem.writeInt(i32, dst[8..12], std.mem.readInt(i32, b[8..12], .big), .little);
                std.mem.writeInt(i32, dst[12..16], std.mem.readInt(i32, b[12..16], .big), .little);
            },
            .uuid => try col.data.appendSlice(gpa, try fixed(16, v)),
            .bytea, .raw => try col.putBytes(gpa, v),
            .inet, .cidr => {
                const dst = try col.reserveText(gpa, values.max_inet);
                col.commitText(try values.formatInet(dst, v, col.codec == .cidr));
            },
            .array => try self.putArray(col, v),
        }
        col.count += 1;
    }

    /// An array value: its start index in the child (data), its shape (aux), and its
    /// elements appended to the child entry.
    fn putArray(self: *Builder, col: *Column, v: []const u8) Error!void {
        const gpa = self.gpa;
        const child = &self.cols.items[col.child];
        const h = try array.parse(v, child.oid);
        if (h.nitems > std.math.maxInt(u32) - child.count) return error.OutOfMemory;
        try col.putInt(gpa, u32, child.count);
        const shape = try col.aux.addManyAsSlice(gpa, 4 * (1 + h.ndims));
        std.mem.writeInt(u32, shape[0..4], h.ndims, .little);
        for (h.dims[0..h.ndims], 0..) |d, i| std.mem.writeInt(u32, shape[4 + 4 * i ..][0..4], d, .little);
        if (!h.has_nulls) switch (child.codec) {
            .int2 => return putIntElements(child, gpa, i16, h),
            .int4 => return putIntElements(child, gpa, i32, h),
            .int8 => return putIntElements(child, gpa, i64, h),
            else => {},
        };
        var it = h.elements();
        for (0..h.nitems) |_| {
            if (try it.next()) |e| try self.putValue(child, e) else try child.putNull(gpa);
        }
        try it.finish();
    }

    /// The elements of an integer array without NULLs (the common case, and the costly one
    /// per byte): one reservation and a tight loop instead of a putValue per element.
    fn putIntElements(child: *Column, gpa: Allocator, comptime T: type, h: array.Header) Error!void {
        const size = @sizeOf(T);
        const n: usize = h.nitems;
        if (h.elems.len != n * (4 + size)) return error.ProtocolViolation;
        const dst = try child.data.addManyAsSlice(gpa, 8 * n);
        var src = h.elems;
        for (0..n) |i| {
            if (std.mem.readInt(i32, src[0..4], .big) != size) return error.ProtocolViolation;
            const x: i64 = std.mem.readInt(T, src[4..][0..size], .big);
            std.mem.writeInt(i64, dst[8 * i ..][0..8], x, .little);
            src = src[4 + size ..];
        }
        child.count += h.nitems;
    }

    /// Append the column section (LAYOUT.md) for the rows added since the last clearRows()
    /// to `out`, whose length must be 8-aligned; offsets are relative to that position.
    pub fn writeColumns(self: *Builder, gpa: Allocator, out: *std.ArrayList(u8)) error{OutOfMemory}!void {
        const base = out.items.len;
        std.debug.assert(base % 8 == 0);
        try out.appendNTimes(gpa, 0, self.nentries * entry_size);
        for (self.cols.items[0..self.nentries], 0..) |*col, i| {
            const kind = col.codec.kind();
            var tail: [8]u8 = undefined;
            var e: Entry = .{
                .kind = @intFromEnum(kind),
                .flags = col.flags | (if (col.nulls.items.len > 0) col_has_nulls else 0),
                .oid = col.oid,
                .count = col.count,
                .nnulls = @intCast(col.nulls.items.len),
                .data_off = 0,
                .data_len = 0,
                .aux_off = 0,
                .aux_len = 0,
                .nulls_off = 0,
                .child = if (kind == .array) col.child else 0,
            };
            switch (kind) {
                .array => {
                    // count + 1 start indexes: the last one is the child's element count
                    std.mem.writeInt(u32, tail[0..4], self.cols.items[col.child].count, .little);
                    e.data_off, e.data_len = try section(gpa, out, base, col.data.items, tail[0..4]);
                    e.aux_off, e.aux_len = try section(gpa, out, base, col.aux.items, &.{});
                },
                .bytes, .raw => {
                    // count + 1 offsets: the last one is the end of the data
                    std.mem.writeInt(u64, tail[0..8], col.data.items.len, .little);
                    e.data_off, e.data_len = try section(gpa, out, base, col.data.items, &.{});
                    e.aux_off, e.aux_len = try section(gpa, out, base, col.aux.items, tail[0..8]);
                },
                .datetime, .date => {
                    e.data_off, e.data_len = try section(gpa, out, base, col.data.items, &.{});
                    e.aux_off, e.aux_len = try section(gpa, out, base, col.aux.items, &.{});
                },
                else => {
                    e.data_off, e.data_len = try section(gpa, out, base, col.data.items, &.{});
                    e.aux_off, e.aux_len = try section(gpa, out, base, &.{}, &.{});
                },
            }
            e.nulls_off, _ = try section(gpa, out, base, std.mem.sliceAsBytes(col.nulls.items), &.{});
            e.encode(out.items[base + i * entry_size ..][0..entry_size]);
        }
    }
};

/// Microseconds since midnight of a time value; PostgreSQL allows 00:00:00 ..= 24:00:00.
fn timeOfDay(v: []const u8) Error!u64 {
    const b = try fixed(8, v);
    const us = std.mem.readInt(i64, b, .big);
    if (us < 0 or us > 86_400_000_000) return error.ProtocolViolation;
    return @intCast(us);
}

/// Pads `out` to 8-byte alignment (relative to `base`), appends `a` then `b`, and returns
/// the section's offset from `base` and its length in bytes.
fn section(gpa: Allocator, out: *std.ArrayList(u8), base: usize, a: []const u8, b: []const u8) error{OutOfMemory}!struct { u64, u64 } {
    const pad = (8 - (out.items.len - base) % 8) % 8;
    try out.ensureUnusedCapacity(gpa, pad + a.len + b.len);
    out.appendNTimesAssumeCapacity(0, pad);
    const off = out.items.len - base;
    out.appendSliceAssumeCapacity(a);
    out.appendSliceAssumeCapacity(b);
    return .{ off, a.len + b.len };
}

// ---------------------------------------------------------------- tests

const testing = std.testing;
const support = @import("test_support.zig");
const Harness = support.Harness;
const entryAt = support.entryAt;
const dataOf = support.dataOf;
const auxOf = support.auxOf;
const u32At = support.u32At;
const u64At = support.u64At;
const expectTexts = support.expectTexts;
const expectNulls = support.expectNulls;
const expectI64s = support.expectI64s;
const expectF64s = support.expectF64s;
const expectDates = support.expectDates;
const expectDatetimes = support.expectDatetimes;
const stateOf = pystate.stateOf;
const dateOf = pystate.dateStateOf;

const oid = types.oid;

test "integers, floats and bools, with NULLs" {
    var h = try Harness.init(&.{
        .{ .oid = oid.int2, .format = 1 },   .{ .oid = oid.int4, .format = 1 },
        .{ .oid = oid.int8, .format = 1 },   .{ .oid = oid.oid_, .format = 1 },
        .{ .oid = oid.float4, .format = 1 }, .{ .oid = oid.float8, .format = 1 },
        .{ .oid = oid.bool_, .format = 1 },  .{ .oid = oid.regtype, .format = 1 },
    });
    defer h.deinit();
    try h.add(&.{
        h.be(i16, -2),         h.be(i32, std.math.maxInt(i32)),    h.be(i64, std.math.minInt(i64)),
        h.be(u32, 4294967295), h.be(u32, @bitCast(@as(f32, 1.5))), h.be(u64, @bitCast(@as(f64, -2.25))),
        &.{1},                 h.be(u32, 23),
    });
    try h.add(&.{ null, null, null, null, null, null, null, null });
    try h.add(&.{
        h.be(i16, 7), h.be(i32, -1),         h.be(i64, 1),
        h.be(u32, 0), h.be(u32, 0x7FC00000), h.be(u64, @bitCast(std.math.inf(f64))),
        &.{2},        h.be(u32, 0),
    });
    try testing.expectEqual(@as(usize, 3), h.b.rowCount());
    try testing.expectEqual(@as(usize, 8), h.b.entryCount());
    const sec = try h.write(0);
    try expectI64s(sec, 0, &.{ -2, 0, 7 });
    try expectI64s(sec, 1, &.{ std.math.maxInt(i32), 0, -1 });
    try expectI64s(sec, 2, &.{ std.math.minInt(i64), 0, 1 });
    try expectI64s(sec, 3, &.{ 4294967295, 0, 0 });
    try expectF64s(sec, 4, &.{ 1.5, 0, std.math.nan(f64) });
    try expectF64s(sec, 5, &.{ -2.25, 0, std.math.inf(f64) });
    try testing.expectEqualSlices(u8, &.{ 1, 0, 1 }, dataOf(sec, entryAt(sec, 6)));
    try expectI64s(sec, 7, &.{ 23, 0, 0 });
    for (0..8) |c| {
        try expectNulls(sec, c, &.{1});
        try testing.expectEqual(col_has_nulls, entryAt(sec, c).flags);
    }
    try testing.expectEqual(@as(u32, oid.oid_), entryAt(sec, 3).oid);
}

test "text kinds, jsonb and text-format columns" {
    var h = try Harness.init(&.{
        .{ .oid = oid.text, .format = 1 },  .{ .oid = oid.varchar, .format = 1 },
        .{ .oid = oid.name, .format = 1 },  .{ .oid = oid.char, .format = 1 },
        .{ .oid = oid.jsonb, .format = 1 }, .{ .oid = oid.json, .format = 1 },
        .{ .oid = oid.int4, .format = 0 },  .{ .oid = 1007, .format = 0 },
    });
    defer h.deinit();
    try h.add(&.{ "h\xc3\xa9llo", "", "pg_class", "a", "\x01{\"a\": 1}", "[1]", "42", "{1,2}" });
    try h.add(&.{ null, null, null, null, null, null, null, null });
    try h.add(&.{ "x", "y", "z", "\xe9", "\x01null", "{}", "-7", "{}" });
    try h.add(&.{ "", "", "", "\x00", "\x01", "", "", "" });
    const sec = try h.write(0);
    try expectTexts(sec, 0, &.{ "h\xc3\xa9llo", "", "x", "" });
    try expectTexts(sec, 1, &.{ "", "", "y", "" });
    try expectTexts(sec, 3, &.{ "a", "", "\\351", "" });
    try expectTexts(sec, 4, &.{ "{\"a\": 1}", "", "null", "" });
    try expectTexts(sec, 6, &.{ "42", "", "-7", "" });
    try expectTexts(sec, 7, &.{ "{1,2}", "", "{}", "" });
    try testing.expectEqual(col_text_format | col_has_nulls, entryAt(sec, 6).flags);
    try testing.expectEqual(@as(u32, 1007), entryAt(sec, 7).oid);
    try testing.expectEqual(@as(u8, col_has_nulls), entryAt(sec, 0).flags);

    h.b.clearRows();
    try h.addFails(&.{ "a\x00b", "", "", "a", "\x01{}", "", "", "" }); // NUL inside text
    try h.addFails(&.{ "", "", "", "a", "\x02{}", "", "", "" }); // jsonb version 2
    try h.addFails(&.{ "", "", "", "a", "", "", "", "" }); // jsonb without version
    try h.addFails(&.{ "", "", "", "ab", "\x01{}", "", "", "" }); // "char" of 2 bytes
    try h.addFails(&.{ "", "", "", "a", "\x01{}", "", "4\x002", "" }); // NUL in a text-format value
}

test "numeric, date and time values" {
    var h = try Harness.init(&.{
        .{ .oid = oid.numeric, .format = 1 },   .{ .oid = oid.date, .format = 1 },
        .{ .oid = oid.time, .format = 1 },      .{ .oid = oid.timetz, .format = 1 },
        .{ .oid = oid.timestamp, .format = 1 }, .{ .oid = oid.timestamptz, .format = 1 },
    });
    defer h.deinit();
    const day_us: i64 = 86_400_000_000;
    // -1.5: ndigits 2, weight 0, sign neg, dscale 1, digits 1 5000
    const num = h.cat(&.{ h.be(i16, 2), h.be(i16, 0), h.be(u16, 0x4000), h.be(u16, 1), h.be(u16, 1), h.be(u16, 5000) });
    try h.add(&.{ num, h.be(i32, 0), h.be(i64, 0), h.cat(&.{ h.be(i64, 3_600_000_000), h.be(i32, -3600) }), h.be(i64, 0), h.be(i64, 0) });
    const nan = h.cat(&.{ h.be(i16, 0), h.be(i16, 0), h.be(u16, 0xC000), h.be(u16, 0) });
    try h.add(&.{ nan, h.be(i32, 8825), h.be(i64, 86_399_999_999), h.cat(&.{ h.be(i64, 0), h.be(i32, 19800) }), h.be(i64, -1), h.be(i64, 8825 * day_us + 1) });
    try h.add(&.{ null, null, null, null, null, null });
    const pinf = h.cat(&.{ h.be(i16, 0), h.be(i16, 0), h.be(u16, 0xD000), h.be(u16, 0) });
    try h.add(&.{ pinf, h.be(i32, std.math.maxInt(i32)), h.be(i64, day_us), h.cat(&.{ h.be(i64, 1), h.be(i32, -1) }), h.be(i64, std.math.maxInt(i64)), h.be(i64, std.math.minInt(i64)) });
    const sec = try h.write(0);
    try expectTexts(sec, 0, &.{ "-1.5", "NaN", "", "Infinity" });
    try expectDates(sec, 1, &.{ dateOf(2000, 1, 1), dateOf(2024, 2, 29), pystate.date_min, pystate.date_max });
    try expectTexts(sec, 2, &.{ "00:00:00", "23:59:59.999999", "", "24:00:00" });
    try expectTexts(sec, 3, &.{ "01:00:00+01:00", "00:00:00-05:30", "", "00:00:00.000001+00:00:01" });
    const y2k = stateOf(2000, 1, 1, 0, 0, 0, 0);
    const dt_min = pystate.datetime_min;
    try expectDatetimes(sec, 4, &.{ y2k, stateOf(1999, 12, 31, 23, 59, 59, 999_999), dt_min, pystate.datetime_max });
    try expectDatetimes(sec, 5, &.{ y2k, stateOf(2024, 2, 29, 0, 0, 0, 1), dt_min, dt_min });
    try expectNulls(sec, 4, &.{2});
    try testing.expectEqual(@as(u64, 0), entryAt(sec, 4).aux_len);

    const ok_num = h.cat(&.{ h.be(i16, 0), h.be(i16, 0), h.be(u16, 0), h.be(u16, 0) });
    const ok_tz = h.cat(&.{ h.be(i64, 0), h.be(i32, 0) });
    const good = [_]?[]const u8{ ok_num, h.be(i32, 0), h.be(i64, 0), ok_tz, h.be(i64, 0), h.be(i64, 0) };
    h.b.clearRows();
    const bad = [_]struct { usize, []const u8 }{
        .{ 0, h.cat(&.{ h.be(i16, 1), h.be(i16, 0), h.be(u16, 0), h.be(u16, 0), h.be(u16, 10000) }) }, // digit >= 10000
        .{ 0, h.cat(&.{ h.be(i16, 2), h.be(i16, 0), h.be(u16, 0), h.be(u16, 0), h.be(u16, 1) }) }, // digits cut short
        .{ 0, h.cat(&.{ h.be(i16, -1), h.be(i16, 0), h.be(u16, 0), h.be(u16, 0) }) }, // negative ndigits
        .{ 0, h.cat(&.{ h.be(i16, 0), h.be(i16, 0), h.be(u16, 0x8000), h.be(u16, 0) }) }, // unknown sign
        .{ 1, h.be(i64, 0) }, // date of 8 bytes
        .{ 2, h.be(i32, 0) }, // time of 4 bytes
        .{ 2, h.be(i64, -1) }, // time before midnight
        .{ 2, h.be(i64, day_us + 1) }, // time past 24:00
        .{ 3, h.be(i64, 0) }, // timetz without zone
        .{ 3, h.cat(&.{ h.be(i64, 0), h.be(i32, 16 * 3600 + 1) }) }, // zone past 16 hours
        .{ 4, h.be(i32, 0) }, // timestamp of 4 bytes
        .{ 5, h.be(i64, 0)[0..7] },
    };
    for (bad) |b| {
        var fields = good;
        fields[b[0]] = b[1];
        try h.addFails(&fields);
    }
    try h.add(&good);
    try expectTexts(try h.write(0), 0, &.{"0"});
}

/// A one-dimensional timestamp[] value (null = a NULL element).
fn timestampArray(h: *Harness, elems: []const ?i64) []const u8 {
    const a = h.arena.allocator();
    var parts: std.ArrayList([]const u8) = .empty;
    const header = [_][]const u8{
        h.be(i32, 1), h.be(i32, 1), h.be(u32, oid.timestamp), // ndims, has-null flag, element oid
        h.be(i32, @intCast(elems.len)), h.be(i32, 1), // length, lower bound
    };
    parts.appendSlice(a, &header) catch @panic("oom");
    for (elems) |e| {
        const field = if (e) |us| h.cat(&.{ h.be(i32, 8), h.be(i64, us) }) else h.be(i32, -1);
        parts.append(a, field) catch @panic("oom");
    }
    return h.cat(parts.items);
}

test "dates and timestamps Python cannot hold: the marker, and the first one's text in aux" {
    var h = try Harness.init(&.{
        .{ .oid = oid.date, .format = 1 }, .{ .oid = oid.timestamp, .format = 1 },
        .{ .oid = oid.timestamptz, .format = 1 }, .{ .oid = 1115, .format = 1 }, // timestamp[]
    });
    defer h.deinit();
    const day_us: i64 = 86_400_000_000;
    const y10000: i32 = 2_921_940; // days of 10000-01-01
    const bc1: i32 = -730_120; // days of 0001-12-31 BC
    const max = std.math.maxInt(i64);
    const min = std.math.minInt(i64);
    try h.add(&.{ h.be(i32, 1), h.be(i64, 1), h.be(i64, -1), timestampArray(&h, &.{ 0, null, max }) });
    try h.add(&.{ h.be(i32, y10000), h.be(i64, bc1 * day_us), null, timestampArray(&h, &.{y10000 * day_us}) });
    try h.add(&.{ h.be(i32, bc1), h.be(i64, max - 1), h.be(i64, min + 1), null });
    const sec = try h.write(0);

    const dt_min = pystate.datetime_min;
    const dt_marker = pystate.datetime_marker;
    try expectDates(sec, 0, &.{ dateOf(2000, 1, 2), pystate.date_marker, pystate.date_marker });
    try testing.expectEqualStrings("10000-01-01", auxOf(sec, entryAt(sec, 0))); // only the first
    try expectDatetimes(sec, 1, &.{ stateOf(2000, 1, 1, 0, 0, 0, 1), dt_marker, dt_marker });
    try testing.expectEqualStrings("0001-12-31T00:00:00 BC", auxOf(sec, entryAt(sec, 1)));
    try expectDatetimes(sec, 2, &.{ stateOf(1999, 12, 31, 23, 59, 59, 999_999), dt_min, dt_marker });
    try testing.expectEqualStrings("290279-12-22T19:59:05.224193+00:00 BC", auxOf(sec, entryAt(sec, 2)));
    try expectNulls(sec, 2, &.{1});
    // the array's child entry holds the elements, NULL placeholder and marker alike
    try expectDatetimes(sec, 4, &.{ stateOf(2000, 1, 1, 0, 0, 0, 0), dt_min, pystate.datetime_max, dt_marker });
    try expectNulls(sec, 4, &.{1});
    try testing.expectEqualStrings("10000-01-01T00:00:00", auxOf(sec, entryAt(sec, 4)));

    // the next batch starts without a remembered value
    h.b.clearRows();
    try h.add(&.{ h.be(i32, 0), h.be(i64, 0), h.be(i64, 0), null });
    const sec2 = try h.write(0);
    for ([_]usize{ 0, 1, 2, 4 }) |c| try testing.expectEqual(@as(u64, 0), entryAt(sec2, c).aux_len);
}

test "interval, uuid, bytea, raw, inet and cidr" {
    var h = try Harness.init(&.{
        .{ .oid = oid.interval, .format = 1 }, .{ .oid = oid.uuid, .format = 1 },
        .{ .oid = oid.bytea, .format = 1 }, .{ .oid = 600, .format = 1 }, // point: RAW
        .{ .oid = oid.inet, .format = 1 },  .{ .oid = oid.cidr, .format = 1 },
    });
    defer h.deinit();
    const uuid = "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78\x9a\xbc\xde\xf0";
    const v4 = "\x02\x20\x00\x04\xc0\xa8\x00\x01";
    const v6 = "\x03\x40\x01\x10\x20\x01\x0d\xb8" ++ "\x00" ** 12;
    try h.add(&.{ h.cat(&.{ h.be(i64, -1_500_000), h.be(i32, 3), h.be(i32, -14) }), uuid, "\x00\x01\xff", "\x00\x00", v4, v6 });
    try h.add(&.{ null, null, null, null, null, null });
    try h.add(&.{ h.cat(&.{ h.be(i64, 0), h.be(i32, 0), h.be(i32, 1) }), "\x00" ** 16, "", "abc", "\x02\x18\x00\x04\x0a\x00\x00\x01", "\x02\x20\x01\x04\x0a\x01\x02\x03" });
    const sec = try h.write(0);

    const iv = dataOf(sec, entryAt(sec, 0));
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.interval)), entryAt(sec, 0).kind);
    try testing.expectEqual(@as(i64, -1_500_000), std.mem.readInt(i64, iv[0..8], .little));
    try testing.expectEqual(@as(i32, 3), std.mem.readInt(i32, iv[8..12], .little));
    try testing.expectEqual(@as(i32, -14), std.mem.readInt(i32, iv[12..16], .little));
    try testing.expectEqualSlices(u8, &([_]u8{0} ** 16), iv[16..32]);
    try testing.expectEqual(@as(i32, 1), std.mem.readInt(i32, iv[44..48], .little));

    try testing.expectEqualSlices(u8, uuid ++ "\x00" ** 32, dataOf(sec, entryAt(sec, 1)));

    for ([_]usize{ 2, 3 }, [_]Kind{ .bytes, .raw }, [_][]const u8{ "\x00\x01\xff", "\x00\x00abc" }) |c, k, all| {
        const e = entryAt(sec, c);
        try testing.expectEqual(@as(u8, @intFromEnum(k)), e.kind);
        try testing.expectEqualSlices(u8, all, dataOf(sec, e));
        const aux = auxOf(sec, e);
        const ends = [_]u64{ 0, all.len - (if (c == 2) @as(u64, 0) else 3), all.len - (if (c == 2) @as(u64, 0) else 3), all.len };
        for (ends, 0..) |x, k2| try testing.expectEqual(x, u64At(aux, k2));
    }
    try expectTexts(sec, 4, &.{ "192.168.0.1", "", "10.0.0.1/24" });
    try expectTexts(sec, 5, &.{ "2001:db8::/64", "", "10.1.2.3/32" });

    h.b.clearRows();
    try h.addFails(&.{ "\x00" ** 12, uuid, "", "", v4, v6 }); // interval of 12 bytes
    try h.addFails(&.{ "\x00" ** 16, uuid[0..15], "", "", v4, v6 }); // uuid of 15 bytes
    try h.addFails(&.{ "\x00" ** 16, uuid, "", "", "\x02\x21\x00\x04\x01\x02\x03\x04", v6 }); // 33 bits
    try h.addFails(&.{ "\x00" ** 16, uuid, "", "", v4, v6[0..19] }); // address cut short
    try h.addFails(&.{ "\x00" ** 16, uuid, "", "", "\x05\x20\x00\x04\x01\x02\x03\x04", v6 }); // family 5
}

fn int4Array(h: *Harness, dims: []const i32, elems: []const ?i32) []const u8 {
    return array.buildInt4Array(h.arena.allocator(), dims, elems) catch @panic("oom");
}

test "arrays: 1-D, 2-D, empty, NULL, NULL elements" {
    var h = try Harness.init(&.{
        .{ .oid = oid.int4, .format = 1 }, .{ .oid = 1007, .format = 1 },
        .{ .oid = 1009, .format = 1 }, .{ .oid = 1017, .format = 1 }, // _point: RAW
    });
    defer h.deinit();
    const texts = h.cat(&.{
        h.be(i32, 1),  h.be(i32, 1), h.be(u32, oid.text), h.be(i32, 2), h.be(i32, 0),
        h.be(i32, -1), h.be(i32, 2), "hi",
    });
    const empty_text = h.cat(&.{ h.be(i32, 0), h.be(i32, 0), h.be(u32, oid.text) });
    try h.add(&.{ h.be(i32, 1), int4Array(&h, &.{3}, &.{ 1, null, 3 }), texts, "p" });
    try h.add(&.{ h.be(i32, 2), int4Array(&h, &.{ 2, 3 }, &.{ 1, 2, 3, 4, null, 6 }), null, null });
    try h.add(&.{ h.be(i32, 3), int4Array(&h, &.{}, &.{}), empty_text, "" });
    try h.add(&.{ h.be(i32, 4), null, texts, "q" });
    try h.add(&.{ h.be(i32, 5), int4Array(&h, &.{ 1, 1, 2 }, &.{ 7, 8 }), texts, "r" });
    try testing.expectEqual(@as(usize, 6), h.b.entryCount());
    const sec = try h.write(8);

    const ints = entryAt(sec, 1);
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.array)), ints.kind);
    try testing.expectEqual(@as(u32, 4), ints.child);
    try testing.expectEqual(@as(u32, 1007), ints.oid);
    const starts = dataOf(sec, ints);
    for ([_]u32{ 0, 3, 9, 9, 9, 11 }, 0..) |x, k| try testing.expectEqual(x, u32At(starts, k));
    const shape = auxOf(sec, ints);
    for ([_]u32{ 1, 3, 2, 2, 3, 0, 0, 3, 1, 1, 2 }, 0..) |x, k| try testing.expectEqual(x, u32At(shape, k));
    try expectNulls(sec, 1, &.{3});
    try expectI64s(sec, 4, &.{ 1, 0, 3, 1, 2, 3, 4, 0, 6, 7, 8 });
    try expectNulls(sec, 4, &.{ 1, 7 });
    try testing.expectEqual(@as(u32, oid.int4), entryAt(sec, 4).oid);

    const strs = entryAt(sec, 2);
    try testing.expectEqual(@as(u32, 5), strs.child);
    try expectTexts(sec, 5, &.{ "", "hi", "", "hi", "", "hi" });
    try expectNulls(sec, 5, &.{ 0, 2, 4 });
    try testing.expectEqual(@as(u8, @intFromEnum(Kind.raw)), entryAt(sec, 3).kind);
}

test "arrays: malformed values" {
    var h = try Harness.init(&.{.{ .oid = 1007, .format = 1 }});
    defer h.deinit();
    const hdr = struct {
        fn f(hh: *Harness, ndims: i32, flags: i32, elem: u32) []const u8 {
            return hh.cat(&.{ hh.be(i32, ndims), hh.be(i32, flags), hh.be(u32, elem) });
        }
    }.f;
    const one = h.cat(&.{ h.be(i32, 4), h.be(i32, 9) });
    const cases = [_][]const u8{
        h.cat(&.{ hdr(&h, 1, 0, oid.int8), h.be(i32, 1), h.be(i32, 1), one }), // element type differs
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 0), h.be(i32, 1) }), // zero-length dimension
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, -1), h.be(i32, 1) }), // negative dimension
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 2), h.be(i32, 1), one }), // one element short
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 1), h.be(i32, 1), one, one }), // one too many
        h.cat(&.{ hdr(&h, 1, 2, oid.int4), h.be(i32, 1), h.be(i32, 1), one }), // bad flags
        h.cat(&.{ hdr(&h, -1, 0, oid.int4), one }), // negative ndims
        h.cat(&.{ hdr(&h, 7, 0, oid.int4), one, one, one, one, one, one, one, one }), // 7 dimensions
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 1) }), // dims cut short
        h.cat(&.{ hdr(&h, 0, 0, oid.int4), one }), // bytes after an empty array
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 1), h.be(i32, 1), h.be(i32, 8), h.be(i64, 1) }), // int4 of 8 bytes
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 1), h.be(i32, 1), h.be(i32, -2) }), // length -2
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 1), h.be(i32, 1), h.be(i32, 5), h.be(i32, 1) }), // length past the end
        h.cat(&.{ hdr(&h, 2, 0, oid.int4), h.be(i32, 65536), h.be(i32, 1), h.be(i32, 65536), h.be(i32, 1), one }), // 2^32 items
        h.cat(&.{ hdr(&h, 1, 0, oid.int4), h.be(i32, 2), h.be(i32, 1), one, h.be(i32, -1) }), // NULL without the has-null flag
        hdr(&h, 0, 0, oid.int4)[0..11],
    };
    for (cases) |c| try h.addFails(&.{c});
    try h.add(&.{int4Array(&h, &.{2}, &.{ 5, 6 })});
    const sec = try h.write(0);
    try expectI64s(sec, 1, &.{ 5, 6 });
}

test "malformed rows, then clearRows recovers" {
    var h = try Harness.init(&.{ .{ .oid = oid.int4, .format = 1 }, .{ .oid = oid.text, .format = 1 } });
    defer h.deinit();
    try h.add(&.{ h.be(i32, 1), "kept?" });
    const good = h.row(&.{ h.be(i32, 2), "abc" });
    const bad = [_][]const u8{
        h.row(&.{h.be(i32, 2)}), // one field short
        h.row(&.{ h.be(i32, 2), "abc", "" }), // one too many
        good[0 .. good.len - 1], // value cut short
        good[0..12], // length cut short
        good[0..1],
        "",
        h.cat(&.{ good, "x" }), // trailing byte
        h.row(&.{ h.be(i16, 2), "abc" }), // int4 of 2 bytes
        h.row(&.{ h.be(i64, 2), "abc" }), // int4 of 8 bytes
        h.cat(&.{ h.be(u16, 2), h.be(i32, -2), h.be(i32, 0) }), // length -2
        h.cat(&.{ h.be(u16, 2), h.be(i32, 4), h.be(i32, 1), h.be(i32, 0x7fffffff) }), // huge length
    };
    for (bad) |p| {
        try testing.expectError(error.ProtocolViolation, h.b.addDataRow(p));
        h.b.clearRows();
        try testing.expectEqual(@as(usize, 0), h.b.rowCount());
    }
    try h.b.addDataRow(good);
    const sec = try h.write(0);
    try expectI64s(sec, 0, &.{2});
    try expectTexts(sec, 1, &.{"abc"});
}

test "batches of one result and reuse across shapes" {
    var h = try Harness.init(&.{ .{ .oid = 1007, .format = 1 }, .{ .oid = 1009, .format = 1 }, .{ .oid = oid.text, .format = 1 } });
    defer h.deinit();
    try testing.expectEqual(@as(usize, 5), h.b.entryCount());
    try h.add(&.{ int4Array(&h, &.{2}, &.{ 1, 2 }), null, "a" });
    const size1 = h.b.byteSize();
    try h.add(&.{ int4Array(&h, &.{1}, &.{3}), null, "b" });
    try testing.expect(h.b.byteSize() > size1);
    _ = try h.write(0);
    h.b.clearRows();
    try h.add(&.{ int4Array(&h, &.{1}, &.{4}), null, "c" });
    var sec = try h.write(16);
    try testing.expectEqual(@as(u32, 1), entryAt(sec, 0).count);
    try expectI64s(sec, 3, &.{4});
    try expectTexts(sec, 2, &.{"c"});

    try h.b.setColumns(&.{.{ .oid = oid.int8, .format = 1 }});
    try testing.expectEqual(@as(usize, 1), h.b.entryCount());
    try testing.expectEqual(@as(usize, 0), h.b.rowCount());
    try h.add(&.{h.be(i64, 9)});
    sec = try h.write(0);
    try expectI64s(sec, 0, &.{9});

    try h.b.setColumns(&.{});
    try h.add(&.{});
    try h.add(&.{});
    try testing.expectEqual(@as(usize, 2), h.b.rowCount());
    _ = try h.write(0);

    try h.b.setColumns(&.{ .{ .oid = oid.text, .format = 1 }, .{ .oid = 1016, .format = 1 } });
    try h.add(&.{ "z", null });
    sec = try h.write(0);
    try expectTexts(sec, 0, &.{"z"});
    try testing.expectEqual(@as(u32, 0), entryAt(sec, 2).count);
}

fn oomScenario(gpa: Allocator) !void {
    var b = Builder.init(gpa);
    defer b.deinit();
    try b.setColumns(&.{
        .{ .oid = oid.int4, .format = 1 },    .{ .oid = oid.text, .format = 1 },
        .{ .oid = 1007, .format = 1 },        .{ .oid = oid.bytea, .format = 1 },
        .{ .oid = oid.numeric, .format = 1 }, .{ .oid = oid.timestamp, .format = 1 },
    });
    const int4_array = "\x00\x00\x00\x01" ++ "\x00\x00\x00\x01" ++ "\x00\x00\x00\x17" ++ "\x00\x00\x00\x02\x00\x00\x00\x01" ++
        "\x00\x00\x00\x04\x00\x00\x00\x01" ++ "\xff\xff\xff\xff";
    const num = "\x00\x01\x00\x00\x00\x00\x00\x02\x00\x07";
    const past_9999 = "\x7f\xff\xff\xff\xff\xff\xff\xfe"; // its text goes to aux
    const row = "\x00\x06" ++ "\x00\x00\x00\x04\x00\x00\x00\x2a" ++ "\x00\x00\x00\x05hello" ++
        "\x00\x00\x00\x20" ++ int4_array ++ "\x00\x00\x00\x02\x00\x01" ++ "\x00\x00\x00\x0a" ++ num ++
        "\x00\x00\x00\x08" ++ past_9999;
    for (0..3) |_| try b.addDataRow(row);
    try b.addDataRow("\x00\x06" ++ "\xff\xff\xff\xff" ** 6);
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(gpa);
    try b.writeColumns(gpa, &out);
    try support.checkSection(out.items, b.entryCount(), 6, 4);
    try support.expectTexts(out.items, 4, &.{ "7.00", "7.00", "7.00", "" });
}

test "allocation failures leak nothing and surface as OutOfMemory" {
    try std.testing.checkAllAllocationFailures(testing.allocator, oomScenario, .{});
}
