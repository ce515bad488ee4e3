//! Fuzz-style test of the builder: valid rows of every decoder must be accepted, and
//! random or mutated DataRow bodies must never crash it (errors are fine). The written
//! sections are checked against the layout's invariants as we go. Run in Debug so the
//! safety checks (bounds, overflow, casts) are on.
const std = @import("std");
const builder = @import("builder.zig");
const types = @import("types.zig");
const support = @import("test_support.zig");

const Allocator = std.mem.Allocator;
const Builder = builder.Builder;
const ColumnDesc = builder.ColumnDesc;
const Codec = types.Codec;
const oid = types.oid;

/// One column of every decoder, arrays of several element kinds, a text-format column
/// and two RAW ones (a plain type and an array of one).
const all_columns = [_]ColumnDesc{
    .{ .oid = oid.bool_, .format = 1 },     .{ .oid = oid.int2, .format = 1 },
    .{ .oid = oid.int4, .format = 1 },      .{ .oid = oid.int8, .format = 1 },
    .{ .oid = oid.oid_, .format = 1 },      .{ .oid = oid.float4, .format = 1 },
    .{ .oid = oid.float8, .format = 1 },    .{ .oid = oid.text, .format = 1 },
    .{ .oid = oid.char, .format = 1 },      .{ .oid = oid.jsonb, .format = 1 },
    .{ .oid = oid.numeric, .format = 1 },   .{ .oid = oid.date, .format = 1 },
    .{ .oid = oid.time, .format = 1 },      .{ .oid = oid.timetz, .format = 1 },
    .{ .oid = oid.timestamp, .format = 1 }, .{ .oid = oid.timestamptz, .format = 1 },
    .{ .oid = oid.interval, .format = 1 },  .{ .oid = oid.uuid, .format = 1 },
    .{ .oid = oid.bytea, .format = 1 },     .{ .oid = oid.inet, .format = 1 },
    .{ .oid = oid.cidr, .format = 1 },      .{ .oid = 600, .format = 1 },
    .{ .oid = oid.int4, .format = 0 },      .{ .oid = 1007, .format = 1 },
    .{ .oid = 1009, .format = 1 },          .{ .oid = 1231, .format = 1 },
    .{ .oid = 1185, .format = 1 },          .{ .oid = 1041, .format = 1 },
    .{ .oid = 2951, .format = 1 },          .{ .oid = 1001, .format = 1 },
    .{ .oid = 1000, .format = 1 },          .{ .oid = 1017, .format = 1 },
};

const Gen = struct {
    r: std.Random,
    out: *std.ArrayList(u8),
    gpa: Allocator,

    fn bytes(self: Gen, s: []const u8) void {
        self.out.appendSlice(self.gpa, s) catch @panic("oom");
    }

    fn int(self: Gen, comptime T: type, x: T) void {
        std.mem.writeInt(T, self.out.addManyAsArray(self.gpa, @sizeOf(T)) catch @panic("oom"), x, .big);
    }

    fn random(self: Gen, n: usize) void {
        const dst = self.out.addManyAsSlice(self.gpa, n) catch @panic("oom");
        self.r.bytes(dst);
    }

    /// Text without NUL bytes.
    fn text(self: Gen, max: usize) void {
        const at = self.out.items.len;
        self.random(self.r.uintAtMost(usize, max));
        for (self.out.items[at..]) |*c| c.* |= @intFromBool(c.* == 0);
    }

    /// A length-prefixed field: reserve the length, write the value, patch the length.
    fn field(self: Gen, codec: Codec, elem_oid: u32) void {
        const at = self.out.items.len;
        self.int(i32, 0);
        self.value(codec, elem_oid);
        const len: i32 = @intCast(self.out.items.len - at - 4);
        std.mem.writeInt(i32, self.out.items[at..][0..4], len, .big);
    }

    /// A valid binary value for `codec` (element type `elem_oid` for arrays).
    fn value(self: Gen, codec: Codec, elem_oid: u32) void {
        const r = self.r;
        switch (codec) {
            .bool, .char => self.random(1),
            .int2 => self.random(2),
            .int4, .oid, .float4 => self.random(4),
            .int8, .float8 => self.random(8),
            .text, .raw, .bytea => if (codec == .text) self.text(24) else self.random(r.uintAtMost(usize, 24)),
            .jsonb => {
                self.int(u8, 1);
                self.text(24);
            },
            .numeric => self.numeric(),
            .date => self.int(i32, switch (r.uintLessThan(u8, 20)) {
                0 => std.math.maxInt(i32),
                1 => std.math.minInt(i32),
                2...9 => r.intRangeAtMost(i32, -800_000, 3_000_000),
                else => r.int(i32),
            }),
            .time => self.int(i64, r.intRangeAtMost(i64, 0, 86_400_000_000)),
            .timetz => {
                self.int(i64, r.intRangeAtMost(i64, 0, 86_400_000_000));
                self.int(i32, r.intRangeAtMost(i32, -57_600, 57_600));
            },
            .timestamp, .timestamptz => self.int(i64, switch (r.uintLessThan(u8, 20)) {
                0 => std.math.maxInt(i64),
                1 => std.math.minInt(i64),
                2...9 => r.intRangeAtMost(i64, -70_000_000_000_000_000, 260_000_000_000_000_000),
                else => r.int(i64),
            }),
            .interval, .uuid => self.random(16),
            .inet, .cidr => {
                const v6 = r.boolean();
                self.int(u8, if (v6) 3 else 2);
                self.int(u8, r.uintAtMost(u8, if (v6) 128 else 32));
                self.int(u8, @intFromBool(codec == .cidr));
                self.int(u8, if (v6) 16 else 4);
                // mostly-zero addresses exercise the "::" compression
                for (0..@as(usize, if (v6) 16 else 4)) |_| self.int(u8, if (r.boolean()) 0 else r.int(u8));
            },
            .array => self.array(elem_oid),
        }
    }

    fn numeric(self: Gen) void {
        const r = self.r;
        const signs = [_]u16{ 0, 0x4000, 0, 0x4000, 0xC000, 0xD000, 0xF000 };
        const ndigits = r.uintAtMost(u16, 6);
        self.int(i16, @intCast(ndigits));
        self.int(i16, if (r.uintLessThan(u8, 10) == 0) r.intRangeAtMost(i16, -2000, 2000) else r.intRangeAtMost(i16, -8, 8));
        self.int(u16, signs[r.uintLessThan(usize, signs.len)]);
        self.int(u16, if (r.uintLessThan(u8, 200) == 0) r.uintAtMost(u16, 0x3FFF) else r.uintAtMost(u16, 40));
        for (0..ndigits) |_| self.int(u16, r.uintAtMost(u16, 9999));
    }

    fn array(self: Gen, elem_oid: u32) void {
        const r = self.r;
        const ndims = r.uintAtMost(u32, 3);
        var nitems: usize = if (ndims == 0) 0 else 1;
        self.int(u32, ndims);
        self.int(i32, 1); // has-null flag (may be set without NULLs)
        self.int(u32, elem_oid);
        for (0..ndims) |_| {
            const d = r.intRangeAtMost(i32, 1, 3);
            nitems *= @intCast(d);
            self.int(i32, d);
            self.int(i32, r.intRangeAtMost(i32, -5, 5));
        }
        const codec = types.scalarCodec(elem_oid);
        for (0..nitems) |_| {
            if (r.uintLessThan(u8, 8) == 0) self.int(i32, -1) else self.field(codec, elem_oid);
        }
    }

    fn row(self: Gen, cols: []const ColumnDesc) void {
        self.int(u16, @intCast(cols.len));
        for (cols) |c| {
            if (self.r.uintLessThan(u8, 6) == 0) {
                self.int(i32, -1);
                continue;
            }
            // text-format columns carry whatever text; generate it like a text value
            const codec = types.codecFor(c.oid, c.format);
            self.field(codec, types.arrayElement(c.oid) orelse 0);
        }
    }
};

/// Damage a valid payload: overwrite, insert, cut, or plant a suspicious int32 length.
fn mutate(r: std.Random, gpa: Allocator, p: *std.ArrayList(u8)) void {
    const n = r.intRangeAtMost(u8, 1, 3);
    for (0..n) |_| {
        const len = p.items.len;
        switch (r.uintLessThan(u8, 5)) {
            0 => if (len > 0) {
                p.items[r.uintLessThan(usize, len)] = r.int(u8);
            },
            1 => p.insert(gpa, r.uintAtMost(usize, len), r.int(u8)) catch @panic("oom"),
            2 => p.shrinkRetainingCapacity(r.uintAtMost(usize, len)),
            3 => if (len >= 4) {
                const specials = [_]i32{ -1, -2, 0, 1, 4, 8, 16, 0x7fffffff, std.math.minInt(i32), 0x10000 };
                const at = r.uintAtMost(usize, len - 4);
                std.mem.writeInt(i32, p.items[at..][0..4], specials[r.uintLessThan(usize, specials.len)], .big);
            },
            else => if (len > 0) {
                p.items[r.uintLessThan(usize, len)] ^= @as(u8, 1) << r.int(u3);
            },
        }
    }
}

fn flush(b: *Builder, out: *std.ArrayList(u8), gpa: Allocator) !void {
    out.clearRetainingCapacity();
    try b.writeColumns(gpa, out);
    try support.checkSection(out.items, b.entryCount(), b.ncols, b.rowCount());
    b.clearRows();
}

test "fuzz: valid rows are accepted, damaged ones never crash" {
    const gpa = std.testing.allocator;
    var prng = std.Random.DefaultPrng.init(0x5eed_9a7e);
    const r = prng.random();
    var b = Builder.init(gpa);
    defer b.deinit();
    var payload: std.ArrayList(u8) = .empty;
    defer payload.deinit(gpa);
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(gpa);
    var cols: std.ArrayList(ColumnDesc) = .empty;
    defer cols.deinit(gpa);
    try cols.appendSlice(gpa, &all_columns);
    try b.setColumns(cols.items);

    var valid: std.ArrayList(u8) = .empty;
    defer valid.deinit(gpa);
    const g: Gen = .{ .r = r, .out = &payload, .gpa = gpa };
    const gv: Gen = .{ .r = r, .out = &valid, .gpa = gpa };
    var accepted: usize = 0;
    var rejected: usize = 0;
    const iterations = 300_000;
    for (0..iterations) |i| {
        // now and then a new shape: a random pick of the columns, or random oids/formats
        if (i % 5000 == 4999) {
            try flush(&b, &out, gpa);
            cols.clearRetainingCapacity();
            const n = r.uintAtMost(usize, 12);
            for (0..n) |_| {
                const c = if (r.uintLessThan(u8, 4) == 0)
                    ColumnDesc{ .oid = r.uintAtMost(u32, 5000), .format = r.uintAtMost(u16, 1) }
                else
                    all_columns[r.uintLessThan(usize, all_columns.len)];
                try cols.append(gpa, c);
            }
            if (i % 20000 == 19999) {
                cols.clearRetainingCapacity();
                try cols.appendSlice(gpa, &all_columns);
            }
            try b.setColumns(cols.items);
            valid.clearRetainingCapacity();
        }

        // a fresh valid row every 4th iteration (it must be accepted); in between, damaged
        // copies of it, and now and then pure noise
        const fresh = i % 4 == 0 or valid.items.len == 0;
        if (fresh) {
            valid.clearRetainingCapacity();
            gv.row(cols.items);
            const before = b.rowCount();
            try b.addDataRow(valid.items);
            try std.testing.expectEqual(before + 1, b.rowCount());
            accepted += 1;
        } else {
            payload.clearRetainingCapacity();
            if (r.uintLessThan(u8, 50) == 0) {
                g.random(r.uintAtMost(usize, 64));
                if (payload.items.len >= 2 and r.boolean()) std.mem.writeInt(u16, payload.items[0..2], @intCast(cols.items.len), .big);
            } else {
                try payload.appendSlice(gpa, valid.items);
                mutate(r, gpa, &payload);
            }
            if (b.addDataRow(payload.items)) |_| {
                accepted += 1;
            } else |err| {
                try std.testing.expectEqual(error.ProtocolViolation, err);
                rejected += 1;
                b.clearRows(); // the contract: this recovers the builder
            }
        }
        if (b.rowCount() >= 400 or r.uintLessThan(u16, 1000) == 0) try flush(&b, &out, gpa);
    }
    try flush(&b, &out, gpa);
    try std.testing.expect(accepted > iterations / 4 and rejected > iterations / 3);
}
