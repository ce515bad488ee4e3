//! The result shape of each named prepared statement the connection has executed: its row
//! description (or "no rows"), learned from the Describe that travelled with its first
//! execution. Later executions with the same result formats send Bind/Execute/Sync only and
//! the connection replays the stored description, so the server builds no RowDescription
//! per query and the client parses none.
//!
//! A stored shape cannot go stale unnoticed: when a statement's result type changes (DDL),
//! the server fails its execution ("cached plan must not change result type"), and a Parse
//! or Close of the name forgets the shape.
const std = @import("std");
const ColumnDesc = @import("batch/builder.zig").ColumnDesc;

const Allocator = std.mem.Allocator;

/// Statements remembered at most; past this, new ones are simply described every time.
const max_shapes = 4096;

pub const Shape = struct {
    /// The map's reference plus one per queued operation that will replay it.
    refs: u32,
    /// The result formats of the execution that was described.
    formats: []i16,
    /// The row description as results carry it (result.zig); null when there are no rows.
    rowdesc: ?[]u8,
    cols: []ColumnDesc,

    pub fn release(self: *Shape, gpa: Allocator) void {
        self.refs -= 1;
        if (self.refs != 0) return;
        gpa.free(self.formats);
        if (self.rowdesc) |r| gpa.free(r);
        gpa.free(self.cols);
        gpa.destroy(self);
    }
};

pub const Shapes = struct {
    map: std.StringHashMapUnmanaged(*Shape) = .empty,

    pub fn deinit(self: *Shapes, gpa: Allocator) void {
        var it = self.map.iterator();
        while (it.next()) |e| {
            gpa.free(e.key_ptr.*);
            e.value_ptr.*.release(gpa);
        }
        self.map.deinit(gpa);
    }

    /// The shape of `name` executed with `formats`, with a reference the caller releases.
    pub fn acquire(self: *Shapes, name: []const u8, formats: []const i16) ?*Shape {
        const s = self.map.get(name) orelse return null;
        if (!std.mem.eql(i16, s.formats, formats)) return null;
        s.refs += 1;
        return s;
    }

    /// Remembers what an execution of `name` with `formats` returned (`rowdesc` null: no rows).
    pub fn learn(
        self: *Shapes,
        gpa: Allocator,
        name: []const u8,
        formats: []const i16,
        rowdesc: ?[]const u8,
        cols: []const ColumnDesc,
    ) Allocator.Error!void {
        if (!self.map.contains(name) and self.map.count() >= max_shapes) return;
        const s = try gpa.create(Shape);
        s.* = .{ .refs = 1, .formats = &.{}, .rowdesc = null, .cols = &.{} };
        errdefer s.release(gpa);
        s.formats = try gpa.dupe(i16, formats);
        s.cols = try gpa.dupe(ColumnDesc, cols);
        if (rowdesc) |r| s.rowdesc = try gpa.dupe(u8, r);
        const entry = try self.map.getOrPut(gpa, name);
        if (entry.found_existing) {
            entry.value_ptr.*.release(gpa);
        } else {
            entry.key_ptr.* = gpa.dupe(u8, name) catch |e| {
                self.map.removeByPtr(entry.key_ptr);
                return e;
            };
        }
        entry.value_ptr.* = s;
    }

    /// Forgets `name` (it was closed, or is being parsed again).
    pub fn forget(self: *Shapes, gpa: Allocator, name: []const u8) void {
        const kv = self.map.fetchRemove(name) orelse return;
        gpa.free(kv.key);
        kv.value.release(gpa);
    }
};

const testing = std.testing;

test "a shape is found for its name and formats only, and outlives forget while held" {
    const gpa = testing.allocator;
    var shapes: Shapes = .{};
    defer shapes.deinit(gpa);
    const cols = [_]ColumnDesc{.{ .oid = 23, .format = 1 }};
    try shapes.learn(gpa, "s1", &.{1}, "rowdesc", &cols);
    try shapes.learn(gpa, "s2", &.{1}, null, &.{});

    try testing.expect(shapes.acquire("s1", &.{0}) == null);
    try testing.expect(shapes.acquire("s3", &.{1}) == null);
    const held = shapes.acquire("s1", &.{1}).?;
    try testing.expectEqualStrings("rowdesc", held.rowdesc.?);
    try testing.expectEqual(@as(u32, 23), held.cols[0].oid);

    shapes.forget(gpa, "s1");
    try testing.expect(shapes.acquire("s1", &.{1}) == null);
    try testing.expectEqualStrings("rowdesc", held.rowdesc.?); // still valid for its holder
    held.release(gpa);

    const none = shapes.acquire("s2", &.{1}).?;
    defer none.release(gpa);
    try testing.expect(none.rowdesc == null);
}

test "learning a name again replaces its shape" {
    const gpa = testing.allocator;
    var shapes: Shapes = .{};
    defer shapes.deinit(gpa);
    try shapes.learn(gpa, "s", &.{1}, "old", &.{});
    try shapes.learn(gpa, "s", &.{1}, "new", &.{});
    const s = shapes.acquire("s", &.{1}).?;
    defer s.release(gpa);
    try testing.expectEqualStrings("new", s.rowdesc.?);
    try testing.expectEqual(@as(u32, 1), shapes.map.count());
}
