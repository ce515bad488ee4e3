//! Frontend (client → server) messages of the PostgreSQL protocol, version 3.0.
//! Each function appends one complete message to an output buffer.
const std = @import("std");

const Allocator = std.mem.Allocator;
const Out = std.ArrayList(u8);

pub const protocol_3_0: u32 = 196608;
const ssl_request_code: u32 = 80877103;
const cancel_request_code: u32 = 80877102;

/// Starts a message: the tag (0 for the untagged start-up packets) and a length placeholder.
/// Returns the offset of the length field, to be passed to `finish`.
fn begin(out: *Out, gpa: Allocator, tag: u8) Allocator.Error!usize {
    if (tag != 0) try out.append(gpa, tag);
    const at = out.items.len;
    try out.appendNTimes(gpa, 0, 4);
    return at;
}

/// Writes the length of the message that starts at `at` (the length counts itself).
fn finish(out: *Out, at: usize) void {
    const len: u32 = @intCast(out.items.len - at);
    std.mem.writeInt(u32, out.items[at..][0..4], len, .big);
}

fn putU32(out: *Out, gpa: Allocator, v: u32) Allocator.Error!void {
    var b: [4]u8 = undefined;
    std.mem.writeInt(u32, &b, v, .big);
    try out.appendSlice(gpa, &b);
}

fn putI32(out: *Out, gpa: Allocator, v: i32) Allocator.Error!void {
    try putU32(out, gpa, @bitCast(v));
}

fn putU16(out: *Out, gpa: Allocator, v: u16) Allocator.Error!void {
    var b: [2]u8 = undefined;
    std.mem.writeInt(u16, &b, v, .big);
    try out.appendSlice(gpa, &b);
}

fn putCStr(out: *Out, gpa: Allocator, s: []const u8) Allocator.Error!void {
    try out.appendSlice(gpa, s);
    try out.append(gpa, 0);
}

/// StartupMessage. `params` is a sequence of NUL-terminated key and value strings.
pub fn startup(out: *Out, gpa: Allocator, params: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 0);
    try putU32(out, gpa, protocol_3_0);
    try out.appendSlice(gpa, params);
    if (params.len == 0 or params[params.len - 1] != 0) try out.append(gpa, 0);
    try out.append(gpa, 0);
    finish(out, at);
}

pub fn sslRequest(out: *Out, gpa: Allocator) Allocator.Error!void {
    const at = try begin(out, gpa, 0);
    try putU32(out, gpa, ssl_request_code);
    finish(out, at);
}

/// CancelRequest for a protocol 3.0 backend key (4 bytes). Returns the 16-byte packet.
pub fn cancelRequest(pid: i32, key: []const u8, buf: []u8) usize {
    const len: usize = 12 + key.len;
    std.debug.assert(buf.len >= len);
    std.mem.writeInt(u32, buf[0..4], @intCast(len), .big);
    std.mem.writeInt(u32, buf[4..8], cancel_request_code, .big);
    std.mem.writeInt(i32, buf[8..12], pid, .big);
    @memcpy(buf[12..len], key);
    return len;
}

/// PasswordMessage: a NUL-terminated password or md5 response.
pub fn password(out: *Out, gpa: Allocator, secret: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'p');
    try putCStr(out, gpa, secret);
    finish(out, at);
}

pub fn saslInitialResponse(out: *Out, gpa: Allocator, mechanism: []const u8, data: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'p');
    try putCStr(out, gpa, mechanism);
    try putI32(out, gpa, @intCast(data.len));
    try out.appendSlice(gpa, data);
    finish(out, at);
}

pub fn saslResponse(out: *Out, gpa: Allocator, data: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'p');
    try out.appendSlice(gpa, data);
    finish(out, at);
}

pub fn query(out: *Out, gpa: Allocator, sql: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'Q');
    try putCStr(out, gpa, sql);
    finish(out, at);
}

pub fn parse(out: *Out, gpa: Allocator, name: []const u8, sql: []const u8, oids: []const u32) Allocator.Error!void {
    const at = try begin(out, gpa, 'P');
    try putCStr(out, gpa, name);
    try putCStr(out, gpa, sql);
    try putU16(out, gpa, @intCast(oids.len));
    for (oids) |oid| try putU32(out, gpa, oid);
    finish(out, at);
}

pub const ParamError = error{ OutOfMemory, BadParameters };

/// Bind. `params` is the parameter block pypgz passes across the ABI: for each parameter an
/// int16 format, an int32 length (-1 for NULL) and that many bytes, all big-endian. The block
/// is validated here, so a bad block is an error rather than a malformed message on the wire.
/// Returns the number of bytes of `params` consumed (one parameter set).
pub fn bind(
    out: *Out,
    gpa: Allocator,
    portal: []const u8,
    statement: []const u8,
    params: []const u8,
    nparams: u16,
    result_formats: []const i16,
) ParamError!usize {
    const at = try begin(out, gpa, 'B');
    try putCStr(out, gpa, portal);
    try putCStr(out, gpa, statement);
    // Formats first: walk the block once to collect them.
    try putU16(out, gpa, nparams);
    var pos: usize = 0;
    var i: u16 = 0;
    while (i < nparams) : (i += 1) {
        if (params.len - pos < 6) return error.BadParameters;
        try out.appendSlice(gpa, params[pos .. pos + 2]);
        const len = std.mem.readInt(i32, params[pos + 2 ..][0..4], .big);
        pos += 6;
        if (len > 0) {
            if (params.len - pos < @as(usize, @intCast(len))) return error.BadParameters;
            pos += @intCast(len);
        } else if (len < -1) return error.BadParameters;
    }
    const consumed = pos;
    // Then the values: length and bytes, as they are in the block.
    try putU16(out, gpa, nparams);
    pos = 0;
    i = 0;
    while (i < nparams) : (i += 1) {
        const len = std.mem.readInt(i32, params[pos + 2 ..][0..4], .big);
        const n: usize = if (len > 0) @intCast(len) else 0;
        try out.appendSlice(gpa, params[pos + 2 .. pos + 6 + n]);
        pos += 6 + n;
    }
    try putU16(out, gpa, @intCast(result_formats.len));
    for (result_formats) |f| try putU16(out, gpa, @bitCast(f));
    finish(out, at);
    return consumed;
}

pub fn describe(out: *Out, gpa: Allocator, kind: u8, name: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'D');
    try out.append(gpa, kind);
    try putCStr(out, gpa, name);
    finish(out, at);
}

pub fn execute(out: *Out, gpa: Allocator, portal: []const u8, max_rows: u32) Allocator.Error!void {
    const at = try begin(out, gpa, 'E');
    try putCStr(out, gpa, portal);
    try putU32(out, gpa, max_rows);
    finish(out, at);
}

pub fn close(out: *Out, gpa: Allocator, kind: u8, name: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'C');
    try out.append(gpa, kind);
    try putCStr(out, gpa, name);
    finish(out, at);
}

fn bare(out: *Out, gpa: Allocator, tag: u8) Allocator.Error!void {
    const at = try begin(out, gpa, tag);
    finish(out, at);
}

pub fn sync(out: *Out, gpa: Allocator) Allocator.Error!void {
    try bare(out, gpa, 'S');
}

pub fn flush(out: *Out, gpa: Allocator) Allocator.Error!void {
    try bare(out, gpa, 'H');
}

pub fn terminate(out: *Out, gpa: Allocator) Allocator.Error!void {
    try bare(out, gpa, 'X');
}

pub fn copyData(out: *Out, gpa: Allocator, data: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'd');
    try out.appendSlice(gpa, data);
    finish(out, at);
}

pub fn copyDone(out: *Out, gpa: Allocator) Allocator.Error!void {
    try bare(out, gpa, 'c');
}

pub fn copyFail(out: *Out, gpa: Allocator, reason: []const u8) Allocator.Error!void {
    const at = try begin(out, gpa, 'f');
    try putCStr(out, gpa, reason);
    finish(out, at);
}

test "parse and bind encode lengths and formats" {
    const gpa = std.testing.allocator;
    var out: Out = .empty;
    defer out.deinit(gpa);
    try parse(&out, gpa, "s1", "SELECT $1", &.{23});
    try std.testing.expectEqualSlices(u8, "P\x00\x00\x00\x17s1\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17", out.items);
    out.clearRetainingCapacity();
    // one binary int4 parameter (42) and one NULL
    const block = "\x00\x01\x00\x00\x00\x04\x00\x00\x00\x2a" ++ "\x00\x01\xff\xff\xff\xff";
    const used = try bind(&out, gpa, "", "s1", block, 2, &.{1});
    try std.testing.expectEqual(block.len, used);
    try std.testing.expectEqualSlices(
        u8,
        "B\x00\x00\x00\x20\x00s1\x00\x00\x02\x00\x01\x00\x01\x00\x02\x00\x00\x00\x04\x00\x00\x00\x2a\xff\xff\xff\xff\x00\x01\x00\x01",
        out.items,
    );
}

test "bind rejects a truncated parameter block" {
    const gpa = std.testing.allocator;
    var out: Out = .empty;
    defer out.deinit(gpa);
    try std.testing.expectError(error.BadParameters, bind(&out, gpa, "", "", "\x00\x01\x00\x00\x00\x08\x00", 1, &.{}));
    try std.testing.expectError(error.BadParameters, bind(&out, gpa, "", "", "\x00\x01\x00\x00", 1, &.{}));
}

test "startup packet" {
    const gpa = std.testing.allocator;
    var out: Out = .empty;
    defer out.deinit(gpa);
    try startup(&out, gpa, "user\x00bob\x00");
    try std.testing.expectEqualSlices(u8, "\x00\x00\x00\x12\x00\x03\x00\x00user\x00bob\x00\x00", out.items);
}
