//! The result buffer handed across the ABI after a `batch` or `done` event: a header, the
//! row description, the parameter types, the command tag and the column section
//! (batch/LAYOUT.md), in one contiguous block the caller copies out in one go.
const std = @import("std");
const Builder = @import("batch/builder.zig").Builder;
const Allocator = std.mem.Allocator;

pub const version: u32 = 1;
pub const flag_done: u32 = 1;
pub const flag_rowdesc: u32 = 2;
pub const flag_params: u32 = 4;

/// `pgz_result_header` in pgz.h.
pub const Header = extern struct {
    version: u32,
    flags: u32,
    nrows: u32,
    ncols: u32,
    nentries: u32,
    nparams: u32,
    rowdesc_off: u32,
    rowdesc_len: u32,
    params_off: u32,
    tag_off: u32,
    tag_len: u32,
    columns_off: u32,
};

/// One column of the row description (`pgz_field` in pgz.h); the names follow all
/// fields, each NUL-terminated.
pub const Field = struct {
    type_oid: u32,
    typmod: i32,
    table_oid: u32,
    attnum: i16,
    format: i16,
    typlen: i16,
    name_len: u16,
};
pub const field_size: usize = 20;

pub fn writeField(dst: *[field_size]u8, f: Field) void {
    std.mem.writeInt(u32, dst[0..4], f.type_oid, .little);
    std.mem.writeInt(i32, dst[4..8], f.typmod, .little);
    std.mem.writeInt(u32, dst[8..12], f.table_oid, .little);
    std.mem.writeInt(i16, dst[12..14], f.attnum, .little);
    std.mem.writeInt(i16, dst[14..16], f.format, .little);
    std.mem.writeInt(i16, dst[16..18], f.typlen, .little);
    std.mem.writeInt(u16, dst[18..20], f.name_len, .little);
}

pub const Parts = struct {
    final: bool,
    rowdesc: ?[]const u8,
    ncols: u32,
    params: ?[]const u32,
    tag: []const u8,
    builder: ?*Builder,
};

fn alignTo8(out: *std.ArrayList(u8), gpa: Allocator) Allocator.Error!void {
    const pad = (8 - out.items.len % 8) % 8;
    try out.appendNTimes(gpa, 0, pad);
}

pub fn assemble(gpa: Allocator, out: *std.ArrayList(u8), p: Parts) Allocator.Error!void {
    out.clearRetainingCapacity();
    var h = std.mem.zeroes(Header);
    h.version = version;
    try out.appendNTimes(gpa, 0, @sizeOf(Header));
    if (p.rowdesc) |rd| {
        h.flags |= flag_rowdesc;
        h.ncols = p.ncols;
        h.rowdesc_off = @intCast(out.items.len);
        h.rowdesc_len = @intCast(rd.len);
        try out.appendSlice(gpa, rd);
    }
    try alignTo8(out, gpa);
    if (p.params) |ps| {
        h.flags |= flag_params;
        h.nparams = @intCast(ps.len);
        h.params_off = @intCast(out.items.len);
        for (ps) |oid| try out.appendSlice(gpa, std.mem.asBytes(&std.mem.nativeToLittle(u32, oid)));
    }
    h.tag_off = @intCast(out.items.len);
    h.tag_len = @intCast(p.tag.len);
    try out.appendSlice(gpa, p.tag);
    try alignTo8(out, gpa);
    h.columns_off = @intCast(out.items.len);
    if (p.builder) |b| {
        h.nrows = @intCast(b.rowCount());
        h.nentries = @intCast(b.entryCount());
        try b.writeColumns(gpa, out);
    }
    if (p.final) h.flags |= flag_done;
    @memcpy(out.items[0..@sizeOf(Header)], std.mem.asBytes(&h));
}
