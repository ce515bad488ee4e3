//! Backend (server → client) message framing and a bounds-checked body reader.
//! Every read from a server message goes through `Reader`, so a malformed message
//! becomes error.ProtocolViolation instead of an out-of-bounds read.
const std = @import("std");

pub const Error = error{ProtocolViolation};

/// The largest message pypgz accepts. PostgreSQL caps a field at 1 GB; a DataRow can carry
/// several, but a length beyond this means the stream is corrupt, not that a row is big.
pub const max_message_len: usize = 1 << 30;

pub const Message = struct {
    tag: u8,
    body: []const u8,
    /// Bytes the whole message occupies in the input (tag + length + body).
    size: usize,
};

pub const Frame = union(enum) {
    message: Message,
    /// Not enough bytes yet; at least this many are needed in total to finish the message.
    need: usize,
};

/// Splits the next message off `buf`.
pub fn next(buf: []const u8) Error!Frame {
    if (buf.len < 5) return .{ .need = 5 };
    const len = std.mem.readInt(u32, buf[1..5], .big);
    if (len < 4 or len > max_message_len) return error.ProtocolViolation;
    const size: usize = @as(usize, len) + 1;
    if (buf.len < size) return .{ .need = size };
    return .{ .message = .{ .tag = buf[0], .body = buf[5..size], .size = size } };
}

pub const Reader = struct {
    buf: []const u8,
    pos: usize = 0,

    pub fn init(buf: []const u8) Reader {
        return .{ .buf = buf };
    }

    pub fn remaining(self: *const Reader) usize {
        return self.buf.len - self.pos;
    }

    pub fn bytes(self: *Reader, n: usize) Error![]const u8 {
        if (self.remaining() < n) return error.ProtocolViolation;
        const s = self.buf[self.pos .. self.pos + n];
        self.pos += n;
        return s;
    }

    pub fn rest(self: *Reader) []const u8 {
        const s = self.buf[self.pos..];
        self.pos = self.buf.len;
        return s;
    }

    pub fn int(self: *Reader, comptime T: type) Error!T {
        const b = try self.bytes(@sizeOf(T));
        return std.mem.readInt(T, b[0..@sizeOf(T)], .big);
    }

    pub fn byte(self: *Reader) Error!u8 {
        return (try self.bytes(1))[0];
    }

    /// A NUL-terminated string, without its terminator.
    pub fn cstr(self: *Reader) Error![]const u8 {
        const tail = self.buf[self.pos..];
        const end = std.mem.indexOfScalar(u8, tail, 0) orelse return error.ProtocolViolation;
        self.pos += end + 1;
        return tail[0..end];
    }

    pub fn expectEnd(self: *const Reader) Error!void {
        if (self.remaining() != 0) return error.ProtocolViolation;
    }
};

/// One field of an ErrorResponse/NoticeResponse.
pub const Field = struct { code: u8, value: []const u8 };

/// Iterates the fields of an ErrorResponse/NoticeResponse body.
pub const FieldIterator = struct {
    r: Reader,

    pub fn init(body: []const u8) FieldIterator {
        return .{ .r = Reader.init(body) };
    }

    pub fn next(self: *FieldIterator) Error!?Field {
        const code = try self.r.byte();
        if (code == 0) return null;
        return .{ .code = code, .value = try self.r.cstr() };
    }
};

test "framing waits for whole messages and rejects bad lengths" {
    try std.testing.expectEqual(@as(usize, 5), (try next("Z\x00")).need);
    try std.testing.expectEqual(@as(usize, 6), (try next("Z\x00\x00\x00\x05")).need);
    const f = try next("Z\x00\x00\x00\x05IQ");
    try std.testing.expectEqual(@as(u8, 'Z'), f.message.tag);
    try std.testing.expectEqualSlices(u8, "I", f.message.body);
    try std.testing.expectEqual(@as(usize, 6), f.message.size);
    try std.testing.expectError(error.ProtocolViolation, next("Z\x00\x00\x00\x03"));
    try std.testing.expectError(error.ProtocolViolation, next("Z\x7f\xff\xff\xff"));
}

test "reader bounds" {
    var r = Reader.init("ab\x00\x00\x01");
    try std.testing.expectEqualSlices(u8, "ab", try r.cstr());
    try std.testing.expectEqual(@as(u16, 1), try r.int(u16));
    try std.testing.expectError(error.ProtocolViolation, r.byte());
    var r2 = Reader.init("abc");
    try std.testing.expectError(error.ProtocolViolation, r2.cstr());
}

test "error fields" {
    var it = FieldIterator.init("SERROR\x00C42601\x00\x00");
    const a = (try it.next()).?;
    try std.testing.expectEqual(@as(u8, 'S'), a.code);
    const b = (try it.next()).?;
    try std.testing.expectEqualSlices(u8, "42601", b.value);
    try std.testing.expect((try it.next()) == null);
    var bad = FieldIterator.init("SERR");
    try std.testing.expectError(error.ProtocolViolation, bad.next());
}
