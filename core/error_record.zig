//! A stored ErrorResponse or NoticeResponse, exposed across the ABI as `pgz_error`: one
//! NUL-terminated string (or NULL) per field the protocol defines.
const std = @import("std");
const backend = @import("protocol/backend.zig");
const Allocator = std.mem.Allocator;

/// Field codes in the order of `pgz_error`'s members (see pgz.h).
pub const field_codes = "SVCMDHPpqWstcdnFLR";

/// The C view: `extern` so its layout is the header's.
pub const CError = extern struct {
    fields: [field_codes.len]?[*:0]const u8,
};

pub const ErrorRecord = struct {
    buf: std.ArrayList(u8) = .empty,
    view: CError = .{ .fields = [_]?[*:0]const u8{null} ** field_codes.len },

    pub fn deinit(self: *ErrorRecord, gpa: Allocator) void {
        self.buf.deinit(gpa);
    }

    pub fn present(self: *const ErrorRecord) bool {
        return self.view.fields[2] != null;
    }

    /// Stores a copy of an ErrorResponse/NoticeResponse body; its strings are already
    /// NUL-terminated, so the view points straight into the copy.
    pub fn set(self: *ErrorRecord, gpa: Allocator, body: []const u8) (backend.Error || Allocator.Error)!void {
        self.buf.clearRetainingCapacity();
        try self.buf.appendSlice(gpa, body);
        self.view = .{ .fields = [_]?[*:0]const u8{null} ** field_codes.len };
        var r = backend.Reader.init(self.buf.items);
        while (true) {
            const code = try r.byte();
            if (code == 0) break;
            const start = r.pos;
            _ = try r.cstr();
            if (std.mem.indexOfScalar(u8, field_codes, code)) |i| {
                self.view.fields[i] = @ptrCast(self.buf.items[start..].ptr);
            }
        }
        try r.expectEnd();
        // SQLSTATE and message are always sent; their absence means a corrupt message.
        if (self.view.fields[2] == null or self.view.fields[3] == null) return error.ProtocolViolation;
    }

    pub fn message(self: *const ErrorRecord) []const u8 {
        const m = self.view.fields[3] orelse return "";
        return std.mem.span(m);
    }

    /// FATAL or PANIC: the server closes the connection after sending it.
    pub fn isFatal(self: *const ErrorRecord) bool {
        const sev = self.view.fields[1] orelse self.view.fields[0] orelse return false;
        const s = std.mem.span(sev);
        return std.mem.eql(u8, s, "FATAL") or std.mem.eql(u8, s, "PANIC");
    }
};

test "error record keeps every field" {
    const gpa = std.testing.allocator;
    var rec: ErrorRecord = .{};
    defer rec.deinit(gpa);
    try rec.set(gpa, "SERROR\x00VERROR\x00C42601\x00Msyntax error\x00P8\x00\x00");
    try std.testing.expectEqualSlices(u8, "syntax error", rec.message());
    try std.testing.expectEqualStrings("42601", std.mem.span(rec.view.fields[2].?));
    try std.testing.expectEqualStrings("8", std.mem.span(rec.view.fields[6].?));
    try std.testing.expect(!rec.isFatal());
    try std.testing.expectError(error.ProtocolViolation, rec.set(gpa, "SERROR\x00\x00"));
    try std.testing.expectError(error.ProtocolViolation, rec.set(gpa, "SERROR\x00C4"));
}
